/*
 * linkpage.c: the pages a one-tap link opens.  Pure functions: every
 * field that came from a report or a person is HTML-escaped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake/linkpage.h"

static void
linkpage_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char page_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"zh-CN\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    /* The URL holds the token: keep it out of Referer and indexes. */
    "<meta name=\"referrer\" content=\"no-referrer\">\n"
    "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
    "<style>\n"
    "body{margin:0;font:18px/1.5 system-ui,\"PingFang SC\","
    "\"Microsoft YaHei\",sans-serif;background:#f4f4f4;color:#222}\n"
    "main{max-width:32em;margin:0 auto;padding:1em}\n"
    "h1{font-size:1.3em;margin:.5em 0}\n"
    "dl{background:#fff;border-radius:8px;padding:.5em 1em;margin:1em 0}\n"
    "dt{color:#666;font-size:.85em;margin-top:.5em}\n"
    "dd{margin:0 0 .3em 0;word-break:break-all}\n"
    "button{display:block;width:100%;min-height:3.5em;font-size:1.2em;"
    "border:0;border-radius:8px;background:#c62828;color:#fff}\n"
    ".ok{color:#2e7d32}.err{color:#c62828}\n"
    "pre.draft{white-space:pre-wrap;background:#fff;border-radius:8px;"
    "padding:1em;font:inherit}\n"
    "</style>\n";

/* Open a page with its <title>; the caller writes the body. */
static FILE *
linkpage_open(char **buf, size_t *len, const char *title)
{
	FILE	*f;

	if ((f = open_memstream(buf, len)) == NULL)
		return NULL;
	fputs(page_head, f);
	fputs("<title>", f);
	linkpage_escape(f, title);
	fputs("</title>\n</head>\n<body>\n<main>\n", f);
	return f;
}

static char *
linkpage_close(FILE *f, char **buf)
{
	int	 failed;

	fputs("</main>\n</body>\n</html>\n", f);
	failed = ferror(f);
	if (fclose(f) != 0 || failed) {
		free(*buf);
		errno = ENOMEM;
		return NULL;
	}
	return *buf;
}

static void
linkpage_item(FILE *f, const char *label, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	fprintf(f, "<dt>%s</dt><dd>", label);
	linkpage_escape(f, value);
	fputs("</dd>\n", f);
}

/* Where the incident can be read: it never acts. */
static void
linkpage_details(FILE *f, const char *url)
{
	if (url == NULL || *url == '\0')
		return;
	fputs("<p><a href=\"", f);
	linkpage_escape(f, url);
	fputs("\">查看事件详情</a></p>\n", f);
}

/* The national grading of emergencies, as duty staff say it. */
static const char *
linkpage_level(const char *level)
{
	static const char *const words[][2] = {
		{ "I", "Ⅰ级（特别重大）" },
		{ "II", "Ⅱ级（重大）" },
		{ "III", "Ⅲ级（较大）" },
		{ "IV", "Ⅳ级（一般）" },
	};
	size_t	 i;

	for (i = 0; level != NULL && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(level, words[i][0]) == 0)
			return words[i][1];
	return level;
}

char *
linkpage_confirm(const struct linkpage_summary *s, const char *token, char action)
{
	FILE		*f;
	char		*buf = NULL;
	size_t		 len;
	const char	*verb = action == 'P' ? "批准" : action == 'H' ?
			    "确认接班" : "确认收到";

	/* Acknowledging, approving and accepting a handover are all a tap does; never resolving. */
	if ((action != 'A' && action != 'P' && action != 'H') || s == NULL ||
	    token == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((f = linkpage_open(&buf, &len, verb)) == NULL)
		return NULL;
	fputs("<h1>", f);
	linkpage_escape(f, s->title != NULL ? s->title : "突发事件");
	fputs("</h1>\n<dl>\n", f);
	linkpage_item(f, "事件编号", s->incident);
	linkpage_item(f, "报告单位", s->office);
	linkpage_item(f, "事件级别", linkpage_level(s->level));
	linkpage_item(f, "接班班次", s->shift);
	linkpage_item(f, action == 'H' ? "交接时间" : "发生时间", s->occurred);
	linkpage_item(f, action == 'P' ? "审核人" : action == 'H' ? "接班人员" :
	    "值班人员", s->person);
	linkpage_item(f, "书面报告", s->draft_version);
	fputs("</dl>\n", f);
	/* What is approved is exactly what the approver reads here. */
	if (action == 'P') {
		fputs("<h2>", f);
		linkpage_escape(f, s->draft_title != NULL ? s->draft_title : "");
		fputs("</h2>\n<pre class=\"draft\">", f);
		linkpage_escape(f, s->draft_body != NULL ? s->draft_body : "");
		fputs("</pre>\n", f);
	}
	fputs("<form method=\"post\">\n"
	    "<input type=\"hidden\" name=\"token\" value=\"", f);
	linkpage_escape(f, token);
	if (action == 'P')
		fprintf(f, "\">\n<input type=\"hidden\" name=\"version\" "
		    "value=\"%d", s->version);
	fputs("\">\n<button type=\"submit\">", f);
	linkpage_escape(f, verb);
	fputs("</button>\n</form>\n"
	    "<p>点按按钮后才会记录，并以您本人的名义写入值班日志。</p>\n", f);
	linkpage_details(f, s->url);
	return linkpage_close(f, &buf);
}

static char *
linkpage_answer(const char *title, const char *cls, const char *message,
    const char *url)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len;

	if (message == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((f = linkpage_open(&buf, &len, title)) == NULL)
		return NULL;
	fprintf(f, "<h1 class=\"%s\">", cls);
	linkpage_escape(f, title);
	fputs("</h1>\n<p>", f);
	linkpage_escape(f, message);
	fputs("</p>\n", f);
	linkpage_details(f, url);
	return linkpage_close(f, &buf);
}

char *
linkpage_done(const char *message, const char *url)
{
	return linkpage_answer("已记录", "ok", message, url);
}

char *
linkpage_error(const char *message, const char *url)
{
	return linkpage_answer("未能完成", "err", message, url);
}
