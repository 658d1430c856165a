/*
 * pluglib: what dutyd's own channel plugins have in common.  Each plugin
 * links its own copy, with hidden symbols, so two plugins loaded in one
 * daemon never call into each other.  plugin.h stays the whole ABI: a
 * third-party plugin needs none of this.
 *
 * Like the plugins, every function is pure: no logging, no clock, no I/O.
 * Functions return 0 or a negative errno value, or NULL with errno set.
 */
#ifndef DUTYD_PLUGLIB_H
#define DUTYD_PLUGLIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "plugin.h"

#define PLUGLIB_URL_MAX		2048
/* Bytes EVP_EncodeBlock() writes for n bytes of input, NUL included. */
#define PLUGLIB_BASE64_SIZE(n)	(4 * (((n) + 2) / 3) + 1)
/* Room for any MAC pluglib_hmac_sign() writes, hex or base64, NUL included. */
#define PLUGLIB_MAC_TEXT	(2 * EVP_MAX_MD_SIZE + 1)

/*
 * The plugins are built with -fvisibility=hidden, which covers definitions
 * only: hiding the declarations too lets the compiler call these directly
 * instead of through the PLT.
 */
#pragma GCC visibility push(hidden)

/* configure() ------------------------------------------------------------ */

/* One option a plugin knows. */
struct pluglib_key {
	const char	*name;
	const char	*if_empty;	/* said after "<name> is empty: " */
	/*
	 * Optional: judged where the option stands, before the options after
	 * it, an empty value included.  0 or -EINVAL; why gets what is wrong
	 * beyond what if_bad says, or stays "".  if_bad is the message.
	 */
	int		(*check)(const char *, char *why, size_t whylen);
	const char	*if_bad;
};

