/*
 * Channel plugins: a plugin is DIR/NAME.so exporting DUTYD_PLUGIN_SYMBOL.
 * Everything about it is checked before the daemon calls into it, because a
 * stale .so from an older build is the usual way this goes wrong.
 *
 * The dynamic loader matches an already loaded object by name first, so
 * dlopen(path) after an upgrade replaced the file would hand back the old
 * code on a reload.  So plugins are kept here by file (device and inode):
 * an unchanged one is shared, a replaced one is loaded anew, through its
 * descriptor (/proc/self/fd/N), while the previous config (and its
 * deliveries in flight) keeps the old one.  The descriptor stays open as
 * long as its object is loaded, so no two loaded objects have one name.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/channel.h"

#define CHANNEL_NAME_MAX	64

struct channel_plugin {
	TAILQ_ENTRY(channel_plugin) entry;
	void			*handle;
	int			 fd;		/* the file dlopen() read, kept open */
	dev_t			 dev;
	ino_t			 ino;
	int			 refs;		/* configs using it */
	const struct dutyd_plugin *abi;
};

static TAILQ_HEAD(, channel_plugin) channel_loaded =
    TAILQ_HEAD_INITIALIZER(channel_loaded);

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
	char *path = NULL, byfd[64];
	const char *why;
	struct stat st;
	void *h = NULL;
	int r, fd = -1;

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
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		r = -errno;
		snprintf(err, errlen, "cannot load channel plugin '%s' from %s: "
		    "%s; check plugin_dir and that the plugin is built (make)",
		    name, path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == 0) {
		TAILQ_FOREACH(cp, &channel_loaded, entry)
			if (cp->dev == st.st_dev && cp->ino == st.st_ino)
				break;
		if (cp != NULL) {
			cp->refs++;
			close(fd);
			free(path);
			*out = cp;
			return 0;
		}
	} else
		memset(&st, 0, sizeof(st));
	snprintf(byfd, sizeof(byfd), "/proc/self/fd/%d", fd);
	if ((h = dlopen(byfd, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(err, errlen, "cannot load channel plugin '%s' from %s: "
		    "%s; check plugin_dir and that the plugin is built (make)",
		    name, path, why ? why : "unknown error");
		/* There but unloadable (missing symbol, wrong arch) is not ENOENT. */
		r = -ENOEXEC;
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
	cp->fd = fd;
	cp->dev = st.st_dev;
	cp->ino = st.st_ino;
	cp->refs = 1;
	cp->abi = p;
	TAILQ_INSERT_TAIL(&channel_loaded, cp, entry);
	free(path);
	*out = cp;
	return 0;
 fail:
	if (h != NULL)
		dlclose(h);
	if (fd != -1)
		close(fd);
	free(path);
	return r;
}

void
channel_plugin_close(struct channel_plugin *cp)
{
	char byfd[64];
	void *still;

	if (cp == NULL || --cp->refs > 0)
		return;
	TAILQ_REMOVE(&channel_loaded, cp, entry);
	dlclose(cp->handle);
	/*
	 * An object the loader keeps (RTLD_NODELETE, or unique symbols)
	 * keeps its name too: the descriptor then stays open, so the next
	 * plugin opened cannot get the same /proc/self/fd name.
	 */
	snprintf(byfd, sizeof(byfd), "/proc/self/fd/%d", cp->fd);
	if ((still = dlopen(byfd, RTLD_NOW | RTLD_NOLOAD)) != NULL)
		dlclose(still);
	else
		close(cp->fd);
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
