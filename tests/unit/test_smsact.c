/*
 * What an inbound SMS does, on the real core with a fake clock: a text
 * from an office's phone is a report or a follow-up, a text from a
 * person's phone a reply command ("3A"), a stranger's is recorded and not
 * answered, and a message a gateway delivers again changes nothing.
 * Every case checks the sms.received record and the answer word for word.
 * What tests/e2e/test_sms.py cannot wait for (the reply limit refilling,
 * codes freed and reused, a repeat after the ids were forgotten) is here.
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

#include "actions/incact.h"
#include "actions/smsact.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "parse/smsin.h"
#include "state/incident.h"

#define MIN	COREFIX_MIN
#define HOUR	(60 * MIN)

#define OFFICE_A	"+8613900000001"	/* county-a's duty phone */
#define OFFICE_B	"+8613900000002"
#define ZHANG		"+8613800000001"	/* officer: an SMS contact, gets codes */
#define LI		"+8613800000002"	/* leader: chat only, replies from phones: */
#define WANG		"+8613800000003"	/* escalation: an SMS contact */
#define STRANGER	"+15550001234"
#define DUTY_NUMBER	"+861065000000"		/* what the offices text */

#define INC1	"INC-20261202-0001"
#define INC2	"INC-20261202-0002"
#define INC3	"INC-20261202-0003"
#define INC4	"INC-20261202-0004"
#define INC5	"INC-20261202-0005"

#define HELP	"回复格式：代码加字母，如 3A 确认收到、3F 书面报告已报送、3R 处置完毕；" \
		"代码见通知短信。"

#define CONF(limit) \
    "timezone: \"Asia/Shanghai\"\n" \
    "offices:\n" \
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\", phones: [\"+86 139-0000-0001\"] }\n" \
    "  - { id: county-b, name: \"B县应急管理局\", token: \"secret-b\", phones: [\"13900000002\"] }\n" \
    "people:\n" \
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: sms, to: \"+8613800000001\" } ] }\n" \
    "  - { id: li, name: \"李强\", token: \"secret-li\", phones: [\"+8613800000002\"], contacts: [ { channel: hook, to: \"li\" } ] }\n" \
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: sms, to: \"13800000003\" } ] }\n" \
    "duty:\n" \
    "  officers: [zhang]\n" \
    "  leader: li\n" \
    "  escalation: [wang]\n" \
    "channels:\n" \
    "  sms: { plugin: twilio_sms, account_sid: \"AC00000000000000000000000000000000\", auth_token: \"fake-twilio-auth-token\", from: \"+15005550006\", url: \"http://127.0.0.1:9\" }\n" \
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n" \
    "sms:\n" \
    "  twilio: { auth_token: \"twilio-webhook-token-0123456789\" }\n" \
    "  reply_limit: " limit "\n" \
    "policy:\n" \
    "  ack_timeout: 20m\n" \
    "  report_deadline: 40m\n"

/* Most cases need no limit in the way; the limit's own case has 3/min. */
static const char conf[] = CONF("100/min");
static const char conf_limited[] = CONF("3/min");

static int	sid;		/* the last MessageSid made */
static char	last_id[64];

static int
setup(void **state)
{
	sid = 0;
	corefix_start(conf);
	return 0;
}

/*
 * The gateway delivers message ID from FROM; the answer, or NULL.  The
 * loop turn that follows commits it, as dutyd's loop would.
 */
static const char *
take_id(const char *id, const char *from, const char *text)
{
	return corefix_sms_in(id, from, text);
}

/* A new message (a new MessageSid). */
static const char *
take(const char *from, const char *text)
{
	snprintf(last_id, sizeof(last_id), "SM%032x", ++sid);
	return take_id(last_id, from, text);
}

/* The one sms.received record of gateway message ID. */
static json_t *
received(const char *id)
{
	json_t	*all = memstore_records("sms.received", NULL), *r, *found = NULL;
	size_t	 i, n = 0;

	json_array_foreach(all, i, r)
		if (strcmp(json_string_value(json_object_get(json_object_get(r,
		    "data"), "id")), id) == 0) {
			found = r;
			n++;
		}
	if (n != 1)
		fail_msg("%zu sms.received records of %s, not 1", n, id);
	json_incref(found);
	json_decref(all);
	return found;
}

static const char *
s_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "(none)";
}

