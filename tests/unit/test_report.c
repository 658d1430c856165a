/*
 * Report, action-body and idempotency-key validation: what a county office
 * may send, and what it is told when it gets something wrong.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/jfast.h"
#include "parse/report.h"
#include "store/record.h"

#define WHEN		"2025-11-28T14:05:00+08:00"
/* `date -d 2025-11-28T14:05:00+08:00 +%s` says 1764309900. */
#define WHEN_MS		INT64_C(1764309900000)

static const char *const note_only[] = { "note", NULL };

static char *
repeat(const char *unit, size_t n)
{
	size_t	 u = strlen(unit), i;
	char	*s;

	s = malloc(u * n + 1);
	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * u, unit, u);
	s[u * n] = '\0';
	return s;
}

static json_t *
jrepeat(const char *unit, size_t n)
{
	char	*s = repeat(unit, n);
	json_t	*j = json_string(s);

	free(s);
	assert_non_null(j);
	return j;
}

static json_t *
minimal(void)
{
	json_t	*o;

	o = json_pack("{s:s, s:s}", "title", "镇北河道水位超警戒",
	    "occurred_at", WHEN);
	assert_non_null(o);
	return o;
}

static char *
dump(json_t *o)
{
	char	*s;

	s = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(s);
	json_decref(o);
	return s;
}

/* The minimal report with `key` set to `value` (stolen); JSON text to free. */
static char *
with(const char *key, json_t *value)
{
	json_t	*o = minimal();

	assert_non_null(value);
	assert_int_equal(json_object_set_new(o, key, value), 0);
	return dump(o);
}

/* The minimal report without `key`. */
static char *
without(const char *key)
{
	json_t	*o = minimal();

	assert_int_equal(json_object_del(o, key), 0);
	return dump(o);
}

static int
valid_utf8(const char *s)
{
	json_t	*j = json_string(s);

	json_decref(j);
	return j != NULL;
}

static void
check_error(const char *what, const struct report_error *err,
    const char *field, int not_json, const char *needle)
{
	if ((field == NULL) != (err->field == NULL) ||
	    (field != NULL && strcmp(field, err->field) != 0))
		fail_msg("%s: field is %s, expected %s (message: %s)", what,
		    err->field ? err->field : "NULL", field ? field : "NULL",
		    err->message);
	if (err->not_json != not_json)
		fail_msg("%s: not_json is %d, expected %d (message: %s)", what,
		    err->not_json, not_json, err->message);
	/* A wrong body is the client's 400, never the 503 of dutyd's memory. */
	if (err->code != -EINVAL)
		fail_msg("%s: code is %d, expected -EINVAL", what, err->code);
	if (err->message[0] == '\0')
		fail_msg("%s: empty message", what);
	if (!valid_utf8(err->message))
		fail_msg("%s: message is not valid UTF-8", what);
	if (needle != NULL && strstr(err->message, needle) == NULL)
		fail_msg("%s: message \"%s\" does not mention \"%s\"", what,
		    err->message, needle);
}

static void
expect_reject(const char *body, const char *field, int not_json,
    const char *needle)
{
	struct report_error err;
	int64_t	 ms = -1;
	json_t	*r;

	r = report_parse(body, strlen(body), &ms, &err);
	if (r != NULL)
		fail_msg("accepted: %s", body);
	check_error(body, &err, field, not_json, needle);
}

/* Takes ownership of body. */
static void
expect_reject_free(char *body, const char *field, const char *needle)
{
	expect_reject(body, field, 0, needle);
	free(body);
}

static json_t *
expect_accept(const char *body, int64_t *ms)
{
	struct report_error err;
	json_t	*r;

	r = report_parse(body, strlen(body), ms, &err);
	if (r == NULL)
		fail_msg("rejected (%s: %s): %.200s",
		    err.field ? err.field : "body", err.message, body);
	return r;
}

static void
expect_accept_free(char *body)
{
	int64_t	 ms;

	json_decref(expect_accept(body, &ms));
	free(body);
}

static void
test_full_report_round_trips(void **state)
{
	const char *body =
	    "{\"title\": \"镇北河道水位超警戒，两户民房进水\","
	    " \"occurred_at\": \"" WHEN "\","
	    " \"category\": \"自然灾害/洪涝\","
	    " \"level\": \"III\","
	    " \"location\": \"城关镇北关村三组\","
	    " \"cause\": \"连续强降雨，上游来水\","
	    " \"measures\": \"已转移群众12人，设置警戒线\","
	    " \"details\": \"14时05分，北关村报告河道水位超过警戒水位0.3米。"
	    "\\n续报另行。\","
	    " \"casualties\": {\"dead\": 0, \"injured\": 2, \"missing\": 1},"
	    " \"reporter\": {\"name\": \"王值班\","
	    " \"phone\": \"+86 (0371) 6123-4567\"}}";
	json_t	*sent, *r;
	int64_t	 ms = 0;

	r = expect_accept(body, &ms);
	sent = json_loads(body, 0, NULL);
	assert_non_null(sent);
	/* Every field comes back exactly as sent, nothing added. */
	assert_true(json_equal(sent, r));
	assert_int_equal(json_object_size(r), 10);
	assert_string_equal(json_string_value(json_object_get(r,
	    "occurred_at")), WHEN);
	assert_int_equal(json_integer_value(json_object_get(
	    json_object_get(r, "casualties"), "injured")), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(r, "reporter"), "name")), "王值班");
	assert_true(ms == WHEN_MS);
	json_decref(sent);
	json_decref(r);
}

