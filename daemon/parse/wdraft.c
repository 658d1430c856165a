/*
 * wdraft.c: version 0 of a written report (see wdraft.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/timeutil.h"
#include "base/tz.h"
#include "parse/wdraft.h"

static const char *const wdraft_digits[] = {
	"零", "一", "二", "三", "四", "五", "六", "七", "八", "九",
};

/* 1..99 in Chinese numerals: 一, 十, 十二, 二十, 二十三. */
static void
wdraft_numeral(int n, char *buf, size_t len)
{
	if (n < 1 || n > 99)
		snprintf(buf, len, "%d", n);
	else if (n < 10)
		snprintf(buf, len, "%s", wdraft_digits[n]);
	else
		snprintf(buf, len, "%s十%s", n >= 20 ? wdraft_digits[n / 10] : "",
		    n % 10 != 0 ? wdraft_digits[n % 10] : "");
}

const char *
wdraft_number_name(int number, char *buf, size_t len)
{
	char num[32];

	if (number <= 0) {
		snprintf(buf, len, "首报");
		return buf;
	}
	wdraft_numeral(number, num, sizeof(num));
	snprintf(buf, len, "续报%s", num);
	return buf;
}

/*
 * The latest word on KEY (SUB of it when given): the last follow-up that
 * gave it, else the report; NULL when nobody did.
 */
static const json_t *
wdraft_fact(const struct wdraft_input *in, const char *key, const char *sub)
{
	const json_t	*v;
	size_t		 i;

	for (i = json_array_size(in->updates); i > 0; i--) {
		v = json_object_get(json_object_get(json_array_get(in->updates,
		    i - 1), "fields"), key);
		if (v != NULL && sub != NULL)
			v = json_object_get(v, sub);
		if (v != NULL)
			return v;
	}
	v = json_object_get(in->report, key);
	return sub != NULL ? json_object_get(v, sub) : v;
}

static const char *
wdraft_text(const struct wdraft_input *in, const char *key)
{
	const char *s = json_string_value(wdraft_fact(in, key, NULL));

	return s != NULL && s[0] != '\0' ? s : WDRAFT_UNKNOWN;
}

/* 2026年12月2日 13时05分, in the zone given; （待核实） when unknown. */
static void
wdraft_time(const struct wdraft_input *in, int64_t ms, char *buf, size_t len)
{
	struct tm tm;

	if (ms == 0 || in->tz == NULL || tz_tm(in->tz, ms, &tm) != 0) {
		snprintf(buf, len, "%s", WDRAFT_UNKNOWN);
		return;
	}
	snprintf(buf, len, "%d年%d月%d日 %02d时%02d分", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static int64_t
wdraft_ms(const json_t *v)
{
	int64_t ms = 0;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v) && time_parse(json_string_value(v), &ms) != 0)
		return 0;
	return ms;
}

static const char *
wdraft_level(const char *level)
{
	static const struct { const char *level, *text; } names[] = {
		{ "I", "Ⅰ级（特别重大）" }, { "II", "Ⅱ级（重大）" },
		{ "III", "Ⅲ级（较大）" }, { "IV", "Ⅳ级（一般）" },
	};
	size_t i;

	for (i = 0; level != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(level, names[i].level) == 0)
			return names[i].text;
	return WDRAFT_UNKNOWN;
}

static const char *
wdraft_or_unknown(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : WDRAFT_UNKNOWN;
}

/* 死亡1人，受伤（待核实），失踪（待核实）。 */
static void
wdraft_casualties(FILE *f, const struct wdraft_input *in)
{
	static const struct { const char *key, *label; } kinds[] = {
		{ "dead", "死亡" }, { "injured", "受伤" }, { "missing", "失踪" },
	};
	const json_t	*v;
	size_t		 i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		v = wdraft_fact(in, "casualties", kinds[i].key);
		if (json_is_integer(v))
			fprintf(f, "%s%s%lld人", i > 0 ? "，" : "", kinds[i].label,
			    (long long)json_integer_value(v));
		else
			fprintf(f, "%s%s人数%s", i > 0 ? "，" : "", kinds[i].label,
			    WDRAFT_UNKNOWN);
	}
	fputs("。\n", f);
}

