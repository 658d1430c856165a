/*
 * HTTP requests as a connection feeds them (parse/httpreq.c): the input
 * cut into pieces of a size its first byte chooses, every request read
 * and the next one started, as conn.c does.
 */
#include "parse/httpreq.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpreq		*r;
	enum httpreq_event	 ev;
	const char		*p = (const char *)data + 1;
	size_t			 left = size > 0 ? size - 1 : 0, piece, used, i;
	size_t			 step = size > 0 ? (size_t)data[0] % 64 + 1 : 1;

	if ((r = httpreq_new()) == NULL)
		return 0;
	while (left > 0) {
		piece = left < step ? left : step;
		ev = httpreq_feed(r, p, piece, &used);
		if (used > piece)
			abort();
		p += used;
		left -= used;
		if (ev == HTTPREQ_ERROR) {
			if (httpreq_status(r) < 400 || httpreq_why(r)[0] == '\0')
				abort();	/* a refusal always says what and why */
			break;
		}
		if (ev == HTTPREQ_DONE) {
			size_t len;

			httpreq_method(r);
			httpreq_url(r);
			httpreq_body(r, &len);
			for (i = 0; i < httpreq_nheaders(r); i++)
				if (httpreq_header_name(r, i) == NULL)
					abort();
			httpreq_keep_alive(r);
			httpreq_next(r);
		} else if (ev == HTTPREQ_HEAD)
			httpreq_expects_continue(r);
		else if (ev == HTTPREQ_MORE && used == 0)
			break;
	}
	httpreq_free(r);
	return 0;
}