static void
test_minimal_report(void **state)
{
	char	*body = dump(minimal());
	json_t	*r;
	int64_t	 ms = 0;

	r = expect_accept(body, &ms);
	assert_int_equal(json_object_size(r), 2);
	assert_string_equal(json_string_value(json_object_get(r, "title")),
	    "镇北河道水位超警戒");
	assert_string_equal(json_string_value(json_object_get(r,
	    "occurred_at")), WHEN);
	json_decref(r);
	free(body);
}

static void
test_occurred_ms_honours_offset(void **state)
{
	struct tm tm = { .tm_year = 2025 - 1900, .tm_mon = 10, .tm_mday = 28,
	    .tm_hour = 6, .tm_min = 5 };
	int64_t	 ms = 0, utc_ms = 0;
	json_t	*r;
	char	*body;

	body = dump(minimal());
	json_decref(expect_accept(body, &ms));
	free(body);
	assert_true(ms == WHEN_MS);
	/* 14:05 at +08:00 is 06:05 UTC, however it is spelled. */
	assert_true(ms == (int64_t)timegm(&tm) * 1000);
	body = with("occurred_at", json_string("2025-11-28T06:05:00Z"));
	r = expect_accept(body, &utc_ms);
	assert_true(utc_ms == ms);
	/* ... and the text is kept as sent, not normalised. */
	assert_string_equal(json_string_value(json_object_get(r,
	    "occurred_at")), "2025-11-28T06:05:00Z");
	json_decref(r);
	free(body);
}

static void
test_title(void **state)
{
	expect_reject_free(without("title"), "title", "missing");
	expect_reject_free(with("title", json_null()), "title", "missing");
	expect_reject_free(with("title", json_string("")), "title", NULL);
	expect_reject_free(with("title", json_string(" \t\n ")), "title",
	    "blank");
	/* Full-width spaces are what a Chinese input method types. */
	expect_reject_free(with("title", json_string("\u3000\u3000")),
	    "title", "blank");
	expect_reject_free(with("title", json_integer(5)), "title",
	    "title must be a string");
	expect_reject_free(with("title", json_pack("[s]", "a")), "title",
	    "title must be a string");
	/* The limit is in code points: 200 Chinese characters are 600 bytes. */
	expect_accept_free(with("title", jrepeat("险", 200)));
	expect_reject_free(with("title", jrepeat("险", 201)),
	    "title", "200");
	expect_reject_free(with("title", jrepeat("a", 201)),
	    "title", "200");
}

static void
test_text_limits(void **state)
{
	static const struct {
		const char	*key;
		size_t		 max;
	} t[] = {
		{ "category", REPORT_SHORT_MAX },
		{ "location", REPORT_TEXT_MAX },
		{ "cause", REPORT_TEXT_MAX },
		{ "measures", REPORT_TEXT_MAX },
		{ "details", REPORT_DETAILS_MAX },
	};
	size_t	 i;

	assert_int_equal(REPORT_DETAILS_MAX, 8000);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		expect_accept_free(with(t[i].key,
		    jrepeat("汛", t[i].max)));
		expect_reject_free(with(t[i].key,
		    jrepeat("汛", t[i].max + 1)), t[i].key, NULL);
		expect_reject_free(with(t[i].key, json_true()), t[i].key,
		    "must be a string");
	}
}

static void
test_occurred_at(void **state)
{
	static const char *const bad[] = {
		"2026-11-28 14:05",
		"yesterday",
		"2026-11-28T14:05:00",		/* no offset */
		"2026-11-28",
		"2026-13-28T14:05:00+08:00",
		"",
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_reject_free(with("occurred_at", json_string(bad[i])),
		    "occurred_at", "e.g. 2026-11-28T14:05:00+08:00");
	expect_reject_free(without("occurred_at"), "occurred_at", "missing");
	expect_reject_free(with("occurred_at", json_integer(WHEN_MS)),
	    "occurred_at", "must be a string");
	/* Any year was taken, and year 0 came back as invalid RFC 3339. */
	expect_reject_free(with("occurred_at", json_string(
	    "0000-01-01T00:00:00+08:00")), "occurred_at",
	    "between the years 1970 and 9999");
	expect_reject_free(with("occurred_at", json_string(
	    "1969-12-31T23:59:59Z")), "occurred_at",
	    "between the years 1970 and 9999");
}

/* Counties write levels every way: one spelling is stored, I to IV. */
static void
test_level(void **state)
{
	static const struct { const char *in, *out; } good[] = {
		{ "I", "I" }, { "II", "II" }, { "III", "III" }, { "IV", "IV" },
		{ "Ⅰ", "I" }, { "Ⅱ", "II" }, { "Ⅲ", "III" }, { "Ⅳ", "IV" },
		{ "1", "I" }, { "2", "II" }, { "3", "III" }, { "4", "IV" },
	};
	static const char *const bad[] = { "V", "i", "Ⅴ", "0", "5", "III ", "",
	    "II级" };
	char	*body;
	json_t	*r;
	int64_t	 ms;
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		body = with("level", json_string(good[i].in));
		r = expect_accept(body, &ms);
		assert_string_equal(json_string_value(json_object_get(r,
		    "level")), good[i].out);
		json_decref(r);
		free(body);
	}
	body = with("level", json_integer(2));
	r = expect_accept(body, &ms);
	assert_string_equal(json_string_value(json_object_get(r, "level")), "II");
	json_decref(r);
	free(body);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_reject_free(with("level", json_string(bad[i])), "level",
		    "\"I\", \"II\", \"III\", \"IV\"");
	expect_reject_free(with("level", json_integer(5)), "level", "1 to 4");
	expect_reject_free(with("level", json_real(2.0)), "level", "1 to 4");
	expect_reject_free(with("level", json_true()), "level", "1 to 4");
}