/*
 * The last message's record: "kind|result|incident|actor|answer", each
 * "(none)" when left out, so one comparison says all of it.
 */
static const char *
said(void)
{
	static char	 out[2048];
	json_t		*r = received(last_id), *d = json_object_get(r, "data");

	snprintf(out, sizeof(out), "%s|%s|%s|%s|%s", s_of(d, "kind"),
	    s_of(d, "result"), s_of(r, "incident"), s_of(r, "actor"),
	    s_of(d, "answer"));
	json_decref(r);
	return out;
}

/* The reply code PHONE got for INCIDENT in its latest notify.intent; 0: none. */
static int
code_of(const char *incident, const char *phone)
{
	json_t	*all = memstore_records("notify.intent", incident), *r, *p, *c;
	char	 norm[SMSIN_PHONE_MAX];
	size_t	 i, j, k;
	int	 code = 0;

	json_array_foreach(all, i, r)
		json_array_foreach(json_object_get(json_object_get(r, "data"),
		    "recipients"), j, p)
			json_array_foreach(json_object_get(p, "contacts"), k, c)
				if (smsin_phone_normalize(s_of(c, "to"), norm,
				    sizeof(norm)) == 0 && strcmp(norm, phone) == 0 &&
				    json_object_get(c, "code") != NULL)
					code = (int)json_integer_value(
					    json_object_get(c, "code"));
	json_decref(all);
	return code;
}

static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

static struct incident *
report_by_sms(const char *text, const char *id)
{
	struct incident *inc;

	assert_non_null(take(OFFICE_A, text));
	assert_non_null(inc = incident_find(id));
	corefix_deliver_all();
	return inc;
}

static void
test_an_office_reports_by_sms(void **state)
{
	struct incident	*inc;
	json_t		*r, *report;
	int64_t		 occurred;

	/* In time (10 minutes of 20): the id, and none of the city's own clocks. */
	assert_string_equal(take("+86 139-0000-0001",
	    "07:50 某镇化工厂爆炸\n厂区东侧起火，3人受伤。"),
	    "已收到，事件编号 " INC1 "。续报请以事件编号开头。");
	assert_string_equal(said(), "report|" INC1 "|" INC1 "|office:county-a|"
	    "已收到，事件编号 " INC1 "。续报请以事件编号开头。");
	r = received(last_id);
	assert_string_equal(s_of(json_object_get(r, "data"), "from"),
	    "+86 139-0000-0001");
	assert_string_equal(s_of(json_object_get(r, "data"), "to"), DUTY_NUMBER);
	assert_string_equal(s_of(json_object_get(r, "data"), "text"),
	    "07:50 某镇化工厂爆炸\n厂区东侧起火，3人受伤。");
	json_decref(r);

	/* The same incident as one posted over the API. */
	assert_non_null(inc = incident_find(INC1));
	assert_string_equal(inc->office, "county-a");
	report = incident_report(inc);
	assert_string_equal(s_of(report, "title"), "某镇化工厂爆炸");
	assert_string_equal(s_of(report, "details"), "厂区东侧起火，3人受伤。");
	assert_int_equal(time_parse(s_of(report, "occurred_at"), &occurred), 0);
	assert_int_equal(occurred, COREFIX_T0 - 10 * MIN);
	assert_int_equal(memstore_count_of("report.received", INC1), 1);
	assert_string_equal(corefix_sent("incident.new", INC1), "li");

	/* zhang's SMS carries code 1 and its hint; li's chat message none. */
	assert_int_equal(code_of(INC1, ZHANG), 1);
	assert_int_equal(code_of(INC1, LI), 0);
	assert_true(ends_with(corefix_sms_to(ZHANG), " 回复1A确认，1F已报省"));

	/* Another way of writing the same phone; a time of yesterday evening. */
	fakeclock_advance(MIN);
	assert_string_equal(take("008613900000001", "23:50 夜间水位超警"),
	    "已收到，事件编号 " INC2 "。本次报告距事发 491 分钟，已超过 20 分钟报告"
	    "时限。续报请以事件编号开头。");
	assert_int_equal(time_parse(s_of(incident_report(incident_find(INC2)),
	    "occurred_at"), &occurred), 0);
	assert_int_equal(occurred, COREFIX_T0 - 8 * HOUR - 10 * MIN);
	/* A blank text is recorded and not answered. */
	assert_null(take(OFFICE_B, " \n　"));
	assert_string_equal(said(), "ignored|blank text|(none)|office:county-b|"
	    "(none)");
	assert_null(incident_find(INC3));
}

