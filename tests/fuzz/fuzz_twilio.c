/*
 * Twilio's form body and its signature check (parse/smsin.c).  The input
 * is body 0xff url 0xff signature.
 */
#include "parse/smsin.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smsin_form	 form = { NULL, 0 };
	char			*body = fuzz_part(data, size, 0);
	char			*url = fuzz_part(data, size, 1);
	char			*sig = fuzz_part(data, size, 2);

	if (smsin_form_parse(body, strlen(body), &form) == 0) {
		smsin_form_get(&form, "Body");
		smsin_twilio_valid(url[0] ? url : "https://dutyd.example/api/v1/sms/twilio",
		    &form, "0123456789abcdef", sig);
	}
	smsin_form_free(&form);
	/* The raw bytes as a form too, NULs and all. */
	if (smsin_form_parse((const char *)data, size, &form) == 0)
		smsin_twilio_valid(url, &form, "0123456789abcdef", "");
	smsin_form_free(&form);
	free(body);
	free(url);
	free(sig);
	return 0;
}
