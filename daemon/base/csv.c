/*
 * csv.c: RFC 4180 fields and rows (see csv.h).
 */
#include <stdio.h>
#include <string.h>

#include "base/csv.h"

void
csv_field(FILE *f, const char *s, int first)
{
	const char *p;

	if (!first)
		fputc(',', f);
	if (s == NULL)
		return;
	/* Spreadsheets run these as formulas (CSV injection). */
	if (s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL) {
		fputs("\"'", f);
	} else if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	} else
		fputc('"', f);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

void
csv_row_end(FILE *f)
{
	fputs("\r\n", f);
}
