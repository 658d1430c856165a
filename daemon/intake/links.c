/*
 * links.c: one-tap links (一键确认).  The key that signs them, the URL put
 * into messages, and the two requests a link makes: GET shows what the
 * button will do and changes nothing (chat apps and mail scanners fetch
 * links on their own), POST from the button acts, once.
 *
 * Tokens and pages are acklink.c's; changes are incident.c's.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "parse/acklink.h"
#include "config/config.h"
#include "intake/http.h"
#include "state/incident.h"
#include "state/incview.h"
#include "intake/links.h"
#include "base/log.h"
#include "base/timeutil.h"

#define LINKS_KEY_LEN	32
#define LINKS_KEY_FILE	"links.key"
#define HTML_TYPE	"text/html; charset=utf-8"

static unsigned char	links_key[LINKS_KEY_LEN];
static int		links_have_key;

/* The key --------------------------------------------------------------- */

static int
links_read_key(int fd, const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	ssize_t		 n;
	size_t		 got = 0;

	if (fstat(fd, &st) == -1) {
		int e = errno;

		snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != LINKS_KEY_LEN) {
		snprintf(err, errlen, "%s is %s%lld bytes, not the %d random bytes "
		    "of dutyd's link key: it was damaged or replaced. Delete it "
		    "and start dutyd again to make a new key (one-tap links "
		    "already sent will then stop working)", path,
		    S_ISREG(st.st_mode) ? "" : "not a regular file, ",
		    (long long)st.st_size, LINKS_KEY_LEN);
		return -EINVAL;
	}
	while (got < LINKS_KEY_LEN) {
		n = read(fd, links_key + got, LINKS_KEY_LEN - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n == 0 ? EIO : errno;

			snprintf(err, errlen, "cannot read %s: %s", path,
			    strerror(e));
			return -e;
		}
		got += (size_t)n;
	}
	return 0;
}

/* Written whole to a temporary name and renamed: a crash leaves no short key. */
static int
links_make_key(const char *state_dir, const char *path, char *err,
    size_t errlen)
{
	char	 tmp[4096 + 8];
	int	 fd, dfd, e;
	size_t	 done = 0;
	ssize_t	 n;

	if (RAND_bytes(links_key, LINKS_KEY_LEN) != 1) {
		snprintf(err, errlen, "cannot make the link key %s: OpenSSL has no "
		    "random bytes (is /dev/urandom available?)", path);
		return -EIO;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		goto fail;
	while (done < LINKS_KEY_LEN) {
		n = write(fd, links_key + done, LINKS_KEY_LEN - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail_fd;
		}
		done += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail_fd;
	}
	if (rename(tmp, path) == -1)
		goto fail;
	/* The rename must survive a power cut too, or links die with it. */
	if ((dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
fail_fd:
	e = errno;
	if (fd != -1)
		close(fd);
	errno = e;
fail:
	e = errno;
	(void)unlink(tmp);
	OPENSSL_cleanse(links_key, sizeof(links_key));
	snprintf(err, errlen, "cannot create the link key %s: %s; check that "
	    "state_dir is writable by dutyd", path, strerror(e));
	return -e;
}

int
links_init(const char *state_dir, char *err, size_t errlen)
{
	char	 path[4096];
	int	 fd, rc;

	links_shutdown();
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir,
	    LINKS_KEY_FILE) >= sizeof(path)) {
		snprintf(err, errlen, "state_dir %s is too long a path", state_dir);
		return -ENAMETOOLONG;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "cannot open the link key %s: %s; "
			    "check its owner and mode (0600, dutyd's user)", path,
			    strerror(-rc));
			return rc;
		}
		if ((rc = links_make_key(state_dir, path, err, errlen)) != 0)
			return rc;
	} else {
		rc = links_read_key(fd, path, err, errlen);
		close(fd);
		if (rc != 0) {
			OPENSSL_cleanse(links_key, sizeof(links_key));
			return rc;
		}
	}
	links_have_key = 1;
	return 0;
}

void
links_shutdown(void)
{
	OPENSSL_cleanse(links_key, sizeof(links_key));
	links_have_key = 0;
}

char *
links_url(const struct config *cf, const char *incident, const char *person,
    char action)
{
	char	 token[ACKLINK_TOKEN_MAX + 1], *url;
	int	 rc;

	if (!links_have_key) {
		errno = ENOKEY;
		return NULL;
	}
	if ((rc = acklink_make(links_key, sizeof(links_key), incident, person,
	    action, time_now_ms() + cf->links.ttl_ms, token,
	    sizeof(token))) != 0) {
		errno = -rc;
		return NULL;
	}
	if (asprintf(&url, "%s/a/%s", cf->public_url, token) == -1) {
		errno = ENOMEM;
		return NULL;
	}
	return url;
}

/* The requests ------------------------------------------------------------ */

static void
links_page(struct http_call *call, int status, char *page)
{
	/* The URL is a credential: keep it out of Referer headers. */
	http_set_header(call, "Referrer-Policy", "no-referrer");
	if (page == NULL)
		http_reply_as(call, 503, HTML_TYPE, "<!DOCTYPE html><meta "
		    "charset=\"utf-8\"><p>服务器内存不足，请稍后重试。</p>");
	else
		http_reply_as(call, status, HTML_TYPE, page);
	free(page);
}

