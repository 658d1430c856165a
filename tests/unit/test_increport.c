/*
 * An incident's report kept as text (state/increport.c): the report's
 * bytes are found in the report.received data by comparison only, are
 * what jansson dumps the report to (escapes, Chinese, nested objects),
 * whichever way the data came (spliced live, a replayed line, a
 * checkpoint's tree); its tree reads back equal, and only the trees read
 * lately are kept.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "state/increport.h"
#include "store/record.h"

static const char report_text[] = "{\"title\":\"化工厂\\\"爆炸\\\"\","
    "\"occurred_at\":\"2026-12-02T08:00:00+08:00\",\"level\":\"Ⅱ\","
    "\"casualties\":{\"dead\":1,\"injured\":{\"heavy\":2}},"
    "\"reporter\":{\"name\":\"王\\n\\\\\"},\"details\":\"情况\\u0001说明 \\\"report\\\":{}\"}";

static json_t *
parse(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	assert_non_null(v);
	return v;
}

/* report.received data around REPORT, as incact.c packs it. */
static json_t *
data_with(json_t *report, int before, int after)
{
	json_t *d = json_object();

	assert_non_null(d);
	if (before) {
		json_object_set_new(d, "office", json_string("county-a"));
		json_object_set_new(d, "office_name", json_string("甲县\"应急局\""));
	}
	json_object_set(d, "report", report);
	if (after) {
		json_object_set_new(d, "received_at",
		    json_string("2026-12-02T08:10:00+08:00"));
		json_object_set_new(d, "late_report", json_false());
		json_object_set_new(d, "late_by_minutes", json_integer(0));
		json_object_set_new(d, "source", json_string("api"));
	}
	return d;
}

static void
assert_kept_is_dump(const struct increport *r, json_t *d)
{
	json_t		*report = json_object_get(d, "report"), *tree, *back;
	char		*want = json_dumps(report, JSON_COMPACT);
	char		*whole = json_dumps(d, JSON_COMPACT);
	const char	*text;
	size_t		 len;

	assert_non_null(want);
	text = increport_text(r, &len);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(text, want, len);
	assert_non_null(tree = increport_tree(r));
	assert_true(json_equal(tree, report));
	assert_non_null(back = increport_data(r));
	assert_true(json_equal(back, d));
	free(want);
	want = json_dumps(back, JSON_COMPACT);
	assert_string_equal(want, whole);	/* member order kept */
	free(want);
	free(whole);
	json_decref(back);
}

/* The value is found wherever the key's member is, and only there. */
static void
test_locate_by_comparison(void **state)
{
	json_t	*report = parse(report_text), *d;
	char	*text, *want = json_dumps(report, JSON_COMPACT);
	size_t	 off, vlen;
	int	 b, a;

	for (b = 0; b < 2; b++)
		for (a = 0; a < 2; a++) {
			d = data_with(report, b, a);
			text = json_dumps(d, JSON_COMPACT);
			assert_int_equal(increport_locate(d, "report", text,
			    strlen(text), &off, &vlen), 0);
			assert_int_equal(vlen, strlen(want));
			assert_memory_equal(text + off, want, vlen);
			/* A byte changed around it: not that dump. */
			text[strlen(text) - 1] ^= 1;
			assert_int_equal(increport_locate(d, "report", text,
			    strlen(text), &off, &vlen), -EINVAL);
			text[1] ^= 1;
			assert_int_equal(increport_locate(d, "report", text,
			    strlen(text), &off, &vlen), -EINVAL);
			assert_int_equal(increport_locate(d, "nothing", text,
			    strlen(text), &off, &vlen), -ENOENT);
			free(text);
			json_decref(d);
		}
	d = data_with(report, 1, 1);
	assert_int_equal(increport_locate(d, "report", "{}", 2, &off, &vlen),
	    -EINVAL);
	json_decref(d);
	free(want);
	json_decref(report);
}

/*
 * The members around it are written as jansson dumps them (jwrite), also
 * keys and values that need escapes, reals, arrays and literals; another
 * order of the same members is another text.
 */