static void
test_follow_ups_by_sms(void **state)
{
	struct incident	*inc;
	int		 changed;

	inc = report_by_sms("某镇化工厂爆炸", INC1);
	assert_string_equal(take(OFFICE_A, INC1 " 火势已控制，无新增伤亡"),
	    "已收到事件 " INC1 " 的续报。");
	assert_string_equal(said(), "followup|" INC1 "|" INC1 "|office:county-a|"
	    "已收到事件 " INC1 " 的续报。");
	assert_int_equal(json_array_size(inc->updates), 1);
	assert_string_equal(s_of(json_object_get(json_array_get(inc->updates, 0),
	    "fields"), "details"), "火势已控制，无新增伤亡");
	assert_null(incident_find(INC2));

	/* Another office's incident: refused, and the office told why. */
	assert_string_equal(take(OFFICE_B, INC1 " 伤亡10人"),
	    "事件 " INC1 " 不是本单位报告的，续报未记录。请核对事件编号。");
	assert_string_equal(said(), "followup|another office's incident|" INC1
	    "|office:county-b|事件 " INC1 " 不是本单位报告的，续报未记录。请核对事件编号。");
	/* An id that does not exist. */
	assert_string_equal(take(OFFICE_A, "INC-20990101-0001 又有新情况"),
	    "未找到事件 INC-20990101-0001，续报未记录。请核对事件编号；新报告请不要"
	    "以事件编号开头。");
	assert_string_equal(said(), "followup|unknown incident|(none)|"
	    "office:county-a|未找到事件 INC-20990101-0001，续报未记录。请核对事件编号；"
	    "新报告请不要以事件编号开头。");
	/* Resolved: refused. */
	assert_int_equal(incact_resolve(inc, "li", NULL, &changed), 0);
	fakeclock_turn();
	assert_string_equal(take(OFFICE_A, INC1 " 又有新情况"),
	    "事件 " INC1 " 已处置完毕，续报未记录。如有新情况，请作为新报告发送（不以"
	    "事件编号开头）。");
	assert_string_equal(said(), "followup|already resolved|" INC1
	    "|office:county-a|事件 " INC1 " 已处置完毕，续报未记录。如有新情况，请作为"
	    "新报告发送（不以事件编号开头）。");
	assert_int_equal(memstore_count_of("incident.updated", NULL), 1);
	assert_null(incident_find(INC2));
}