/* A follow-up's level is read the same way. */
static void
test_update_level(void **state)
{
	struct report_error	 err;
	json_t			*u;

	u = report_parse_update("{\"level\": \"Ⅲ\"}", strlen("{\"level\": \"Ⅲ\"}"),
	    &err);
	assert_non_null(u);
	assert_string_equal(json_string_value(json_object_get(u, "level")), "III");
	json_decref(u);
}

/* occurred_at up to 5 minutes ahead is a clock off by a little; more is a mistake. */
static void
test_occurred_in_the_future(void **state)
{
	struct report_error	 err;
	int64_t			 now = 1796169600000LL, ms;	/* 2026-12-02T08:00:00+08:00 */
	const char		*soon = "{\"title\": \"x\", \"occurred_at\": "
				    "\"2026-12-02T08:05:00+08:00\"}";
	const char		*later = "{\"title\": \"x\", \"occurred_at\": "
				    "\"2026-12-02T08:05:01+08:00\"}";
	json_t			*r;

	assert_non_null(r = report_parse_opts(soon, strlen(soon), now, 0, &ms,
	    &err));
	json_decref(r);
	assert_null(report_parse_opts(later, strlen(later), now, 0, &ms, &err));
	assert_string_equal(err.field, "occurred_at");
	assert_non_null(strstr(err.message, "in the future"));
	/* Without a time to compare with (an SMS's own reading), nothing is checked. */
	assert_non_null(r = report_parse(later, strlen(later), &ms, &err));
	json_decref(r);
}

/* A report staff took by phone names its office; a county's own does not. */
static void
test_phoned_office(void **state)
{
	struct report_error	 err;
	const char		*with_office = "{\"office\": \"county-a\", \"title\": "
				    "\"x\", \"occurred_at\": \"2026-12-02T08:00:00+08:00\"}";
	const char		*without = "{\"title\": \"x\", \"occurred_at\": "
				    "\"2026-12-02T08:00:00+08:00\"}";
	const char		*bad = "{\"office\": \"A县\", \"title\": \"x\", "
				    "\"occurred_at\": \"2026-12-02T08:00:00+08:00\"}";
	int64_t			 ms;
	json_t			*r;

	assert_non_null(r = report_parse_opts(with_office, strlen(with_office),
	    0, REPORT_PHONED, &ms, &err));
	assert_string_equal(json_string_value(json_object_get(r, "office")),
	    "county-a");
	json_decref(r);
	assert_null(report_parse_opts(without, strlen(without), 0,
	    REPORT_PHONED, &ms, &err));
	assert_string_equal(err.field, "office");
	assert_non_null(strstr(err.message, "office is missing"));
	assert_null(report_parse_opts(bad, strlen(bad), 0, REPORT_PHONED, &ms,
	    &err));
	assert_string_equal(err.field, "office");
	assert_null(report_parse(with_office, strlen(with_office), &ms, &err));
	assert_string_equal(err.field, "office");
	assert_non_null(strstr(err.message, "person's token"));
}

static void
test_casualties(void **state)
{
	expect_accept_free(with("casualties", json_pack("{s:i, s:i, s:i}",
	    "dead", 0, "injured", 1000000, "missing", 3)));
	expect_accept_free(with("casualties", json_object()));
	expect_reject_free(with("casualties", json_pack("{s:i}", "dead", -1)),
	    "casualties.dead", "0");
	expect_reject_free(with("casualties", json_pack("{s:i}", "injured",
	    1000001)), "casualties.injured", "1000000");
	expect_reject_free(with("casualties", json_pack("{s:f}", "dead", 1.0)),
	    "casualties.dead", "whole number");
	expect_reject_free(with("casualties", json_pack("{s:s}", "missing",
	    "3")), "casualties.missing", "whole number");
	expect_reject_free(with("casualties", json_pack("{s:b}", "dead", 1)),
	    "casualties.dead", "whole number");
	expect_reject_free(with("casualties", json_pack("{s:i}", "deaths", 1)),
	    "casualties", "deaths");
	expect_reject_free(with("casualties", json_pack("[i]", 1)),
	    "casualties", "must be an object");
	expect_reject_free(with("casualties", json_string("无")),
	    "casualties", "must be an object");
	/* 1.0 as the office typed it, not as jansson would print it. */
	expect_reject("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\","
	    "\"casualties\":{\"dead\":1.0}}", "casualties.dead", 0, NULL);
}

static void
test_reporter(void **state)
{
	expect_accept_free(with("reporter", json_pack("{s:s, s:s}", "name",
	    "李四", "phone", "0371-61234567")));
	expect_accept_free(with("reporter", json_pack("{s:o}", "phone",
	    jrepeat("1", 32))));
	expect_reject_free(with("reporter", json_pack("{s:o}", "phone",
	    jrepeat("1", 33))), "reporter.phone", "32");
	expect_reject_free(with("reporter", json_pack("{s:s}", "phone",
	    "138-0000-abcd")), "reporter.phone", "digits");
	expect_reject_free(with("reporter", json_pack("{s:s}", "phone",
	    "１３８００００００００")), "reporter.phone", "digits");
	expect_reject_free(with("reporter", json_pack("{s:s}", "phone", "+ -")),
	    "reporter.phone", "digits");
	expect_reject_free(with("reporter", json_pack("{s:I}", "phone",
	    (json_int_t)13800000000)), "reporter.phone", "must be a string");
	expect_reject_free(with("reporter", json_pack("{s:o}", "name",
	    jrepeat("张", REPORT_SHORT_MAX + 1))), "reporter.name", NULL);
	expect_reject_free(with("reporter", json_pack("{s:s}", "email",
	    "a@b")), "reporter", "email");
	expect_reject_free(with("reporter", json_string("王值班")),
	    "reporter", "must be an object");
}

