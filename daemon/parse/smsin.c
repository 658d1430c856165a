/*
 * SMS intake parsers: gateway bodies (Twilio forms, Aliyun uplink JSON),
 * phone numbers, reply commands and reports written as SMS.  Pure functions
 * of bytes (no globals, clock, time zone or logging) so each can be fuzzed
 * alone; the caller logs once with context.
 *
 * People type on phones in full-width mode, with ideographic spaces, in
 * either case: matching folds those away, but the title and details of a
 * report keep the words as written.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "parse/report.h"
#include "parse/smsin.h"
#include "base/mac.h"
#include "base/timeutil.h"
#include "base/utf8.h"

#define DAY_MS		INT64_C(86400000)
#define REPLY_MAX	256	/* bytes: a reply command is short */
#define PREFIX_MAX	96	/* bytes folded to find an id and a time */
#define TWILIO_SIG_MAX	64	/* bytes of a signature header we look at */
#define SHA1_LEN	20
#define SHA1_B64_LEN	28

/* UTF-8 ------------------------------------------------------------------ */

/* White space as phones type it: U+3000 is what a Chinese IME gives. */
static int
is_space(uint32_t cp)
{
	return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0xa0 ||
	    cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200b) || cp == 0x2028 ||
	    cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 ||
	    cp == 0xfeff;
}

/*
 * Fold valid UTF-8 for matching: full-width ASCII (U+FF01-U+FF5E) becomes
 * ASCII, every space ' ' (a newline stays '\n'), letters upper case; other
 * characters are copied.  Only whole characters are written; map[j] is the
 * offset in s of the character out[j] came from, map[return] the offset
 * after the last one folded.
 */
