/*
 * confval.h: checks on configuration strings that depend on nothing but
 * their bytes, so that they can be read, and tested, apart from the YAML
 * walking.  Private to the configuration code (config.c, confyaml.c).
 */
#ifndef DUTYD_CONFVAL_H
#define DUTYD_CONFVAL_H

#include <stddef.h>
#include <stdint.h>

#define CONFVAL_ID_MAX		64
#define CONFVAL_NAME_MAX	100	/* code points */
#define CONFVAL_TOKEN_MIN	8

/* 1 to CONFVAL_ID_MAX of A-Z a-z 0-9 _ . - */
int		 confval_id(const char *s);
/*
 * A shift's name: what the duty room calls it, in Chinese too (夜班).  1 to
 * CONFVAL_ID_MAX characters of A-Z a-z 0-9 _ . - or any letter beyond
 * ASCII; no space, control, or punctuation that separates the parts of an
 * override ("2026-12-03 夜班: sun → zhang"): : ： , ， 、 → and the like.
 */
int		 confval_shift_name(const char *s);
/* a-z 0-9 _ - only, so that it names a file in plugin_dir and no more */
int		 confval_plugin_name(const char *s);
/* No space, no control character: what a token or URL may hold. */
int		 confval_visible(const char *s);
/*
 * 1 when a channel option holds a credential: a key naming one (secret,
 * token, password, key), or a URL carrying one (DingTalk's access_token=,
 * WeCom's key=, Feishu's /hook/<token>).
 */
int		 confval_secret_option(const char *key, const char *value);
/* 0..15 for a hexadecimal digit (either case), else -1. */
int		 confval_hexdigit(int c);
int		 confval_hostname(const char *h, size_t len);

/*
 * Split "host:port" into *host (not terminated, *hlen bytes, no brackets)
 * and *port.  NULL, or why S is not a listen address.
 */
const char	*confval_listen(const char *s, const char **host, size_t *hlen,
		    long *port);

/*
 * NULL and in *len the length of S without trailing slashes, or why S is
 * not a base URL, to follow "'public_url' ".  curl_url() reads it: http://
 * or https://, a host, no user name or password, a port from 1 to 65535.
 */
const char	*confval_public_url(const char *s, size_t *len);

/* A zone name such as Asia/Shanghai, not a path out of the zone files. */
int		 confval_zone_name(const char *s);

/*
 * A size: a whole number and, without a space, one of the units B, KiB,
 * MiB, GiB ("64MiB", "4096B"); a bare 0 means 0.  0, or -EINVAL (bad
 * spelling) or -ERANGE (over INT64_MAX bytes), with *why saying what is
 * wrong as text that follows "invalid size 'X': ".
 */
int		 confval_size(const char *s, int64_t *bytes, const char **why);

#endif
