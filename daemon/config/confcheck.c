/*
 * Warnings about how dutyd is set up, and --hash-token (see confcheck.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/timeutil.h"
#include "base/tz.h"
#include "config/calendar.h"
#include "config/confcheck.h"
#include "config/config.h"
#include "config/confval.h"

#define CONFCHECK_TOKEN_MAX	1024	/* bytes of a token read by --hash-token */
/* Directive deadlines reach a few weeks ahead: the calendar must, too. */
#define CONFCHECK_CALENDAR_DAYS	60

/* Working days past the calendar's years are guesses (weekends only). */
static int
confcheck_calendar(const struct config *cf,
    void (*say)(const char *, void *), void *arg)
{
	struct tm	 tm;
	char		 msg[512], date[CALENDAR_DATE_MAX];
	int64_t		 dn;
	int		 y, m, d;

	if (cf->tz == NULL || tz_tm(cf->tz, time_now_ms(), &tm) != 0)
		return 0;
	dn = calendar_first_uncovered(cf->calendar, tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, CONFCHECK_CALENDAR_DAYS);
	if (dn < 0)
		return 0;
	calendar_civil(dn, &y, &m, &d);
	snprintf(msg, sizeof(msg), "the calendar does not cover %s, within the "
	    "next %d days: working days from then on count weekends only, "
	    "without holidays or make-up working days (调休); add that year's "
	    "arrangement under 'calendar' (holidays:, workdays:, years:)",
	    calendar_format_date(y, m, d, date), CONFCHECK_CALENDAR_DAYS);
	say(msg, arg);
	return 1;
}

int
confcheck_warnings(const struct config *cf,
    void (*say)(const char *, void *), void *arg)
{
	struct stat	 st;
	char		 msg[1024], what[256] = "";
	int		 n = 0;

	if (cf->plain_tokens > 0)
		snprintf(what, sizeof(what), "%d bearer token(s) in clear%s",
		    cf->plain_tokens, cf->other_secrets > 0 ? " and " : "");
	if (cf->other_secrets > 0)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
		    "%d channel or SMS gateway secret(s)", cf->other_secrets);
	/*
	 * Group-readable is how the package ships it (root:dutyd 0640): fine
	 * when the group is the one dutyd runs as.
	 */
	if (what[0] != '\0' && stat(cf->path, &st) == 0 &&
	    ((st.st_mode & S_IROTH) || ((st.st_mode & S_IRGRP) &&
	    st.st_gid != getegid()))) {
		snprintf(msg, sizeof(msg), "%s is readable by %s (mode %04o) and "
		    "holds %s: anyone who reads it can report, acknowledge or "
		    "send in their name. Run: chmod 600 %s (or chmod 640 with "
		    "the file's group limited to dutyd's), and write tokens as "
		    "token_sha256: (dutyd --hash-token prints it)", cf->path,
		    st.st_mode & S_IROTH ? "every user" : "its group",
		    (unsigned)(st.st_mode & 07777), what, cf->path);
		say(msg, arg);
		n++;
	}
	if (geteuid() == 0) {
		snprintf(msg, sizeof(msg), "dutyd is running as root: a flaw in "
		    "it, or in a channel plugin, would have the whole machine. "
		    "Run it as its own user: User=dutyd in the systemd unit, "
		    "and chown -R dutyd %s", cf->state_dir != NULL ?
		    cf->state_dir : "state_dir");
		say(msg, arg);
		n++;
	}
	n += confcheck_calendar(cf, say, arg);
	return n;
}

int
confcheck_hash_token(FILE *in, FILE *out, FILE *err)
{
	unsigned char	 md[CONFIG_TOKEN_MD];
	char		 buf[CONFCHECK_TOKEN_MAX + 2];
	size_t		 len, i;

	if (isatty(fileno(in)))
		fprintf(err, "token (then Enter): ");
	if (fgets(buf, sizeof(buf), in) == NULL) {
		fprintf(err, "dutyd: --hash-token reads the token from standard "
		    "input, e.g. openssl rand -hex 16 | tee token.txt | dutyd "
		    "--hash-token\n");
		return 1;
	}
	len = strcspn(buf, "\r\n");
	if (buf[len] == '\0' && len > CONFCHECK_TOKEN_MAX) {
		fprintf(err, "dutyd: the token is longer than %d bytes\n",
		    CONFCHECK_TOKEN_MAX);
		OPENSSL_cleanse(buf, sizeof(buf));
		return 1;
	}
	buf[len] = '\0';
	if (!confval_visible(buf) || len < CONFVAL_TOKEN_MIN) {
		fprintf(err, "dutyd: a token is at least %d bytes without "
		    "whitespace or control characters, e.g. the output of "
		    "`openssl rand -hex 16`\n", CONFVAL_TOKEN_MIN);
		OPENSSL_cleanse(buf, sizeof(buf));
		return 1;
	}
	i = config_token_digest(buf, md);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (i != 0) {
		fprintf(err, "dutyd: out of memory\n");
		return 1;
	}
	for (i = 0; i < sizeof(md); i++)
		fprintf(out, "%02x", md[i]);
	fprintf(out, "\n");
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}
