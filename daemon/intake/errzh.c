/*
 * errzh.c: Chinese sentences for API errors (see errzh.h).  The English
 * `error` says exactly what was wrong; this says it the way the person in
 * front of the client needs it: which item, and what to do.
 */
#include <stdio.h>
#include <string.h>

#include "intake/errzh.h"

static const struct {
	int		 status;	/* 0: any */
	const char	*field;		/* exact; a prefix ending in '.' */
	const char	*text;
} errzh_fields[] = {
	{ 400, "title", "事件标题（title）填写有误：必须填写，1 至 200 字，不能只有空白。" },
	{ 400, "occurred_at", "事发时间（occurred_at）填写有误：须为带时区的时间，如 "
	    "2026-11-28T14:05:00+08:00，且不能晚于现在 5 分钟以上。请核对日期、时间和时区。" },
	{ 400, "category", "事件类别（category）填写有误：最多 100 字。" },
	{ 400, "level", "事件级别（level）填写有误：应为 I、II、III 或 IV（也可写 Ⅰ 至 Ⅳ 或 1 至 4）。" },
	{ 400, "location", "事发地点（location）填写有误：最多 2000 字。" },
	{ 400, "cause", "事件原因（cause）填写有误：最多 2000 字。" },
	{ 400, "measures", "处置措施（measures）填写有误：最多 2000 字。" },
	{ 400, "details", "详细情况（details）填写有误：最多 8000 字。" },
	{ 400, "casualties.", "伤亡人数填写有误：死亡、受伤、失踪人数须为 0 至 1000000 的整数。" },
	{ 400, "casualties", "伤亡情况（casualties）填写有误：只能包含死亡、受伤、失踪人数。" },
	{ 400, "reporter.name", "报告人姓名填写有误：最多 100 字。" },
	{ 400, "reporter.phone", "报告人电话填写有误：只能包含数字、空格和 + - ( )，最多 32 个字符。" },
	{ 400, "reporter", "报告人（reporter）填写有误：只能包含姓名和电话。" },
	{ 400, "office", "报告单位（office）填写有误：电话报告须写明报告单位的编号（如 county-a）；"
	    "县级单位用本单位令牌报告时不要填写。" },
	{ 400, "note", "备注（note）填写有误：最多 2000 字。" },
	{ 400, "reference", "文号（reference）填写有误：最多 2000 字。" },
	/* The written report's draft and approval (intake/wrapi.c). */
	{ 400, "body", "书面报告正文（body）填写有误：必须填写，不能只有空白，最长 32 KiB。" },
	{ 400, "base_version", "版本号（base_version）有误：须为您所修改的版本号（草稿的 version）。" },
	{ 409, "base_version", "书面报告已被他人修改：请重新打开草稿，在最新版本上修改后再保存。" },
	{ 400, "comment", "退回意见（comment）必须填写：请说明需要修改什么。" },
	{ 400, "reason", "误报原因（reason）必须填写：请说明为什么是误报，所有已收到通知的人都会看到。" },
	{ 400, "into", "合并目标（into）必须填写：请填写与本事件重复的那起事件的编号。" },
	{ 404, "into", "找不到要并入的事件，请核对事件编号。" },
	{ 409, "approval", "该级别的书面报告须经审核批准后方可报送：请先送审，待批准后再报送（被退回的，请按意见修改后重新送审）。" },
	{ 409, "into", "不能这样合并：事件不能并入自身，也不能并入已办结、已合并或已核实为误报的事件。" },
	{ 400, "state", "查询条件 state 有误：可选 open、acknowledged、resolved、merged、dismissed 或 all。" },
	{ 400, "since", "查询条件 since 有误：须为带时区的时间，如 2026-12-01T08:30:00+08:00（+ 写作 %2B）。" },
	{ 400, "at", "查询时间（at）有误：须为带时区的时间，如 2026-12-01T08:30:00+08:00（+ 写作 %2B）。" },
	{ 400, "Idempotency-Key", "幂等键（Idempotency-Key）格式有误：须为 1 至 200 个可打印英文字符，不含空格。" },
	{ 422, "Idempotency-Key", "该幂等键（Idempotency-Key）已用于另一份内容不同的报告或续报：新的报告请换用新的幂等键。" },
	/* Handovers and the duty log (intake/handapi.c, intake/dutylog.c). */
	{ 400, "text", "内容（text）填写有误：必须填写，不能只有空白，最多 2000 字。" },
	{ 400, "handover_seq", "交接班编号（handover_seq）有误：须为交接班记录的序号（整数），不填则为最近一次交接班。" },
	{ 403, "handover", "只有本次交接班的接班人员（或同班次在岗人员）可以确认接班。" },
	{ 404, "handover", "目前没有可确认的交接班记录。" },
	{ 409, "handover", "本次交接班已由他人确认接班，无需重复确认。" },
	{ 409, "notes", "交班留言已达上限，请在交接班后再写，或电话告知接班人员。" },
	{ 400, "date", "日期（date）有误：须为 YYYY-MM-DD，如 2026-12-01，且不能晚于今天。" },
	{ 400, "format", "格式（format）有误：可选 json 或 csv。" },
	/* The figures (intake/statsapi.c). */
	{ 400, "from", "起始日期（from）有误：须为 YYYY-MM-DD，如 2026-01-01，且不能晚于截止日期（to）。" },
	{ 400, "to", "截止日期（to）有误：须为 YYYY-MM-DD，如 2026-12-31；一次最多统计 400 天。" },
	{ 503, "scan", "正在读取历史记录的请求过多，请几秒后重试。" },
	{ 403, "id", "该事件不是本单位报告的，只有报告单位可以续报。请核对事件编号。" },
	{ 404, "id", "找不到该事件，请核对事件编号。" },
	{ 409, "id", "该事件已办结（处置完毕、已合并或已核实为误报）或续报已达上限，不能再执行此操作。"
	    "如有新情况，请电话联系值班室或作为新事件报告。" },
};
#define ERRZH_NFIELDS	(sizeof(errzh_fields) / sizeof(errzh_fields[0]))