static void
test_unknown_field(void **state)
{
	/* The office learns the field's name and what it should have been. */
	expect_reject_free(with("titel", json_string("x")), NULL, "\"titel\"");
	expect_reject_free(with("titel", json_string("x")), NULL,
	    "occurred_at");
	/* An unknown field is an error even when null. */
	expect_reject_free(with("extra", json_null()), NULL, "extra");
}

static void
test_duplicate_key(void **state)
{
	expect_reject("{\"title\":\"a\",\"occurred_at\":\"" WHEN "\","
	    "\"title\":\"b\"}", NULL, 0, "title");
}

static void
test_not_json(void **state)
{
	struct report_error err;
	const char bad_utf8[] =
	    "{\"title\":\"\xff\xfe\",\"occurred_at\":\"x\"}";

	expect_reject("{title: 1}", NULL, 1, "body is not valid JSON: ");
	expect_reject("{\"title\": \"a\"", NULL, 1, "line 1 column");
	expect_reject("{\"title\":\"a\",\"occurred_at\":\"" WHEN "\"} x", NULL,
	    1, "body is not valid JSON");
	expect_reject("", NULL, 1, NULL);
	expect_reject(" \n", NULL, 1, NULL);
	/* The message may quote the body yet stays valid UTF-8 for the reply. */
	assert_null(report_parse(bad_utf8, sizeof(bad_utf8) - 1, NULL, &err));
	check_error("invalid UTF-8", &err, NULL, 1, NULL);
	/* A NUL byte (not \u0000) in the body. */
	assert_null(report_parse("{\"title\"\0:1}", 12, NULL, &err));
	check_error("NUL byte", &err, NULL, 1, NULL);
}

static void
test_not_an_object(void **state)
{
	expect_reject("[]", NULL, 0, "the body must be a JSON object");
	expect_reject("[{\"title\":\"a\",\"occurred_at\":\"" WHEN "\"}]", NULL,
	    0, "the body must be a JSON object");
	expect_reject("42", NULL, 0, "the body must be a JSON object");
	expect_reject("\"title\"", NULL, 0, "the body must be a JSON object");
	expect_reject("null", NULL, 0, "the body must be a JSON object");
}

static void
test_nul_in_string(void **state)
{
	expect_reject("{\"title\":\"a\\u0000b\",\"occurred_at\":\"" WHEN "\"}",
	    "title", 0, "NUL");
	expect_reject("{\"title\":\"a\",\"occurred_at\":\"" WHEN "\\u0000\"}",
	    "occurred_at", 0, "NUL");
	expect_reject("{\"title\":\"a\",\"occurred_at\":\"" WHEN "\","
	    "\"details\":\"\\u0000\"}", "details", 0, "NUL");
	expect_reject("{\"title\":\"a\",\"occurred_at\":\"" WHEN "\","
	    "\"reporter\":{\"name\":\"x\\u0000\"}}", "reporter.name", 0, "NUL");
}

static void
test_nulls_dropped(void **state)
{
	const char *body = "{\"title\":\"停电\",\"occurred_at\":\"" WHEN "\","
	    "\"category\":null,\"level\":null,\"location\":null,\"cause\":null,"
	    "\"measures\":null,\"details\":null,\"reporter\":null,"
	    "\"casualties\":{\"dead\":null,\"injured\":4,\"missing\":null}}";
	json_t	*r, *c;
	int64_t	 ms;

	r = expect_accept(body, &ms);
	assert_int_equal(json_object_size(r), 3);
	assert_non_null(json_object_get(r, "title"));
	assert_non_null(json_object_get(r, "occurred_at"));
	c = json_object_get(r, "casualties");
	assert_true(json_is_object(c));
	assert_int_equal(json_object_size(c), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "injured")), 4);
	json_decref(r);
}

static void
test_messages_clip_client_text(void **state)
{
	struct report_error err;
	char	*s, *key, *body;
	json_t	*o;

	/*
	 * Long client text quoted in a message is cut on a character boundary;
	 * the leading "a" keeps 3-byte characters off any round byte count.
	 */
	s = repeat("字", 300);
	assert_true(asprintf(&key, "a%s", s) > 0);
	free(s);
	o = minimal();
	assert_int_equal(json_object_set_new(o, key, json_string("x")), 0);
	body = dump(o);
	assert_null(report_parse(body, strlen(body), NULL, &err));
	check_error("long unknown key", &err, NULL, 0, "字字字");
	free(body);
	free(key);
	s = repeat("昨", 300);
	assert_true(asprintf(&key, "a%s", s) > 0);
	free(s);
	body = with("occurred_at", json_string(key));
	free(key);
	assert_null(report_parse(body, strlen(body), NULL, &err));
	check_error("long bad time", &err, "occurred_at", 0, "昨昨昨");
	free(body);
}

static void
test_body_too_big(void **state)
{
	struct report_error err;
	char	*body;

	body = with("details", jrepeat("a", REPORT_BODY_MAX));
	assert_null(report_parse(body, strlen(body), NULL, &err));
	check_error("big body", &err, NULL, 0, "65536");
	free(body);
}

static json_t *
action(const char *body, const char *const *fields, struct report_error *err)
{
	return report_parse_action(body, strlen(body), fields, err);
}

