/* One-tap link tokens (parse/linktoken.c): any text, and round trips. */
#include "parse/linktoken.h"
#include "fuzz.h"

static const unsigned char key[32] = "fuzz-key-fuzz-key-fuzz-key-0123";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linktoken	 t;
	char			*s = fuzz_cstr(data, size);
	char			*inc = fuzz_part(data, size, 0);
	char			*who = fuzz_part(data, size, 1);
	char			 tok[LINKTOKEN_TOKEN_MAX + 1];

	linktoken_verify(key, sizeof(key), s, INT64_C(1795848035123), &t);
	if (linktoken_make(key, sizeof(key), inc, who, 'A',
	    INT64_C(1795848035123) + 1, tok, sizeof(tok)) == 0 &&
	    (linktoken_verify(key, sizeof(key), tok, INT64_C(1795848035123),
	    &t) != 0 || strcmp(t.incident, inc) != 0 ||
	    strcmp(t.person, who) != 0 || t.action != 'A'))
		abort();	/* a token made must verify as made */
	free(s);
	free(inc);
	free(who);
	return 0;
}
