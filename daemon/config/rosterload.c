/*
 * rosterload.c: the `roster:` section, or a file of its own, into a struct
 * roster.  Every problem is reported at its FILE:LINE:COLUMN, and a
 * roster that leaves anyone's time uncovered is refused: coverage is
 * checked on paper (wall time), which roster.c turns into instants
 * without creating gaps.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yaml.h>

#include "config/config.h"
#include "config/confval.h"
#include "config/confyaml.h"
#include "config/roster.h"
#include "config/rosterimpl.h"
#include "base/timeutil.h"
#include "base/tz.h"

#define SHIFTS_MAX	16
#define ITEMS_MAX	366	/* a year of daily entries */
#define OVERRIDES_MAX	2000
#define OVERRIDE_SPAN_MAX ((int64_t)366 * DAY_MS)
#define CHECK_DAYS	90
#define ZONE_DEFAULT	"Asia/Shanghai"
#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))

/* One roster_load(). */
struct rload {
	struct loader	*ld;		/* the nodes' (an included file's?) */
	struct roster	*r;
	const char	*file;		/* an included file's name, or NULL */
	int		 broken;	/* more checks would only add noise */
	int		 timed;		/* the zone is loaded */
	int		 dated;		/* start is valid */
	size_t		 before;	/* problems already in ld */
};

/* "YYYY-MM-DD" to a day number; -1 when it is no such date. */
static int
parse_date(const char *s, int64_t *day)
{
	struct tm tm;
	time_t t;
	int i;

	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' :
		    !isdigit((unsigned char)s[i]))
			return -1;
	if (s[10] != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = 12;
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11)
		return -1;
	t = timegm(&tm);
	/* timegm() normalises 2026-02-30 to March: refuse what moved. */
	if (tm.tm_mday != atoi(s + 8) || tm.tm_mon != atoi(s + 5) - 1)
		return -1;
	*day = roster_fdiv((int64_t)t, 86400);
	return 0;
}

/* "HH:MM" to ms after midnight; -1 when it is not a time of day. */
static int64_t
parse_hhmm(const char *s, const char **end)
{
	int h, m;

	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return -1;
	h = (s[0] - '0') * 10 + s[1] - '0';
	m = (s[3] - '0') * 10 + s[4] - '0';
	if (h > 23 || m > 59)
		return -1;
	*end = s + 5;
	return h * 60 * MIN_MS + m * MIN_MS;
}

/* "08:30-17:30" (or with an en dash); a shift may run past midnight. */
static int
parse_hours(const char *s, int64_t *from, int64_t *len)
{
	int64_t to;

	if ((*from = parse_hhmm(s, &s)) < 0)
		return -1;
	s += strspn(s, " ");
	if (*s == '-')
		s++;
	else if (strncmp(s, "–", strlen("–")) == 0)
		s += strlen("–");
	else
		return -1;
	s += strspn(s, " ");
	if ((to = parse_hhmm(s, &s)) < 0 || *s != '\0')
		return -1;
	*len = to > *from ? to - *from : to + DAY_MS - *from;
	return 0;
}

static const char *
person_find(const struct config *cf, const char *s)
{
	size_t i;

	for (i = 0; i < cf->npeople; i++)
		if (cf->people[i].id != NULL &&
		    strcmp(cf->people[i].id, s) == 0)
			return cf->people[i].id;
	return NULL;
}

/* The config's copy of person id S, or NULL after saying why not. */
static const char *
person_ref(struct rload *st, const yaml_mark_t *at, const char *s,
    const char *ctx)
{
	const struct config *cf = st->ld->cf;
	char known[CONFYAML_LIST_MAX] = "";
	const char *id;
	size_t i;

	if ((id = person_find(cf, s)) != NULL)
		return id;
	st->broken = 1;
	if (cf->npeople == 0)	/* no usable `people:`: already reported */
		return NULL;
	for (i = 0; i < cf->npeople; i++)
		if (cf->people[i].id != NULL)
			confyaml_list_add(known, sizeof(known),
			    cf->people[i].id);
	confyaml_errat(st->ld, at, "unknown person '%s'%s; people are: %s", s,
	    ctx, known[0] ? known : "(none)");
	return NULL;
}

/* A person, or with TEAMS a list of them working together. */
static int
load_team(struct rload *st, yaml_node_t *n, const char *ctx, int teams,
    struct team *tm)
{
	struct loader *ld = st->ld;
	yaml_node_item_t *it = NULL;
	yaml_node_t *p;
	const char *s;
	size_t count = 1, i, j;

