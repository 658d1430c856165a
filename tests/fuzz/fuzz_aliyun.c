/* Aliyun's SMS uplink batch (parse/smsin.c). */
#include "parse/smsin.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smsin_aliyun_msg	*msgs = NULL;
	char			 why[256];
	size_t			 n = 0;

	if (smsin_aliyun_parse((const char *)data, size, &msgs, &n, why,
	    sizeof(why)) == 0)
		smsin_aliyun_free(msgs, n);
	return 0;
}