static size_t
fold(const char *s, size_t n, char *out, size_t outsz, size_t *map)
{
	size_t	 i = 0, j = 0, k;
	uint32_t cp;
	int	 l;

	while (i < n) {
		if ((l = utf8_decode(s + i, n - i, &cp)) < 0)
			break;
		if (cp >= 0xff01 && cp <= 0xff5e)
			cp -= 0xfee0;
		if (cp == '\n')
			;
		else if (is_space(cp))
			cp = ' ';
		if (cp >= 'a' && cp <= 'z')
			cp -= 'a' - 'A';
		if (cp < 0x80) {
			if (j + 1 >= outsz)
				break;
			map[j] = i;
			out[j++] = (char)cp;
		} else {
			if (j + (size_t)l >= outsz)
				break;
			for (k = 0; k < (size_t)l; k++) {
				map[j] = i;
				out[j++] = s[i + k];
			}
		}
		i += (size_t)l;
	}
	out[j] = '\0';
	map[j] = i;
	return j;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Leading white space of s[0..n) (valid UTF-8), in bytes. */
static size_t
space_prefix(const char *s, size_t n)
{
	size_t	 i = 0;
	uint32_t cp;
	int	 l;

	while (i < n && (l = utf8_decode(s + i, n - i, &cp)) > 0 &&
	    is_space(cp))
		i += (size_t)l;
	return i;
}

/* Length of s[0..n) (valid UTF-8) without its trailing white space. */
static size_t
trim_end(const char *s, size_t n)
{
	size_t	 start;
	uint32_t cp;

	while (n > 0) {
		start = utf8_back(s, n);
		if (utf8_decode(s + start, n - start, &cp) < 0 || !is_space(cp))
			break;
		n = start;
	}
	return n;
}

/*
 * An incident id at p (folded): "INC-" 8 digits "-" 4 or more digits, as
 * incid.c makes them ("INC-%08d-%04d"), not followed by a digit.  Its
 * length, or 0.
 */
static size_t
match_id(const char *p)
{
	size_t	 n, i;

	if (strncmp(p, "INC-", 4) != 0)
		return 0;
	for (i = 4; i < 12; i++)
		if (!is_digit(p[i]))
			return 0;
	if (p[12] != '-')
		return 0;
	for (n = 13; is_digit(p[n]); n++)
		if (n >= SMSIN_ID_MAX - 1)
			return 0;
	if (n - 13 < 4 || n - 13 > 10)
		return 0;
	return n;
}

/* Form bodies ------------------------------------------------------------ */

void
smsin_form_free(struct smsin_form *form)
{
	size_t	 i;

	if (form == NULL)
		return;
	for (i = 0; i < form->npairs; i++) {
		free(form->pairs[i].name);
		free(form->pairs[i].value);
	}
	free(form->pairs);
	form->pairs = NULL;
	form->npairs = 0;
}

const char *
smsin_form_get(const struct smsin_form *form, const char *name)
{
	size_t	 i;

	for (i = 0; i < form->npairs; i++)
		if (strcmp(form->pairs[i].name, name) == 0)
			return form->pairs[i].value;
	return NULL;
}

static int
form_add(struct smsin_form *form, const struct evkeyval *kv)
{
	struct smsin_pair *p = &form->pairs[form->npairs];
	size_t		 nlen, vlen;

	/* libevent decodes values but leaves names as sent. */
	if ((p->name = evhttp_uridecode(kv->key, 1, &nlen)) == NULL)
		return -ENOMEM;
	if ((p->value = strdup(kv->value)) == NULL) {
		free(p->name);
		return -ENOMEM;
	}
	form->npairs++;
	vlen = strlen(p->value);
	if (nlen == 0 || strlen(p->name) != nlen)
		return -EINVAL;
	if (nlen > SMSIN_NAME_MAX || vlen > SMSIN_VALUE_MAX)
		return -E2BIG;
	return 0;
}

int
smsin_form_parse(const char *body, size_t len, struct smsin_form *form)
{
	struct evkeyvalq q;
	struct evkeyval	*kv;
	char		*copy;
	size_t		 n = 0;
	int		 rc = 0;

	form->pairs = NULL;
	form->npairs = 0;
	if (body == NULL)
		return -EINVAL;
	if (len > SMSIN_BODY_MAX)
		return -E2BIG;
	/* A NUL would cut a value short after the signature covered it. */
	if (memchr(body, '\0', len) != NULL || memmem(body, len, "%00", 3))
		return -EINVAL;
	if ((copy = strndup(body, len)) == NULL)
		return -ENOMEM;
	TAILQ_INIT(&q);
	if (evhttp_parse_query_str(copy, &q) != 0) {
		free(copy);
		evhttp_clear_headers(&q);
		return -EINVAL;
	}
	free(copy);
	TAILQ_FOREACH(kv, &q, next)
		n++;
	if (n > SMSIN_PAIRS_MAX)
		rc = -E2BIG;
	else if (n > 0 && (form->pairs = calloc(n, sizeof(*form->pairs))) ==
	    NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		TAILQ_FOREACH(kv, &q, next)
			if ((rc = form_add(form, kv)) != 0)
				break;
	}
	evhttp_clear_headers(&q);
	if (rc != 0)
		smsin_form_free(form);
	return rc;
}

/* Twilio signatures ------------------------------------------------------ */

static int
pair_cmp(const void *a, const void *b)
{
	const struct smsin_pair *pa = *(const struct smsin_pair *const *)a;
	const struct smsin_pair *pb = *(const struct smsin_pair *const *)b;
	int		 c;

	/* strcmp orders UTF-8 by code point, as Twilio's sort does. */
	if ((c = strcmp(pa->name, pb->name)) != 0)
		return c;
	return strcmp(pa->value, pb->value);
}

/*
 * base64(HMAC-SHA1(token, url + the pairs in iov[1..n))) into b64
 * (SHA1_B64_LEN + 1); iov[0] is set to url.
 */
static int
twilio_sign(const struct mac_key *key, const char *url, struct iovec *iov,
    size_t n, char *b64)
{
	unsigned char	 md[SHA1_LEN];
	int		 len;

	iov[0].iov_base = (void *)url;
	iov[0].iov_len = strlen(url);
	if ((len = mac_key_sign(key, iov, n, md, sizeof(md))) < 0)
		return len;
	EVP_EncodeBlock((unsigned char *)b64, md, len);
	return 0;
}

static int
twilio_url_error(CURLUcode uc)
{
	return uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

/*
 * Where the authority ("https://host:port") ends in a URL curl wrote:
 * curl always writes a path, and no '/' before it.
 */
static size_t
twilio_authority(const char *written, size_t slen)
{
	return slen + 3 + strcspn(written + slen + 3, "/");
}

/*
 * The URL with its default port (https 443, http 80) removed or added,
 * into *alt (free() it): 0; 1 when it has another port (no alternative);
 * -EINVAL when it is not an http(s) URL with a host, or when curl reads its
 * host or port otherwise than written ("https:///x" is host x to curl), so
 * that no variant is known; -ENOMEM.  Only the authority comes from curl:
 * the path, query and fragment stay as given, as Twilio signed them.
 */
static int
twilio_alt_url(const char *url, char **alt)
{
	CURLU		*u;
	CURLUcode	 uc;
	char		*scheme = NULL, *port = NULL, *same = NULL, *other = NULL;
	unsigned int	 flags;
	size_t		 slen, a, b;
	int		 rc = 0;

	*alt = NULL;
	if ((u = curl_url()) == NULL)
		return -ENOMEM;
	if ((uc = curl_url_set(u, CURLUPART_URL, url, CURLU_PATH_AS_IS)) !=
	    CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) != CURLUE_OK) {
		rc = twilio_url_error(uc);
		goto done;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		rc = -EINVAL;
		goto done;
	}
	/* With CURLU_NO_DEFAULT_PORT the scheme's default port reads as none. */
	if ((uc = curl_url_get(u, CURLUPART_PORT, &port, 0)) == CURLUE_NO_PORT)
		flags = CURLU_DEFAULT_PORT;
	else if (uc != CURLUE_OK) {
		rc = twilio_url_error(uc);
		goto done;
	} else {
		curl_free(port);
		port = NULL;
		uc = curl_url_get(u, CURLUPART_PORT, &port,
		    CURLU_NO_DEFAULT_PORT);
		if (uc != CURLUE_NO_PORT) {
			rc = uc == CURLUE_OK ? 1 : twilio_url_error(uc);
			goto done;
		}
		flags = CURLU_NO_DEFAULT_PORT;
	}
	if ((uc = curl_url_get(u, CURLUPART_URL, &same, 0)) != CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_URL, &other, flags)) !=
	    CURLUE_OK) {
		rc = twilio_url_error(uc);
		goto done;
	}
	/* The authority as curl writes it, but the scheme in any case. */
	slen = strlen(scheme);
	a = twilio_authority(same, slen);
	b = twilio_authority(other, slen);
	if (strncasecmp(same, url, slen) != 0 ||
	    strncmp(same + slen, url + slen, a - slen) != 0 ||
	    (url[a] != '\0' && strchr("/?#", url[a]) == NULL)) {
		rc = -EINVAL;
		goto done;
	}
	if (asprintf(alt, "%.*s%.*s%s", (int)slen, url, (int)(b - slen),
	    other + slen, url + a) == -1) {
		*alt = NULL;
		rc = -ENOMEM;
	}
