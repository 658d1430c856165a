/*
 * An incident's report, kept as text: the report.received data as
 * compact JSON, the report's bytes where they are in it.  Its jansson
 * tree (a block per value and a hashtable per object: 1.6 KB for a report
 * with a page of details) is made only when a field is read, and only the
 * trees of the reports read most recently are kept.  The API view splices
 * the report's bytes instead of dumping a tree.
 *
 * Where the store reads lines back (the file log), not even the text is
 * kept: only where its line is (seq, place, the data's offset and length
 * in it), and the bytes are read again when a tree or the view that is
 * not cached wants them.  A report's text was 1.35 KB of the 4.7 an open
 * incident cost; the reference is 24 bytes.
 */
#ifndef DUTYD_INCREPORT_H
#define DUTYD_INCREPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct record;

/* Trees kept: the incidents being told of, acknowledged, shown right now. */
#define INCREPORT_KEPT	256

struct increport {
	char		*data;		/* the report.received data, compact JSON; NULL: in the store */
	int64_t		 seq;		/* in the store: its line's seq, */
	int64_t		 at;		/* its place (store_read()), */
	uint32_t	 dataoff;	/* and the data's offset in the line */
	uint32_t	 datalen;
	/* Its member report's value in data; len 0: not found yet (replay leaves it to the first read). */
	uint32_t	 off, len;
	uint16_t	 slot;		/* the tree's place among the kept, + 1; 0: none */
};

/*
 * Keeps D, the report.received data, from record R (NULL: from a
 * checkpoint) whose data it is: where the store has R's line when it
 * reads lines back, else R's bytes when it has them (the line, or what
 * record_format_spliced() wrote), else D's dump.  From a checkpoint, LINE
 * (NULL, or what increport_line() gave) is where the record's line is:
 * kept when the line reads back as that record's.  D's report tree is
 * kept as the first one read.  0, -ENOMEM, -EINVAL (D or its report not
 * an object).
 */
int	increport_keep(struct increport *, json_t *d, const struct record *r,
	    json_t *line);
/* Where the store has the data's line, for checkpoints: [seq, at, offset, length]; NULL: kept in memory. */
json_t	*increport_line(const struct increport *);
void	increport_clear(struct increport *);
/*
 * The report's tree, borrowed: it and what it holds stay valid until
 * INCREPORT_KEPT other reports' trees have been read.  NULL when out of
 * memory.
 */
json_t	*increport_tree(const struct increport *);
/*
 * The report's compact JSON (LEN bytes, not NUL-terminated there): valid
 * until the next call of an increport function (bytes read back go to a
 * buffer reused).  NULL when out of memory or the line cannot be read
 * back (logged).
 */
const char *increport_text(const struct increport *, size_t *len);
/* The report.received data as recorded: a new reference, NULL when out of memory or unreadable. */
json_t	*increport_data(const struct increport *);
/*
 * Where member KEY's value lies in TEXT (LEN bytes), which must be the
 * compact dump of object D (jansson's, the members in D's order): found
 * by comparing TEXT with the dumps of the members around it (jwrite's:
 * two json_dumps of copies of them cost 43 k instructions a report),
 * never by reading it.  0 and *OFF, *VLEN; -EINVAL when TEXT is not that
 * dump (or they could not be written), -ENOENT when D has no KEY.
 */
int	increport_locate(json_t *d, const char *key, const char *text,
	    size_t len, size_t *off, size_t *vlen);
/* Drops every kept tree (shutdown; tests count leaks after it). */
void	increport_forget(void);

#endif
