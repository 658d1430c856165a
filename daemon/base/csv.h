/*
 * csv.h: RFC 4180 output for spreadsheets (the duty log's CSV).  Fields
 * are quoted when they hold a comma, a quote, CR or LF (quotes doubled);
 * rows end with CRLF.  A field a spreadsheet would run as a formula
 * (starting with = + - @, a tab or CR) gets a leading apostrophe, so a
 * report's title cannot become one in Excel.  Pure: writes to a FILE.
 */
#ifndef DUTYD_CSV_H
#define DUTYD_CSV_H

#include <stdio.h>

/* UTF-8 byte order mark: Excel reads Chinese text right only with it. */
#define CSV_BOM		"\xEF\xBB\xBF"

/* S (NULL: empty) as the next field of the row; FIRST: no comma before it. */
void	csv_field(FILE *, const char *s, int first);
/* Ends the row (CRLF). */
void	csv_row_end(FILE *);

#endif
