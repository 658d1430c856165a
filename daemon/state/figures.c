/*
 * figures.c: the figures of a period from its records (see figures.h).
 *
 * Everything is counted for the incidents received in the period, as they
 * stood at its end (or now, for a period not yet over): an acknowledgement
 * or a written report after the end belongs to the next period's reading
 * of the log, never to this one's, so the figures of a past period do not
 * change.  Directives likewise: those issued in the period, done by its
 * end or still open.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "config/config.h"
#include "state/figures.h"

/* Caps: a period's incidents, offices and directives held while counting. */
#define FIGURES_INCIDENTS_MAX	1000000
#define FIGURES_OFFICES_MAX	10000
#define FIGURES_DIRECTIVES_MAX	1000000
#define FIGURES_LEVELS_MAX	32	/* escalation levels counted one by one */

const char *const figures_kinds[] = {
	"report.received", "report.submitted", "incident.acknowledged",
	"incident.escalated", "incident.updated", "incident.report_filed",
	"incident.merged", "incident.dismissed", "directive.created",
	"directive.completed", NULL
};

/* Those of them whose data figures_add() never reads (store_scan_bare()). */
const char *const figures_bare[] = {
	"report.submitted", "incident.acknowledged", "incident.report_filed",
	"incident.merged", "incident.dismissed",
	/* A follow-up's data matters only when it went through a duplicate. */
	"incident.updated?\"via\":", NULL
};

struct figures_inc {
	size_t		 office;
	int64_t		 received_ms;
	int64_t		 occurred_ms;	/* 0: not known */
	int64_t		 deadline_ms;	/* the written report's; 0: none */
	int64_t		 ack_ms;	/* the first acknowledgement; 0: none */
	int64_t		 sent_ms;	/* the first written report, or filed; 0: none */
	int64_t		 follow_ups;
	int		 late;
	int		 merged, dismissed;
};

struct figures_office {
	char		*id;
	char		*name;		/* as the log last named it */
};

struct figures_dir {
	int		 done;
	int		 on_time;
};

struct figures {
	int64_t			 from_ms, to_ms, cutoff_ms;
	json_t			*inc_index;	/* incident id → index into incs */
	struct figures_inc	*incs;
	size_t			 ninc, capinc;
	json_t			*office_index;	/* office id → index into offices */
	struct figures_office	*offices;
	size_t			 noff, capoff;
	json_t			*dir_index;	/* directive id → index into dirs */
	struct figures_dir	*dirs;
	size_t			 ndir, capdir;
	int64_t			 escalations[FIGURES_LEVELS_MAX + 1];
};