static void
links_error(struct http_call *call, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
links_error(struct http_call *call, int status, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	links_page(call, status, acklink_error_page(msg));
}

static void
links_done(struct http_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
links_done(struct http_call *call, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	links_page(call, 200, acklink_done_page(msg));
}

/* "11月28日 14:05": a page read on a phone at night. */
static const char *
links_time(int64_t ms, char *buf, size_t len)
{
	if (time_local(ms, "%m月%d日 %H:%M", buf, len)[0] == '\0')
		snprintf(buf, len, "-");
	return buf;
}

static const char *
links_verb(char action)
{
	switch (action) {
	case 'A':
		return "确认";
	case 'F':
		return "记录书面报告已报送";
	default:
		return "标记处置完毕";
	}
}

/*
 * The link's incident and person, or NULL with the answer sent: altered
 * (403), expired (410), unknown incident (404), person no longer
 * configured (403).
 */
static struct incident *
links_open(struct http_call *call, struct acklink *l,
    const struct config_person **person)
{
	const struct config	*cf = config_current();
	struct incident		*inc;
	char			 when[64];
	int			 rc;

	if (!links_have_key) {
		links_error(call, 503, "一键确认暂不可用（链接密钥未加载）。请登录值班"
		    "系统操作，或回复通知短信。");
		return NULL;
	}
	memset(l, 0, sizeof(*l));
	rc = acklink_verify(links_key, sizeof(links_key), call->param,
	    time_now_ms(), l);
	if (rc == -ETIMEDOUT) {
		links_error(call, 410, "此链接已于 %s 过期（事件 %s）。请登录值班系统"
		    "操作，或回复通知短信。", links_time(l->expiry_ms, when,
		    sizeof(when)), l->incident);
		return NULL;
	}
	if (rc == -ENOMEM) {
		links_page(call, 503, NULL);
		return NULL;
	}
	if (rc != 0) {
		log_debug("links: refused an altered or malformed token from %s",
		    http_peer(call));
		links_error(call, 403, "此链接无效：不完整或被改动过。请从通知消息中"
		    "重新打开完整链接，或登录值班系统操作。");
		return NULL;
	}
	if ((inc = incident_find(l->incident)) == NULL) {
		links_error(call, 404, "找不到事件 %s（可能已超过保存期限）。请登录"
		    "值班系统查看。", l->incident);
		return NULL;
	}
	if ((*person = config_person(cf, l->person)) == NULL) {
		links_error(call, 403, "此链接所属的值班人员（%s）已不在配置中，链接"
		    "不再有效。请登录值班系统操作。", l->person);
		return NULL;
	}
	return inc;
}

/* What the link was for is done already: say by whom, and change nothing. */
static int
links_already(struct http_call *call, struct incident *inc, char action)
{
	const struct incident_mark	*m;
	char				 when[64];

	if (inc->state == INCIDENT_RESOLVED && action != 'R') {
		m = &inc->resolved;
		links_error(call, 409, "事件 %s 已由%s于 %s 处置完毕，无需再%s。",
		    inc->id, incview_who(m), links_time(m->at, when, sizeof(when)),
		    links_verb(action));
		return 1;
	}
	m = action == 'A' ? &inc->ack : action == 'F' ? &inc->filed :
	    &inc->resolved;
	if (m->at == 0)
		return 0;
	links_done(call, "事件 %s 已由%s于 %s %s，无需再次操作。", inc->id,
	    incview_who(m), links_time(m->at, when, sizeof(when)),
	    links_verb(action));
	return 1;
}

void
links_get(struct http_call *call)
{
	const struct config_person	*person;
	struct acklink_summary		 s;
	struct acklink			 l;
	struct incident			*inc;
	char				 occurred[64];
	int64_t				 at;

	if ((inc = links_open(call, &l, &person)) == NULL ||
	    links_already(call, inc, l.action))
		return;
	memset(&s, 0, sizeof(s));
	s.incident = inc->id;
	s.title = json_string_value(json_object_get(inc->report, "title"));
	s.office = inc->office_name != NULL ? inc->office_name : inc->office;
	s.level = json_string_value(json_object_get(inc->report, "level"));
	if (time_parse(json_string_value(json_object_get(inc->report,
	    "occurred_at")), &at) == 0)
		s.occurred = links_time(at, occurred, sizeof(occurred));
	s.person = person->name;
	links_page(call, 200, acklink_page(&s, call->param, l.action));
}

void
links_post(struct http_call *call)
{
	const struct config_person	*person;
	struct acklink			 l;
	struct incident			*inc;
	char				 when[64];
	int				 changed = 0, rc;

	if ((inc = links_open(call, &l, &person)) == NULL ||
	    links_already(call, inc, l.action))
		return;
	switch (l.action) {
	case 'A':
		rc = incident_acknowledge(inc, person->id, "一键确认", &changed);
		break;
	case 'F':
		rc = incident_file_report(inc, person->id, NULL, &changed);
		break;
	default:
		rc = incident_resolve(inc, person->id, "一键确认", &changed);
		break;
	}
	if (rc != 0) {
		log_errorx("links: incident %s could not be %s by %s through a "
		    "link: the audit log cannot be written (%s)", inc->id,
		    l.action == 'A' ? "acknowledged" : l.action == 'F' ?
		    "marked as written-report filed" : "resolved", person->id,
		    strerror(-rc));
		links_error(call, 503, "未能保存（值班日志暂时无法写入）。请稍后重试，"
		    "或电话联系值班室。");
		return;
	}
	if (changed)
		log_info("incident %s %s by %s through a one-tap link", inc->id,
		    l.action == 'A' ? "acknowledged" : l.action == 'F' ?
		    "marked as written-report filed" : "resolved", person->id);
	links_done(call, "已%s事件 %s（%s），记录时间 %s，操作人 %s。",
	    links_verb(l.action), inc->id,
	    json_string_value(json_object_get(inc->report, "title")) != NULL ?
	    json_string_value(json_object_get(inc->report, "title")) : "",
	    links_time(time_now_ms(), when, sizeof(when)), person->name);
}