void	pluglib_error(struct dutyd_error *, int option, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * Sorts opts by keys: val[k] gets the value of keys[k] (NULL if absent) and
 * idx[k] its index in opts (-1).  Refuses, with err saying so, an unknown
 * key, a key given twice and an empty value.  channel names the plugin in
 * "the <channel> channel knows ...".
 */
int	pluglib_options(const char *channel, const struct pluglib_key *keys,
	    size_t nkeys, const struct dutyd_option *opts, size_t nopts,
	    const char **val, int *idx, struct dutyd_error *err);
/* The first nrequired keys without a value, as "a, b"; how many. */
size_t	pluglib_missing(const struct pluglib_key *keys, size_t nrequired,
	    const char *const *val, char *buf, size_t len);
/* Non-empty, at most max bytes, no control characters and no spaces. */
int	pluglib_printable(const char *, size_t max);
/* Non-empty, at most max bytes of A-Z a-z 0-9 and the characters in extra. */
int	pluglib_word(const char *, size_t max, const char *extra);
/* Wipes a secret before it goes back to malloc; accepts NULL. */
void	pluglib_free_secret(char *);

/* URLs, read by libcurl's URL API -------------------------------------- */

#define PLUGLIB_URL_LOGIN	0x1	/* may hold a user name or password */

/* { "http", "https", NULL } */
extern const char *const pluglib_http_schemes[];

/*
 * Parses url with curl_url().  Its scheme's index in schemes (lower case,
 * NULL-terminated) if it has that scheme followed by "://", a host, no
 * spaces or control characters, at most PLUGLIB_URL_MAX bytes and, unless
 * flags has PLUGLIB_URL_LOGIN, no user name or password.  Otherwise -EINVAL
 * (or -ENOMEM); why, unless NULL, then says what is wrong beyond those
 * rules (a port that is no port, a bad host name, its length), or is "".
 */
int	pluglib_url_parse(const char *url, const char *const *schemes,
	    int flags, char *why, size_t whylen);
/* An http:// or https:// URL, as a pluglib_key check. */
int	pluglib_http_url_check(const char *url, char *why, size_t whylen);
/*
 * pluglib_url_parse() of option idx: the scheme's index, or -EINVAL with
 * err at idx saying rule, and what else is wrong in parentheses.
 */
int	pluglib_url_option(const char *url, int idx,
	    const char *const *schemes, int flags, const char *rule,
	    struct dutyd_error *err);
/* A handle on url, which pluglib_url_parse() took; NULL with errno. */
CURLU	*pluglib_url_handle(const char *url);
/* The whole URL u holds, in malloc()ed memory; NULL with errno. */
char	*pluglib_url_string(CURLU *u);
/* curl_url_set(), answering -ENOMEM, or -EINVAL for any other refusal. */
int	pluglib_url_set(CURLU *u, CURLUPart what, const char *part,
	    unsigned int flags);

/* build() ---------------------------------------------------------------- */

/* method POST, a copy of url. */
int	pluglib_post(struct dutyd_request *, const char *url);
/* Content-Type: application/json, User-Agent, X-Dutyd-Delivery. */
int	pluglib_json_headers(struct dutyd_request *, const char *delivery_id);
/*
 * Adds "Name: value" headers, given as name, value, ..., NULL.  A value
 * that is NULL or holds CR or LF (which would add headers of its own) is
 * refused with -EINVAL.
 */
int	pluglib_headers(struct dutyd_request *, ...)
	    __attribute__((sentinel));
/* Percent-encodes all but A-Z a-z 0-9 - _ . ~, into malloc()ed memory. */
char	*pluglib_escape(const char *);
/* Serialises body compactly and drops the reference; NULL body: -EINVAL. */
int	pluglib_json_dump(json_t *body, char **out, size_t *outlen);
/* Closes an open_memstream() stream; on a write error frees *buf (-ENOMEM). */
int	pluglib_memstream_close(FILE *, char **buf);
/* out gets base64 of len bytes of in, NUL-terminated; -ENOBUFS if too small. */
int	pluglib_base64(const void *in, size_t len, char *out, size_t outlen);

/* Bytes, for keys and messages given in parts. */
struct pluglib_span {
	const void	*data;
	size_t		 len;
};

enum pluglib_text {
	PLUGLIB_HEX,		/* lower case */
	PLUGLIB_BASE64,
};

/*
 * The one HMAC of the plugins: a context keyed once with the key spans
 * joined (the vendors build keys like secret "&"), started again from its
 * key for each message so that neither the provider fetch nor the key
 * schedule is paid per message.  digest: "SHA256", "SHA1".  Free with EVP_MAC_CTX_free().  NULL
 * with errno on failure, and err (unless NULL) says "out of memory" or
 * "cannot set up HMAC-<digest> (OpenSSL)".
 */
EVP_MAC_CTX *pluglib_hmac_new(const char *digest,
	    const struct pluglib_span *key, size_t nkey,
	    struct dutyd_error *err);
/*
 * A signing secret from the options: *copy gets a copy of value (NULL: no
 * secret, nothing made) and, with a digest, *hmac a context keyed with it.
 * On failure err says why; what was made is left for the caller to free.
 */
int	pluglib_secret(const char *value, const char *digest, char **copy,
	    EVP_MAC_CTX **hmac, struct dutyd_error *err);
/*
 * out gets the HMAC of the message spans joined, as text.  keyed is used
 * in place (EVP_MAC_init() without a key starts it from the key again),
 * so one context serves one message at a time: a plugin's own.
 */
int	pluglib_hmac_sign(EVP_MAC_CTX *keyed,
	    const struct pluglib_span *msg, size_t nmsg, enum pluglib_text,
	    char *out, size_t outlen);
/*
 * The same from c as it stands: a context started with EVP_MAC_init()
 * that may have taken a first part of the message already (a copy of
 * one kept for messages that begin alike).  msg is the rest.
 */
int	pluglib_hmac_more(EVP_MAC_CTX *c,
	    const struct pluglib_span *msg, size_t nmsg, enum pluglib_text,
	    char *out, size_t outlen);

/* Text ------------------------------------------------------------------- */

/*
 * The one UTF-8 decoder: the length (1 to 4) of the character at s, which
 * has n bytes, and its code point in *cp (unless cp is NULL).  -1 if s does
 * not start with a whole, shortest-form character that is not a surrogate
 * (also when n is 0 or the character is cut off at n).
 */
int	pluglib_utf8_next(const char *s, size_t n, uint32_t *cp);
int	pluglib_utf8_ok(const char *);
/*
 * 1 if json_dumps() writes the len bytes at s between quotes as they are:
 * UTF-8 by pluglib_utf8_next()'s rules, with no control character, quote
 * or backslash to escape.  The same answer as a pluglib_utf8_next() loop,
 * without a call per character (a tenth of a webhook body's build).
 */
int	pluglib_json_plain(const char *s, size_t len);
/*
 * Longest prefix of s (len bytes) of at most max bytes and max_chars
 * characters that ends between characters.  A byte that is not UTF-8
 * counts as one character.
 */
size_t	pluglib_utf8_cut(const char *s, size_t len, size_t max,
	    size_t max_chars);
/*
 * Quotes at most max bytes of peer text for the audit log, which is JSON:
 * never cuts a character in half, shows bytes that are not UTF-8 as '?' and
 * control characters as ' '.  src may be NULL when len is 0.
 */
void	pluglib_quote(char *dst, size_t dstlen, const char *src, size_t len,
	    size_t max);
/* 1 if the message has a link its text does not show yet. */
int	pluglib_link_missing(const struct dutyd_message *);
/*
 * *out = head, the text shortened (ending "…") so that all of it fits in
 * max bytes, and tail: a long text loses its end, never the tail.
 */
int	pluglib_fit(const char *head, const char *text, const char *tail,
	    size_t max, char **out);
/* Recipient i, unless its address is empty or an earlier one has it. */
const struct dutyd_recipient *pluglib_mention(const struct dutyd_message *,
	    size_t i);
/* The addresses pluglib_mention() lets through, as a JSON array. */
int	pluglib_mention_list(const struct dutyd_message *, json_t **out);

/* parse() ---------------------------------------------------------------- */

int	pluglib_is_2xx(long status);
/*
 * Every parse() starts here: a retry with the daemon's backoff until the
 * answer says otherwise.  1 when no answer came (res says why): done.
 */
int	pluglib_parse_start(const struct dutyd_response *,
	    struct dutyd_result *);
/* detail = "HTTP <status>", then ": <quote>" unless quote is empty. */
void	pluglib_http_detail(struct dutyd_result *, long status,
	    const char *quote);
/* The answer's Retry-After, or wait_ms if it had none. */
int64_t	pluglib_retry_after(const struct dutyd_response *, int64_t wait_ms);
/* The body as JSON (an object or an array); NULL if empty or not JSON. */
json_t	*pluglib_json_load(const struct dutyd_response *);
/*
 * root's integer code and its message ("" if none); -ENOENT, and nothing
 * touched, if it has no such code.
 */
int	pluglib_json_code(json_t *root, const char *code_key,
	    const char *msg_key, long long *code, const char **msg);

#pragma GCC visibility pop

#endif