/* Codes per phone and open incident: the smallest free, freed by resolution. */
static void
test_reply_codes_act_and_are_reused(void **state)
{
	struct incident *inc;
	json_t		*all, *ack;

	report_by_sms("甲", INC1);
	report_by_sms("乙", INC2);
	report_by_sms("丙", INC3);
	assert_int_equal(code_of(INC1, ZHANG), 1);
	assert_int_equal(code_of(INC2, ZHANG), 2);
	assert_int_equal(code_of(INC3, ZHANG), 3);
	assert_true(ends_with(corefix_sms_to(ZHANG), " 回复3A确认，3F已报省"));

	fakeclock_advance(5 * MIN);
	assert_string_equal(take(ZHANG, "3A"),
	    "已确认事件 " INC3 "。书面报告时限 08:40。");
	assert_string_equal(said(), "reply|acknowledged|" INC3 "|person:zhang|"
	    "已确认事件 " INC3 "。书面报告时限 08:40。");
	all = memstore_records("incident.acknowledged", INC3);
	assert_int_equal(json_array_size(all), 1);
	ack = json_array_get(all, 0);
	assert_string_equal(s_of(ack, "actor"), "person:zhang");
	assert_string_equal(s_of(json_object_get(ack, "data"), "note"), "短信回复");
	json_decref(all);
	assert_int_equal(incident_find(INC3)->state, INCIDENT_ACKNOWLEDGED);
	assert_int_equal(incident_find(INC1)->state, INCIDENT_OPEN);

	assert_string_equal(take(ZHANG, "2已报送"),
	    "已记录：事件 " INC2 " 记录书面报告已报送。");
	assert_string_equal(said(), "reply|report filed|" INC2 "|person:zhang|"
	    "已记录：事件 " INC2 " 记录书面报告已报送。");
	assert_int_not_equal(incident_find(INC2)->filed.at, 0);
	assert_int_equal(incident_find(INC2)->ack.at, 0);

	assert_string_equal(take(ZHANG, "1r"), "已记录：事件 " INC1 " 处置完毕。");
	assert_string_equal(said(), "reply|resolved|" INC1 "|person:zhang|"
	    "已记录：事件 " INC1 " 处置完毕。");
	assert_int_equal(incident_find(INC1)->state, INCIDENT_RESOLVED);

	/* Code 1 is free again: it means nothing until it is given anew. */
	assert_string_equal(take(ZHANG, "1A"), "代码 1 没有对应的待处理事件（可能已处置"
	    "完毕）。请按通知短信中的代码回复，如 3A。");
	assert_string_equal(said(), "reply|unknown code|(none)|person:zhang|"
	    "代码 1 没有对应的待处理事件（可能已处置完毕）。请按通知短信中的代码回复，如 3A。");
	inc = report_by_sms("丁", INC4);
	assert_int_equal(code_of(INC4, ZHANG), 1);
	assert_true(ends_with(corefix_sms_to(ZHANG), " 回复1A确认，1F已报省"));
	/* Full-width, as a phone in full-width mode types it. */
	assert_string_equal(take(ZHANG, "１Ａ。"),
	    "已确认事件 " INC4 "。书面报告时限 08:45。");
	assert_string_equal(said(), "reply|acknowledged|" INC4 "|person:zhang|"
	    "已确认事件 " INC4 "。书面报告时限 08:45。");
	assert_int_equal(inc->state, INCIDENT_ACKNOWLEDGED);
	/* A code never given. */
	assert_string_equal(take(ZHANG, "9A"), "代码 9 没有对应的待处理事件（可能已处置"
	    "完毕）。请按通知短信中的代码回复，如 3A。");
	assert_string_equal(said(), "reply|unknown code|(none)|person:zhang|"
	    "代码 9 没有对应的待处理事件（可能已处置完毕）。请按通知短信中的代码回复，如 3A。");
	/* Codes are per phone: wang was sent none yet. */
	assert_int_equal(code_of(INC2, WANG), 0);
	assert_int_equal(memstore_count_of("incident.acknowledged", NULL), 2);
}

