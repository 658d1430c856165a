/*
 * Replay reads a line in dutyd's own layout without record_parse()'s
 * whole tree (store/replayline.c): whatever the line, it must give back
 * exactly the record record_parse() reads, data's text included, and
 * refuse exactly what it refuses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/jfast.h"
#include "store/record.h"
#include "store/replayline.h"

#define PREV	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TS	"2026-12-02T08:00:00.125+08:00"

static void
same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_true(a == b);
	else
		assert_string_equal(a, b);
}

/* Set by both(): the line was read by the fast path (its strings in rl). */
static int	 was_fast;

/* LINE read both ways: the same outcome, the same record. */
static int
both(const char *line)
{
	struct record		 want, got;
	struct replayline	 rl;
	json_t			*wroot, *groot;
	const char		*wwhy = NULL, *gwhy = NULL;
	size_t			 len = strlen(line);
	int			 wrc, grc;

	wrc = record_parse(line, len, &want, &wroot, &wwhy);
	grc = replayline_parse(line, len, &got, &rl, &groot, &gwhy);
	assert_int_equal(grc, wrc);
	was_fast = grc == 0 && got.ts >= rl.buf && got.ts < rl.buf + sizeof(rl.buf);
	if (wrc != 0) {
		assert_null(groot);
		assert_string_equal(gwhy, wwhy);
		return wrc;
	}
	assert_non_null(groot);
	assert_int_equal(got.seq, want.seq);
	assert_int_equal(got.ts_ms, want.ts_ms);
	same_string(got.ts, want.ts);
	same_string(got.event, want.event);
	same_string(got.incident, want.incident);
	same_string(got.actor, want.actor);
	assert_true(json_equal(got.data, want.data));
	assert_int_equal(got.replaying, 0);
	assert_true(got.data_text == want.data_text);
	assert_int_equal(got.data_textlen, want.data_textlen);
	assert_null(got.spliced_key);
	json_decref(wroot);
	json_decref(groot);
	return 0;
}

/* The lines dutyd writes, through record_format(): read fast, read the same. */
static void
test_dutyds_own_lines(void **state)
{
	static const char *datas[] = {
		"{}",
		"{\"office\":\"county-a\",\"report\":{\"title\":\"某镇化工厂爆炸\","
		"\"casualties\":{\"dead\":0,\"injured\":3},\"tags\":[\"a\",true,null]}}",
		"{\"attempt\":1,\"person\":\"zhang\",\"contact\":0,\"outcome\":"
		"\"delivered\",\"status\":200,\"intent\":2,\"recipient\":0}",
		"{\"event\":\"incident.new\",\"recipients\":[{\"person\":\"zhang\","
		"\"name\":\"张伟\",\"contacts\":[{\"channel\":\"hook\",\"to\":\"zhang\"}]}],"
		"\"on_duty\":[],\"late_ms\":-5}",
	};
	static const char *incidents[] = { NULL, "INC-20261202-0001" };
	static const char *actors[] = { "dutyd", "office:county-a", "person:张伟" };
	struct record	 rec;
	char		*line;
	size_t		 len, i, j, k;

	(void)state;
	for (i = 0; i < sizeof(datas) / sizeof(datas[0]); i++)
		for (j = 0; j < 2; j++)
			for (k = 0; k < 3; k++) {
				memset(&rec, 0, sizeof(rec));
				rec.seq = 1 + (int64_t)(i * 100 + j * 10 + k) * 1000003;
				rec.ts = TS;
				rec.event = "notify.attempt";
				rec.incident = incidents[j];
				rec.actor = actors[k];
				rec.data = json_loads(datas[i], 0, NULL);
				assert_non_null(rec.data);
				assert_int_equal(record_format(&rec, PREV, &line,
				    &len), 0);
				assert_int_equal(both(line), 0);
				/* Plain ASCII envelopes are the fast path's. */
				assert_int_equal(was_fast, k != 2);
				free(line);
				json_decref(rec.data);
			}
}