static void
test_locate_is_janssons_around_any_member(void **state)
{
	json_t	*report = parse(report_text), *d;
	char	*text, *sorted, *want = json_dumps(report, JSON_COMPACT);
	size_t	 off, vlen;

	d = json_pack("{s:f, s:[i, {s:s}], s:O, s:n, s:b, s:s}", "k\"\\ey",
	    1.5, "x", 1, "y", "\001控制", "report", report, "z", "w", 1,
	    "键\n", "值\t");
	assert_non_null(d);
	text = json_dumps(d, JSON_COMPACT);
	assert_int_equal(increport_locate(d, "report", text, strlen(text), &off,
	    &vlen), 0);
	assert_int_equal(vlen, strlen(want));
	assert_memory_equal(text + off, want, vlen);
	assert_int_equal(increport_locate(d, "z", text, strlen(text), &off,
	    &vlen), 0);
	assert_int_equal(vlen, 4);
	assert_memory_equal(text + off, "null", 4);
	sorted = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	assert_int_equal(increport_locate(d, "report", sorted, strlen(sorted),
	    &off, &vlen), -EINVAL);
	free(sorted);
	free(text);
	free(want);
	json_decref(d);
	json_decref(report);
}

/* From a replayed line's bytes, from the spliced record, and from a tree. */
static void
test_keep_every_way(void **state)
{
	struct increport	 r;
	struct record		 rec;
	json_t			*report = parse(report_text);
	json_t			*d = data_with(report, 1, 1);
	char			*text = json_dumps(d, JSON_COMPACT);
	char			*raw = json_dumps(report, JSON_COMPACT);

	/* Replay: the line's data text, the report found in it. */
	memset(&rec, 0, sizeof(rec));
	rec.data = d;
	rec.data_text = text;
	rec.data_textlen = strlen(text);
	assert_int_equal(increport_keep(&r, d, &rec, NULL), 0);
	assert_memory_equal(r.data, text, strlen(text));
	assert_kept_is_dump(&r, d);
	increport_clear(&r);

	/* Live: where record_format_spliced() put it. */
	rec.spliced_key = "report";
	rec.spliced_off = (size_t)(strstr(text, raw) - text);
	rec.spliced_len = strlen(raw);
	assert_int_equal(increport_keep(&r, d, &rec, NULL), 0);
	assert_kept_is_dump(&r, d);
	increport_clear(&r);

	/* A line in another shape (spaces): the tree's dump instead. */
	memset(&rec, 0, sizeof(rec));
	rec.data = d;
	rec.data_text = "{ \"office\": 1 }";
	rec.data_textlen = strlen(rec.data_text);
	assert_int_equal(increport_keep(&r, d, &rec, NULL), 0);
	assert_kept_is_dump(&r, d);
	increport_clear(&r);

	/* A checkpoint's: no record. */
	assert_int_equal(increport_keep(&r, d, NULL, NULL), 0);
	assert_kept_is_dump(&r, d);
	increport_clear(&r);

	json_object_set_new(d, "report", json_string("not an object"));
	assert_int_equal(increport_keep(&r, d, NULL, NULL), -EINVAL);
	increport_clear(&r);
	free(text);
	free(raw);
	json_decref(d);
	json_decref(report);
	increport_forget();
}

/*
 * Trees of the reports read lately are kept, the one read last longest:
 * a tree stays valid while fewer than INCREPORT_KEPT others are read.
 */
static void
test_only_trees_read_lately_are_kept(void **state)
{
	static struct increport	 r[INCREPORT_KEPT + 2];
	json_t			*report = parse(report_text), *d, *first;
	size_t			 i;

	d = data_with(report, 1, 1);
	for (i = 0; i < INCREPORT_KEPT + 2; i++)
		assert_int_equal(increport_keep(&r[i], d, NULL, NULL), 0);
	/* The first two made way for the last two. */
	assert_int_equal(r[0].slot, 0);
	assert_int_equal(r[1].slot, 0);
	assert_int_not_equal(r[2].slot, 0);
	/* Read again: parsed from the text, equal, and kept. */
	assert_non_null(first = increport_tree(&r[0]));
	assert_true(json_equal(first, report));
	assert_int_not_equal(r[0].slot, 0);
	assert_int_equal(r[2].slot, 0);		/* the least lately read went */
	/* Read lately, they outlive those read longer ago. */
	assert_non_null(increport_tree(&r[3]));
	assert_true(increport_tree(&r[0]) == first);
	assert_non_null(increport_tree(&r[1]));
	assert_non_null(increport_tree(&r[2]));
	assert_int_equal(r[4].slot, 0);
	assert_int_equal(r[5].slot, 0);
	assert_int_not_equal(r[3].slot, 0);
	assert_true(increport_tree(&r[0]) == first);
	for (i = 0; i < INCREPORT_KEPT + 2; i++)
		increport_clear(&r[i]);
	increport_forget();
	json_decref(d);
	json_decref(report);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_locate_by_comparison),
		cmocka_unit_test(test_locate_is_janssons_around_any_member),
		cmocka_unit_test(test_keep_every_way),
		cmocka_unit_test(test_only_trees_read_lately_are_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