done:
	curl_free(scheme);
	curl_free(port);
	curl_free(same);
	curl_free(other);
	curl_url_cleanup(u);
	return rc;
}

int
smsin_twilio_valid(const char *url, const struct smsin_form *form,
    const char *token, const char *signature_b64)
{
	const struct smsin_pair **sorted = NULL;
	struct mac_key	*key = NULL;
	struct iovec	*iov = NULL;
	char		*alt = NULL;
	char		 want[SHA1_B64_LEN + 1];
	size_t		 i, n = 1;
	int		 rc, match;

	if (url == NULL || token == NULL || *token == '\0' || form == NULL)
		return -EINVAL;
	if (strlen(url) > SMSIN_URL_MAX)
		return -E2BIG;
	if ((rc = twilio_alt_url(url, &alt)) < 0)
		return rc;
	if (signature_b64 == NULL ||
	    strnlen(signature_b64, TWILIO_SIG_MAX) != SHA1_B64_LEN) {
		free(alt);
		return -EBADMSG;
	}
	rc = -ENOMEM;
	/* iov[0] is the URL, then the name and the value of each pair. */
	if ((iov = calloc(1 + 2 * form->npairs, sizeof(*iov))) == NULL ||
	    (form->npairs > 0 &&
	    (sorted = calloc(form->npairs, sizeof(*sorted))) == NULL))
		goto done;
	for (i = 0; i < form->npairs; i++)
		sorted[i] = &form->pairs[i];
	if (form->npairs > 1)
		qsort(sorted, form->npairs, sizeof(*sorted), pair_cmp);
	for (i = 0; i < form->npairs; i++) {
		/* Twilio's validators sign each distinct pair once. */
		if (i > 0 && pair_cmp(&sorted[i - 1], &sorted[i]) == 0)
			continue;
		iov[n].iov_base = sorted[i]->name;
		iov[n++].iov_len = strlen(sorted[i]->name);
		iov[n].iov_base = sorted[i]->value;
		iov[n++].iov_len = strlen(sorted[i]->value);
	}
	/* Keyed once for both URLs. */
	if ((rc = mac_key_new("SHA1", token, strlen(token), &key)) != 0 ||
	    (rc = twilio_sign(key, url, iov, n, want)) != 0)
		goto done;
	match = mac_equal(want, signature_b64, SHA1_B64_LEN);
	if (alt != NULL) {
		if ((rc = twilio_sign(key, alt, iov, n, want)) != 0)
			goto done;
		match |= mac_equal(want, signature_b64, SHA1_B64_LEN);
	}
	rc = match ? 0 : -EBADMSG;
done:
	mac_key_free(key);
	free(sorted);
	free(iov);
	free(alt);
	return rc;
}

