/*
 * Incident ids: the next one, and the counter the ids seen raise (incid.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/timeutil.h"
#include "state/incid.h"

/* The last id issued or seen: day 20261128, n 3. */
static int	last_day, last_n;

void
incid_reset(void)
{
	last_day = last_n = 0;
}

void
incid_seen(int day, int n)
{
	if (day > last_day || (day == last_day && n > last_n)) {
		last_day = day;
		last_n = n;
	}
}

void
incid_counter(int *day, int *n)
{
	*day = last_day;
	*n = last_n;
}

/* V (>= 0) in at least WIDTH decimal digits, zeros first; the end. */
static char *
incid_digits(char *at, int v, int width)
{
	char	tmp[12];
	int	n = 0;

	do	/* v % 10 is 0 once v is: the padding */
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0 || n < width);
	while (n > 0)
		*at++ = tmp[--n];
	return at;
}

void
incid_new(int64_t now, char *buf, size_t len)
{
	struct tm	 tm;
	char		*p;
	int		 day, n;

	if (time_tm(now, &tm) != 0)	/* no zone: keep the last day */
		memset(&tm, 0, sizeof(tm));
	day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	/* A clock set back past midnight must not reuse an id. */
	if (day < last_day)
		day = last_day;
	n = day == last_day ? last_n + 1 : 1;
	/* "INC-" and two numbers of at most 10 digits each fit 32 bytes. */
	if (len < 32 || day < 0 || n < 0) {
		snprintf(buf, len, "INC-%08d-%04d", day, n);
		return;
	}
	/* As that snprintf() writes it, without its format reading (1.4 k instructions). */
	memcpy(buf, "INC-", 4);
	p = incid_digits(buf + 4, day, 8);
	*p++ = '-';
	*incid_digits(p, n, 4) = '\0';
}
