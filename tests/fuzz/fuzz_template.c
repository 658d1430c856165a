/*
 * Message templates (config/template.c) and SMS fitting (notify/smsfit.c).
 * The input is template 0xff value 0xff url 0xff hint.
 */
#include "config/template.h"
#include "notify/smsfit.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl_vars	 vars;
	struct tmpl		*t = NULL;
	char			*src = fuzz_part(data, size, 0);
	char			*val = fuzz_part(data, size, 1);
	char			*url = fuzz_part(data, size, 2);
	char			*hint = fuzz_part(data, size, 3);
	char			*out, err[TMPL_ERR_MAX];
	size_t			 off, i;
	int			 max = size > 0 ? data[0] % 5 + 1 : 1;

	for (i = 0; i < TMPL_NVARS; i++)
		vars.v[i] = i % 3 == 0 ? NULL : val;
	if (tmpl_compile(src, &t, &off, err, sizeof(err)) == 0) {
		if ((out = tmpl_render(t, &vars)) != NULL) {
			if (smsfit_message(max, url[0] ? url : NULL, hint,
			    &out) == 0 && smsfit_segments(out) > max &&
			    smsfit_segments(hint) < max)
				abort();	/* fitted means it fits */
			free(out);
		}
		tmpl_free(t);
	}
	smsfit_units(src, NULL);
	if ((out = smsfit_cut(src, max)) != NULL) {
		if (smsfit_segments(out) > max)
			abort();
		free(out);
	}
	free(src);
	free(val);
	free(url);
	free(hint);
	return 0;
}