	if (n->type == YAML_SEQUENCE_NODE && !teams) {
		confyaml_errat(ld, &n->start_mark, "a list here%s, but the "
		    "leader on duty is one person; write one person id", ctx);
		return -1;
	}
	if (n->type == YAML_SEQUENCE_NODE && ((it = confyaml_items(ld, n,
	    "team", ctx, TEAM_MAX, &count)) == NULL || count == 0)) {
		if (it != NULL)
			confyaml_errat(ld, &n->start_mark, "an empty team%s; "
			    "name at least one person", ctx);
		return -1;
	}
	if ((tm->ids = confyaml_zalloc(ld, count, sizeof(*tm->ids))) == NULL)
		return -1;
	for (i = 0; i < count; i++) {
		p = it != NULL ? confyaml_node(ld, it[i]) : n;
		if ((s = confyaml_scalar(ld, p, "person", ctx)) == NULL ||
		    (s = person_ref(st, &p->start_mark, s, ctx)) == NULL)
			return -1;
		for (j = 0; j < tm->n && tm->ids[j] != s; j++)
			;
		if (j < tm->n) {
			confyaml_errat(ld, &p->start_mark, "person '%s' is "
			    "twice in one team%s", s, ctx);
			return -1;
		}
		tm->ids[tm->n++] = s;
	}
	return 0;
}

/* `rotation` and `people`; the leader's items are people, not teams. */
static void
load_rotation(struct rload *st, struct role *ro, yaml_node_t *rot,
    yaml_node_t *people, const char *ctx, int teams)
{
	struct loader *ld = st->ld;
	yaml_node_item_t *it;
	const char *s;
	size_t count, i;

	if (rot != NULL && (s = confyaml_scalar(ld, rot, "rotation",
	    ctx)) != NULL) {
		if (strcmp(s, "weekly") == 0)
			ro->weekly = 1;
		else if (strcmp(s, "daily") != 0)
			confyaml_errat(ld, &rot->start_mark, "unknown rotation "
			    "'%s'%s; use daily or weekly", s, ctx);
	}
	if ((it = confyaml_items(ld, people, "people", ctx, ITEMS_MAX,
	    &count)) == NULL || count == 0) {
		if (it != NULL)
			confyaml_errat(ld, &people->start_mark, "'people'%s is "
			    "empty; name at least one person", ctx);
		st->broken = 1;
		return;
	}
	if ((ro->items = confyaml_zalloc(ld, count, sizeof(*ro->items))) ==
	    NULL) {
		st->broken = 1;
		return;
	}
	for (i = 0; i < count; i++) {
		if (load_team(st, confyaml_node(ld, it[i]), ctx, teams,
		    &ro->items[ro->nitems]) == -1) {
			free(ro->items[ro->nitems].ids);
			memset(&ro->items[ro->nitems], 0, sizeof(*ro->items));
			st->broken = 1;
			continue;
		}
		if (ro->items[ro->nitems].n > ro->maxteam)
			ro->maxteam = ro->items[ro->nitems].n;
		ro->nitems++;
	}
}

static struct role *
role_add(struct rload *st, const char *name)
{
	struct role *ro = &st->r->roles[st->r->nroles];

	if ((ro->name = confyaml_sdup(st->ld, name)) == NULL ||
	    asprintf(&ro->why, "rotation '%s'", name) == -1) {
		free(ro->name);
		memset(ro, 0, sizeof(*ro));
		st->ld->oom = 1;
		st->broken = 1;
		return NULL;
	}
	st->r->nroles++;
	return ro;
}

static const struct field leader_fields[] = {
	{ "handover", 1 }, { "rotation", 0 }, { "people", 1 },
};

static void
load_leader(struct rload *st, yaml_node_t *n)
{
	yaml_node_t *val[NFIELDS(leader_fields)];
	struct role *ro;
	const char *s, *end;

	if (confyaml_fields(st->ld, n, "'leader' in roster",
	    " in roster.leader", leader_fields, NFIELDS(leader_fields),
	    val) == -1 || val[0] == NULL || val[2] == NULL ||
	    (ro = role_add(st, "leader")) == NULL) {
		st->broken = 1;
		return;
	}
	ro->len = DAY_MS;
	if ((s = confyaml_scalar(st->ld, val[0], "handover",
	    " in roster.leader")) == NULL ||
	    (ro->from = parse_hhmm(s, &end)) < 0 || *end != '\0') {
		if (s != NULL)
			confyaml_errat(st->ld, &val[0]->start_mark, "invalid "
			    "handover time '%s' in roster.leader: write HH:MM "
			    "in 24-hour time, in quotes, e.g. \"08:30\"", s);
		ro->from = 0;
		st->broken = 1;
	}
	load_rotation(st, ro, val[1], val[2], " in roster.leader", 0);
}

