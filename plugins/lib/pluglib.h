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

#include <jansson.h>
#include <openssl/evp.h>

#include "plugin.h"

#define PLUGLIB_URL_MAX		2048
/* Bytes EVP_EncodeBlock() writes for n bytes of input, NUL included. */
#define PLUGLIB_BASE64_SIZE(n)	(4 * (((n) + 2) / 3) + 1)

#pragma GCC visibility push(hidden)

/* configure() ------------------------------------------------------------ */

/* One option a plugin knows. */
struct pluglib_key {
	const char	*name;
	const char	*if_empty;	/* said after "<name> is empty: " */
	/*
	 * Optional: judged where the option stands, before the options after
	 * it, an empty value included; if_bad is then the whole message.
	 */
	int		(*check)(const char *);
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
/* http:// or https://, a host, printable, at most PLUGLIB_URL_MAX bytes. */
int	pluglib_http_url_ok(const char *);
/* Wipes a secret before it goes back to malloc; accepts NULL. */
void	pluglib_free_secret(char *);

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

/* An HMAC context keyed once; mac: a fetched "HMAC", or NULL to fetch one. */
EVP_MAC_CTX *pluglib_hmac_new(EVP_MAC *mac, const char *digest,
	    const void *key, size_t keylen);
struct pluglib_span {
	const void	*data;
	size_t		 len;
};
/* The HMAC of the spans in order; keyed is left as it is for the next. */
int	pluglib_hmac(const EVP_MAC_CTX *keyed, const struct pluglib_span *,
	    size_t nspans, unsigned char md[EVP_MAX_MD_SIZE], size_t *mdlen);
int	pluglib_base64(const unsigned char *, size_t, char *out, size_t outlen);

/* Text ------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
size_t	pluglib_utf8_seq(const unsigned char *s, size_t n);
int	pluglib_utf8_ok(const char *);
/* Longest prefix of s (len bytes), at most max, ending between characters. */
size_t	pluglib_utf8_cut(const char *s, size_t len, size_t max);
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

/* A group robot's reply code and what it means. */
struct pluglib_code {
	long long	 code;
	enum dutyd_outcome outcome;
	int64_t		 wait_ms;	/* rate limited: not before this */
	const char	*hint;		/* what to do about it, or NULL */
};

/* A group robot: a webhook address, and JSON answers that carry a code. */
struct pluglib_robot {
	const char	*channel;	/* "dingtalk", as in the config */
	const struct pluglib_key *keys;	/* its options, "url" first */
	size_t		 nkeys;
	const char	*vendor;	/* "DingTalk", as people know it */
	const char	*example;	/* a webhook address, for advice */
	const char	*token;		/* a good address holds it; or NULL */
	/*
	 * The names of the code and the message in a reply, then those of
	 * older replies (or NULLs).
	 */
	const char	*reply[2][2];
	const struct pluglib_code *codes;	/* the rest are retried */
	size_t		 ncodes;
	int64_t		 rate_wait_ms;	/* a 429 without Retry-After */
};

/* pluglib_options(), and the url given, http(s), holding rb->token. */
int	pluglib_robot_options(const struct pluglib_robot *,
	    const struct dutyd_option *opts, size_t nopts, const char **val,
	    int *idx, struct dutyd_error *);
/*
 * The vendor's code decides a 2xx; a 2xx without one is somebody else's
 * page.  Otherwise HTTP decides (429 and 5xx retry, the rest fail), unless
 * the vendor says it is rate limited.
 */
int	pluglib_robot_parse(const struct pluglib_robot *,
	    const struct dutyd_response *, struct dutyd_result *);

#pragma GCC visibility pop

#endif
