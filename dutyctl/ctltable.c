/*
 * Column widths come from GLib's Unicode tables (g_unichar_iswide), not
 * the C library's wcwidth(), which depends on the locale scripts run in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ctltable.h"

struct ctl_table {
	int	  ncols;
	char	**cells;	/* rows * ncols, row 0 the headers */
	size_t	  nrows, caprows;
	int	  max[CTL_TABLE_COLS];
};

int
ctl_width(const char *s)
{
	const char	*p;
	gunichar	 c;
	int		 w = 0;

	if (!g_utf8_validate(s, -1, NULL))
		return (int)strlen(s);
	for (p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		c = g_utf8_get_char(p);
		if (g_unichar_iszerowidth(c))
			continue;
		w += g_unichar_iswide(c) ? 2 : 1;
	}
	return w;
}

/* S cut to at most MAX columns, "…" (one column) included. */
static char *
ctl_cut(const char *s, int max)
{
	const char	*p;
	char		*out;
	int		 w = 0, cw;

	if (max <= 0 || ctl_width(s) <= max || !g_utf8_validate(s, -1, NULL))
		return strdup(s);
	for (p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		cw = g_unichar_iswide(g_utf8_get_char(p)) ? 2 : 1;
		if (w + cw > max - 1)
			break;
		w += cw;
	}
	if (asprintf(&out, "%.*s…", (int)(p - s), s) == -1)
		return NULL;
	return out;
}

struct ctl_table *
ctl_table_new(int ncols, const char *const *headers)
{
	struct ctl_table *t;

	if (ncols < 1 || ncols > CTL_TABLE_COLS ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ncols = ncols;
	if (ctl_table_add(t, headers) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void
ctl_table_limit(struct ctl_table *t, int col, int max)
{
	if (col >= 0 && col < t->ncols)
		t->max[col] = max;
}

int
ctl_table_add(struct ctl_table *t, const char *const *cells)
{
	char	**grown;
	size_t	  cap;
	int	  i;

	if (t->nrows == t->caprows) {
		cap = t->caprows ? t->caprows * 2 : 16;
		if ((grown = realloc(t->cells, cap * t->ncols *
		    sizeof(char *))) == NULL)
			return -1;
		t->cells = grown;
		t->caprows = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		t->cells[t->nrows * t->ncols + i] = ctl_cut(cells[i] != NULL &&
		    cells[i][0] != '\0' ? cells[i] : "-", t->nrows > 0 ?
		    t->max[i] : 0);
		if (t->cells[t->nrows * t->ncols + i] == NULL) {
			while (i-- > 0)
				free(t->cells[t->nrows * t->ncols + i]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

void
ctl_table_print(const struct ctl_table *t, FILE *f)
{
	int	 width[CTL_TABLE_COLS] = { 0 }, i, w;
	size_t	 r;
	char	*cell;

	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++)
			if ((w = ctl_width(t->cells[r * t->ncols + i])) > width[i])
				width[i] = w;
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			cell = t->cells[r * t->ncols + i];
			fputs(cell, f);
			if (i + 1 < t->ncols)
				fprintf(f, "%*s", width[i] - ctl_width(cell) + 2, "");
		}
		fputc('\n', f);
	}
}

void
ctl_table_free(struct ctl_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