static const struct field shift_fields[] = {
	{ "name", 1 }, { "hours", 1 }, { "rotation", 0 }, { "people", 1 },
};

static void
load_shift(struct rload *st, yaml_node_t *n)
{
	struct roster *r = st->r;
	yaml_node_t *val[NFIELDS(shift_fields)];
	struct role *ro;
	const char *name, *hours;
	char ctx[CONFVAL_ID_MAX + 32];
	size_t i;

	if (confyaml_fields(st->ld, n, "each shift", " in shift", shift_fields,
	    NFIELDS(shift_fields), val) == -1 || val[0] == NULL ||
	    val[1] == NULL || val[3] == NULL ||
	    (name = confyaml_scalar(st->ld, val[0], "name", " in shift")) ==
	    NULL) {
		st->broken = 1;
		return;
	}
	for (i = 1; i < r->nroles && strcmp(r->roles[i].name, name) != 0; i++)
		;
	if (!confval_shift_name(name) || strcmp(name, "leader") == 0 ||
	    i < r->nroles) {
		confyaml_errat(st->ld, &val[0]->start_mark, i < r->nroles ?
		    "duplicate shift name '%s'; give every shift its own name" :
		    "invalid shift name '%s': use 1 to 64 letters (Chinese too, "
		    "such as 夜班), digits and _ . -, without spaces or "
		    "punctuation (and not 'leader', which overrides use for the "
		    "leader on duty)", name);
		st->broken = 1;
		return;
	}
	if ((ro = role_add(st, name)) == NULL)
		return;
	snprintf(ctx, sizeof(ctx), " in shift '%s'", name);
	if ((hours = confyaml_scalar(st->ld, val[1], "hours", ctx)) == NULL ||
	    parse_hours(hours, &ro->from, &ro->len) == -1) {
		if (hours != NULL)
			confyaml_errat(st->ld, &val[1]->start_mark, "invalid "
			    "hours '%s'%s: write \"HH:MM-HH:MM\" in 24-hour "
			    "time, e.g. \"08:30-17:30\"; a shift that ends at "
			    "or before its start runs past midnight", hours,
			    ctx);
		ro->from = 0;
		ro->len = DAY_MS;
		st->broken = 1;
	}
	load_rotation(st, ro, val[2], val[3], ctx, 1);
}

static void
load_zone(struct rload *st, yaml_node_t *n, yaml_node_t *roster)
{
	const struct config *cf = st->ld->cf;
	const char *s = cf->timezone ? cf->timezone : ZONE_DEFAULT;
	yaml_node_t *at = n != NULL ? n : roster;
	char path[PATH_MAX];
	struct stat sb;
	int rc;

	if (n != NULL && (s = confyaml_scalar(st->ld, n, "timezone",
	    " in roster")) == NULL)
		return;
	if (s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_+-/")] != '\0' || s[0] == '/' || strstr(s, "..")) {
		confyaml_errat(st->ld, &at->start_mark, "time zone '%s' in "
		    "roster must be a name such as Asia/Shanghai", s);
		return;
	}
	/* The config's zone, already loaded (hand-made configs have none). */
	if (n == NULL && cf->timezone != NULL && cf->tz != NULL)
		st->r->tz = tz_ref(cf->tz);
	else if ((rc = tz_load(s, &st->r->tz)) == -ENOMEM) {
		st->ld->oom = 1;
		return;
	} else if (rc < 0) {
		snprintf(path, sizeof(path), "%s/%s", tz_dir(), s);
		if (rc != -ENOENT)
			confyaml_errat(st->ld, &at->start_mark, "cannot use "
			    "time zone '%s' for the roster: %s %s; use a name "
			    "such as Asia/Shanghai", s, path, rc == -EINVAL ?
			    "is not a tz database file" : strerror(-rc));
		else if (stat(tz_dir(), &sb) == -1 || !S_ISDIR(sb.st_mode))
			confyaml_errat(st->ld, &at->start_mark, "unknown time "
			    "zone '%s' for the roster: there is no time zone "
			    "database (%s); install the tzdata package", s,
			    tz_dir());
		else
			confyaml_errat(st->ld, &at->start_mark, "unknown time "
			    "zone '%s' for the roster (there is no file %s); "
			    "%s", s, path, n != NULL ? "use a name such as "
			    "Asia/Shanghai" : "install the tzdata package or "
			    "set 'timezone' in roster");
		return;
	}
	st->r->zone = confyaml_sdup(st->ld, s);
}