/* Lines off the layout, or that record_parse() refuses: its reading. */
static void
test_other_lines_are_record_parses(void **state)
{
	static const char *lines[] = {
		/* leading zero, zero, too many digits, negative */
		"{\"seq\":07,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":0,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":1234567890123456789,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":123456789012345678,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":-3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":3.0,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		/* a time that is none */
		"{\"seq\":3,\"ts\":\"yesterday\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		/* escapes in the envelope and in data */
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\\\"y\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\\u0041\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{\"d\":\"a\\nb\"},\"prev\":\"" PREV "\"}",
		/* a real, a key twice, a data that is no object, data nothing */
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{\"v\":1.5},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{\"v\":1,\"v\":2},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":[1],\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":\"{}\",\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":,\"prev\":\"" PREV "\"}",
		/* a member between data and prev; two data objects; garbage after */
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{\"v\":1},\"z\":{\"w\":2},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{\"v\":1}{\"w\":2},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{\"v\":1}},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{\"v\":1},\"data\":{},\"prev\":\"" PREV "\"}",
		/* another order, spaces, an incident that is no string */
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"incident\":\"I\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":3, \"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{ },\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"incident\":null,\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"incident\":7,\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		/* event or actor missing, a prev in capitals or short, cut short */
		"{\"seq\":3,\"ts\":\"" TS "\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"data\":{},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"0123\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{},\"prev\":\"" PREV "\"}}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{\"t\":\"\x01\"},\"prev\":\"" PREV "\"}",
		/* not UTF-8 in data or in the envelope */
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"a\",\"data\":{\"t\":\"\xff\"},\"prev\":\"" PREV "\"}",
		"{\"seq\":3,\"ts\":\"" TS "\",\"event\":\"x\",\"actor\":\"\xc3\",\"data\":{},\"prev\":\"" PREV "\"}",
		"",
		"{}",
		"{\"seq\":3}",
	};
	size_t	 i;
	int	 ok = 0;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (both(lines[i]) == 0)
			ok++;
	/* Some of them are records: the comparison above compared records. */
	assert_true(ok >= 5);
}

/* Deeper than jfast goes, and envelope strings longer than the buffer. */
static void
test_limits(void **state)
{
	char	 line[4096], deep[256], actor[1024];
	size_t	 i;

	(void)state;
	memset(deep, 0, sizeof(deep));
	for (i = 0; i < 20; i++)
		strcat(deep, "{\"a\":");
	strcat(deep, "1");
	for (i = 0; i < 20; i++)
		strcat(deep, "}");
	snprintf(line, sizeof(line), "{\"seq\":3,\"ts\":\"" TS "\",\"event\":"
	    "\"x\",\"actor\":\"a\",\"data\":%s,\"prev\":\"" PREV "\"}", deep);
	assert_int_equal(both(line), 0);
	memset(actor, 'q', sizeof(actor) - 1);
	actor[sizeof(actor) - 1] = '\0';
	snprintf(line, sizeof(line), "{\"seq\":3,\"ts\":\"" TS "\",\"event\":"
	    "\"x\",\"actor\":\"%s\",\"data\":{},\"prev\":\"" PREV "\"}", actor);
	assert_int_equal(both(line), 0);
}

/*
 * jfast_load() gives yajl blocks from a stack arena (base/jfast.c), the
 * heap past it: bodies big, deep, wide and broken parse to jansson's tree
 * or to nothing, and ASan (make check's second pass) sees no block freed
 * that malloc did not give.
 */
static void
test_jfast_arena(void **state)
{
	static const size_t	 sizes[] = { 0, 1, 2047, 2048, 4096, 300000 };
	json_error_t		 jerr;
	json_t			*fast, *slow;
	char			*body;
	size_t			 i, n, len, cap = 400000;
	int			 depth;

	(void)state;
	assert_non_null(body = malloc(cap));
	/* Strings around yajl's 2 KiB buffer and far past the arena. */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		len = (size_t)snprintf(body, cap, "{\"s\":\"");
		memset(body + len, 'x', sizes[i]);
		len += sizes[i];
		len += (size_t)snprintf(body + len, cap - len, "\",\"n\":12}");
		assert_non_null(fast = jfast_load(body, len));
		assert_non_null(slow = json_loadb(body, len, 0, &jerr));
		assert_true(json_equal(fast, slow));
		json_decref(fast);
		json_decref(slow);
		/* Cut anywhere: nothing (jansson then says why), never a tree. */
		for (n = 0; n < len; n += len / 7 + 1)
			assert_null(jfast_load(body, n));
	}
	/* As deep as jfast goes, and one deeper. */
	for (depth = 15; depth <= 17; depth++) {
		len = 0;
		for (i = 0; i < (size_t)depth; i++)
			len += (size_t)snprintf(body + len, cap - len, "{\"a\":");
		len += (size_t)snprintf(body + len, cap - len, "[1,\"b\",null]");
		for (i = 0; i < (size_t)depth; i++)
			body[len++] = '}';
		fast = jfast_load(body, len);
		assert_non_null(slow = json_loadb(body, len, 0, &jerr));
		/* The array inside is one more level. */
		assert_true(depth + 1 <= 16 ? fast != NULL : fast == NULL);
		if (fast != NULL)
			assert_true(json_equal(fast, slow));
		json_decref(fast);
		json_decref(slow);
	}
	/* Wide: 20,000 members, each a key yajl hands over. */
	len = (size_t)snprintf(body, cap, "{");
	for (i = 0; i < 20000; i++)
		len += (size_t)snprintf(body + len, cap - len, "%s\"k%zu\":[%zu]",
		    i ? "," : "", i, i);
	body[len++] = '}';
	assert_non_null(fast = jfast_load(body, len));
	assert_non_null(slow = json_loadb(body, len, 0, &jerr));
	assert_true(json_equal(fast, slow));
	json_decref(fast);
	json_decref(slow);
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dutyds_own_lines),
		cmocka_unit_test(test_other_lines_are_record_parses),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_jfast_arena),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
