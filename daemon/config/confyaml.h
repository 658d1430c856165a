/*
 * confyaml.h: reading the configuration file as a YAML document and
 * reporting problems in it.  Private to the configuration code: only
 * config.c and confyaml.c include it.
 *
 * Nothing here stops at the first problem: each helper reports what is
 * wrong at the node's position, then returns NULL or -1 so that the caller
 * skips that value and goes on checking the rest of the file.
 */
#ifndef DUTYD_CONFYAML_H
#define DUTYD_CONFYAML_H

#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

struct config;
struct config_diag;
struct diagline;
struct entry_aux;

#define CONFYAML_LIST_MAX	400	/* bytes of "known: a, b, c" in a message */
#define CONFYAML_FIELDS_MAX	24	/* entries of one struct field table */

/* The state of one config_load(). */
struct loader {
	const char	*path;
	yaml_document_t	 doc;
	int		 loaded;	/* doc holds a document */
	struct config	*cf;		/* being built */
	struct diagline	*lines;
	size_t		 nlines, caplines;
	size_t		 nwarnings;	/* of the lines, warnings: the config still loads */
	int		 oom;
	/* Schema state, for config.c. */
	int		 channels_bad;	/* present but unusable: already reported */
	struct entry_aux *office_aux;	/* cf->noffices of them */
	struct entry_aux *person_aux;	/* cf->npeople of them */
	yaml_mark_t	 entry_at;	/* the office or person being loaded */
};

/* One key of a mapping with a fixed set of keys. */
struct field {
	const char	*key;
	int		 required;
};

/*
 * Read and parse ld->path.  Returns the root node of its only document, or
 * NULL after reporting why not.
 */
yaml_node_t	*confyaml_load(struct loader *);
/*
 * Release the document and hand the problems found, in file order, to
 * DIAG (which may be NULL).  0 when there were none, else -ENOMEM when
 * memory ran out, else -EINVAL.
 */
int		 confyaml_finish(struct loader *, struct config_diag *diag);

/*
 * A setting given as the path of a file of its own (`roster: roster.yaml`):
 * read the YAML file named by the string N, relative to the directory of
 * ld->path, into SUB, whose problems then name that file.  Returns SUB's
 * root node, or NULL after reporting why not.  confyaml_include_end()
 * must follow in either case.
 */
yaml_node_t	*confyaml_include(struct loader *ld, yaml_node_t *n,
		    const char *key, struct loader *sub);
/*
 * Release SUB and hand its problems to LD, sorted as if they were at AT
 * (where the file is named), in their own file order.
 */
void		 confyaml_include_end(struct loader *ld, const yaml_mark_t *at,
		    struct loader *sub);

/* Report a problem at M, or about the whole file when M is NULL. */
void		 confyaml_errat(struct loader *, const yaml_mark_t *,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * A setting that is valid but almost certainly not meant: reported as
 * "FILE:LINE:COLUMN: warning: ...", and the configuration still loads
 * (the lines reach the caller's config_diag all the same).
 */
void		 confyaml_warnat(struct loader *, const yaml_mark_t *,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Allocations that record their failure in ld->oom. */
char		*confyaml_sdup(struct loader *, const char *);
void		*confyaml_zalloc(struct loader *, size_t n, size_t size);
/* Append ITEM to "a, b, c" in BUF, ending in "..." when it does not fit. */
void		 confyaml_list_add(char *buf, size_t len, const char *item);

yaml_node_t	*confyaml_node(struct loader *, int i);
const char	*confyaml_kind(const yaml_node_t *);
int		 confyaml_is_null(const yaml_node_t *);
int		 confyaml_has_nul(const yaml_node_t *);

/*
 * KEY names the value in messages and CTX says where it is, e.g.
 * " in office" (or "").
 */
const char	*confyaml_scalar(struct loader *, yaml_node_t *, const char *key,
		    const char *ctx);
yaml_node_item_t *confyaml_items(struct loader *, yaml_node_t *,
		    const char *key, const char *ctx, size_t max, size_t *count);
int		 confyaml_fields(struct loader *, yaml_node_t *map,
		    const char *what, const char *ctx, const struct field *f,
		    size_t nf, yaml_node_t **val);
yaml_node_t	*confyaml_earlier_key(struct loader *, yaml_node_t *map,
		    yaml_node_pair_t *);

/* Typed scalars; WHAT is e.g. "office", WHO e.g. "office 'county-a'". */
const char	*confyaml_id(struct loader *, yaml_node_t *, const char *what,
		    const char *ctx);
const char	*confyaml_name(struct loader *, yaml_node_t *, const char *who,
		    const char *ctx);
const char	*confyaml_token(struct loader *, yaml_node_t *,
		    const char *who, const char *ctx);
int		 confyaml_duration(struct loader *, yaml_node_t *,
		    const char *key, const char *ctx, int64_t *ms);

#endif