/* A bare "A" is the latest incident this phone was sent a code for. */
static void
test_a_bare_action_means_the_latest(void **state)
{
	struct incident	*a, *b;
	json_t		*u;
	int		 changed;

	a = report_by_sms("甲", INC1);
	fakeclock_advance(5 * MIN);
	b = report_by_sms("乙", INC2);
	/* A follow-up of the older one is the latest message with a code. */
	u = json_pack("{s:s}", "details", "水位仍在上涨");
	assert_int_equal(incact_update(a, "county-a", "k1", u, &changed), 0);
	json_decref(u);
	fakeclock_turn();
	corefix_deliver_all();
	assert_int_equal(code_of(INC1, ZHANG), 1);
	assert_string_equal(take(ZHANG, "收到"),
	    "已确认事件 " INC1 "。书面报告时限 08:40。");
	assert_string_equal(said(), "reply|acknowledged|" INC1 "|person:zhang|"
	    "已确认事件 " INC1 "。书面报告时限 08:40。");
	assert_int_equal(b->state, INCIDENT_OPEN);

	/* li is told by chat only: no codes, so the id is needed. */
	assert_string_equal(take(LI, "A"), "没有发给您的待处理事件。请按通知短信中的"
	    "代码回复，如 3A。");
	assert_string_equal(said(), "reply|no incident|(none)|person:li|"
	    "没有发给您的待处理事件。请按通知短信中的代码回复，如 3A。");
	assert_string_equal(take(LI, "确认 " INC2),
	    "已确认事件 " INC2 "。书面报告时限 08:45。");
	assert_string_equal(said(), "reply|acknowledged|" INC2 "|person:li|"
	    "已确认事件 " INC2 "。书面报告时限 08:45。");
	assert_string_equal(b->ack.by, "li");
	assert_string_equal(take(LI, "A INC-20261202-0099"),
	    "未找到事件 INC-20261202-0099，请核对事件编号。");
	assert_string_equal(said(), "reply|unknown incident|(none)|person:li|"
	    "未找到事件 INC-20261202-0099，请核对事件编号。");
}

/*
 * Codes are rebuilt at start-up, from the intents replayed or from a
 * checkpoint: each still means its incident, and a bare "A" still means
 * the one this phone heard of last.
 */
static void
test_codes_and_the_latest_survive_restarts(void **state)
{
	struct incident	*a;
	json_t		*u;
	int		 changed;

	a = report_by_sms("甲", INC1);
	fakeclock_advance(5 * MIN);
	report_by_sms("乙", INC2);
	report_by_sms("丙", INC3);
	u = json_pack("{s:s}", "details", "水位仍在上涨");
	assert_int_equal(incact_update(a, "county-a", "k1", u, &changed), 0);
	json_decref(u);
	fakeclock_turn();
	corefix_deliver_all();

	corefix_restart(MIN);
	assert_string_equal(take(ZHANG, "2A"),
	    "已确认事件 " INC2 "。书面报告时限 08:45。");
	assert_string_equal(said(), "reply|acknowledged|" INC2 "|person:zhang|"
	    "已确认事件 " INC2 "。书面报告时限 08:45。");
	corefix_deliver_all();

	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_restart(MIN);
	assert_string_equal(take(ZHANG, "A"),
	    "已确认事件 " INC1 "。书面报告时限 08:40。");
	assert_string_equal(said(), "reply|acknowledged|" INC1 "|person:zhang|"
	    "已确认事件 " INC1 "。书面报告时限 08:40。");
	assert_string_equal(take(ZHANG, "3R"), "已记录：事件 " INC3 " 处置完毕。");
	assert_string_equal(said(), "reply|resolved|" INC3 "|person:zhang|"
	    "已记录：事件 " INC3 " 处置完毕。");
	/* The resolution frees code 3: the next incident gets it. */
	corefix_deliver_all();
	report_by_sms("丁", INC4);
	assert_int_equal(code_of(INC4, ZHANG), 3);
}

