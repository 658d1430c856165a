/*
 * How dutyd is set up, beyond what the file says: warnings that do not
 * stop it (a configuration others can read that holds secrets, running as
 * root), and `dutyd --hash-token`.
 */
#ifndef DUTYD_CONFCHECK_H
#define DUTYD_CONFCHECK_H

#include <stdio.h>

struct config;

/* Calls SAY with each warning, one sentence saying what to do. How many. */
int	confcheck_warnings(const struct config *,
	    void (*say)(const char *msg, void *arg), void *arg);

/*
 * `dutyd --hash-token`: reads a token (one line) from IN, checks it as
 * the configuration would, and writes its SHA-256 in hex for
 * `token_sha256:` to OUT.  0, or 1 after saying why on ERR.
 */
int	confcheck_hash_token(FILE *in, FILE *out, FILE *err);

#endif