/* Aliyun uplink ---------------------------------------------------------- */

static void
why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

void
smsin_aliyun_free(struct smsin_aliyun_msg *msgs, size_t n)
{
	size_t	 i;

	if (msgs == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(msgs[i].phone_number);
		free(msgs[i].content);
		free(msgs[i].send_time);
		free(msgs[i].dest_code);
		free(msgs[i].sequence_id);
	}
	free(msgs);
}

/* A string member of at most max bytes (0: no byte cap), copied. */
static int
aliyun_string(json_t *item, const char *key, size_t max, size_t idx,
    char **out, char *why, size_t whylen)
{
	json_t	*v = json_object_get(item, key);

	if (v == NULL || !json_is_string(v)) {
		why_set(why, whylen, "message %zu: \"%s\" is %s; each message "
		    "needs phone_number, content, send_time, dest_code and "
		    "sequence_id", idx + 1, key, v == NULL ? "missing" :
		    "not a string");
		return -EINVAL;
	}
	if (max > 0 && json_string_length(v) > max) {
		why_set(why, whylen, "message %zu: \"%s\" is longer than %zu "
		    "bytes", idx + 1, key, max);
		return -EINVAL;
	}
	if ((*out = strdup(json_string_value(v))) == NULL)
		return -ENOMEM;
	return 0;
}