static void
test_action(void **state)
{
	static const char *const two[] = { "note", "reference", NULL };
	static const char *const none[] = { NULL };
	struct report_error err;
	json_t	*r;
	char	*s, *body;

	r = report_parse_action(NULL, 0, note_only, &err);
	assert_true(json_is_object(r));
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	r = action(" \r\n\t", note_only, &err);
	assert_true(json_is_object(r));
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);

	r = action("{\"note\": \"已电话核实，现场已处置\"}", note_only,
	    &err);
	assert_non_null(r);
	assert_int_equal(json_object_size(r), 1);
	assert_string_equal(json_string_value(json_object_get(r, "note")),
	    "已电话核实，现场已处置");
	json_decref(r);

	r = action("{\"note\": null, \"reference\": \"县应急〔2025〕12号\"}",
	    two, &err);
	assert_non_null(r);
	assert_int_equal(json_object_size(r), 1);
	assert_non_null(json_object_get(r, "reference"));
	json_decref(r);

	r = action("{\"note\": null}", note_only, &err);
	assert_non_null(r);
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);

	assert_null(action("{\"nope\": \"x\"}", note_only, &err));
	check_error("unknown", &err, NULL, 0, "nope");
	assert_non_null(strstr(err.message, "note"));
	assert_null(action("{\"note\": \"x\"}", none, &err));
	check_error("no fields", &err, NULL, 0, "note");
	assert_null(action("{\"note\": 5}", note_only, &err));
	check_error("number", &err, "note", 0, "must be a string");
	assert_null(action("{\"note\": \"a\\u0000\"}", note_only, &err));
	check_error("NUL", &err, "note", 0, "NUL");
	assert_null(action("[]", note_only, &err));
	check_error("array", &err, NULL, 0, "the body must be a JSON object");
	assert_null(action("{\"note\":", note_only, &err));
	check_error("truncated", &err, NULL, 1, "body is not valid JSON");
	assert_null(action("{\"note\":\"a\",\"note\":\"b\"}", note_only, &err));
	check_error("duplicate", &err, NULL, 0, "note");

	s = repeat("处", REPORT_NOTE_MAX);
	body = dump(json_pack("{s:s}", "note", s));
	r = action(body, note_only, &err);
	assert_non_null(r);
	json_decref(r);
	free(body);
	free(s);
	s = repeat("处", REPORT_NOTE_MAX + 1);
	body = dump(json_pack("{s:s}", "note", s));
	assert_null(action(body, note_only, &err));
	check_error("long note", &err, "note", 0, "2000");
	free(body);
	free(s);
}

/* Whole-number members beside the strings: approve's {"comment", "version"}. */
static void
test_action_numbers(void **state)
{
	static const char *const comment[] = { "comment", NULL };
	static const char *const version[] = { "version", NULL };
	static const char *const bad[] = { "-1", "\"1\"", "1.5", "true",
	    "[1]", "2147483648", NULL };
	struct report_error err;
	char	 body[64];
	json_t	*r;
	size_t	 i;

	strcpy(body, "{\"comment\": \"同意\", \"version\": 3}");
	r = report_parse_action_n(body, strlen(body), comment, version, &err);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "version")), 3);
	assert_string_equal(json_string_value(json_object_get(r, "comment")),
	    "同意");
	json_decref(r);
	strcpy(body, "{\"version\": 2147483647}");
	r = report_parse_action_n(body, strlen(body), comment, version, &err);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "version")),
	    2147483647);
	json_decref(r);
	strcpy(body, "{\"version\": null}");
	r = report_parse_action_n(body, strlen(body), comment, version, &err);
	assert_non_null(r);
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(body, sizeof(body), "{\"version\": %s}", bad[i]);
		assert_null(report_parse_action_n(body, strlen(body), comment,
		    version, &err));
		check_error(bad[i], &err, "version", 0, "whole number");
	}
	/* Without the list, a number is no field: named with the others. */
	strcpy(body, "{\"version\": 1}");
	assert_null(report_parse_action(body, strlen(body), comment, &err));
	check_error("no numbers", &err, NULL, 0, "comment");
	strcpy(body, "{\"nope\": 1}");
	assert_null(report_parse_action_n(body, strlen(body), comment, version,
	    &err));
	check_error("unknown", &err, NULL, 0, "comment, version");
	/* A string where a number is wanted names that member, not the body. */
	strcpy(body, "{\"comment\": 1}");
	assert_null(report_parse_action_n(body, strlen(body), comment, version,
	    &err));
	check_error("comment number", &err, "comment", 0, "must be a string");
}

static void
test_idempotency_key(void **state)
{
	char	*k;

	assert_int_equal(report_check_idempotency_key("a"), 0);
	assert_int_equal(report_check_idempotency_key(
	    "3f2c9a1e-7b4d-4e8a-9c0f-2d6b8e1a5c7d"), 0);
	assert_int_equal(report_check_idempotency_key("!~:/+=_.{}"), 0);
	k = repeat("k", IDEMPOTENCY_KEY_MAX);
	assert_int_equal(report_check_idempotency_key(k), 0);
	free(k);
	k = repeat("k", IDEMPOTENCY_KEY_MAX + 1);
	assert_int_equal(report_check_idempotency_key(k), -EINVAL);
	free(k);
	assert_int_equal(report_check_idempotency_key(""), -EINVAL);
	assert_int_equal(report_check_idempotency_key(NULL), -EINVAL);
	assert_int_equal(report_check_idempotency_key("has space"), -EINVAL);
	assert_int_equal(report_check_idempotency_key("tab\t"), -EINVAL);
	assert_int_equal(report_check_idempotency_key("del\x7f"), -EINVAL);
	assert_int_equal(report_check_idempotency_key("键"), -EINVAL);
}


/*
 * report_dump(): the record's text is jansson's dump of the report, and
 * the idempotency hash covers the same canonical text as always (sorted,
 * without occurred_at), whatever the order the client sent.
 */
