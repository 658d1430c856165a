/*
 * A fake transport for unit tests: requests wait until the test answers
 * them, so deliveries, retries, fallback and rate limits run without a
 * network or a loop.
 */
#ifndef TEST_FAKEFETCH_H
#define TEST_FAKEFETCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct fakefetch_req {
	char		*url;
	char		*body;		/* NUL-terminated */
	json_t		*json;		/* the body parsed, when it is JSON */
	char		**rcpt;		/* SMTP envelope recipients */
	size_t		 nrcpt;
	int64_t		 at;		/* time_now_ms() when it started */
	int		 done;		/* answered or cancelled */
};

void	fakefetch_start(void);
void	fakefetch_stop(void);
/* Requests started so far (answered ones included), oldest first. */
size_t	fakefetch_count(void);
struct fakefetch_req *fakefetch_get(size_t i);
/* Those not answered yet. */
size_t	fakefetch_pending(void);
/*
 * Answers the oldest pending request: STATUS with BODY (NULL: ""), or,
 * with STATUS 0, the transport error BODY ("Connection refused").
 * RETRY_AFTER_MS as a Retry-After header.  Returns its index, -1 if none.
 */
int	fakefetch_answer(long status, const char *body, int64_t retry_after_ms);
/* fakefetch_answer() for the oldest pending request whose URL or body holds NEEDLE. */
int	fakefetch_answer_to(const char *needle, long status, const char *body,
	    int64_t retry_after_ms);
/* Answers every pending request 200 with BODY; how many. */
int	fakefetch_answer_all(const char *body);

#endif