/* When each report and follow-up came in: the reader sees what is new. */
static void
wdraft_received(FILE *f, const struct wdraft_input *in)
{
	char	 when[64], name[32];
	size_t	 i;

	wdraft_time(in, in->received_ms, when, sizeof(when));
	fprintf(f, "接报情况：%s接%s首报", when,
	    wdraft_or_unknown(in->office_name));
	for (i = 0; i < json_array_size(in->updates); i++) {
		wdraft_time(in, wdraft_ms(json_object_get(json_array_get(
		    in->updates, i), "at")), when, sizeof(when));
		fprintf(f, "；%s接%s", when, wdraft_number_name((int)i + 1, name,
		    sizeof(name)));
	}
	fputs("。\n", f);
}

static int64_t
wdraft_last_ms(const struct wdraft_input *in)
{
	size_t n = json_array_size(in->updates);

	if (n > 0)
		return wdraft_ms(json_object_get(json_array_get(in->updates,
		    n - 1), "at"));
	return in->received_ms;
}

int
wdraft_make(const struct wdraft_input *in, char **title, char **body)
{
	const char	*rtitle = json_string_value(json_object_get(in->report,
			    "title"));
	const char	*details = json_string_value(wdraft_fact(in, "details",
			    NULL));
	char		 when[64], name[32], *buf = NULL;
	size_t		 len = 0;
	FILE		*f;

	*title = *body = NULL;
	if (rtitle == NULL)
		return -EINVAL;
	if (in->number > 0)
		wdraft_number_name(in->number, name, sizeof(name));
	if (asprintf(title, "关于%s%s的报告%s%s%s",
	    in->office_name != NULL ? in->office_name : "", rtitle,
	    in->number > 0 ? "（" : "", in->number > 0 ? name : "",
	    in->number > 0 ? "）" : "") < 0) {
		*title = NULL;
		return -ENOMEM;
	}
	if ((f = open_memstream(&buf, &len)) == NULL) {
		free(*title);
		*title = NULL;
		return -ENOMEM;
	}
	fprintf(f, "%s：\n\n", wdraft_or_unknown(in->addressee));
	fputs("一、基本情况\n", f);
	wdraft_time(in, wdraft_ms(json_object_get(in->report, "occurred_at")),
	    when, sizeof(when));
	fprintf(f, "事发时间：%s\n", when);
	fprintf(f, "事发地点：%s\n", wdraft_text(in, "location"));
	fprintf(f, "事件类型：%s\n", wdraft_text(in, "category"));
	fprintf(f, "事件级别：%s\n", wdraft_level(json_string_value(
	    wdraft_fact(in, "level", NULL))));
	wdraft_received(f, in);
	if (details != NULL && details[0] != '\0')
		fprintf(f, "%s\n", details);
	fputs("\n二、伤亡和损失情况\n", f);
	wdraft_casualties(f, in);
	fprintf(f, "\n三、事件原因\n%s\n", wdraft_text(in, "cause"));
	fprintf(f, "\n四、已采取的处置措施\n%s\n", wdraft_text(in, "measures"));
	fputs("\n五、下一步工作\n我室将密切跟踪事态发展，督促指导做好处置工作，"
	    "有关情况及时续报。\n", f);
	wdraft_time(in, wdraft_last_ms(in), when, sizeof(when));
	fprintf(f, "\n%s\n签发：%s\n联系人及电话：%s %s\n%s\n",
	    wdraft_or_unknown(in->organization), wdraft_or_unknown(in->approver),
	    wdraft_or_unknown(in->contact_name),
	    wdraft_or_unknown(in->contact_phone), when);
	if (ferror(f) != 0) {
		fclose(f);
		free(buf);
		free(*title);
		*title = NULL;
		return -ENOMEM;
	}
	if (fclose(f) != 0) {
		free(buf);
		free(*title);
		*title = NULL;
		return -ENOMEM;
	}
	*body = buf;
	return 0;
}
