/*
 * A plugin from a future dutyd: everything is in place except the ABI
 * number, so only the ABI check can refuse it.
 */
#include <errno.h>

#include "plugin.h"

static int
badabi_configure(const struct dutyd_option *opts, size_t nopts, void **state,
    struct dutyd_error *err)
{
	*state = NULL;
	return 0;
}

static void
badabi_release(void *state)
{
}

static int
badabi_build(void *state, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	return -ENOSYS;
}

static int
badabi_parse(void *state, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	return -ENOSYS;
}

const struct dutyd_plugin dutyd_plugin = {
	.abi = 999,
	.size = sizeof(struct dutyd_plugin),
	.name = "badabi",
	.description = "test plugin with a wrong ABI number",
	.configure = badabi_configure,
	.release = badabi_release,
	.build = badabi_build,
	.parse = badabi_parse,
};