/*
 * Overrides
 */

static size_t
role_find(const struct roster *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nroles && strcmp(r->roles[i].name, name) != 0; i++)
		;
	return i;
}

static void
members_text(const struct member *mb, size_t n, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		confyaml_list_add(buf, len, mb[i].id);
}

/*
 * A swap must name someone who is there, for someone who is not.  WHEN is
 * "of 2026-12-03" or "at 2026-12-05 09:00".
 */
static int
check_swap(struct rload *st, const yaml_mark_t *at, struct override *ov,
    const char *when)
{
	const struct roster *r = st->r;
	const char *name = r->roles[ov->role].name;
	struct member mb[TEAM_MAX];
	char on[CONFVAL_ID_MAX + 32], role[CONFVAL_ID_MAX + 32];
	char list[CONFYAML_LIST_MAX];
	int64_t day = ov->day, t = NOTIME;
	size_t n, i, j;

	if (ov->role == 0) {
		snprintf(on, sizeof(on), "the leader on duty");
		snprintf(role, sizeof(role), "the leader on duty");
	} else {
		snprintf(on, sizeof(on), "on the %s shift", name);
		snprintf(role, sizeof(role), "the %s shift", name);
	}
	if (ov->day == NODAY) {
		t = ov->start;
		if (!roster_instance(r, ov->role, roster_mono(r->tz, t),
		    &day)) {
			confyaml_errat(st->ld, at, "%s is not on duty %s, when "
			    "this swap starts; start it within the shift's "
			    "hours", role, when);
			return -1;
		}
	}
	n = roster_team_at(r, ov->role, day, t, r->nov, mb, NULL, NULL);
	for (i = 0; i < n && strcmp(mb[i].id, ov->from) != 0; i++)
		;
	for (j = 0; j < n && strcmp(mb[j].id, ov->to) != 0; j++)
		;
	members_text(mb, n, list, sizeof(list));
	if (i == n)
		confyaml_errat(st->ld, at, "%s is not %s %s; %s %s is %s",
		    ov->from, on, when, role, t == NOTIME ? "that day" : "then",
		    list);
	else if (j < n)
		confyaml_errat(st->ld, at, "%s is already %s %s; swap in "
		    "someone else", ov->to, on, when);
	return i == n || j < n ? -1 : 0;
}

/* An exact override of a shift must meet at least one of its instances. */
static int
check_meets(struct rload *st, const yaml_mark_t *at, struct override *ov,
    const char *when)
{
	const struct role *ro = &st->r->roles[ov->role];
	int64_t day;

	if (roster_instance(st->r, ov->role, roster_mono(st->r->tz, ov->start),
	    &day) || roster_mono(st->r->tz, ov->end - 1) >= (day + 1) * DAY_MS +
	    ro->from)
		return 0;
	confyaml_errat(st->ld, at, "the %s shift is not on duty during %s, so "
	    "this override changes nothing; check the times", ro->name, when);
	return -1;
}

/*
 * The parts of one override, as written in any of its forms.  Strings
 * point into the document or into the caller's buffer.
 */
struct ovspec {
	const yaml_mark_t *at;
	const char	*date, *shift;
	int64_t		 start, end;	/* NOTIME for a dated one */
	const char	*from, *to;
	const char	*person;	/* from a string: one id */
	yaml_node_t	*people;	/* from a mapping: an id or a team */
};