/* Done already, by anyone: nothing changes and the answer says who and when. */
static void
test_already_done_says_who_and_when(void **state)
{
	struct incident	*inc;
	json_t		*filed;
	int		 changed;

	inc = report_by_sms("甲", INC1);
	fakeclock_advance(5 * MIN);
	assert_int_equal(incact_acknowledge(inc, "li", NULL, &changed), 0);
	fakeclock_advance(2 * MIN);
	assert_string_equal(take(ZHANG, "1A"),
	    "事件 " INC1 " 已由李强于 08:05 确认，无需再操作。");
	assert_string_equal(said(), "reply|already acknowledged|" INC1
	    "|person:zhang|事件 " INC1 " 已由李强于 08:05 确认，无需再操作。");
	assert_int_equal(memstore_count_of("incident.acknowledged", INC1), 1);
	assert_string_equal(inc->ack.by, "li");

	assert_string_equal(take(ZHANG, "1F"),
	    "已记录：事件 " INC1 " 记录书面报告已报送。");
	assert_string_equal(take(ZHANG, "1 已报"),
	    "事件 " INC1 " 已由张伟于 08:07 记录书面报告已报送，无需再操作。");
	assert_string_equal(said(), "reply|report already filed|" INC1
	    "|person:zhang|事件 " INC1 " 已由张伟于 08:07 记录书面报告已报送，无需再操作。");

	/* The next day the time carries its date. */
	fakeclock_advance(24 * HOUR);
	assert_string_equal(take(ZHANG, "1A"),
	    "事件 " INC1 " 已由李强于 12-02 08:05 确认，无需再操作。");
	assert_string_equal(said(), "reply|already acknowledged|" INC1
	    "|person:zhang|事件 " INC1 " 已由李强于 12-02 08:05 确认，无需再操作。");

	/* Resolved: the code is gone, by id any action says who closed it. */
	assert_int_equal(incact_resolve(inc, "zhang", NULL, &changed), 0);
	fakeclock_turn();
	assert_string_equal(take(LI, "F " INC1),
	    "事件 " INC1 " 已由张伟于 08:07 处置完毕，无需再操作。");
	assert_string_equal(said(), "reply|already resolved|" INC1 "|person:li|"
	    "事件 " INC1 " 已由张伟于 08:07 处置完毕，无需再操作。");
	assert_int_equal(memstore_count_of("incident.report_filed", INC1), 1);
	/* "F" says the report went by other means, and whether it was approved. */
	filed = corefix_record("incident.report_filed", INC1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    filed, "data"), "via")), "other");
	assert_true(json_is_false(json_object_get(json_object_get(filed,
	    "data"), "approved")));
	json_decref(filed);
}

static void
test_what_is_not_a_reply_command_gets_the_help(void **state)
{
	report_by_sms("甲", INC1);
	assert_string_equal(take(ZHANG, "你好"), HELP);
	assert_string_equal(said(), "ignored|not a reply command|(none)|"
	    "person:zhang|" HELP);
	assert_string_equal(take(ZHANG, "1A 马上到"), HELP);
	assert_string_equal(said(), "ignored|not a reply command|(none)|"
	    "person:zhang|" HELP);
	assert_string_equal(take(LI, "3A " INC1), HELP);
	assert_string_equal(said(), "ignored|not a reply command|(none)|"
	    "person:li|" HELP);
	assert_int_equal(incident_find(INC1)->state, INCIDENT_OPEN);
	assert_int_equal(memstore_count_of("incident.acknowledged", NULL), 0);
}

/*
 * sms.reply_limit 3/min: a bucket per phone, 3 at once, then one every
 * 20 s.  A person over it is not acted on; an office's report is taken
 * and only its answer withheld.
 */
