/*
 * An incident's timeline kept as text (state/timeline.c): each entry reads
 * back as the tree it was made from, member order, NULs in strings, reals
 * and all; an entry a checkpoint wrote in another shape reads back as it
 * was; a delivery's attempts past its first and last few leave it; an
 * intent's on-duty snapshot, held once for all, reads back in its place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "state/timeline.h"
#include "store/record.h"

static json_t *
parse(const char *text)
{
	json_t *v = json_loads(text, JSON_ALLOW_NUL, NULL);

	assert_non_null(v);
	return v;
}

/* The entry's dump, compared as text: member order counts. */
static void
assert_entry(const struct timeline *tl, size_t i, const char *want)
{
	json_t	*e = timeline_entry_json(tl, i);
	char	*got;

	assert_non_null(e);
	got = json_dumps(e, JSON_COMPACT);
	assert_string_equal(got, want);
	free(got);
	json_decref(e);
}

static void
test_entries_read_back_as_recorded(void **state)
{
	struct timeline	 tl = { 0 };
	struct record	 r = { .seq = 7, .ts = "2026-12-02T20:30:51.399+08:00",
	    .event = "notify.intent", .actor = "dutyd" };
	json_t		*data = parse("{\"z\":1,\"a\":[1.5,-2,null,true],"
	    "\"s\":\"情况\\u0000说明\",\"o\":{\"y\":{},\"b\":\"\"}}");
	json_t		*back;

	assert_int_equal(timeline_add(&tl, &r, data, 0), 0);
	assert_int_equal(timeline_len(&tl), 1);
	assert_string_equal(timeline_event(&tl, 0), "notify.intent");
	assert_entry(&tl, 0, "{\"seq\":7,\"ts\":\"2026-12-02T20:30:51.399+08:00\","
	    "\"event\":\"notify.intent\",\"actor\":\"dutyd\",\"data\":{\"z\":1,"
	    "\"a\":[1.5,-2,null,true],\"s\":\"情况\\u0000说明\","
	    "\"o\":{\"y\":{},\"b\":\"\"}}}");
	back = timeline_data(&tl, 0);
	assert_true(json_equal(back, data));
	assert_int_equal(json_string_length(json_object_get(back, "s")), 13);
	json_decref(back);
	json_decref(data);
	timeline_clear(&tl);
	assert_int_equal(timeline_len(&tl), 0);
}

/*
 * Kinds and actors are held once for every entry that has them: each
 * entry still reads back its own, in whatever order timelines go.
 */
static void
test_kinds_and_actors_shared(void **state)
{
	struct timeline	 a = { 0 }, b = { 0 };
	struct record	 r = { .seq = 1, .ts = "t", .event = "notify.attempt",
	    .actor = "dutyd" };
	json_t		*data = parse("{\"n\":1}");

	assert_int_equal(timeline_add(&a, &r, data, 0), 0);
	r.seq = 2;
	r.event = "incident.acknowledged";
	r.actor = "person:张三";
	assert_int_equal(timeline_add(&a, &r, data, 0), 0);
	r.seq = 3;
	r.event = "notify.attempt";
	r.actor = "dutyd";
	assert_int_equal(timeline_add(&b, &r, data, 0), 0);
	r.seq = 4;
	r.event = "notify.attempt2";
	r.actor = "dutyd2";
	assert_int_equal(timeline_add(&b, &r, data, 0), 0);
	timeline_clear(&a);	/* b's references keep what it shares */
	assert_string_equal(timeline_event(&b, 0), "notify.attempt");
	assert_entry(&b, 0, "{\"seq\":3,\"ts\":\"t\",\"event\":"
	    "\"notify.attempt\",\"actor\":\"dutyd\",\"data\":{\"n\":1}}");
	assert_entry(&b, 1, "{\"seq\":4,\"ts\":\"t\",\"event\":"
	    "\"notify.attempt2\",\"actor\":\"dutyd2\",\"data\":{\"n\":1}}");
	r.seq = 5;
	r.event = "incident.acknowledged";
	r.actor = "person:张三";
	assert_int_equal(timeline_add(&a, &r, data, 0), 0);
	assert_entry(&a, 0, "{\"seq\":5,\"ts\":\"t\",\"event\":"
	    "\"incident.acknowledged\",\"actor\":\"person:张三\",\"data\":"
	    "{\"n\":1}}");
	timeline_clear(&a);
	timeline_clear(&b);
	json_decref(data);
}