static void
test_dump_is_the_canonical_text(void **state)
{
	static const char *const bodies[] = {
		"{\"title\":\"x\",\"occurred_at\":\"" WHEN "\"}",
		"{\"reporter\":{\"phone\":\"123\",\"name\":\"王\\\"x\\\\y\\n\"},"
		    "\"title\":\"t\\u0001\\u2028/é\",\"casualties\":{\"missing\":1,"
		    "\"dead\":2},\"occurred_at\":\"" WHEN "\",\"level\":2,"
		    "\"category\":\"火灾\",\"details\":null}",
		"{\"occurred_at\":\"" WHEN "\",\"title\":\"仅标题\",\"measures\":\"m\","
		    "\"cause\":\"c\",\"location\":\"l\",\"level\":\"Ⅲ\"}",
	};
	json_t	*report, *copy;
	char	*raw, *canon, *want;
	size_t	 rawlen, canonlen, i;
	int64_t	 ms;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		report = report_parse(bodies[i], strlen(bodies[i]), &ms, NULL);
		assert_non_null(report);
		assert_int_equal(report_dump(report, &raw, &rawlen, &canon,
		    &canonlen), 0);
		want = json_dumps(report, JSON_COMPACT);
		assert_string_equal(raw, want);
		assert_int_equal(rawlen, strlen(want));
		free(want);
		copy = json_copy(report);
		json_object_del(copy, "occurred_at");
		want = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
		assert_string_equal(canon, want);
		assert_int_equal(canonlen, strlen(want));
		free(want);
		json_decref(copy);
		free(raw);
		free(canon);
		json_decref(report);
	}
	/* What the fast way leaves to the general one: a key to escape. */
	report = json_pack("{s:s, s:{s:i, s:i}}", "t\"k", "v", "o", "b", 1, "a", 2);
	assert_int_equal(report_dump(report, &raw, &rawlen, &canon, &canonlen), 0);
	assert_string_equal(raw, "{\"t\\\"k\":\"v\",\"o\":{\"b\":1,\"a\":2}}");
	assert_string_equal(canon, "{\"o\":{\"a\":2,\"b\":1},\"t\\\"k\":\"v\"}");
	free(raw);
	free(canon);
	json_decref(report);
	/* Arrays and objects within: sorted at every depth, as jansson sorts. */
	report = json_pack("{s:[{s:i, s:i}, i], s:{s:{s:i, s:i}, s:i}, s:[s, n], "
	    "s:{s:i, s:i}}", "a", "z", 1, "b", 2, 3, "o", "x", "d", 1, "c", 2,
	    "b", 1, "l", "v", "s", "a", 1, "b", 2);
	assert_int_equal(report_dump(report, &raw, &rawlen, &canon, &canonlen), 0);
	want = json_dumps(report, JSON_COMPACT);
	assert_string_equal(raw, want);
	free(want);
	want = json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(canon, want);
	assert_int_equal(canonlen, strlen(want));
	free(want);
	free(raw);
	free(canon);
	json_decref(report);
	/* Nested objects are sorted in the canonical text only. */
	report = json_pack("{s:{s:i, s:i}, s:s}", "o", "b", 1, "a", 2,
	    "occurred_at", WHEN);
	assert_int_equal(report_dump(report, &raw, &rawlen, &canon, &canonlen), 0);
	assert_string_equal(raw, "{\"o\":{\"b\":1,\"a\":2},\"occurred_at\":\""
	    WHEN "\"}");
	assert_string_equal(canon, "{\"o\":{\"a\":2,\"b\":1}}");
	free(raw);
	free(canon);
	json_decref(report);
}

/*
 * report_parse_dump() writes the strings of a body jfast read without
 * looking at their characters (JWRITE_PLAIN): its texts are jansson's
 * dumps of the report, to the byte, for bodies jfast reads and bodies it
 * leaves to jansson (escapes, which a trusted write would get wrong), and
 * its reports and errors are report_parse_opts()'s.
 */