static void
test_the_reply_limit_per_phone(void **state)
{
	struct incident	*inc;
	json_t		*r;
	int		 i;

	corefix_stop();
	corefix_start(conf_limited);
	inc = report_by_sms("甲", INC1);
	for (i = 0; i < 3; i++) {
		assert_string_equal(take(LI, "你好"), HELP);
		assert_string_equal(said(), "ignored|not a reply command|(none)|"
		    "person:li|" HELP);
	}
	assert_null(take(LI, "你好"));
	assert_string_equal(said(), "rate_limited|over sms.reply_limit|(none)|"
	    "person:li|(none)");
	assert_null(take(LI, "A " INC1));
	assert_string_equal(said(), "rate_limited|over sms.reply_limit|(none)|"
	    "person:li|(none)");
	assert_int_equal(inc->state, INCIDENT_OPEN);
	/* Another phone has its own bucket. */
	assert_string_equal(take(ZHANG, "1F"),
	    "已记录：事件 " INC1 " 记录书面报告已报送。");

	/* 20 s refill one: exactly one. */
	fakeclock_advance(20 * 1000);
	assert_string_equal(take(LI, "A " INC1),
	    "已确认事件 " INC1 "。书面报告时限 08:40。");
	assert_string_equal(said(), "reply|acknowledged|" INC1 "|person:li|"
	    "已确认事件 " INC1 "。书面报告时限 08:40。");
	assert_null(take(LI, "R " INC1));
	assert_string_equal(said(), "rate_limited|over sms.reply_limit|(none)|"
	    "person:li|(none)");
	assert_int_equal(inc->state, INCIDENT_ACKNOWLEDGED);

	/* An office over the limit: every report is taken, the 4th not answered. */
	for (i = 0; i < 3; i++)
		assert_non_null(take(OFFICE_B, "险情"));
	assert_null(take(OFFICE_B, "第四起险情"));
	assert_string_equal(said(), "report|" INC5 "|" INC5 "|office:county-b|"
	    "(none)");
	r = received(last_id);
	assert_string_equal(s_of(json_object_get(r, "data"), "answer_withheld"),
	    "over sms.reply_limit");
	json_decref(r);
	assert_non_null(incident_find(INC5));
}

/* Strangers are recorded, and learn nothing. */
static void
test_an_unknown_number_is_recorded_and_not_answered(void **state)
{
	json_t *r;

	assert_null(take(STRANGER, "1A"));
	assert_string_equal(said(), "unknown|unknown number|(none)|sms:twilio|"
	    "(none)");
	r = received(last_id);
	assert_string_equal(s_of(json_object_get(r, "data"), "from"), STRANGER);
	assert_string_equal(s_of(json_object_get(r, "data"), "text"), "1A");
	assert_string_equal(s_of(json_object_get(r, "data"), "provider"), "twilio");
	json_decref(r);
	/* Not a phone number at all. */
	assert_null(take("Alphanumeric", "某镇化工厂爆炸"));
	assert_string_equal(said(), "unknown|unknown number|(none)|sms:twilio|"
	    "(none)");
	assert_null(incident_find(INC1));
	assert_int_equal(fakefetch_count(), 0);
}

/* A text that is not UTF-8 from an office: recorded, its text null. */
static void
test_a_text_that_is_not_utf8(void **state)
{
	json_t *r;

	assert_null(take(OFFICE_A, "\xb1\xac\xd5\xa8"));	/* GBK 爆炸 */
	assert_string_equal(said(), "ignored|text is not UTF-8|(none)|"
	    "office:county-a|(none)");
	r = received(last_id);
	assert_true(json_is_null(json_object_get(json_object_get(r, "data"),
	    "text")));
	json_decref(r);
	assert_null(incident_find(INC1));
}

/*
 * A message delivered twice changes nothing: by its gateway id while
 * dutyd remembers it (a restart replays it), and by the idempotency key
 * sms:<provider>:<id> once a checkpoint has made it forget the id.
 */
