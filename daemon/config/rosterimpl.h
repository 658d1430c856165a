/*
 * rosterimpl.h: the roster's data and its clock, shared by roster.c
 * (answering who is on duty) and rosterload.c (reading `roster:`).
 * Private to those two files.
 *
 * Times are int64_t ms.  "Wall" times are the roster zone's local date and
 * time counted as if they were UTC; a day number is wall ms / DAY_MS.
 */
#ifndef DUTYD_ROSTERIMPL_H
#define DUTYD_ROSTERIMPL_H

#include <stddef.h>
#include <stdint.h>

#define MIN_MS		((int64_t)60 * 1000)
#define DAY_MS		(1440 * MIN_MS)
#define TIME_LO		((int64_t)0)
#define TIME_HI		((int64_t)253402300799999)	/* 9999-12-31 end */
#define NODAY		INT64_MIN
#define NOTIME		INT64_MIN
#define TEAM_MAX	16

struct team {
	const char	**ids;		/* the config's people ids */
	size_t		  n;
};

/* The leader ([0]) or a shift. */
struct role {
	char		*name;
	char		*why;		/* "rotation 'night'" */
	int64_t		 from, len;	/* wall ms from midnight; up to 24 h */
	int		 weekly;
	struct team	*items;		/* the rotation */
	size_t		 nitems;
	size_t		 maxteam;
};

struct override {
	size_t		 role;
	int64_t		 day;		/* instance date; NODAY: exact times */
	int64_t		 start, end;	/* exact times (ms) */
	const char	*from, *to;	/* a swap; else team takes over */
	struct team	 team;
	char		*why;
};

struct tz;

struct roster {
	char		*zone;		/* its name, for messages */
	struct tz	*tz;		/* every wall time is counted in it */
	int64_t		 start;		/* the date rotations count from */
	int64_t		 accept_within;	/* ms for the incoming to accept a handover; 0: no alarm */
	struct role	*roles;
	size_t		 nroles;
	struct override	*ov;
	size_t		 nov;
};

struct member {
	const char	*id;
	const char	*why;
};

int64_t	 roster_fdiv(int64_t a, int64_t b);	/* rounding down */

/*
 * In zone TZ (the roster's): the wall time at instant T; the latest wall
 * time shown by T; the first instant showing wall time W or later.
 */
int64_t	 roster_wall(const struct tz *, int64_t t);
int64_t	 roster_mono(const struct tz *, int64_t t);
int64_t	 roster_first_at(const struct tz *, int64_t w);

/* "2026-12-01 08:30"; "2026-12-01 17:30–18:00" (end's date if it differs) */
void	 roster_fmt_wall(int64_t w, char *buf, size_t len);
void	 roster_fmt_period(int64_t wa, int64_t wb, char *buf, size_t len);

/* The instance (by date) of role RI that wall time M falls in; 0: none. */
int	 roster_instance(const struct roster *, size_t ri, int64_t m,
	    int64_t *day);
/*
 * The people of instance DAY of role RI at instant T (NOTIME: dated
 * overrides only), after the first NOV overrides in file order.  With S
 * not NULL, [*S, *E) is narrowed to the part that holds around T.
 */
size_t	 roster_team_at(const struct roster *, size_t ri, int64_t day,
	    int64_t t, size_t nov, struct member *mb, int64_t *s, int64_t *e);

#endif