struct figures *
figures_new(int64_t from_ms, int64_t to_ms, int64_t now_ms)
{
	struct figures *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->from_ms = from_ms;
	f->to_ms = to_ms;
	f->cutoff_ms = now_ms < to_ms ? now_ms : to_ms;
	if ((f->inc_index = json_object()) == NULL ||
	    (f->office_index = json_object()) == NULL ||
	    (f->dir_index = json_object()) == NULL) {
		figures_free(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

void
figures_free(struct figures *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->noff; i++) {
		free(f->offices[i].id);
		free(f->offices[i].name);
	}
	free(f->offices);
	free(f->incs);
	free(f->dirs);
	json_decref(f->inc_index);
	json_decref(f->office_index);
	json_decref(f->dir_index);
	free(f);
}

/* Grows *ARR (of SIZE-byte elements) to hold one more; -ENOMEM, -E2BIG past MAX. */
static int
figures_grow(void **arr, size_t *cap, size_t n, size_t size, size_t max)
{
	void	*p;
	size_t	 c;

	if (n < *cap)
		return 0;
	if (n >= max)
		return -E2BIG;
	c = *cap ? *cap * 2 : 256;
	if (c > max)
		c = max;
	if ((p = reallocarray(*arr, c, size)) == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

/* Index of ID in INDEX, or -1. */
static long long
figures_lookup(const json_t *index, const char *id)
{
	json_t *v;

	if (id == NULL || (v = json_object_get(index, id)) == NULL)
		return -1;
	return (long long)json_integer_value(v);
}

static int
figures_office(struct figures *f, const char *id, const char *name,
    size_t *out)
{
	struct figures_office	*o;
	long long		 i = figures_lookup(f->office_index, id);
	int			 rc;

	if (i >= 0) {
		o = &f->offices[i];
		/* The newest name wins: offices get renamed. */
		if (name != NULL && (o->name == NULL || strcmp(o->name, name) != 0)) {
			free(o->name);
			if ((o->name = strdup(name)) == NULL)
				return -ENOMEM;
		}
		*out = (size_t)i;
		return 0;
	}
	if ((rc = figures_grow((void **)&f->offices, &f->capoff, f->noff,
	    sizeof(*f->offices), FIGURES_OFFICES_MAX)) != 0)
		return rc;
	o = &f->offices[f->noff];
	memset(o, 0, sizeof(*o));
	if ((o->id = strdup(id)) == NULL ||
	    (name != NULL && (o->name = strdup(name)) == NULL) ||
	    json_object_set_new(f->office_index, id,
	    json_integer((json_int_t)f->noff)) != 0) {
		free(o->id);
		free(o->name);
		return -ENOMEM;
	}
	*out = f->noff++;
	return 0;
}

static int64_t
figures_time(const json_t *v)
{
	int64_t ms;

	if (!json_is_string(v) || time_parse(json_string_value(v), &ms) != 0)
		return 0;
	return ms;
}

static int
figures_received(struct figures *f, const struct record *r)
{
	struct figures_inc	*inc;
	const char		*office;
	size_t			 o;
	int			 rc;

	office = json_string_value(json_object_get(r->data, "office"));
	if (r->incident == NULL || office == NULL ||
	    figures_lookup(f->inc_index, r->incident) >= 0)
		return 0;
	if ((rc = figures_office(f, office, json_string_value(json_object_get(
	    r->data, "office_name")), &o)) != 0)
		return rc;
	if ((rc = figures_grow((void **)&f->incs, &f->capinc, f->ninc,
	    sizeof(*f->incs), FIGURES_INCIDENTS_MAX)) != 0)
		return rc;
	inc = &f->incs[f->ninc];
	memset(inc, 0, sizeof(*inc));
	inc->office = o;
	inc->received_ms = r->ts_ms;
	inc->occurred_ms = figures_time(json_object_get(json_object_get(r->data,
	    "report"), "occurred_at"));
	inc->deadline_ms = figures_time(json_object_get(r->data,
	    "report_deadline"));
	inc->late = json_is_true(json_object_get(r->data, "late_report"));
	if (json_object_set_new(f->inc_index, r->incident,
	    json_integer((json_int_t)f->ninc)) != 0)
		return -ENOMEM;
	f->ninc++;
	return 0;
}

static int
figures_directive(struct figures *f, const struct record *r)
{
	const char	*id = json_string_value(json_object_get(r->data,
			    "directive"));
	long long	 i;
	int		 rc;

	if (id == NULL)
		return 0;
	i = figures_lookup(f->dir_index, id);
	if (strcmp(r->event, "directive.created") == 0) {
		if (i >= 0)
			return 0;
		if ((rc = figures_grow((void **)&f->dirs, &f->capdir, f->ndir,
		    sizeof(*f->dirs), FIGURES_DIRECTIVES_MAX)) != 0)
			return rc;
		memset(&f->dirs[f->ndir], 0, sizeof(f->dirs[0]));
		if (json_object_set_new(f->dir_index, id,
		    json_integer((json_int_t)f->ndir)) != 0)
			return -ENOMEM;
		f->ndir++;
	} else if (i >= 0 && !f->dirs[i].done) {
		f->dirs[i].done = 1;
		f->dirs[i].on_time = json_is_true(json_object_get(r->data,
		    "on_time"));
	}
	return 0;
}

int
figures_add(const struct record *r, void *arg)
{
	struct figures		*f = arg;
	struct figures_inc	*inc;
	long long		 i, via;
	json_int_t		 level;

	if (r->ts_ms < f->from_ms || r->ts_ms >= f->to_ms)
		return 0;
	if (strcmp(r->event, "report.received") == 0)
		return figures_received(f, r);
	if (strncmp(r->event, "directive.", 10) == 0)
		return figures_directive(f, r);
	/* The rest are about incidents received in the period. */
	if ((i = figures_lookup(f->inc_index, r->incident)) < 0)
		return 0;
	inc = &f->incs[i];
	if (strcmp(r->event, "incident.acknowledged") == 0) {
		if (inc->ack_ms == 0)
			inc->ack_ms = r->ts_ms;
	} else if (strcmp(r->event, "incident.escalated") == 0) {
		level = json_integer_value(json_object_get(r->data, "level"));
		if (level >= 1 && level <= FIGURES_LEVELS_MAX)
			f->escalations[level]++;
	} else if (strcmp(r->event, "incident.updated") == 0) {
		/* Sent to a duplicate: the office that reported the duplicate. */
		via = figures_lookup(f->inc_index, json_string_value(
		    json_object_get(r->data, "via")));
		f->incs[via >= 0 ? via : i].follow_ups++;
	} else if (strcmp(r->event, "report.submitted") == 0 ||
	    strcmp(r->event, "incident.report_filed") == 0) {
		if (inc->sent_ms == 0)
			inc->sent_ms = r->ts_ms;
	} else if (strcmp(r->event, "incident.merged") == 0)
		inc->merged = 1;
	else if (strcmp(r->event, "incident.dismissed") == 0)
		inc->dismissed = 1;
	return 0;
}

/*
 * Sample statistics
 */

struct figures_sample {
	int64_t		*v;
	size_t		 n;
};

static int
figures_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Whole minutes, to the nearest (durations here are never negative). */
static json_t *
figures_minutes(double ms)
{
	return json_integer((json_int_t)(ms / 60000.0 + 0.5));
}

/* {"median", second: the nearest-rank P90 or the maximum}, null when empty. */
static json_t *
figures_summary(struct figures_sample *s, const char *second)
{
	double	 median;
	size_t	 k;

	if (s->n == 0)
		return json_pack("{s:n, s:n}", "median", second);
	qsort(s->v, s->n, sizeof(*s->v), figures_cmp);
	median = s->n % 2 ? (double)s->v[s->n / 2] :
	    ((double)s->v[s->n / 2 - 1] + (double)s->v[s->n / 2]) / 2.0;
	if (strcmp(second, "p90") == 0) {
		k = (s->n * 9 + 9) / 10;	/* ceil(0.9 n), 1-based */
		return json_pack("{s:o, s:o}", "median", figures_minutes(median),
		    "p90", figures_minutes((double)s->v[k - 1]));
	}
	return json_pack("{s:o, s:o}", "median", figures_minutes(median),
	    second, figures_minutes((double)s->v[s->n - 1]));
}

/* Per office, and the city in the last slot. */
struct figures_count {
	int64_t			 reports, late, follow_ups, dismissed;
	struct figures_sample	 minutes;
};

static json_t *
figures_office_json(const char *id, const char *name,
    struct figures_count *c)
{
	return json_pack("{s:s, s:s?, s:I, s:I, s:o, s:I, s:I}", "office", id,
	    "name", name, "reports", (json_int_t)c->reports, "late",
	    (json_int_t)c->late, "report_minutes",
	    figures_summary(&c->minutes, "max"), "follow_ups",
	    (json_int_t)c->follow_ups, "dismissed", (json_int_t)c->dismissed);
}

struct figures_city {
	int64_t			 merged;
	struct figures_sample	 ack;
	int64_t			 unacknowledged;
	struct figures_sample	 sent;
	int64_t			 on_time, late, pending;
	int64_t			 dir_on_time, dir_late, dir_open;
};

static void
figures_tally(const struct figures *f, struct figures_count *cnt,
    struct figures_city *city)
{
	const struct figures_inc	*inc;
	struct figures_count		*c, *all = &cnt[f->noff];
	size_t				 i;

	for (i = 0; i < f->ninc; i++) {
		inc = &f->incs[i];
		c = &cnt[inc->office];
		if (inc->dismissed) {
			/* A false report (误报) is no report of an event. */
			c->dismissed++;
			all->dismissed++;
			continue;
		}
		c->reports++;
		all->reports++;
		c->late += inc->late;
		all->late += inc->late;
		c->follow_ups += inc->follow_ups;
		all->follow_ups += inc->follow_ups;
		if (inc->occurred_ms != 0) {
			int64_t m = inc->received_ms - inc->occurred_ms;

			/* occurred_at may be a little ahead of dutyd's clock. */
			c->minutes.v[c->minutes.n++] = m > 0 ? m : 0;
			all->minutes.v[all->minutes.n++] = m > 0 ? m : 0;
		}
		if (inc->merged) {
			/* The duty room handled the incident it went into. */
			city->merged++;
			continue;
		}
		if (inc->ack_ms != 0)
			city->ack.v[city->ack.n++] = inc->ack_ms - inc->received_ms;
		else
			city->unacknowledged++;
		if (inc->sent_ms != 0) {
			city->sent.v[city->sent.n++] = inc->sent_ms -
			    inc->received_ms;
			if (inc->deadline_ms == 0 || inc->sent_ms <= inc->deadline_ms)
				city->on_time++;
			else
				city->late++;
		} else if (inc->deadline_ms != 0 &&
		    inc->deadline_ms < f->cutoff_ms)
			city->late++;
		else
			city->pending++;
	}
	for (i = 0; i < f->ndir; i++) {
		if (!f->dirs[i].done)
			city->dir_open++;
		else if (f->dirs[i].on_time)
			city->dir_on_time++;
		else
			city->dir_late++;
	}
}

static json_t *
figures_city_json(const struct figures *f, const struct config *cfg,
    struct figures_count *all, struct figures_city *city)
{
	json_t	*esc;
	char	 key[16];
	size_t	 level, top = cfg->policy.nlevels + 1;

	if ((esc = json_object()) == NULL)
		return NULL;
	/* Every configured level, and any other the log holds. */
	for (level = 1; level <= FIGURES_LEVELS_MAX; level++) {
		if (level > top && f->escalations[level] == 0)
			continue;
		snprintf(key, sizeof(key), "%zu", level);
		if (json_object_set_new(esc, key,
		    json_integer(f->escalations[level])) != 0) {
			json_decref(esc);
			return NULL;
		}
	}
	return json_pack("{s:I, s:I, s:o, s:I, s:I, s:I, s:o, s:I, s:o, "
	    "s:{s:I, s:I, s:I, s:o}, s:{s:I, s:I, s:I}}",
	    "reports", (json_int_t)all->reports,
	    "late", (json_int_t)all->late,
	    "report_minutes", figures_summary(&all->minutes, "max"),
	    "follow_ups", (json_int_t)all->follow_ups,
	    "dismissed", (json_int_t)all->dismissed,
	    "merged", (json_int_t)city->merged,
	    "ack_minutes", figures_summary(&city->ack, "p90"),
	    "unacknowledged", (json_int_t)city->unacknowledged,
	    "escalations", esc,
	    "written_reports", "on_time", (json_int_t)city->on_time,
	    "late", (json_int_t)city->late, "pending", (json_int_t)city->pending,
	    "minutes", figures_summary(&city->sent, "max"),
	    "directives", "done_on_time", (json_int_t)city->dir_on_time,
	    "done_late", (json_int_t)city->dir_late,
	    "open", (json_int_t)city->dir_open);
}

json_t *
figures_json(const struct figures *f, const struct config *cfg,
    const char *from, const char *to)
{
	struct figures_count	*cnt;
	struct figures_city	 city;
	json_t			*offices = NULL, *out = NULL, *o, *cityj;
	size_t			 i, n = f->ninc;
	unsigned char		*listed = NULL;
	long long		 k;

	memset(&city, 0, sizeof(city));
	/* The city's samples can hold every incident; an office's, its own. */
	if ((cnt = calloc(f->noff + 1, sizeof(*cnt))) == NULL ||
	    (listed = calloc(f->noff + 1, 1)) == NULL ||
	    (city.ack.v = calloc(n + 1, sizeof(int64_t))) == NULL ||
	    (city.sent.v = calloc(n + 1, sizeof(int64_t))) == NULL ||
	    (cnt[f->noff].minutes.v = calloc(n + 1, sizeof(int64_t))) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		cnt[f->incs[i].office].reports++;
	for (i = 0; i < f->noff; i++) {
		if ((cnt[i].minutes.v = calloc(cnt[i].reports + 1,
		    sizeof(int64_t))) == NULL)
			goto out;
		cnt[i].reports = 0;
	}
	figures_tally(f, cnt, &city);
	if ((offices = json_array()) == NULL)
		goto out;
	/* The configured offices in their order, with zeros where quiet. */
	for (i = 0; i < cfg->noffices; i++) {
		struct figures_count zero;

		memset(&zero, 0, sizeof(zero));
		k = figures_lookup(f->office_index, cfg->offices[i].id);
		if (k >= 0)
			listed[k] = 1;
		o = figures_office_json(cfg->offices[i].id, cfg->offices[i].name,
		    k >= 0 ? &cnt[k] : &zero);
		if (o == NULL || json_array_append_new(offices, o) != 0)
			goto out;
	}
	/* Offices the log names that the configuration no longer has. */
	for (i = 0; i < f->noff; i++) {
		if (listed[i])
			continue;
		o = figures_office_json(f->offices[i].id, f->offices[i].name,
		    &cnt[i]);
		if (o == NULL || json_array_append_new(offices, o) != 0)
			goto out;
	}
	if ((cityj = figures_city_json(f, cfg, &cnt[f->noff], &city)) == NULL)
		goto out;
	out = json_pack("{s:s, s:s, s:O, s:o}", "from", from, "to", to,
	    "offices", offices, "city", cityj);
out:
	json_decref(offices);
	if (cnt != NULL)
		for (i = 0; i <= f->noff; i++)
			free(cnt[i].minutes.v);
	free(cnt);
	free(listed);
	free(city.ack.v);
	free(city.sent.v);
	if (out == NULL)
		errno = ENOMEM;
	return out;
}