static int
aliyun_item(json_t *item, size_t idx, struct smsin_aliyun_msg *m,
    char *why, size_t whylen)
{
	json_t		*seq;
	char		 buf[SMSIN_FIELD_MAX + 8];
	size_t		 len;
	int		 rc;

	if (!json_is_object(item)) {
		why_set(why, whylen, "message %zu is not a JSON object",
		    idx + 1);
		return -EINVAL;
	}
	if ((rc = aliyun_string(item, "phone_number", SMSIN_FIELD_MAX, idx,
	    &m->phone_number, why, whylen)) != 0 ||
	    (rc = aliyun_string(item, "content", 0, idx, &m->content, why,
	    whylen)) != 0 ||
	    (rc = aliyun_string(item, "send_time", SMSIN_FIELD_MAX, idx,
	    &m->send_time, why, whylen)) != 0 ||
	    (rc = aliyun_string(item, "dest_code", SMSIN_FIELD_MAX, idx,
	    &m->dest_code, why, whylen)) != 0)
		return rc;
	if (*m->phone_number == '\0') {
		why_set(why, whylen, "message %zu: \"phone_number\" is empty",
		    idx + 1);
		return -EINVAL;
	}
	if (utf8_length(m->content) > SMSIN_TEXT_MAX) {
		why_set(why, whylen, "message %zu: \"content\" is longer than "
		    "%d characters", idx + 1, SMSIN_TEXT_MAX);
		return -E2BIG;
	}
	seq = json_object_get(item, "sequence_id");
	if (json_is_integer(seq) && json_integer_value(seq) >= 0)
		snprintf(buf, sizeof(buf), "%lld",
		    (long long)json_integer_value(seq));
	else if (json_is_string(seq) && json_string_length(seq) > 0 &&
	    json_string_length(seq) <= SMSIN_FIELD_MAX &&
	    strspn(json_string_value(seq), "0123456789") ==
	    json_string_length(seq))
		snprintf(buf, sizeof(buf), "%s", json_string_value(seq));
	else {
		why_set(why, whylen, "message %zu: \"sequence_id\" is %s; it "
		    "must be a non-negative integer", idx + 1,
		    seq == NULL ? "missing" : "not a non-negative integer");
		return -EINVAL;
	}
	if ((m->sequence_id = strdup(buf)) == NULL)
		return -ENOMEM;
	/* Aliyun writes "yyyy-MM-dd HH:mm:ss" in Beijing time, no offset. */
	len = strlen(m->send_time);
	m->send_ms = 0;
	if (len == 19 && m->send_time[10] == ' ') {
		snprintf(buf, sizeof(buf), "%s+08:00", m->send_time);
		if (time_parse(buf, &m->send_ms) != 0)
			m->send_ms = 0;
	}
	return 0;
}

int
smsin_aliyun_parse(const char *json, size_t len,
    struct smsin_aliyun_msg **msgs, size_t *n, char *why, size_t whylen)
{
	struct smsin_aliyun_msg *m = NULL;
	json_error_t	 jerr;
	json_t		*root;
	size_t		 i, count = 0;
	int		 rc = 0;

	*msgs = NULL;
	*n = 0;
	why_set(why, whylen, "%s", "");
	if (json == NULL)
		return -EINVAL;
	if (len > SMSIN_ALIYUN_BODY_MAX) {
		why_set(why, whylen, "the batch is larger than %d bytes",
		    SMSIN_ALIYUN_BODY_MAX);
		return -E2BIG;
	}
	if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		why_set(why, whylen, "not JSON: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
		return -EINVAL;
	}
	if (!json_is_array(root)) {
		why_set(why, whylen, "%s", "the body is not a JSON array of "
		    "messages");
		rc = -EINVAL;
	} else if ((count = json_array_size(root)) > SMSIN_ALIYUN_ITEMS_MAX) {
		why_set(why, whylen, "%zu messages in one batch; at most %d are "
		    "accepted", count, SMSIN_ALIYUN_ITEMS_MAX);
		rc = -E2BIG;
	} else if (count > 0 && (m = calloc(count, sizeof(*m))) == NULL)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < count; i++)
		rc = aliyun_item(json_array_get(root, i), i, &m[i], why,
		    whylen);
	json_decref(root);
	if (rc != 0) {
		smsin_aliyun_free(m, count);
		return rc;
	}
	*msgs = m;
	*n = count;
	return 0;
}

/* Phone numbers ---------------------------------------------------------- */

int
smsin_phone_normalize(const char *in, char *out, size_t outlen)
{
	char		 digits[SMSIN_PHONE_MAX];
	const char	*s, *d;
	size_t		 n = 0;
	int		 plus = 0;

	if (outlen < SMSIN_PHONE_MAX)
		return -ENOSPC;
	*out = '\0';
	if (in == NULL)
		return -EINVAL;
	for (s = in; *s == ' ' || *s == '\t'; s++)
		;
	if (*s == '+') {
		plus = 1;
		s++;
	}
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '-' || *s == '(' ||
		    *s == ')')
			continue;
		if (!is_digit(*s) || n + 1 >= sizeof(digits))
			return -EINVAL;
		digits[n++] = *s;
	}
	digits[n] = '\0';
	d = digits;
	/* 00 is the international prefix dialled from China. */
	if (!plus && n > 2 && strncmp(d, "00", 2) == 0) {
		plus = 1;
		d += 2;
		n -= 2;
	}
	if (n < 3 || n > 15 || (plus && *d == '0'))
		return -EINVAL;
	if (!plus && n == 13 && strncmp(d, "861", 3) == 0)
		plus = 1;
	if (plus || (n == 11 && *d == '1'))
		snprintf(out, outlen, "+%s%s", plus ? "" : "86", d);
	else
		snprintf(out, outlen, "%s", d);
	return 0;
}