static void
override_add(struct rload *st, const struct ovspec *sp)
{
	struct roster *r = st->r;
	struct override *ov = &r->ov[r->nov];
	char when[96], what[CONFYAML_LIST_MAX], line[128];
	struct member mb[TEAM_MAX];
	size_t i;
	int rc = 0;

	memset(ov, 0, sizeof(*ov));
	ov->day = NODAY;
	if ((ov->role = role_find(r, sp->shift)) == r->nroles) {
		what[0] = '\0';
		for (i = 0; i < r->nroles; i++)
			confyaml_list_add(what, sizeof(what), r->roles[i].name);
		if (!st->broken)
			confyaml_errat(st->ld, sp->at, "unknown shift '%s' in "
			    "override; use 'leader' or a shift: %s", sp->shift,
			    what);
		return;
	}
	if (sp->date != NULL && parse_date(sp->date, &ov->day) == -1) {
		confyaml_errat(st->ld, sp->at, "invalid date '%s' in override: "
		    "write YYYY-MM-DD, e.g. 2026-12-03", sp->date);
		return;
	}
	ov->start = sp->start;
	ov->end = sp->end;
	if (sp->from != NULL) {
		if ((ov->from = person_ref(st, sp->at, sp->from,
		    " in override")) == NULL ||
		    (ov->to = person_ref(st, sp->at, sp->to,
		    " in override")) == NULL)
			return;
		if (ov->from == ov->to) {
			confyaml_errat(st->ld, sp->at, "this swap names '%s' "
			    "twice; write who hands over, then who takes over",
			    ov->from);
			return;
		}
	} else if (sp->person != NULL) {
		if ((ov->team.ids = confyaml_zalloc(st->ld, 1,
		    sizeof(*ov->team.ids))) == NULL ||
		    (ov->team.ids[0] = person_ref(st, sp->at, sp->person,
		    " in override")) == NULL) {
			free(ov->team.ids);
			return;
		}
		ov->team.n = 1;
	} else if (load_team(st, sp->people, " in override", ov->role != 0,
	    &ov->team) == -1) {
		free(ov->team.ids);
		return;
	}
	if (ov->day != NODAY)
		roster_fmt_wall(ov->day * DAY_MS, when, sizeof(when));
	else if (st->timed)
		roster_fmt_period(roster_wall(r->tz, ov->start),
		    roster_wall(r->tz, ov->end), when, sizeof(when));
	else
		snprintf(when, sizeof(when), "?");
	if (ov->day != NODAY)
		when[10] = '\0';
	if (ov->from != NULL)
		snprintf(what, sizeof(what), "%s → %s", ov->from, ov->to);
	else {
		for (i = 0; i < ov->team.n; i++)
			mb[i].id = ov->team.ids[i];
		members_text(mb, ov->team.n, what, sizeof(what));
	}
	if (st->file != NULL)
		snprintf(line, sizeof(line), "%s line %zu", st->file,
		    sp->at->line + 1);
	else
		snprintf(line, sizeof(line), "line %zu", sp->at->line + 1);
	if (asprintf(&ov->why, "override %s %s: %s (%s)", when, sp->shift,
	    what, line) == -1) {
		ov->why = NULL;
		free(ov->team.ids);
		st->ld->oom = 1;
		return;
	}
	if (!st->broken && st->dated && st->timed) {
		/* "on the night shift of 2026-12-03", "at 2026-12-05 09:00" */
		if (ov->day != NODAY)
			snprintf(line, sizeof(line), "of %s", when);
		else {
			roster_fmt_wall(roster_wall(r->tz, ov->start), line + 3,
			    sizeof(line) - 3);
			memcpy(line, "at ", 3);
		}
		if (ov->from != NULL)
			rc = check_swap(st, sp->at, ov, line);
		else if (ov->day == NODAY && ov->role != 0)
			rc = check_meets(st, sp->at, ov, when);
	}
	if (rc == -1) {
		free(ov->team.ids);
		free(ov->why);
		return;
	}
	if (ov->team.n > r->roles[ov->role].maxteam)
		r->roles[ov->role].maxteam = ov->team.n;
	r->nov++;
}

/* S without spaces at either end (in place). */
static char *
trim(char *s)
{
	size_t len;

	s += strspn(s, " ");
	for (len = strlen(s); len > 0 && s[len - 1] == ' '; len--)
		s[len - 1] = '\0';
	return s;
}

/*
 * "2026-12-03 night: zhang → zhao" (a swap, "->" too) or
 * "2026-12-04 leader: wang" (that day's people replaced).
 */
static void
load_override_text(struct rload *st, const yaml_mark_t *at, const char *text)
{
	struct ovspec sp;
	char buf[512], *p, *arrow;
	size_t skip = 0;

	memset(&sp, 0, sizeof(sp));
	sp.at = at;
	sp.start = sp.end = NOTIME;
	if (strlen(text) >= sizeof(buf) || strlen(text) < 12 || text[10] != ' ')
		goto bad;
	memcpy(buf, text, strlen(text) + 1);
	buf[10] = '\0';
	sp.date = buf;
	/* A Chinese keyboard types the colon full width: "2026-12-03 夜班：…". */
	if ((p = strstr(buf + 11, "：")) != NULL &&
	    (strchr(buf + 11, ':') == NULL || strchr(buf + 11, ':') > p)) {
		*p = '\0';
		p += strlen("：");
	} else if ((p = strchr(buf + 11, ':')) != NULL)
		*p++ = '\0';
	else
		goto bad;
	sp.shift = trim(buf + 11);
	if ((arrow = strstr(p, "→")) != NULL)
		skip = strlen("→");
	else if ((arrow = strstr(p, "->")) != NULL)
		skip = 2;
	if (arrow != NULL) {
		*arrow = '\0';
		sp.from = trim(p);
		sp.to = trim(arrow + skip);
	} else
		sp.person = trim(p);
	if (*sp.shift == '\0' || (sp.from != NULL && (*sp.from == '\0' ||
	    *sp.to == '\0' || strpbrk(sp.from, " ,") || strpbrk(sp.to,
	    " ,"))) || (sp.person != NULL && (*sp.person == '\0' ||
	    strpbrk(sp.person, " ,"))))
		goto bad;
	override_add(st, &sp);
	return;
bad:
	confyaml_errat(st->ld, at, "cannot read the override '%s': write "
	    "\"2026-12-03 night: zhang → zhao\" to swap one person on one "
	    "shift, or \"2026-12-04 leader: wang\" to give that day's shift to "
	    "someone else", text);
}

