/*
 * One-tap link tokens (parse/linktoken.c): any text opened as a short
 * token and as a token of before 0.2, and round trips of both.
 */
#include "parse/linktoken.h"
#include "fuzz.h"

static const unsigned char key[32] = "fuzz-key-fuzz-key-fuzz-key-0123";

#define FUZZ_NOW	INT64_C(1795848035123)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linktoken	 t;
	char			*s = fuzz_cstr(data, size);
	char			*inc = fuzz_part(data, size, 0);
	char			*who = fuzz_part(data, size, 1);
	char			 tok[LINKTOKEN_TOKEN_MAX + 1];
	char			 stub[LINKTOKEN_STUB_LEN + 1], back[LINKTOKEN_STUB_LEN + 1];
	unsigned char		 rnd[LINKTOKEN_ID_LEN] = { 0 };
	int64_t			 expiry;

	linktoken_open(key, sizeof(key), s, FUZZ_NOW, back, &expiry);
	linktoken_stub_expiry(s, &expiry);
	linktoken_v1_verify(key, sizeof(key), s, FUZZ_NOW, &t);
	/* A short token made from the input's first bytes opens as made. */
	memcpy(rnd, data, size < sizeof(rnd) ? size : sizeof(rnd));
	if (linktoken_stub(rnd, FUZZ_NOW + 60000, stub) == 0 &&
	    (linktoken_sign(key, sizeof(key), stub, tok) != 0 ||
	    linktoken_open(key, sizeof(key), tok, FUZZ_NOW, back, &expiry) != 0 ||
	    strcmp(back, stub) != 0))
		abort();
	if (linktoken_v1_make(key, sizeof(key), inc, who, 'A', FUZZ_NOW + 1, tok,
	    sizeof(tok)) == 0 &&
	    (linktoken_v1_verify(key, sizeof(key), tok, FUZZ_NOW, &t) != 0 ||
	    strcmp(t.incident, inc) != 0 || strcmp(t.person, who) != 0 ||
	    t.action != 'A'))
		abort();	/* a token made must verify as made */
	free(s);
	free(inc);
	free(who);
	return 0;
}