/* Reply commands --------------------------------------------------------- */

static const struct {
	const char	*word;	/* folded */
	char		 action;
} actions[] = {
	/* Longer words first: the first match wins. */
	{ "处置完毕", 'R' }, { "已处置", 'R' }, { "已办结", 'R' },
	{ "办结", 'R' },
	{ "已报送", 'F' }, { "已上报", 'F' }, { "已报", 'F' },
	{ "已确认", 'A' }, { "确认", 'A' }, { "收到", 'A' },
	/* The approvers approve the written report (审核批准). */
	{ "批准", 'P' },
	{ "A", 'A' }, { "F", 'F' }, { "R", 'R' }, { "P", 'P' },
};

/* The action word at p; its length, or 0. */
static size_t
match_action(const char *p, char *action)
{
	size_t	 i, n;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		n = strlen(actions[i].word);
		if (strncmp(p, actions[i].word, n) == 0) {
			*action = actions[i].action;
			return n;
		}
	}
	return 0;
}

int
smsin_reply_parse(const char *text, struct smsin_reply *cmd)
{
	char		 buf[REPLY_MAX + 1];
	size_t		 map[REPLY_MAX + 1], len, n;
	const char	*p;
	char		 action;
	int		 code = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (text == NULL || (len = strlen(text)) > REPLY_MAX ||
	    !utf8_valid(text, len))
		return -EINVAL;
	n = fold(text, len, buf, sizeof(buf), map);
	if (map[n] != len)
		return -EINVAL;
	/* Trailing blanks and a full stop: "3A。" is still 3A. */
	for (len = strlen(buf);; ) {
		if (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\n' ||
		    buf[len - 1] == '.' || buf[len - 1] == '!'))
			len--;
		else if (len >= 3 && memcmp(buf + len - 3, "\xe3\x80\x82", 3) == 0)
			len -= 3;
		else
			break;
	}
	buf[len] = '\0';
	for (p = buf; *p == ' ' || *p == '\n'; p++)
		;
	for (n = 0; is_digit(p[n]); n++) {
		if (n >= 4)
			return -EINVAL;
		code = code * 10 + (p[n] - '0');
	}
	if (n > 0 && code == 0)
		return -EINVAL;
	p += n;
	if (n > 0)
		p += strspn(p, " ");
	if ((n = match_action(p, &action)) == 0)
		return -EINVAL;
	p += n;
	if (*p != '\0' && code == 0) {
		/* "A INC-20261128-0001": the id says which incident. */
		p += strspn(p, " ");
		if ((n = match_id(p)) == 0 || p[n] != '\0')
			return -EINVAL;
		memcpy(cmd->incident, p, n);
		cmd->incident[n] = '\0';
		p += n;
	}
	if (*p != '\0') {
		memset(cmd, 0, sizeof(*cmd));
		return -EINVAL;
	}
	cmd->action = action;
	cmd->code = code;
	return 0;
}

/* Reports ---------------------------------------------------------------- */

/* "14:05" at p (folded), not followed by a digit or ':'; its length or 0. */
static size_t
match_time(const char *p, int *hour, int *min)
{
	size_t	 h;

	for (h = 0; h < 2 && is_digit(p[h]); h++)
		;
	if (h == 0 || p[h] != ':' || !is_digit(p[h + 1]) ||
	    !is_digit(p[h + 2]) || is_digit(p[h + 3]) || p[h + 3] == ':')
		return 0;
	*hour = h == 1 ? p[0] - '0' : (p[0] - '0') * 10 + (p[1] - '0');
	*min = (p[h + 1] - '0') * 10 + (p[h + 2] - '0');
	if (*hour > 23 || *min > 59)
		return 0;
	return h + 3;
}

