/*
 * What a person writes in an SMS: reply codes (3A, 确认 …), reports and
 * follow-ups, and phone numbers (parse/smsin.c).
 */
#include "parse/smsin.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smsin_reply	 cmd;
	struct smsin_report	 rep;
	char			*s = fuzz_cstr(data, size), phone[SMSIN_PHONE_MAX];

	smsin_reply_parse(s, &cmd);
	memset(&rep, 0, sizeof(rep));
	if (smsin_report_parse(s, INT64_C(1795848035123), 8 * 3600, &rep) == 0)
		smsin_report_free(&rep);
	memset(&rep, 0, sizeof(rep));
	if (smsin_report_parse(s, 0, -12 * 3600, &rep) == 0)
		smsin_report_free(&rep);
	smsin_phone_normalize(s, phone, sizeof(phone));
	free(s);
	return 0;
}