static const struct field override_fields[] = {
	{ "date", 0 }, { "start", 0 }, { "end", 0 }, { "shift", 1 },
	{ "person", 0 }, { "from", 0 }, { "to", 0 },
};
enum { O_DATE, O_START, O_END, O_SHIFT, O_PERSON, O_FROM, O_TO };

static int
override_time(struct rload *st, yaml_node_t *n, const char *key,
    int64_t *ms)
{
	const char *s;

	if ((s = confyaml_scalar(st->ld, n, key, " in override")) == NULL)
		return -1;
	if (time_parse(s, ms) < 0 || *ms < TIME_LO || *ms > TIME_HI) {
		confyaml_errat(st->ld, &n->start_mark, "invalid time '%s' for "
		    "'%s' in override: write date, time and offset, e.g. "
		    "\"2026-12-05T09:00:00+08:00\"", s, key);
		return -1;
	}
	return 0;
}

static void
load_override_map(struct rload *st, yaml_node_t *n)
{
	struct loader *ld = st->ld;
	yaml_node_t *val[NFIELDS(override_fields)];
	struct ovspec sp;
	int bad = 0;

	memset(&sp, 0, sizeof(sp));
	sp.at = &n->start_mark;
	sp.start = sp.end = NOTIME;
	if (confyaml_fields(ld, n, "each override", " in override",
	    override_fields, NFIELDS(override_fields), val) == -1 ||
	    val[O_SHIFT] == NULL || (sp.shift = confyaml_scalar(ld,
	    val[O_SHIFT], "shift", " in override")) == NULL)
		return;
	if ((val[O_DATE] != NULL) == (val[O_START] != NULL || val[O_END] !=
	    NULL) || (val[O_START] != NULL) != (val[O_END] != NULL)) {
		confyaml_errat(ld, &n->start_mark, "give either 'date' (one "
		    "whole shift) or both 'start' and 'end' (exact times) in "
		    "override");
		bad = 1;
	}
	if ((val[O_PERSON] != NULL) == (val[O_FROM] != NULL || val[O_TO] !=
	    NULL) || (val[O_FROM] != NULL) != (val[O_TO] != NULL)) {
		confyaml_errat(ld, &n->start_mark, "give either 'person' (who "
		    "takes over) or both 'from' and 'to' (a swap) in override");
		bad = 1;
	}
	if (bad)
		return;
	if (val[O_DATE] != NULL && (sp.date = confyaml_scalar(ld, val[O_DATE],
	    "date", " in override")) == NULL)
		return;
	if (val[O_START] != NULL && (override_time(st, val[O_START], "start",
	    &sp.start) == -1 || override_time(st, val[O_END], "end",
	    &sp.end) == -1))
		return;
	if (val[O_START] != NULL && sp.end <= sp.start) {
		confyaml_errat(ld, &val[O_END]->start_mark, "'end' in override "
		    "must be after 'start'");
		return;
	}
	if (val[O_START] != NULL && sp.end - sp.start > OVERRIDE_SPAN_MAX) {
		confyaml_errat(ld, &val[O_END]->start_mark, "an override may "
		    "last at most 366 days; change the rotation instead");
		return;
	}
	if (val[O_FROM] != NULL && ((sp.from = confyaml_scalar(ld, val[O_FROM],
	    "from", " in override")) == NULL || (sp.to = confyaml_scalar(ld,
	    val[O_TO], "to", " in override")) == NULL))
		return;
	sp.people = val[O_PERSON];
	override_add(st, &sp);
}

