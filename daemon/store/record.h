/*
 * A record: one line of the audit log, whatever store holds it.
 *
 *   {"seq":N,"ts":"…","event":"…","incident":"…","actor":"…","data":{…},"prev":"<sha256 hex>"}
 *
 * prev is the SHA-256 of the previous line's exact bytes (without its
 * newline), 64 zeros for the first, so anyone can verify the chain.  Pure
 * functions of bytes: no store, no clock.
 */
#ifndef DUTYD_RECORD_H
#define DUTYD_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define RECORD_HASH_HEX		65	/* 64 hex digits and NUL */
/* The prev of the first record. */
#define RECORD_ZERO_HASH	"0000000000000000000000000000000000000000000000000000000000000000"
#define RECORD_LINE_MAX		(1024 * 1024)

struct record {
	int64_t		 seq;
	int64_t		 ts_ms;
	const char	*ts;		/* as written */
	const char	*event;		/* its kind: "report.received", "notify.attempt", ... */
	const char	*incident;	/* NULL when the record has none */
	const char	*actor;		/* "office:county-a", "person:zhang", "dutyd" */
	json_t		*data;		/* an object, borrowed */
	int		 replaying;	/* applied from the store at start-up */
	/*
	 * data's bytes in the line record_parse() read, when the line is in
	 * the shape record_format_raw() writes (else NULL): what data dumps
	 * to, without dumping it again.  Valid while that line is.
	 */
	const char	*data_text;
	size_t		 data_textlen;
	/*
	 * Set by record_format_spliced(), which sets data_text too (into the
	 * line it returns: valid while that line is): the member KEY it
	 * spliced in, whose value is data_text's bytes [spliced_off,
	 * spliced_off + spliced_len); NULL when none was.
	 */
	const char	*spliced_key;
	size_t		 spliced_off, spliced_len;
};

void	record_hash(const char *line, size_t len, char hex[RECORD_HASH_HEX]);
/* What record_hash() keeps for the calling thread goes (a thread that ends). */
void	record_hash_done(void);
/* Whether S starts with 64 lowercase hex digits, as a hash is written. */
int	record_hash_digits(const char *s);
/* Parses one line (without newline) into rec; *root owns the strings. 0 or -EINVAL with why. */
int	record_parse(const char *line, size_t len, struct record *rec,
	    json_t **root, const char **why);
/*
 * The line for a record, NUL-terminated, without its newline.  0 and
 * *line (malloc'd) with *len; -ENOMEM, or -EMSGSIZE when it would be over
 * RECORD_LINE_MAX.
 */
int	record_format(const struct record *rec, const char *prev, char **line,
	    size_t *len);
/* The same, with rec->data already dumped (JSON_COMPACT) as DATA. */
int	record_format_raw(const struct record *rec, const char *prev,
	    const char *data, size_t datalen, char **line, size_t *len);
/*
 * The same, where rec->data's member KEY (plain ASCII) is already dumped
 * (JSON_COMPACT) as RAW: the bytes are spliced in, not dumped again.  RAW
 * must be that member's dump, so the line is the one record_format() makes.
 * KEY NULL: nothing spliced.  Either way rec->data_text is set to data's
 * bytes in *line, so whoever applies the record need not dump it again.
 */
int	record_format_spliced(struct record *rec, const char *prev,
	    const char *key, const char *raw, size_t rawlen, char **line,
	    size_t *len);

#endif