static void
test_parse_dump_is_jansson(void **state)
{
	static const char *const bodies[] = {
		"{\"title\":\"某镇化工厂爆炸\",\"occurred_at\":\"" WHEN "\","
		    "\"level\":\"IV\",\"location\":\"某县某镇\",\"details\":"
		    "\"一二三四五六七八九十 abc/def \x7f ~ \xf0\x9f\x94\xa5\"}",
		"{ \"occurred_at\" : \"" WHEN "\" ,\n\t\"title\":\"t\","
		    "\"casualties\":{\"missing\":0,\"injured\":5,\"dead\":1},"
		    "\"reporter\":{\"phone\":\"138 0000\",\"name\":\"王\"},"
		    "\"level\":2,\"cause\":null,\"measures\":\"封路\"}\r\n",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"level\":\"Ⅱ\","
		    "\"category\":\"火灾\",\"reporter\":{\"name\":null}}",
		/* Escapes: jansson parses these, and they must be escaped again. */
		"{\"title\":\"a\\\"b\\\\c\\n\",\"occurred_at\":\"" WHEN "\","
		    "\"details\":\"\\u0001\\u2028\\/é\"}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"reporter\":"
		    "{\"name\":\"\\u738b\\t\",\"phone\":\"1\"}}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"office\":"
		    "\"county-a\",\"casualties\":{\"dead\":-0}}",
		"{\"office\":\"county-a\",\"title\":\"t\",\"occurred_at\":\""
		    WHEN "\"}",
		/* Refused, either way alike. */
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"x\":1}",
		"{\"title\":\"tab\tin\",\"occurred_at\":\"" WHEN "\"}",
		"{\"title\":\"\xe4\xb8\",\"occurred_at\":\"" WHEN "\"}",
	};
	struct report_error	 e1, e2;
	struct report_text	 t;
	json_t			*r, *slow, *copy;
	char			*want;
	int64_t			 m1, m2;
	size_t			 i;
	unsigned		 fl;
	int			 rc;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		for (fl = 0; fl <= REPORT_PHONED; fl += REPORT_PHONED) {
			m1 = m2 = 0;
			rc = report_parse_dump(bodies[i], strlen(bodies[i]), 0, fl,
			    &m1, &e1, &r, &t);
			slow = report_parse_opts(bodies[i], strlen(bodies[i]), 0,
			    fl | REPORT_JANSSON, &m2, &e2);
			if (slow == NULL) {
				assert_int_equal(rc, -EINVAL);
				assert_null(r);
				assert_null(t.raw);
				assert_null(t.canon);
				assert_int_equal(e1.code, e2.code);
				assert_string_equal(e1.message, e2.message);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_true(json_equal(r, slow));
			assert_true(m1 == m2);
			want = json_dumps(slow, JSON_COMPACT);
			assert_string_equal(t.raw, want);
			assert_int_equal(t.rawlen, strlen(want));
			free(want);
			copy = json_copy(slow);
			json_object_del(copy, "occurred_at");
			want = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
			assert_string_equal(t.canon, want);
			assert_int_equal(t.canonlen, strlen(want));
			free(want);
			json_decref(copy);
			json_decref(slow);
			json_decref(r);
			free(t.raw);
			free(t.canon);
		}
}

/*
 * The idempotency hash of a report is what it was before the dumps were
 * rewritten (its text and SHA-256 as 5febc9e computed them): a client
 * retrying with its Idempotency-Key across an upgrade gets 200, not 422.
 */
static void
test_hash_is_the_one_logged_before(void **state)
{
	static const char body[] = "{\"reporter\":{\"phone\":\"138 0000\","
	    "\"name\":\"王\"},\"details\":\"一二三 abc / \\\"q\\\" 四\","
	    "\"occurred_at\":\"" WHEN "\",\"level\":\"Ⅱ\",\"casualties\":"
	    "{\"injured\":5,\"dead\":1},\"title\":\"某镇化工厂爆炸\"}";
	json_t	*report;
	char	*raw, *canon, hash[RECORD_HASH_HEX];
	size_t	 rawlen, canonlen;
	int64_t	 ms;

	(void)state;
	assert_non_null(report = report_parse(body, strlen(body), &ms, NULL));
	assert_int_equal(report_dump(report, &raw, &rawlen, &canon, &canonlen), 0);
	assert_string_equal(canon, "{\"casualties\":{\"dead\":1,\"injured\":5},"
	    "\"details\":\"一二三 abc / \\\"q\\\" 四\",\"level\":\"II\","
	    "\"reporter\":{\"name\":\"王\",\"phone\":\"138 0000\"},"
	    "\"title\":\"某镇化工厂爆炸\"}");
	record_hash(canon, canonlen, hash);
	assert_string_equal(hash,
	    "4945e6b96950b01dcb1bc9c5e3dbe3f8c7a336019eafa4950a7278b3274b9498");
	free(raw);
	free(canon);
	json_decref(report);
}

/*
 * A body sent in the table's order with nothing to change is kept as it
 * was parsed, not copied: the report, its key order and its dump, and
 * every error, are what the copy gives (REPORT_COPY), for bodies that
 * take the short way and bodies one detail away from it.
 */
static void
test_report_in_order_is_the_copy(void **state)
{
	static const char *const bodies[] = {
		"{\"title\":\"某镇\",\"occurred_at\":\"" WHEN "\",\"level\":\"II\","
		    "\"location\":\"某地\",\"details\":\"一二三四五六七八九十\","
		    "\"casualties\":{\"dead\":1,\"injured\":5},"
		    "\"reporter\":{\"name\":\"王\",\"phone\":\"138\"}}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\"}",
		/* Out of order, a null, a level to respell, nested out of order. */
		"{\"occurred_at\":\"" WHEN "\",\"title\":\"t\"}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"cause\":null}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"level\":\"Ⅱ\"}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"level\":2}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"casualties\":"
		    "{\"injured\":5,\"dead\":1}}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"reporter\":"
		    "{\"name\":null}}",
		/* Errors, in order and not. */
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"level\":\"V\"}",
		"{\"title\":\" \",\"occurred_at\":\"" WHEN "\"}",
		"{\"title\":\"t\"}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"casualties\":"
		    "{\"dead\":-1}}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"casualties\":"
		    "{\"dead\":1,\"x\":1}}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"casualties\":3}",
		"{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"office\":\"a\"}",
	};
	struct report_error	 e1, e2;
	json_t			*kept, *copy;
	char			*d1, *d2, big[3 * (REPORT_TEXT_MAX + 1) + 128];
	int64_t			 m1, m2;
	size_t			 i, j;
	unsigned		 phoned;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		for (phoned = 0; phoned <= REPORT_PHONED; phoned += REPORT_PHONED) {
			m1 = m2 = 0;
			kept = report_parse_opts(bodies[i], strlen(bodies[i]), 0,
			    phoned, &m1, &e1);
			copy = report_parse_opts(bodies[i], strlen(bodies[i]), 0,
			    phoned | REPORT_COPY, &m2, &e2);
			if (copy == NULL) {
				assert_null(kept);
				assert_int_equal(e1.code, e2.code);
				assert_string_equal(e1.message, e2.message);
				assert_true(e1.field == e2.field);
				continue;
			}
			assert_non_null(kept);
			assert_int_equal(m1, m2);
			d1 = json_dumps(kept, JSON_COMPACT);
			d2 = json_dumps(copy, JSON_COMPACT);
			assert_string_equal(d1, d2);
			free(d1);
			free(d2);
			json_decref(kept);
			json_decref(copy);
		}
	/* Lengths are counted in characters either way, to the limit and past it. */
	for (j = REPORT_TEXT_MAX; j <= REPORT_TEXT_MAX + 1; j++) {
		strcpy(big, "{\"title\":\"t\",\"occurred_at\":\"" WHEN
		    "\",\"location\":\"");
		for (i = 0; i < j; i++)
			strcat(big, "地");
		strcat(big, "\"}");
		kept = report_parse_opts(big, strlen(big), 0, 0, &m1, &e1);
		copy = report_parse_opts(big, strlen(big), 0, REPORT_COPY |
		    REPORT_JANSSON, &m2, &e2);
		assert_true((kept == NULL) == (j > REPORT_TEXT_MAX));
		assert_true((copy == NULL) == (j > REPORT_TEXT_MAX));
		if (kept == NULL)
			assert_string_equal(e1.message, e2.message);
		json_decref(kept);
		json_decref(copy);
	}
}

/*
 * yajl's fast parse (base/jfast.c) gives jansson's tree or nothing: the
 * same report, and the same error to the byte, whichever parsed it.
 */
static void
test_fast_parse_is_jansson(void **state)
{
	static const struct { const char *body; size_t len; } bodies[] = {
#define B(s)	{ s, sizeof(s) - 1 }
		B("{\"title\":\"某镇化工厂爆炸\",\"occurred_at\":\"" WHEN "\","
		    "\"level\":2,\"casualties\":{\"dead\":1,\"injured\":5},"
		    "\"reporter\":{\"name\":\"王\",\"phone\":\"138\"}}"),
		B("\xef\xbb\xbf{\"title\":\"t\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"t\",\v\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"t\",\f\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"t\",\"title\":\"u\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"casualties\":"
		    "{\"dead\":1.0}}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"casualties\":"
		    "{\"dead\":-0}}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"casualties\":"
		    "{\"dead\":99999999999999999999}}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"casualties\":"
		    "{\"dead\":9223372036854775807}}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"casualties\":"
		    "{\"dead\":01}}"),
		B("{\"title\":\"\xc0\xaf\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"\xed\xa0\x80\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"\xf4\x90\x80\x80\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"\xe4\xb8\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\"} x"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\"}{}"),
		B("[{\"title\":\"t\"}]"),
		B("\"title\""),
		B("{\"title\":\"t\0\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"t\"/* c */,\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\""),
		B("{\"title\":\"tab\tin\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"x\":[[[[[[[[[["
		    "[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"reporter\":"
		    "{\"name\":null,\"phone\":true}}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"level\":\"Ⅳ\"}"),
		B("{\"title\" : \"t\" ,\r\n \"occurred_at\" :\t\"" WHEN "\" }\n"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"aaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"casualties\":"
		    "{\"dead\":1e2}}"),
		B("{}"),
		B("{\"title\":\"t\",\"occurred_at\":\"\\u0032025-11-28T14:05:00+08:00\"}"),
		/* UTF-8 checked once for the body: keys, edges, outside strings. */
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"\xff\":1}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"\xe4\xb8\":1}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\"}\xff"),
		B("{\"title\":\"\xe0\xa0\x80\xed\x9f\xbf\xf0\x90\x80\x80\xf4\x8f"
		    "\xbf\xbf\xc2\x80\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"\xe0\x9f\xbf\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"\xf0\x8f\xbf\xbf\",\"occurred_at\":\"" WHEN "\"}"),
		B("{\"title\":\"t\",\"occurred_at\":\"" WHEN "\",\"details\":"
		    "\"中文一二三四五六七八九十 with \xe9\x99\"}"),
#undef B
	};
	struct report_error	 e1, e2;
	json_t			*fast, *slow;
	int64_t			 m1, m2;
	size_t			 i;

	(void)state;
	/* A plain report is yajl's to parse; the rest are whatever they are. */
	assert_non_null(fast = jfast_load(bodies[0].body, bodies[0].len));
	json_decref(fast);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		if ((fast = jfast_load(bodies[i].body, bodies[i].len)) != NULL) {
			slow = json_loadb(bodies[i].body, bodies[i].len,
			    JSON_REJECT_DUPLICATES, NULL);
			assert_non_null(slow);
			assert_true(json_equal(fast, slow));
			json_decref(slow);
			json_decref(fast);
		}
		m1 = m2 = 0;
		fast = report_parse_opts(bodies[i].body, bodies[i].len, 0, 0,
		    &m1, &e1);
		slow = report_parse_opts(bodies[i].body, bodies[i].len, 0,
		    REPORT_JANSSON, &m2, &e2);
		if (slow == NULL) {
			assert_null(fast);
			assert_int_equal(e1.code, e2.code);
			assert_int_equal(e1.not_json, e2.not_json);
			assert_string_equal(e1.message, e2.message);
			if (e2.field == NULL)
				assert_null(e1.field);
			else
				assert_string_equal(e1.field, e2.field);
		} else {
			assert_non_null(fast);
			assert_true(json_equal(fast, slow));
			assert_true(m1 == m2);
		}
		json_decref(fast);
		json_decref(slow);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_is_the_canonical_text),
		cmocka_unit_test(test_parse_dump_is_jansson),
		cmocka_unit_test(test_hash_is_the_one_logged_before),
		cmocka_unit_test(test_fast_parse_is_jansson),
		cmocka_unit_test(test_report_in_order_is_the_copy),
		cmocka_unit_test(test_full_report_round_trips),
		cmocka_unit_test(test_minimal_report),
		cmocka_unit_test(test_occurred_ms_honours_offset),
		cmocka_unit_test(test_title),
		cmocka_unit_test(test_text_limits),
		cmocka_unit_test(test_occurred_at),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_update_level),
		cmocka_unit_test(test_occurred_in_the_future),
		cmocka_unit_test(test_phoned_office),
		cmocka_unit_test(test_casualties),
		cmocka_unit_test(test_reporter),
		cmocka_unit_test(test_unknown_field),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_nul_in_string),
		cmocka_unit_test(test_nulls_dropped),
		cmocka_unit_test(test_messages_clip_client_text),
		cmocka_unit_test(test_body_too_big),
		cmocka_unit_test(test_action),
		cmocka_unit_test(test_action_numbers),
		cmocka_unit_test(test_idempotency_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
