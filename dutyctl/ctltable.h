/* Tables for people: columns aligned by display width (中文 is two wide). */
#ifndef DUTYCTL_CTLTABLE_H
#define DUTYCTL_CTLTABLE_H

#include <stdio.h>

#define CTL_TABLE_COLS	8

struct ctl_table;

struct ctl_table *ctl_table_new(int ncols, const char *const *headers);
/* One row of NCOLS strings (NULL shows as "-"); a cell over MAX columns
 * (0: no limit) is cut at a character and ends in "…". */
int	ctl_table_add(struct ctl_table *, const char *const *cells);
void	ctl_table_limit(struct ctl_table *, int col, int max);
void	ctl_table_print(const struct ctl_table *, FILE *);
void	ctl_table_free(struct ctl_table *);
/* How many terminal columns S takes (UTF-8; East Asian wide counts 2). */
int	ctl_width(const char *s);

#endif