static void
test_checkpoint_entries_in_any_shape(void **state)
{
	struct timeline	 tl = { 0 };
	json_t		*usual = parse("{\"seq\":3,\"ts\":\"t\",\"event\":"
	    "\"incident.updated\",\"actor\":\"office:a\",\"data\":{\"update_n\":1}}");
	json_t		*odd = parse("{\"event\":\"report.submitted\",\"seq\":4,"
	    "\"extra\":1,\"data\":{\"number\":2}}");
	json_t		*fields = parse("{\"update_n\":null,\"fields\":{\"dead\":1}}");
	json_t		*d;

	assert_int_equal(timeline_add_json(&tl, usual, fields, 1), 0);
	assert_int_equal(timeline_add_json(&tl, odd, NULL, 0), 0);
	assert_int_equal(timeline_update_n(&tl, 0), 1);
	assert_int_equal(timeline_update_n(&tl, 1), 0);
	assert_entry(&tl, 0, "{\"seq\":3,\"ts\":\"t\",\"event\":\"incident.updated\","
	    "\"actor\":\"office:a\",\"data\":{\"update_n\":null,"
	    "\"fields\":{\"dead\":1}}}");
	/* Kept as it was, and still found by its kind. */
	assert_string_equal(timeline_event(&tl, 1), "report.submitted");
	assert_entry(&tl, 1, "{\"event\":\"report.submitted\",\"seq\":4,"
	    "\"extra\":1,\"data\":{\"number\":2}}");
	d = timeline_data(&tl, 1);
	assert_int_equal(json_integer_value(json_object_get(d, "number")), 2);
	json_decref(d);
	json_decref(usual);
	json_decref(odd);
	json_decref(fields);
	timeline_clear(&tl);
}

static void
add_attempt(struct timeline *tl, int64_t seq, int intent, int rcpt, int n)
{
	struct record	 r = { .seq = seq, .ts = "t", .event = "notify.attempt",
	    .actor = "dutyd" };
	json_t		*d = json_pack("{s:i, s:i, s:i}", "attempt", n, "intent",
	    intent, "recipient", rcpt);

	assert_int_equal(timeline_add(tl, &r, d, 0), 0);
	json_decref(d);
	timeline_trim_attempts(tl, intent, rcpt, 2, 3);
}

static int
attempt_of(const struct timeline *tl, size_t i)
{
	json_t	*d = timeline_data(tl, i);
	int	 n = (int)json_integer_value(json_object_get(d, "attempt"));

	json_decref(d);
	return n;
}

static void
test_attempts_keep_first_and_last(void **state)
{
	struct timeline	 tl = { 0 };
	struct record	 r = { .seq = 1, .ts = "t", .event = "report.received",
	    .actor = "office:a" };
	json_t		*d = parse("{\"office\":\"a\"}");
	int		 i;

	assert_int_equal(timeline_add(&tl, &r, d, 0), 0);
	json_decref(d);
	for (i = 1; i <= 20; i++) {
		add_attempt(&tl, 10 + i, 5, 0, i);
		add_attempt(&tl, 100 + i, 5, 1, i);
	}
	/* The report, then five of each delivery: 1, 2, 18, 19, 20. */
	assert_int_equal(timeline_len(&tl), 11);
	assert_string_equal(timeline_event(&tl, 0), "report.received");
	assert_int_equal(attempt_of(&tl, 1), 1);
	assert_int_equal(attempt_of(&tl, 3), 2);
	assert_int_equal(attempt_of(&tl, 5), 18);
	assert_int_equal(attempt_of(&tl, 9), 20);
	/* Over the cap: the oldest attempt goes, the report stays. */
	timeline_cap(&tl, 10);
	assert_int_equal(timeline_len(&tl), 10);
	assert_string_equal(timeline_event(&tl, 0), "report.received");
	assert_int_equal(attempt_of(&tl, 1), 1);	/* the other delivery's */
	assert_int_equal(attempt_of(&tl, 2), 2);
	timeline_clear(&tl);
}

/* Intents repeat their on-duty snapshot: each still reads back whole, in place. */
static void
test_intents_read_back_their_on_duty(void **state)
{
	struct timeline	 a = { 0 }, b = { 0 };
	struct record	 r = { .seq = 3, .ts = "t", .event = "notify.intent",
	    .actor = "dutyd" };
	const char	*text = "{\"event\":\"incident.new\",\"recipients\":[],"
	    "\"on_duty\":{\"leader\":{\"person\":\"li\"},\"officers\":[]},"
	    "\"late_ms\":0}";
	json_t		*d = parse(text), *d2 = parse(text), *back;
	char		*dump;

	json_object_set_new(json_object_get(d2, "on_duty"), "leader",
	    json_null());
	assert_int_equal(timeline_add(&a, &r, d, 0), 0);
	assert_int_equal(timeline_add(&b, &r, d, 0), 0);
	assert_int_equal(timeline_add(&b, &r, d2, 0), 0);
	timeline_clear(&a);
	back = timeline_data(&b, 0);
	dump = json_dumps(back, JSON_COMPACT);
	assert_string_equal(dump, text);
	free(dump);
	json_decref(back);
	back = timeline_data(&b, 1);
	assert_true(json_equal(back, d2));
	json_decref(back);
	json_decref(d);
	json_decref(d2);
	timeline_clear(&b);
}

/* The text kept reads back as an equal tree, whatever the values hold. */
static void
test_dump_reads_back_equal(void **state)
{
	json_t	*v = parse("{\"q\":\"a\\\"b\\\\c\\n\\t\\u0001\\u001f/\\u0000é情\","
	    "\"r\":[1.0,0.1,1e300,-2.5e-8,9223372036854775807,-9223372036854775807,0],"
	    "\"e\":{},\"a\":[],\"t\":[true,false,null],\"k\\\"ey\":{\"n\":[[{}]]}}");
	json_t	*back;
	char	*t = timeline_dump(v);

	assert_non_null(t);
	back = json_loads(t, JSON_ALLOW_NUL, NULL);
	assert_non_null(back);
	assert_true(json_equal(back, v));
	assert_true(json_is_real(json_array_get(json_object_get(back, "r"), 0)));
	free(t);
	json_decref(back);
	json_decref(v);
	timeline_forget();
}