static void
test_the_same_message_twice_changes_nothing(void **state)
{
	size_t	n;
	char	report[64], followup[64], reply[64];

	assert_non_null(take(OFFICE_A, "某镇化工厂爆炸"));
	snprintf(report, sizeof(report), "%s", last_id);
	assert_non_null(take(OFFICE_A, INC1 " 火势已控制"));
	snprintf(followup, sizeof(followup), "%s", last_id);
	corefix_deliver_all();
	assert_non_null(take(ZHANG, "1A"));
	snprintf(reply, sizeof(reply), "%s", last_id);
	corefix_deliver_all();
	n = memstore_count();
	assert_null(take_id(report, OFFICE_A, "某镇化工厂爆炸"));
	assert_null(take_id(followup, OFFICE_A, INC1 " 火势已控制"));
	assert_null(take_id(reply, ZHANG, "1A"));
	assert_int_equal(memstore_count(), n);

	corefix_restart(MIN);
	corefix_deliver_all();
	n = memstore_count();
	assert_null(take_id(report, OFFICE_A, "某镇化工厂爆炸"));
	assert_null(take_id(reply, ZHANG, "1A"));
	assert_int_equal(memstore_count(), n);

	/* Replay now starts after these: the ids are forgotten, the work is not. */
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_restart(MIN);
	corefix_deliver_all();
	assert_string_equal(take_id(report, OFFICE_A, "某镇化工厂爆炸"),
	    "已收到，事件编号 " INC1 "。续报请以事件编号开头。");
	assert_string_equal(take_id(followup, OFFICE_A, INC1 " 火势已控制"),
	    "已收到事件 " INC1 " 的续报。");
	assert_string_equal(take_id(reply, ZHANG, "1A"),
	    "事件 " INC1 " 已由张伟于 08:00 确认，无需再操作。");
	assert_null(incident_find(INC2));
	assert_int_equal(memstore_count_of("report.received", NULL), 1);
	assert_int_equal(memstore_count_of("incident.updated", NULL), 1);
	assert_int_equal(memstore_count_of("incident.acknowledged", NULL), 1);
	assert_int_equal(json_array_size(incident_find(INC1)->updates), 1);
	/* Each taking is recorded, and then remembered again. */
	assert_int_equal(memstore_count_of("sms.received", INC1), 6);
	n = memstore_count();
	assert_null(take_id(report, OFFICE_A, "某镇化工厂爆炸"));
	assert_int_equal(memstore_count(), n);
}

/* Forged requests: at most 20 records a minute, and the next says how many were not. */
static void
test_rejected_requests_are_capped(void **state)
{
	json_t	*all, *r, *d;
	int	 i;

	for (i = 0; i < 25; i++)
		smsact_rejected("203.0.113.9", "twilio",
		    "X-Twilio-Signature does not match");
	fakeclock_advance(60 * 1000 - 1);
	smsact_rejected("203.0.113.9", "aliyun", "wrong ?secret=");
	assert_int_equal(memstore_count_of("sms.rejected", NULL), 20);
	fakeclock_advance(1);
	smsact_rejected("203.0.113.10", "aliyun", "wrong ?secret=");
	smsact_rejected("203.0.113.10", "aliyun", "wrong ?secret=");
	fakeclock_turn();
	all = memstore_records("sms.rejected", NULL);
	assert_int_equal(json_array_size(all), 22);
	r = json_array_get(all, 0);
	d = json_object_get(r, "data");
	assert_string_equal(s_of(r, "actor"), "sms:twilio");
	assert_null(json_object_get(r, "incident"));
	assert_string_equal(s_of(d, "provider"), "twilio");
	assert_string_equal(s_of(d, "peer"), "203.0.113.9");
	assert_string_equal(s_of(d, "reason"), "X-Twilio-Signature does not match");
	assert_null(json_object_get(d, "not_recorded_before"));
	r = json_array_get(all, 20);
	d = json_object_get(r, "data");
	assert_string_equal(s_of(r, "actor"), "sms:aliyun");
	assert_string_equal(s_of(d, "peer"), "203.0.113.10");
	assert_int_equal(json_integer_value(json_object_get(d,
	    "not_recorded_before")), 6);
	assert_null(json_object_get(json_object_get(json_array_get(all, 21),
	    "data"), "not_recorded_before"));
	json_decref(all);
	assert_int_equal(memstore_count_of("sms.received", NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_an_office_reports_by_sms, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_follow_ups_by_sms, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_reply_codes_act_and_are_reused, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_a_bare_action_means_the_latest, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_codes_and_the_latest_survive_restarts, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_already_done_says_who_and_when, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_what_is_not_a_reply_command_gets_the_help, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_the_reply_limit_per_phone, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_an_unknown_number_is_recorded_and_not_answered, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_a_text_that_is_not_utf8, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_the_same_message_twice_changes_nothing, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_rejected_requests_are_capped, setup, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