static void
load_override(struct rload *st, yaml_node_t *n)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	char text[512];
	size_t i;

	if (n->type == YAML_SCALAR_NODE) {
		if (confyaml_scalar(st->ld, n, "override", "") != NULL)
			load_override_text(st, &n->start_mark,
			    (const char *)n->data.scalar.value);
		return;
	}
	/* Unquoted, "- 2026-12-03 night: zhang → zhao" is a one-key map. */
	if (n->type == YAML_MAPPING_NODE &&
	    (p = n->data.mapping.pairs.start) + 1 ==
	    n->data.mapping.pairs.top &&
	    (k = confyaml_node(st->ld, p->key))->type == YAML_SCALAR_NODE &&
	    (v = confyaml_node(st->ld, p->value))->type == YAML_SCALAR_NODE) {
		for (i = 0; i < NFIELDS(override_fields) &&
		    strcmp(override_fields[i].key,
		    (const char *)k->data.scalar.value) != 0; i++)
			;
		if (i == NFIELDS(override_fields)) {
			snprintf(text, sizeof(text), "%s: %s",
			    k->data.scalar.value, v->data.scalar.value);
			load_override_text(st, &k->start_mark, text);
			return;
		}
	}
	load_override_map(st, n);
}

/*
 * Coverage
 */

struct edge {
	int64_t	 w;		/* wall time */
	int	 on;		/* +1 a shift starts, -1 one ends */
	int	 people;	/* at most, in that shift */
};

static int
cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->w != y->w)
		return x->w < y->w ? -1 : 1;
	return x->on - y->on;	/* an end before a start: no gap between */
}

/*
 * In wall time, since roster_first_at() maps meeting boundaries to one instant:
 * what is covered on paper is covered in fact.
 */
static void
check_coverage(struct rload *st, size_t r0, size_t r1, int64_t now,
    yaml_node_t *at)
{
	const struct roster *r = st->r;
	const struct role *ro;
	struct edge *ev;
	char period[96];
	int64_t d, d0 = roster_fdiv(now, DAY_MS), gap = 0;
	size_t i, n = 0, ri;
	int count = 0, people = 0, most = 0;

	if ((ev = confyaml_zalloc(st->ld, (CHECK_DAYS + 4) * (r1 - r0) * 2,
	    sizeof(*ev))) == NULL)
		return;
	for (ri = r0; ri < r1; ri++) {
		ro = &r->roles[ri];
		for (d = d0 - 2; d <= d0 + CHECK_DAYS + 1; d++) {
			ev[n].w = d * DAY_MS + ro->from;
			ev[n].on = 1;
			ev[n++].people = ro->maxteam;
			ev[n].w = d * DAY_MS + ro->from + ro->len;
			ev[n].on = -1;
			ev[n++].people = ro->maxteam;
		}
	}
	qsort(ev, n, sizeof(*ev), cmp_edge);
	for (i = 0; i < n; i++) {
		if (ev[i].on > 0 && count == 0 && i > 0 && ev[i].w > gap &&
		    ev[i].w > now && gap < now + CHECK_DAYS * DAY_MS) {
			roster_fmt_period(gap, ev[i].w, period, sizeof(period));
			if (r0 == 0)
				confyaml_errat(st->ld, &at->start_mark, "no "
				    "leader on duty %s; the leader's duty days "
				    "must follow each other", period);
			else
				confyaml_errat(st->ld, &at->start_mark, "no "
				    "duty officer on duty %s; add a shift for "
				    "that time or change the hours so that "
				    "each shift starts when another ends",
				    period);
			break;
		}
		count += ev[i].on;
		people += ev[i].on * ev[i].people;
		if (people > most)
			most = people;
		if (count == 0)
			gap = ev[i].w;
	}
	if (r0 > 0 && most > ROSTER_ON_DUTY_MAX)
		confyaml_errat(st->ld, &at->start_mark, "up to %d duty "
		    "officers would be on duty at once in overlapping shifts; "
		    "at most %d can be", most, ROSTER_ON_DUTY_MAX);
	free(ev);
}

static const struct field roster_fields[] = {
	{ "timezone", 0 }, { "start", 1 }, { "leader", 1 }, { "shifts", 1 },
	{ "overrides", 0 }, { "accept_within", 0 },
};
enum { R_TIMEZONE, R_START, R_LEADER, R_SHIFTS, R_OVERRIDES, R_ACCEPT };

