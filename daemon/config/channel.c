/*
 * Channel plugins: a plugin is DIR/NAME.so exporting DUTYD_PLUGIN_SYMBOL.
 * Everything about it is checked before the daemon calls into it, because a
 * stale .so from an older build is the usual way this goes wrong.
 */
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/channel.h"

#define CHANNEL_NAME_MAX	64

struct channel_plugin {
	void			*handle;
	const struct dutyd_plugin *abi;
};

static int
channel_name_ok(const char *name)
{
	size_t i;
	char c;

	for (i = 0; (c = name[i]) != '\0'; i++) {
		if (i >= CHANNEL_NAME_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return 0;
	}
	return i > 0;
}

int
channel_plugin_open(const char *dir, const char *name,
    struct channel_plugin **out, char *err, size_t errlen)
{
	struct channel_plugin *cp = NULL;
	const struct dutyd_plugin *p;
	char *path = NULL;
	const char *why;
	struct stat st;
	void *h = NULL;
	int r;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (name == NULL || !channel_name_ok(name)) {
		snprintf(err, errlen, "bad channel plugin name '%s': use 1 to %d "
		    "of a-z, 0-9, '_' and '-' (the file name without .so)",
		    name ? name : "(null)", CHANNEL_NAME_MAX);
		return -EINVAL;
	}
	if (dir == NULL || dir[0] == '\0')
		dir = ".";
	if (asprintf(&path, "%s/%s.so", dir, name) == -1) {
		snprintf(err, errlen, "cannot load channel plugin '%s': "
		    "out of memory", name);
		return -ENOMEM;
	}
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(err, errlen, "cannot load channel plugin '%s' from %s: "
		    "%s; check plugin_dir and that the plugin is built (make)",
		    name, path, why ? why : "unknown error");
		/* There but unloadable (missing symbol, wrong arch) is not ENOENT. */
		r = stat(path, &st) == 0 ? -ENOEXEC : -ENOENT;
		goto fail;
	}
	dlerror();
	p = dlsym(h, DUTYD_PLUGIN_SYMBOL);
	if (p == NULL) {
		snprintf(err, errlen, "%s is not a dutyd channel plugin: it does "
		    "not export '%s'; check plugin_dir", path,
		    DUTYD_PLUGIN_SYMBOL);
		r = -EPROTO;
		goto fail;
	}
	if (p->abi != DUTYD_PLUGIN_ABI) {
		snprintf(err, errlen, "plugin %s was built for ABI %u, this "
		    "dutyd speaks ABI %d: rebuild the plugin (%s)", name,
		    (unsigned)p->abi, DUTYD_PLUGIN_ABI, path);
		r = -EPROTO;
		goto fail;
	}
	if (p->size < sizeof(struct dutyd_plugin)) {
		snprintf(err, errlen, "plugin %s declares a %u-byte plugin "
		    "struct, this dutyd needs %zu: rebuild the plugin (%s)",
		    name, (unsigned)p->size, sizeof(struct dutyd_plugin), path);
		r = -EPROTO;
		goto fail;
	}
	if (p->configure == NULL || p->release == NULL || p->build == NULL ||
	    p->parse == NULL) {
		snprintf(err, errlen, "plugin %s (%s) leaves configure, release, "
		    "build or parse unset: fix and rebuild the plugin",
		    name, path);
		r = -EPROTO;
		goto fail;
	}
	if (p->name == NULL || strcmp(p->name, name) != 0) {
		snprintf(err, errlen, "%s calls itself '%s', not '%s': rename "
		    "the file or fix the plugin's name", path,
		    p->name ? p->name : "(null)", name);
		r = -EPROTO;
		goto fail;
	}
	if ((cp = calloc(1, sizeof(*cp))) == NULL) {
		snprintf(err, errlen, "cannot load channel plugin '%s': "
		    "out of memory", name);
		r = -ENOMEM;
		goto fail;
	}
	cp->handle = h;
	cp->abi = p;
	free(path);
	*out = cp;
	return 0;
 fail:
	if (h != NULL)
		dlclose(h);
	free(path);
	return r;
}

void
channel_plugin_close(struct channel_plugin *cp)
{
	if (cp == NULL)
		return;
	dlclose(cp->handle);
	free(cp);
}

const struct dutyd_plugin *
channel_plugin_abi(const struct channel_plugin *cp)
{
	return cp->abi;
}

void
channel_request_clear(struct dutyd_request *req)
{
	size_t i;

	if (req == NULL)
		return;
	free(req->url);
	/* Every slot, not just nheaders: build() may fail halfway. */
	for (i = 0; i < DUTYD_MAX_HEADERS; i++)
		free(req->headers[i]);
	for (i = 0; i < DUTYD_MAX_RCPT; i++)
		free(req->mail_rcpt[i]);
	free(req->body);
	free(req->mail_from);
	free(req->username);
	if (req->password != NULL) {
		explicit_bzero(req->password, strlen(req->password));
		free(req->password);
	}
	memset(req, 0, sizeof(*req));
}
