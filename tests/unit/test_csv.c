/*
 * RFC 4180 fields as Excel and LibreOffice read them back: commas, quotes
 * and line breaks inside a field, Chinese text as it is, and a field a
 * spreadsheet would run as a formula made text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/csv.h"

/* One row of FIELDS (N of them) as csv.c writes it. */
static char *
row(const char *const *fields, size_t n)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len, i;

	assert_non_null(f = open_memstream(&buf, &len));
	for (i = 0; i < n; i++)
		csv_field(f, fields[i], i == 0);
	csv_row_end(f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
test_plain_fields_stay_bare(void **state)
{
	const char *const f[] = { "12", "2026-12-02 08:30:00", "张伟确认收到", NULL };
	char *s = row(f, 4);

	assert_string_equal(s, "12,2026-12-02 08:30:00,张伟确认收到,\r\n");
	free(s);
}

static void
test_commas_quotes_and_newlines_are_quoted(void **state)
{
	const char *const f[] = { "A县, B县", "他说\"马上到\"", "第一行\n第二行",
	    "回车\r换行", "\"" };
	char *s = row(f, 5);

	assert_string_equal(s, "\"A县, B县\",\"他说\"\"马上到\"\"\","
	    "\"第一行\n第二行\",\"回车\r换行\",\"\"\"\"\r\n");
	free(s);
}

static void
test_formulas_become_text(void **state)
{
	const char *const f[] = { "=HYPERLINK(\"http://x\")", "+1", "-2", "@a",
	    "a=b" };
	char *s = row(f, 5);

	assert_string_equal(s, "\"'=HYPERLINK(\"\"http://x\"\")\",\"'+1\","
	    "\"'-2\",\"'@a\",a=b\r\n");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_fields_stay_bare),
		cmocka_unit_test(test_commas_quotes_and_newlines_are_quoted),
		cmocka_unit_test(test_formulas_become_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
