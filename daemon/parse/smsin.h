/*
 * SMS intake: what SMS gateways post to dutyd (Twilio form bodies, Aliyun
 * uplink JSON) and what a person may write in an SMS (a reply command or a
 * report).  Pure functions of bytes: no globals, clock, time zone or
 * logging, so each can be fuzzed alone.  Errors are negative errno values.
 */
#ifndef DUTYD_SMSIN_H
#define DUTYD_SMSIN_H

#include <stddef.h>
#include <stdint.h>

#define SMSIN_BODY_MAX		(32 * 1024)	/* bytes of a form body: 1,600 Chinese characters percent-encoded take 14 KiB */
#define SMSIN_PAIRS_MAX		64		/* parameters in a form body */
#define SMSIN_NAME_MAX		64		/* bytes of a decoded parameter name */
#define SMSIN_VALUE_MAX		8192		/* bytes of a decoded parameter value: 1,600 characters of UTF-8 */
#define SMSIN_URL_MAX		2048		/* bytes of a webhook URL */
#define SMSIN_TEXT_MAX		1600		/* code points of one SMS (Twilio's limit) */
#define SMSIN_ALIYUN_BODY_MAX	(512 * 1024)	/* bytes of an uplink batch */
#define SMSIN_ALIYUN_ITEMS_MAX	100		/* messages in an uplink batch */
#define SMSIN_FIELD_MAX		64		/* bytes of an Aliyun phone, time, code, id */
#define SMSIN_PHONE_MAX		24		/* buffer for a normalised phone number */
#define SMSIN_ID_MAX		32		/* == INCIDENT_ID_MAX */
#define SMSIN_FUTURE_SLACK_MS	(5 * 60 * 1000)	/* see smsin_report_parse() */

/* One name=value of a form body, decoded, in the order sent. */
struct smsin_pair {
	char	*name;
	char	*value;
};

struct smsin_form {
	struct smsin_pair *pairs;
	size_t		 npairs;
};

/*
 * Parse an application/x-www-form-urlencoded body of len bytes.  Repeated
 * names are kept.  0, -EINVAL (not a form body, a NUL byte or %00), -E2BIG
 * (over a cap above) or -ENOMEM.  On error *form is empty; free it either way
 * with smsin_form_free().
 */
int	 smsin_form_parse(const char *body, size_t len, struct smsin_form *form);
void	 smsin_form_free(struct smsin_form *form);
/* The first value of name, or NULL. */
const char *smsin_form_get(const struct smsin_form *form, const char *name);

/*
 * Check X-Twilio-Signature: base64(HMAC-SHA1(token, url followed by
 * name+value of every parameter, sorted by name then value, each distinct
 * pair once)), compared in constant time.  The URL is tried as given and
 * with the scheme's default port added or removed, as Twilio's validators
 * do.  0 when the signature is right, -EBADMSG when it is not; -EINVAL (url
 * not http(s)://host, or a host or port curl_url() writes otherwise, such
 * as [0:0::1] or :0443; empty token), -E2BIG or -ENOMEM when nothing was
 * checked.  Any non-zero result means: reject the request.
 */
int	 smsin_twilio_valid(const char *url, const struct smsin_form *form,
	    const char *token, const char *signature_b64);

/* One message of an Aliyun SMS uplink (SmsUp) push, strings as sent. */
struct smsin_aliyun_msg {
	char	*phone_number;
	char	*content;	/* at most SMSIN_TEXT_MAX code points */
	char	*send_time;	/* "2026-11-28 14:05:00", China Standard Time */
	char	*dest_code;	/* may be empty */
	char	*sequence_id;	/* a number in the JSON, as decimal text */
	int64_t	 send_ms;	/* send_time as epoch ms; 0 if not in that format */
};

/*
 * Parse an uplink batch: a JSON array of 1..SMSIN_ALIYUN_ITEMS_MAX objects.
 * 0 and *msgs, *n; or -EINVAL (why says which item and what is wrong, if
 * why != NULL), -E2BIG (body or batch too large, or content too long) or
 * -ENOMEM.  Free with smsin_aliyun_free().
 */
int	 smsin_aliyun_parse(const char *json, size_t len,
	    struct smsin_aliyun_msg **msgs, size_t *n, char *why, size_t whylen);
void	 smsin_aliyun_free(struct smsin_aliyun_msg *msgs, size_t n);

/*
 * "+86 138-0013-8000", "008613800138000", "13800138000" -> "+8613800138000".
 * Spaces, dashes and parentheses go; "00" becomes "+"; a mainland mobile
 * (11 digits starting with 1) gets +86.  Other numbers keep their digits.
 * 0, -EINVAL (not a phone number) or -ENOSPC (out smaller than
 * SMSIN_PHONE_MAX).
 */
int	 smsin_phone_normalize(const char *in, char *out, size_t outlen);

/*
 * A reply command: "3A", "３ Ａ", "3确认", "A INC-20261128-0001", "A".
 * Full-width forms, ideographic spaces and case do not matter.
 * A acknowledge (确认, 已确认, 收到), F written report filed (已报, 已报送,
 * 已上报), R resolved (处置完毕, 已处置, 办结, 已办结), P approve the
 * written report (批准).  A trailing "." or
 * "。" is allowed.
 */
struct smsin_reply {
	char	 action;			/* 'A', 'F', 'R' or 'P' */
	int	 code;				/* 1..9999 from the notification; 0: none */
	char	 incident[SMSIN_ID_MAX];	/* "INC-..." or "" */
};

/* 0, or -EINVAL: not a reply command (it may be a report). */
int	 smsin_reply_parse(const char *text, struct smsin_reply *cmd);

/*
 * A report written as an SMS.  First line the title, the rest the details.
 * It may start with an incident id (a follow-up, 续报, to that incident)
 * and/or a time "14:05" ("14：05", full-width digits too): the time is when
 * it happened, on the day received, or the day before if that would be more
 * than SMSIN_FUTURE_SLACK_MS after received_ms.
 */
struct smsin_report {
	char	*title;		/* at most REPORT_TITLE_MAX code points, not blank */
	char	*details;	/* NULL if none */
	int64_t	 occurred_ms;	/* received_ms when no time was given */
	int	 has_time;
	char	 followup_id[SMSIN_ID_MAX];	/* "" if a new report */
};

/*
 * text is UTF-8 of at most SMSIN_TEXT_MAX code points.  utc_offset_s is the
 * local offset at received_ms (tm_gmtoff); it is used for the day received.
 * A title longer than REPORT_TITLE_MAX is cut there and the rest of its line
 * starts the details, so nothing is lost.  0, -EINVAL (invalid UTF-8, or
 * nothing but blanks), -E2BIG or -ENOMEM.  Free with smsin_report_free().
 */
int	 smsin_report_parse(const char *text, int64_t received_ms,
	    long utc_offset_s, struct smsin_report *out);
void	 smsin_report_free(struct smsin_report *out);

#endif
