/*
 * curlpool.c: kept easy handles (see curlpool.h).
 *
 * curl_easy_reset() and setting the options every transfer shares cost
 * 4 k instructions a delivery: a plain POST's handle keeps them for the
 * next plain POST.  Any other kind of transfer gets a reset handle, so
 * nothing of one request (a method, credentials, a CA file) can reach
 * another.
 */
#include <stddef.h>

#include "notify/curlpool.h"

#define CURLPOOL_MAX	16	/* handles kept */

static CURL	*curlpool_idle[CURLPOOL_MAX];
static int	 curlpool_plain[CURLPOOL_MAX];	/* a plain POST's options on it */
static size_t	 curlpool_n;

CURL *
curlpool_get(int plain, int *set)
{
	CURL *easy;

	*set = 0;
	if (curlpool_n == 0)
		return curl_easy_init();
	easy = curlpool_idle[--curlpool_n];
	if (curlpool_plain[curlpool_n] && plain)
		*set = 1;
	else if (curlpool_plain[curlpool_n])
		curl_easy_reset(easy);
	return easy;
}

/*
 * Reset, or for a plain POST the two pointers curl itself follows dropped
 * (its callbacks' data is passed only while a transfer runs, and the next
 * one sets it): the transfer's memory is freed next.
 */
void
curlpool_put(CURL *easy, int plain)
{
	if (curlpool_n == CURLPOOL_MAX) {
		curl_easy_cleanup(easy);
		return;
	}
	if (!plain)
		curl_easy_reset(easy);
	else if (curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL) != CURLE_OK) {
		curl_easy_reset(easy);
		plain = 0;
	}
	curlpool_plain[curlpool_n] = plain;
	curlpool_idle[curlpool_n++] = easy;
}

void
curlpool_clear(void)
{
	while (curlpool_n > 0)
		curl_easy_cleanup(curlpool_idle[--curlpool_n]);
}
