/*
 * Templates as operators write them in the config, and SMS texts as
 * carriers bill them.
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

#include "config/template.h"
#include "notify/smsfit.h"

/* The names operators write, in enum order, as the brief fixes them. */
static const char *const names[TMPL_NVARS] = {
	"id", "office", "title", "level", "location", "details", "received_at",
	"occurred_at", "deadline", "ack_deadline", "report_deadline", "link",
	"actor", "reference", "note", "late", "event", "escalation_level",
	"incidents", "count", "shift", "category", "cause", "measures",
	"casualties", "reporter", "reporter_phone", "late_report", "facts",
	"action", "report_due", "remark",
};

static const char *const events[] = {
	"incident.new", "incident.escalated", "incident.report_overdue",
	"incident.acknowledged", "incident.report_filed", "incident.resolved",
	"duty.handover", "dutyd.bundle",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ELLIPSIS	"\xe2\x80\xa6"

/* Independent strict UTF-8 check: shortest form, no surrogates, <= U+10FFFF. */
static int
valid_utf8(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	unsigned long		 cp;
	int			 n, i;

	while (*s != '\0') {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0)
			n = 1, cp = *s & 0x1f;
		else if ((*s & 0xf0) == 0xe0)
			n = 2, cp = *s & 0x0f;
		else if ((*s & 0xf8) == 0xf0)
			n = 3, cp = *s & 0x07;
		else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

/* Byte length of the UTF-8 character at s. */
static size_t
charlen(const char *s)
{
	unsigned char c = (unsigned char)*s;

	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static char *
repeat(const char *unit, size_t n)
{
	size_t	 len = strlen(unit), i;
	char	*s = malloc(len * n + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[len * n] = '\0';
	return s;
}

static char *
concat3(const char *a, const char *b, const char *c)
{
	char *s;

	assert_true(asprintf(&s, "%s%s%s", a, b, c) != -1);
	return s;
}

static struct tmpl *
compile_ok(const char *src)
{
	struct tmpl	*t = NULL;
	char		 err[TMPL_ERR_MAX] = "";
	size_t		 off = 0;
	int		 rc;

	rc = tmpl_compile(src, &t, &off, err, sizeof(err));
	if (rc != 0)
		fail_msg("\"%s\": %s (at byte %zu)", src, err, off);
	assert_non_null(t);
	return t;
}

static char *
render(const char *src, const struct tmpl_vars *vars)
{
	struct tmpl	*t = compile_ok(src);
	char		*s = tmpl_render(t, vars);

	assert_non_null(s);
	tmpl_free(t);
	return s;
}

/* Expects rc at byte offset at, with needle in the message. */
static void
compile_err(const char *src, int want, size_t at, const char *needle)
{
	struct tmpl	*t = (struct tmpl *)&t;	/* must come back NULL */
	char		 err[TMPL_ERR_MAX] = "";
	size_t		 off = (size_t)-1;

	assert_int_equal(tmpl_compile(src, &t, &off, err, sizeof(err)), want);
	assert_null(t);
	assert_int_equal(off, at);
	if (strstr(err, needle) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", src, err, needle);
}

static void
test_compile_errors(void **state)
{
	const char	*s;
	char		 err[TMPL_ERR_MAX];
	struct tmpl	*t;
	size_t		 off;
	int		 i;

	s = "【突发事件】{office}报告：{ofice}";
	compile_err(s, -EINVAL, strstr(s, "{ofice}") - s,
	    "unknown placeholder {ofice}; known: id, office, title");
	/* The message lists every name an operator may use. */
	assert_int_equal(tmpl_compile(s, &t, &off, err, sizeof(err)), -EINVAL);
	for (i = 0; i < TMPL_NVARS; i++)
		assert_non_null(strstr(err, names[i]));

	s = "请于 {ack_deadline} 前确认 {link";
	compile_err(s, -EINVAL, strrchr(s, '{') - s, "unclosed '{'");
	/* A newline or a second '{' before any '}' means the '}' was forgotten. */
	s = "{office\n}";
	compile_err(s, -EINVAL, 0, "unclosed '{'");
	s = "x {office{title}";
	compile_err(s, -EINVAL, 2, "unclosed '{'");

	s = "确认：{link} }";
	compile_err(s, -EINVAL, strrchr(s, '}') - s, "stray '}'");
	compile_err(s, -EINVAL, strrchr(s, '}') - s, "}}");
	s = "标题{}";
	compile_err(s, -EINVAL, strchr(s, '{') - s, "empty placeholder");
	compile_err(s, -EINVAL, strchr(s, '{') - s, "{{}}");

	/* Names are exact: no case folding, no spaces. */
	compile_err("{Office}", -EINVAL, 0, "unknown placeholder {Office}");
	compile_err("{ office }", -EINVAL, 0, "unknown placeholder { office }");
}

static void
test_compile_bad_utf8(void **state)
{
	static const struct {
		const char	*src;
		size_t		 at;
	} bad[] = {
		{ "ab\xff", 2 },
		{ "中\xe6\x96", 3 },		/* truncated 文 */
		{ "x\xc0\xaf", 1 },		/* overlong '/' */
		{ "\xed\xa0\x80", 0 },		/* a surrogate */
		{ "ok\xf4\x90\x80\x80", 2 },	/* past U+10FFFF */
		{ "\x80", 0 },			/* lone continuation byte */
		{ "{title}\xb2\xe2", 7 },	/* GBK bytes */
	};
	size_t i;

	for (i = 0; i < NELEM(bad); i++)
		compile_err(bad[i].src, -EINVAL, bad[i].at, "UTF-8");
}

static void
test_compile_limits(void **state)
{
	struct tmpl	*t = NULL;
	char		*s, err[TMPL_ERR_MAX], small[24], name[200];
	size_t		 off;

	s = repeat("a", TMPL_SRC_MAX);
	tmpl_free(compile_ok(s));
	free(s);
	s = repeat("a", TMPL_SRC_MAX + 1);
	compile_err(s, -E2BIG, TMPL_SRC_MAX, "8192");
	free(s);

	/* A long unknown name is quoted short, cut between characters. */
	snprintf(name, sizeof(name), "{%s}", "很长很长很长很长很长很长很长很长很长很长很长很长");
	assert_int_equal(tmpl_compile(name, &t, &off, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "…}"));
	assert_true(strlen(err) < sizeof(err) - 1);
	assert_true(valid_utf8(err));
	assert_non_null(strstr(err, "known: id"));

	/* A short buffer gets a terminated, truncated message; NULLs are fine. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(tmpl_compile("{nope}", &t, &off, small, sizeof(small)),
	    -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(tmpl_compile("{nope}", &t, NULL, NULL, 0), -EINVAL);
	assert_null(t);
	assert_int_equal(tmpl_compile(NULL, &t, NULL, NULL, 0), -EINVAL);
}

static void
test_render_all_vars(void **state)
{
	struct tmpl_vars	 vars;
	struct tmpl		*t;
	char			 src[1024] = "", want[2048] = "", val[TMPL_NVARS][32];
	char			*got;
	int			 i;

	for (i = 0; i < TMPL_NVARS; i++) {
		snprintf(val[i], sizeof(val[i]), "<%d值>", i);
		vars.v[i] = val[i];
		strcat(src, "|{");
		strcat(src, names[i]);
		strcat(src, "}");
		strcat(want, "|");
		strcat(want, val[i]);
	}
	t = compile_ok(src);
	for (i = 0; i < TMPL_NVARS; i++)
		assert_true(tmpl_var_used(t, i));
	got = tmpl_render(t, &vars);
	assert_string_equal(got, want);
	free(got);
	tmpl_free(t);

	/* The same placeholder twice renders twice. */
	memset(&vars, 0, sizeof(vars));
	vars.v[TMPL_TITLE] = "山体滑坡";
	got = render("{title}/{title}", &vars);
	assert_string_equal(got, "山体滑坡/山体滑坡");
	free(got);
}

static void
test_render_null_and_escapes(void **state)
{
	struct tmpl_vars	 vars;
	char			*got;

	memset(&vars, 0, sizeof(vars));
	got = render("[{title}]({level})", &vars);
	assert_string_equal(got, "[]()");
	free(got);
	got = render("[{title}]", NULL);
	assert_string_equal(got, "[]");
	free(got);
	got = render("", NULL);
	assert_string_equal(got, "");
	free(got);

	vars.v[TMPL_OFFICE] = "城关镇";
	got = render("{{office}} = {{{office}}}; }}{{", &vars);
	assert_string_equal(got, "{office} = {城关镇}; }{");
	free(got);

	/* Braces in a value are data, not template syntax. */
	vars.v[TMPL_TITLE] = "{office} }}{";
	got = render("{title}", &vars);
	assert_string_equal(got, "{office} }}{");
	free(got);
}

static void
test_render_chinese(void **state)
{
	struct tmpl_vars	 vars;
	char			*got;

	memset(&vars, 0, sizeof(vars));
	vars.v[TMPL_OFFICE] = "城关镇人民政府";
	vars.v[TMPL_TITLE] = "G210国道山体滑坡";
	vars.v[TMPL_LEVEL] = "II级";
	vars.v[TMPL_ACK_DEADLINE] = "14:40";
	got = render("【突发事件】{office}报告：{title}（{level}）。请于 "
	    "{ack_deadline} 前确认。", &vars);
	assert_string_equal(got, "【突发事件】城关镇人民政府报告：G210国道山体滑坡"
	    "（II级）。请于 14:40 前确认。");
	free(got);
}

static void
test_var_used(void **state)
{
	struct tmpl	*t = compile_ok("{title} {{link}} {late}");
	int		 i;

	for (i = 0; i < TMPL_NVARS; i++)
		assert_int_equal(tmpl_var_used(t, i),
		    i == TMPL_TITLE || i == TMPL_LATE);
	assert_false(tmpl_var_used(t, TMPL_NVARS));
	assert_false(tmpl_var_used(t, -1));
	assert_false(tmpl_var_used(NULL, TMPL_TITLE));
	tmpl_free(t);
	tmpl_free(NULL);
}

static void
sample_vars(struct tmpl_vars *vars)
{
	memset(vars, 0, sizeof(*vars));
	vars->v[TMPL_ID] = "20261128-0007";
	vars->v[TMPL_OFFICE] = "城关镇人民政府";
	vars->v[TMPL_TITLE] = "G210国道K35处山体滑坡阻断交通";
	vars->v[TMPL_LEVEL] = "II级";
	vars->v[TMPL_RECEIVED_AT] = "14:20";
	vars->v[TMPL_DEADLINE] = "14:40";
	vars->v[TMPL_ACK_DEADLINE] = "14:40";
	vars->v[TMPL_REPORT_DEADLINE] = "15:00";
	vars->v[TMPL_LINK] = "https://duty.example.gov.cn/i/20261128-0007";
	vars->v[TMPL_ACTOR] = "张伟";
	vars->v[TMPL_REFERENCE] = "城政发〔2026〕12号";
	vars->v[TMPL_EVENT] = "incident.new";
	vars->v[TMPL_LEVEL_NO] = "1";
	vars->v[TMPL_INCIDENTS] = "1. 城关镇 山体滑坡\n2. 河口乡 民房火灾";
	vars->v[TMPL_COUNT] = "2";
	vars->v[TMPL_SHIFT] = "夜班";
	vars->v[TMPL_CASUALTIES] = "死亡1人、受伤5人";
	vars->v[TMPL_FACTS] = "伤亡：死亡1人、受伤5人；报告人：王强（回电 13800138000）。";
	vars->v[TMPL_ACTION] = "确认";
}

static void
test_defaults(void **state)
{
	struct tmpl_vars	 vars;
	struct tmpl		*t;
	const char		*src;
	char			*got;
	size_t			 i;

	sample_vars(&vars);
	for (i = 0; i < NELEM(events); i++) {
		src = tmpl_default(events[i]);
		assert_non_null(src);
		t = compile_ok(src);
		got = tmpl_render(t, &vars);
		assert_non_null(got);
		assert_true(got[0] != '\0');
		assert_true(valid_utf8(got));
		if (strncmp(events[i], "incident.", 9) == 0) {
			/* Who reported what, and where to act on it. */
			assert_true(tmpl_var_used(t, TMPL_OFFICE));
			assert_true(tmpl_var_used(t, TMPL_TITLE));
			assert_true(tmpl_var_used(t, TMPL_LINK));
			assert_non_null(strstr(got, vars.v[TMPL_LINK]));
			/*
			 * SMS is the main channel: a typical incident with
			 * its facts fits the 3 parts a channel sends by default.
			 */
			if (smsfit_segments(got) > 3)
				fail_msg("%s takes %d SMS parts: %s", events[i],
				    smsfit_segments(got), got);
		} else {
			assert_true(tmpl_var_used(t, TMPL_COUNT));
			assert_true(tmpl_var_used(t, TMPL_INCIDENTS));
			assert_non_null(strstr(got, vars.v[TMPL_INCIDENTS]));
		}
		free(got);
		tmpl_free(t);

		src = tmpl_default_title(events[i]);
		assert_non_null(src);
		t = compile_ok(src);
		got = tmpl_render(t, &vars);
		assert_non_null(got);
		assert_true(got[0] != '\0');
		assert_null(strchr(got, '\n'));
		free(got);
		tmpl_free(t);
	}

	/* The deadline that runs, and a late notice when there is one. */
	t = compile_ok(tmpl_default("incident.new"));
	assert_true(tmpl_var_used(t, TMPL_LEVEL));
	assert_true(tmpl_var_used(t, TMPL_RECEIVED_AT));
	assert_true(tmpl_var_used(t, TMPL_ACK_DEADLINE));
	assert_true(tmpl_var_used(t, TMPL_LATE));
	tmpl_free(t);
	t = compile_ok(tmpl_default("incident.escalated"));
	assert_true(tmpl_var_used(t, TMPL_ACK_DEADLINE));
	assert_true(tmpl_var_used(t, TMPL_LATE));
	tmpl_free(t);
	t = compile_ok(tmpl_default("incident.report_overdue"));
	assert_true(tmpl_var_used(t, TMPL_REPORT_DEADLINE));
	assert_true(tmpl_var_used(t, TMPL_LATE));
	tmpl_free(t);
	t = compile_ok(tmpl_default("incident.acknowledged"));
	assert_true(tmpl_var_used(t, TMPL_ACTOR));
	tmpl_free(t);
	t = compile_ok(tmpl_default("incident.report_filed"));
	assert_true(tmpl_var_used(t, TMPL_REFERENCE));
	tmpl_free(t);
	t = compile_ok(tmpl_default("duty.handover"));
	assert_true(tmpl_var_used(t, TMPL_SHIFT));
	tmpl_free(t);

	assert_null(tmpl_default("incident.deleted"));
	assert_null(tmpl_default_title("incident.deleted"));
	assert_null(tmpl_default(NULL));
}

static void
test_sms_units(void **state)
{
	int ucs2;

	assert_int_equal(smsfit_units("", &ucs2), 0);
	assert_int_equal(ucs2, 0);
	assert_int_equal(smsfit_units("Call 110 now.", &ucs2), 13);
	assert_int_equal(ucs2, 0);
	/* GSM basic set beyond ASCII: one septet each. */
	assert_int_equal(smsfit_units("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r",
	    &ucs2), 44);
	assert_int_equal(ucs2, 0);
	/* Extension table: two septets each. */
	assert_int_equal(smsfit_units("€", &ucs2), 2);
	assert_int_equal(ucs2, 0);
	assert_int_equal(smsfit_units("{a}", &ucs2), 5);
	assert_int_equal(ucs2, 0);
	assert_int_equal(smsfit_units("[^~|\\]", &ucs2), 12);
	assert_int_equal(ucs2, 0);
	/* Chinese: one UTF-16 unit each, and it takes the rest along. */
	assert_int_equal(smsfit_units("山体滑坡", &ucs2), 4);
	assert_int_equal(ucs2, 1);
	assert_int_equal(smsfit_units("€{中}", &ucs2), 4);
	assert_int_equal(ucs2, 1);
	/* Outside the BMP: a surrogate pair. */
	assert_int_equal(smsfit_units("a\xf0\x9f\x98\x80", &ucs2), 3);
	assert_int_equal(ucs2, 1);
	/* Latin letters outside GSM, and the backtick, force UCS-2. */
	assert_int_equal(smsfit_units("ê", &ucs2), 1);
	assert_int_equal(ucs2, 1);
	assert_int_equal(smsfit_units("a`b", &ucs2), 3);
	assert_int_equal(ucs2, 1);
	assert_int_equal(smsfit_units("tab\there", &ucs2), 8);
	assert_int_equal(ucs2, 1);
	assert_int_equal(smsfit_units("abc", NULL), 3);
}

/* Segments of n copies of unit. */
static int
segs(const char *unit, size_t n)
{
	char	*s = repeat(unit, n);
	int	 k = smsfit_segments(s);

	free(s);
	return k;
}

static void
test_sms_segments(void **state)
{
	char	*a, *b, *s;

	assert_int_equal(smsfit_segments(""), 1);
	assert_int_equal(segs("a", 160), 1);
	assert_int_equal(segs("a", 161), 2);
	assert_int_equal(segs("a", 306), 2);
	assert_int_equal(segs("a", 307), 3);
	assert_int_equal(segs("€", 80), 1);	/* 160 septets */
	assert_int_equal(segs("€", 81), 2);
	assert_int_equal(segs("中", 70), 1);
	assert_int_equal(segs("中", 71), 2);
	assert_int_equal(segs("中", 134), 2);
	assert_int_equal(segs("中", 135), 3);
	assert_int_equal(segs("\xf0\x9f\x98\x80", 35), 1);	/* 70 units */
	assert_int_equal(segs("\xf0\x9f\x98\x80", 36), 2);

	/* An emoji that would straddle parts moves whole to the next part. */
	a = repeat("中", 66);
	s = concat3(a, "\xf0\x9f\x98\x80", a);	/* 134 units, yet 3 parts */
	assert_int_equal(smsfit_segments(s), 3);
	free(s);
	b = repeat("中", 65);
	s = concat3(a, "\xf0\x9f\x98\x80", b);	/* 66 + 2 + 65 = 133 units */
	assert_int_equal(smsfit_segments(s), 2);
	free(s);
	free(b);
	free(a);
	/* Nor does an escaped GSM character straddle parts. */
	b = repeat("a", 152);
	s = concat3(b, "€", b);			/* 306 septets, yet 3 parts */
	assert_int_equal(smsfit_segments(s), 3);
	free(s);
	free(b);
}

static void
check_fit(const char *src, int max)
{
	char	*got = smsfit_cut(src, max), *more;
	size_t	 glen, slen = strlen(src), keep;

	assert_non_null(got);
	if (!valid_utf8(got))
		fail_msg("smsfit_cut(\"%s\", %d) is not UTF-8", src, max);
	if (smsfit_segments(src) <= max) {
		assert_string_equal(got, src);
		free(got);
		return;
	}
	glen = strlen(got);
	assert_true(glen >= 3);
	assert_memory_equal(got + glen - 3, ELLIPSIS, 3);
	keep = glen - 3;
	assert_true(keep < slen);
	assert_memory_equal(got, src, keep);
	assert_true(smsfit_segments(got) <= max);
	/* Maximal: one more character of the text would not fit. */
	more = malloc(keep + 4 + 3 + 1);
	assert_non_null(more);
	memcpy(more, src, keep + charlen(src + keep));
	memcpy(more + keep + charlen(src + keep), ELLIPSIS, 4);
	if (smsfit_segments(more) <= max)
		fail_msg("smsfit_cut(\"%s\", %d) = \"%s\" but \"%s\" fits too", src,
		    max, got, more);
	free(more);
	free(got);
}

static void
test_sms_fit_exact(void **state)
{
	char	*a, *s, *got;
	int	 ucs2;

	/* A fitting text comes back whole, as a copy. */
	s = repeat("a", 160);
	got = smsfit_cut(s, 1);
	assert_string_equal(got, s);
	assert_ptr_not_equal(got, s);
	free(got);
	free(s);

	/* Cut to one part: 69 characters and the ellipsis, exactly 70 units. */
	s = repeat("中", 200);
	got = smsfit_cut(s, 1);
	assert_int_equal(smsfit_units(got, &ucs2), 70);
	assert_int_equal(ucs2, 1);
	assert_int_equal(smsfit_segments(got), 1);
	free(got);
	/* Two parts of 67: 133 characters and the ellipsis. */
	got = smsfit_cut(s, 2);
	assert_int_equal(smsfit_units(got, &ucs2), 134);
	assert_int_equal(smsfit_segments(got), 2);
	free(got);
	free(s);

	/* The ellipsis turns a GSM text into UCS-2, which holds less. */
	s = repeat("a", 200);
	got = smsfit_cut(s, 1);
	assert_int_equal(smsfit_units(got, &ucs2), 70);
	assert_int_equal(ucs2, 1);
	free(got);
	free(s);

	/* An emoji that does not fit is dropped whole. */
	a = repeat("中", 68);
	s = concat3(a, "\xf0\x9f\x98\x80", "中");	/* 71 units */
	free(a);
	got = smsfit_cut(s, 1);
	assert_int_equal(smsfit_units(got, NULL), 69);
	assert_null(strstr(got, "\xf0\x9f\x98\x80"));
	free(got);
	free(s);

	errno = 0;
	assert_null(smsfit_cut("abc", 0));
	assert_int_equal(errno, EINVAL);

	/* Invalid bytes never reach a gateway. */
	got = smsfit_cut("ab\xff\xe4\xb8", 1);
	assert_true(valid_utf8(got));
	free(got);
}

/* Fits every prefix of three copies of text, at every limit up to 5 parts. */
static int
fit_every_cut(const char *text)
{
	char	*s;
	size_t	 n, off, len;
	int	 max, tried = 0;

	assert_true(valid_utf8(text));
	s = concat3(text, text, text);
	len = strlen(s);
	for (off = 0; off <= len; off += n) {
		char save = s[off];

		s[off] = '\0';
		for (max = 1; max <= 5; max++) {
			check_fit(s, max);
			tried++;
		}
		s[off] = save;
		n = off < len ? charlen(s + off) : 1;
	}
	free(s);
	return tried;
}

static void
test_sms_fit_every_cut(void **state)
{
	/* Chinese, ASCII, GSM escapes, BMP and astral emoji, a CJK Ext. B character. */
	assert_true(fit_every_cut(
	    "【突发事件】城关镇报告：G210 国道 K35 处山体滑坡\xf0\x9f\x9a\xa8，"
	    "2 车被困（II级）€{}。请于 14:40 前确认：https://duty.example.gov.cn/i/7 "
	    "\xf0\x9f\x93\x9e 0571-12345678 现场有\xf0\xa0\x80\x80人员受伤，"
	    "Ça va? Straße ñ Δ ~ [ok] 请立即处置。") > 500);
	/* GSM only, with escaped characters at many positions. */
	assert_true(fit_every_cut("Alert {7}: cost €12 [est] ~ 5^2 | a\\b; "
	    "Ça va? Straße Δ ñ ü @ £ $ ¥ è é ") > 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_compile_bad_utf8),
		cmocka_unit_test(test_compile_limits),
		cmocka_unit_test(test_render_all_vars),
		cmocka_unit_test(test_render_null_and_escapes),
		cmocka_unit_test(test_render_chinese),
		cmocka_unit_test(test_var_used),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_sms_units),
		cmocka_unit_test(test_sms_segments),
		cmocka_unit_test(test_sms_fit_exact),
		cmocka_unit_test(test_sms_fit_every_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