static const struct {
	int		 status;
	const char	*text;
} errzh_statuses[] = {
	{ 400, "提交的内容有误（格式不对、缺少必填项或含有不认识的项目），请按说明检查后重新提交。" },
	{ 401, "身份验证失败：缺少令牌或令牌不对。请检查客户端中设置的令牌。" },
	{ 403, "无权执行此操作。" },
	{ 404, "找不到请求的内容，请核对地址或编号。" },
	{ 405, "请求方式不对，请按接口说明使用 GET 或 POST。" },
	{ 409, "当前状态下不能执行此操作。" },
	{ 413, "提交的内容过长，请精简后重新提交。" },
	{ 415, "提交的内容须为 JSON 格式（Content-Type: application/json）。" },
	{ 422, "该请求与之前使用同一幂等键的请求内容不一致。" },
	{ 503, "值班系统暂时无法保存，本次操作未记录。请稍后重试；如持续出现，请电话联系值班室。" },
};
#define ERRZH_NSTATUSES	(sizeof(errzh_statuses) / sizeof(errzh_statuses[0]))

static int
errzh_field_matches(const char *pattern, const char *field)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '.')
		return strncmp(pattern, field, n) == 0;
	return strcmp(pattern, field) == 0;
}

const char *
errzh_sentence(int status, const char *field, char *buf, size_t len)
{
	size_t i;

	for (i = 0; field != NULL && i < ERRZH_NFIELDS; i++)
		if ((errzh_fields[i].status == 0 ||
		    errzh_fields[i].status == status) &&
		    errzh_field_matches(errzh_fields[i].field, field))
			return errzh_fields[i].text;
	/* A query parameter the list does not take, and the like. */
	if (status == 400 && field != NULL && strlen(field) <= 40) {
		snprintf(buf, len, "“%s”一项有误或不被支持，请按接口说明检查后重新提交。",
		    field);
		return buf;
	}
	for (i = 0; i < ERRZH_NSTATUSES; i++)
		if (errzh_statuses[i].status == status)
			return errzh_statuses[i].text;
	return status >= 500 ? "值班系统内部错误，本次操作可能未完成。请电话联系值班室。" :
	    "请求未能完成，请按接口说明检查后重试；如有疑问，请电话联系值班室。";
}