/*
 * A record replayed from its line (record_parse(): the data's bytes taken
 * as they are, an intent's snapshot cut out of them) reads back as the
 * same record applied live (its data dumped): intents sharing a snapshot,
 * one with another, an attempt, and lines dutyd did not write.
 */
static void
test_replayed_lines_read_back_as_live(void **state)
{
	static const char *const datas[] = {
	    "{\"event\":\"incident.new\",\"recipients\":[{\"person\":\"zhang\","
	    "\"name\":\"张伟\"}],\"late_ms\":0,\"on_duty\":{\"leader\":"
	    "{\"person\":\"li\"},\"officers\":[]}}",
	    "{\"event\":\"incident.new\",\"recipients\":[],\"late_ms\":0,"
	    "\"on_duty\":{\"leader\":{\"person\":\"li\"},\"officers\":[]}}",
	    "{\"event\":\"x\",\"late_ms\":1,\"on_duty\":{\"leader\":null}}",
	    /* on_duty not last: the tree is copied and dumped, as live */
	    "{\"on_duty\":{\"leader\":{\"person\":\"li\"},\"officers\":[]},"
	    "\"late_ms\":0}",
	    "{\"attempt\":1,\"outcome\":\"delivered\",\"detail\":\"情况\\\"\","
	    "\"intent\":2,\"recipient\":0}",
	};
	static const char *const events[] = { "notify.intent", "notify.intent",
	    "notify.intent", "notify.intent", "notify.attempt" };
	/* Lines in other shapes: a member too many, the keys in another order. */
	static const char *const foreign[] = {
	    "{\"seq\":9,\"ts\":\"2026-12-02T20:30:51.399+08:00\",\"event\":"
	    "\"notify.attempt\",\"actor\":\"dutyd\",\"data\":{\"intent\":2},"
	    "\"x\":{},\"prev\":\"" RECORD_ZERO_HASH "\"}",
	    "{\"ts\":\"2026-12-02T20:30:51.399+08:00\",\"seq\":9,\"event\":"
	    "\"notify.attempt\",\"actor\":\"dutyd\",\"data\":{\"intent\":2},"
	    "\"prev\":\"" RECORD_ZERO_HASH "\"}",
	};
	struct timeline	 live = { 0 }, replayed = { 0 };
	struct record	 r, parsed;
	json_t		*d, *root, *a, *b;
	const char	*why;
	char		*line;
	size_t		 i, len;

	for (i = 0; i < sizeof(datas) / sizeof(datas[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.seq = (int64_t)i + 1;
		r.ts = "2026-12-02T20:30:51.399+08:00";
		r.event = events[i];
		r.incident = i % 2 ? "INC-20261202-0001" : NULL;
		r.actor = "dutyd";
		r.data = d = parse(datas[i]);
		assert_int_equal(record_format(&r, RECORD_ZERO_HASH, &line,
		    &len), 0);
		assert_int_equal(timeline_add(&live, &r, d, 0), 0);
		assert_int_equal(record_parse(line, len, &parsed, &root, &why), 0);
		assert_non_null(parsed.data_text);
		assert_int_equal(timeline_add(&replayed, &parsed, parsed.data,
		    0), 0);
		json_decref(root);
		json_decref(d);
		free(line);
	}
	for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		assert_int_equal(record_parse(foreign[i], strlen(foreign[i]),
		    &parsed, &root, &why), 0);
		assert_null(parsed.data_text);
		assert_int_equal(timeline_add(&replayed, &parsed, parsed.data,
		    0), 0);
		assert_int_equal(timeline_add(&live, &parsed, parsed.data, 0), 0);
		json_decref(root);
	}
	assert_int_equal(timeline_len(&live), timeline_len(&replayed));
	for (i = 0; i < timeline_len(&live); i++) {
		a = timeline_entry_json(&live, i);
		b = timeline_entry_json(&replayed, i);
		assert_non_null(a);
		assert_non_null(b);
		line = json_dumps(a, JSON_COMPACT);
		why = json_dumps(b, JSON_COMPACT);
		assert_string_equal(why, line);
		free(line);
		free((char *)why);
		json_decref(a);
		json_decref(b);
	}
	timeline_clear(&live);
	timeline_clear(&replayed);
	timeline_forget();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_read_back_as_recorded),
		cmocka_unit_test(test_checkpoint_entries_in_any_shape),
		cmocka_unit_test(test_kinds_and_actors_shared),
		cmocka_unit_test(test_attempts_keep_first_and_last),
		cmocka_unit_test(test_intents_read_back_their_on_duty),
		cmocka_unit_test(test_dump_reads_back_equal),
		cmocka_unit_test(test_replayed_lines_read_back_as_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