void
smsin_report_free(struct smsin_report *out)
{
	if (out == NULL)
		return;
	free(out->title);
	free(out->details);
	out->title = out->details = NULL;
}

/* Copy s[0..n) without carriage returns. */
static char *
copy_text(const char *s, size_t n)
{
	char	*d;
	size_t	 i, j = 0;

	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (s[i] != '\r')
			d[j++] = s[i];
	d[j] = '\0';
	return d;
}

/* Where the title starts: after an incident id and/or a time. */
static size_t
report_prefix(const char *text, size_t len, int64_t received_ms,
    long utc_offset_s, struct smsin_report *out)
{
	char	 buf[PREFIX_MAX + 1];
	size_t	 map[PREFIX_MAX + 1], q, n, j, round;
	int64_t	 local, occurred;
	int	 hour, min, whole;

	j = fold(text, len, buf, sizeof(buf), map);
	/* A token running into the end of buf may go on past it. */
	whole = map[j] == len;
	q = strspn(buf, " \n");
	for (round = 0; round < 2; round++) {
		if (out->followup_id[0] == '\0' && (n = match_id(buf + q)) > 0 &&
		    (q + n < j || whole)) {
			memcpy(out->followup_id, buf + q, n);
			out->followup_id[n] = '\0';
		} else if (!out->has_time &&
		    (n = match_time(buf + q, &hour, &min)) > 0 &&
		    (q + n < j || whole)) {
			/* The day received, in the sender's time zone. */
			local = received_ms + (int64_t)utc_offset_s * 1000;
			local -= ((local % DAY_MS) + DAY_MS) % DAY_MS;
			occurred = local + (hour * 60 + min) * INT64_C(60000) -
			    (int64_t)utc_offset_s * 1000;
			if (occurred > received_ms + SMSIN_FUTURE_SLACK_MS)
				occurred -= DAY_MS;
			out->occurred_ms = occurred;
			out->has_time = 1;
			if (buf[q + n] == ',')	/* "14:05，" */
				n++;
		} else
			break;
		q += n;
		q += strspn(buf + q, " \n");
	}
	return map[q];
}

int
smsin_report_parse(const char *text, int64_t received_ms, long utc_offset_s,
    struct smsin_report *out)
{
	const char	*s, *nl;
	size_t		 len, pos, tlen, cut, n;

	memset(out, 0, sizeof(*out));
	if (text == NULL || received_ms < 0 ||
	    received_ms > INT64_C(1) << 52 ||
	    utc_offset_s < -18 * 3600 || utc_offset_s > 18 * 3600)
		return -EINVAL;
	if ((len = strlen(text)) > (size_t)SMSIN_TEXT_MAX * 4)
		return -E2BIG;
	if (!utf8_valid(text, len))
		return -EINVAL;
	if (utf8_count(text, len) > SMSIN_TEXT_MAX)
		return -E2BIG;
	out->occurred_ms = received_ms;
	pos = report_prefix(text, len, received_ms, utc_offset_s, out);

	/* The title is the first line that is not blank. */
	for (;;) {
		pos += space_prefix(text + pos, len - pos);
		if (pos == len) {
			smsin_report_free(out);
			memset(out, 0, sizeof(*out));
			return -EINVAL;
		}
		s = text + pos;
		nl = memchr(s, '\n', len - pos);
		tlen = trim_end(s, nl != NULL ? (size_t)(nl - s) : len - pos);
		if (tlen > 0)
			break;
		pos = nl != NULL ? (size_t)(nl - text) + 1 : len;
	}
	cut = utf8_cut(s, tlen, REPORT_TITLE_MAX, UTF8_NOCAP);
	cut = trim_end(s, cut);
	if ((out->title = copy_text(s, cut)) == NULL)
		goto nomem;

	/* The rest of a cut title line, then the other lines. */
	pos += cut;
	pos += space_prefix(text + pos, len - pos);
	n = trim_end(text + pos, len - pos);
	if (n > 0 && (out->details = copy_text(text + pos, n)) == NULL)
		goto nomem;
	return 0;
nomem:
	smsin_report_free(out);
	return -ENOMEM;
}