static void
load_body(struct rload *st, yaml_node_t *n, int64_t now)
{
	struct loader *ld = st->ld;
	struct roster *r = st->r;
	yaml_node_t *val[NFIELDS(roster_fields)], *v;
	yaml_node_item_t *it;
	const char *s;
	size_t count, i;

	if (confyaml_fields(ld, n, "'roster' (or the name of a roster file)",
	    " in roster", roster_fields, NFIELDS(roster_fields), val) == -1) {
		st->broken = 1;
		return;
	}
	load_zone(st, val[R_TIMEZONE], n);
	/* 0 turns the alarm off; a day is the longest a handover can wait. */
	r->accept_within = ROSTER_ACCEPT_WITHIN_DEFAULT;
	if ((v = val[R_ACCEPT]) != NULL && v->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)v->data.scalar.value, "0") == 0)
		r->accept_within = 0;
	else if (v != NULL && confyaml_duration(ld, v, "accept_within",
	    " in roster", &r->accept_within) == 0 && r->accept_within > DAY_MS)
		confyaml_errat(ld, &v->start_mark, "'accept_within' in roster is "
		    "at most 24h; write e.g. 30m, or 0 for no alarm");
	if (val[R_START] != NULL && (s = confyaml_scalar(ld, val[R_START],
	    "start", " in roster")) != NULL) {
		if (parse_date(s, &r->start) == -1)
			confyaml_errat(ld, &val[R_START]->start_mark,
			    "invalid date '%s' for 'start' in roster: write "
			    "YYYY-MM-DD, e.g. 2026-12-01", s);
		else
			st->dated = 1;
	}
	if ((r->roles = confyaml_zalloc(ld, SHIFTS_MAX + 1,
	    sizeof(*r->roles))) == NULL)
		return;
	if (val[R_LEADER] != NULL)
		load_leader(st, val[R_LEADER]);
	if (r->nroles == 0)	/* keep shift indices from 1 */
		role_add(st, "leader");
	if (val[R_SHIFTS] != NULL && (it = confyaml_items(ld, val[R_SHIFTS],
	    "shifts", " in roster", SHIFTS_MAX, &count)) != NULL) {
		if (count == 0)
			confyaml_errat(ld, &val[R_SHIFTS]->start_mark,
			    "'shifts' in roster is empty; list at least one "
			    "shift of duty officers");
		for (i = 0; i < count; i++)
			load_shift(st, confyaml_node(ld, it[i]));
	} else
		st->broken = 1;
	st->timed = r->tz != NULL && r->zone != NULL;
	if (val[R_OVERRIDES] != NULL && (it = confyaml_items(ld,
	    val[R_OVERRIDES], "overrides", " in roster", OVERRIDES_MAX,
	    &count)) != NULL &&
	    (r->ov = confyaml_zalloc(ld, count, sizeof(*r->ov))) != NULL)
		for (i = 0; i < count; i++)
			load_override(st, confyaml_node(ld, it[i]));
	if (!st->broken && st->timed && r->nroles > 1 &&
	    ld->nlines == st->before) {
		now = now < TIME_LO ? TIME_LO : now > TIME_HI -
		    (CHECK_DAYS + 4) * DAY_MS ? TIME_HI -
		    (CHECK_DAYS + 4) * DAY_MS : now;
		check_coverage(st, 0, 1, roster_wall(r->tz, now),
		    val[R_LEADER]);
		check_coverage(st, 1, r->nroles, roster_wall(r->tz, now),
		    val[R_SHIFTS]);
	}
}

struct roster *
roster_load(struct loader *ld, yaml_node_t *node, int64_t now)
{
	struct rload st;
	struct loader sub;
	yaml_node_t *root;
	yaml_mark_t at = node->start_mark;
	size_t before = ld->nlines;
	const char *slash;
	int failed;

	memset(&st, 0, sizeof(st));
	st.ld = ld;
	st.before = before;
	if (node->type == YAML_SCALAR_NODE && !confyaml_is_null(node)) {
		root = confyaml_include(ld, node, "roster", &sub);
		if (root == NULL) {
			confyaml_include_end(ld, &at, &sub);
			return NULL;
		}
		st.ld = &sub;
		st.before = 0;
		st.file = (slash = strrchr(sub.path, '/')) ? slash + 1 :
		    sub.path;
	} else
		root = node;
	if ((st.r = confyaml_zalloc(st.ld, 1, sizeof(*st.r))) != NULL)
		load_body(&st, root, now);
	failed = st.broken || st.ld->oom || st.ld->nlines > st.before;
	if (st.ld != ld)
		confyaml_include_end(ld, &at, &sub);
	if (failed) {
		roster_free(st.r);
		return NULL;
	}
	return st.r;
}
