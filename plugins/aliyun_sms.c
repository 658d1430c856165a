/*
 * aliyun_sms: SMS through Alibaba Cloud Dysmsapi SendSms (RPC style,
 * signature version 1.0).  Every parameter goes into a form body:
 *
 *   StringToSign = "POST&%2F&" + enc(k1=v1&k2=v2... sorted by name, each
 *                  name and value enc()oded)
 *   Signature    = base64(HMAC-SHA1(key = access_key_secret + "&",
 *                                   StringToSign))
 *
 * where enc() leaves only A-Z a-z 0-9 - _ . ~ as they are (curl_easy_escape
 * does exactly that).  Mainland China only sends approved templates, so the
 * incident travels as the template's variables, not as free text.
 *
 * Options: access_key_id, access_key_secret, sign_name, template_code
 * (required), url (default https://dysmsapi.aliyuncs.com/), region_id
 * (default cn-hangzhou).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "plugin.h"
#include "pluglib.h"

#define ALIYUN_DEFAULT_URL	"https://dysmsapi.aliyuncs.com/"
#define ALIYUN_DEFAULT_REGION	"cn-hangzhou"
#define ALIYUN_VAR_CHARS	20	/* Aliyun's limit for a template variable */
#define ALIYUN_PHONE_MAX	32
#define ALIYUN_QUOTE		160	/* bytes of a vendor message quoted in a detail */
#define ALIYUN_RETRY_MS		60000	/* flow control: try again in a minute */
#define ALIYUN_NPARAMS		15
#define ALIYUN_EMPTY		"set it, or remove the line"

struct aliyun {
	char		*url;
	char		*key_id;
	char		*secret;
	char		*sign_name;
	char		*template_code;
	char		*region;
	EVP_MAC_CTX	*hmac;	/* keyed once with secret + "&" */
};

enum { OPT_KEY_ID, OPT_SECRET, OPT_SIGN, OPT_TEMPLATE, OPT_URL, OPT_REGION,
    OPT_N };
#define OPT_NREQUIRED	OPT_URL
static const struct pluglib_key aliyun_keys[OPT_N] = {
	{ "access_key_id", ALIYUN_EMPTY, NULL, NULL },
	{ "access_key_secret", ALIYUN_EMPTY, NULL, NULL },
	{ "sign_name", ALIYUN_EMPTY, NULL, NULL },
	{ "template_code", ALIYUN_EMPTY, NULL, NULL },
	{ "url", ALIYUN_EMPTY, NULL, NULL },
	{ "region_id", ALIYUN_EMPTY, NULL, NULL },
};

/*
 * Codes that mean the message will never go out as configured: wrong keys,
 * an unapproved signature or template, a bad number, no money, no
 * permission.  https://help.aliyun.com/document_detail/101346.html
 * Anything not listed (isp.SYSTEM_ERROR, isv.DAY_LIMIT_CONTROL,
 * InvalidTimeStamp.Expired, SignatureNonceUsed, ...) is retried.
 */
static const char *const aliyun_permanent[] = {
	"InvalidAccessKeyId.NotFound",
	"InvalidAccessKeyId.Inactive",
	"SignatureDoesNotMatch",
	"isp.RAM_PERMISSION_DENY",
	"isv.ACCOUNT_ABNORMAL",
	"isv.ACCOUNT_NOT_EXISTS",
	"isv.AMOUNT_NOT_ENOUGH",
	"isv.BLACK_KEY_CONTROL_LIMIT",
	"isv.DENY_IP_RANGE",
	"isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
	"isv.EXTEND_CODE_ERROR",
	"isv.INVALID_JSON_PARAM",
	"isv.INVALID_PARAMETERS",
	"isv.MOBILE_COUNT_OVER_LIMIT",
	"isv.MOBILE_NUMBER_ILLEGAL",
	"isv.OUT_OF_SERVICE",
	"isv.PARAM_LENGTH_LIMIT",
	"isv.PARAM_NOT_SUPPORT_URL",
	"isv.PRODUCT_UNSUBSCRIBE",
	"isv.PRODUCT_UN_SUBSCRIPT",
	"isv.SMS_CONTENT_ILLEGAL",
	"isv.SMS_SIGNATURE_ILLEGAL",
	"isv.SMS_SIGNATURE_SCENE_ILLEGAL",
	"isv.SMS_SIGN_ILLEGAL",
	"isv.SMS_TEMPLATE_ILLEGAL",
	"isv.TEMPLATE_MISSING_PARAMETERS",
	"isv.TEMPLATE_PARAMS_ILLEGAL",
};

static void
aliyun_release(void *arg)
{
	struct aliyun *a = arg;

	if (a == NULL)
		return;
	free(a->url);
	free(a->key_id);
	free(a->sign_name);
	free(a->template_code);
	free(a->region);
	EVP_MAC_CTX_free(a->hmac);
	pluglib_free_secret(a->secret);
	free(a);
}

/* Checks each option on its own; val[k] is set, idx[k] is its index. */
static int
aliyun_check(const char *const *val, const int *idx, struct dutyd_error *err)
{
	int r;

	if (!pluglib_printable(val[OPT_KEY_ID], 128)) {
		pluglib_error(err, idx[OPT_KEY_ID], "access_key_id must be one "
		    "word without spaces, e.g. LTAI5t...: copy it from the "
		    "RAM console (AccessKey management)");
		return -EINVAL;
	}
	if (!pluglib_printable(val[OPT_SECRET], 256)) {
		pluglib_error(err, idx[OPT_SECRET], "access_key_secret must be "
		    "one word without spaces: copy it from the RAM console, "
		    "where it is shown once when the AccessKey is made");
		return -EINVAL;
	}
	if (strpbrk(val[OPT_SIGN], "\r\n\t") != NULL ||
	    strlen(val[OPT_SIGN]) > 256) {
		pluglib_error(err, idx[OPT_SIGN], "sign_name must be the "
		    "approved SMS signature exactly as the SMS console shows "
		    "it, on one line");
		return -EINVAL;
	}
	if (!pluglib_word(val[OPT_TEMPLATE], 64, "_")) {
		pluglib_error(err, idx[OPT_TEMPLATE], "template_code must be "
		    "the approved template's code from the SMS console, e.g. "
		    "SMS_154950909");
		return -EINVAL;
	}
	if (val[OPT_URL] != NULL && (r = pluglib_url_option(val[OPT_URL],
	    idx[OPT_URL], pluglib_http_schemes, PLUGLIB_URL_LOGIN, "url must "
	    "be an http:// or https:// address with a host and no spaces; "
	    "leave it out to use " ALIYUN_DEFAULT_URL, err)) < 0)
		return r;
	if (val[OPT_REGION] != NULL &&
	    !pluglib_word(val[OPT_REGION], 64, "-")) {
		pluglib_error(err, idx[OPT_REGION], "region_id must look like "
		    "cn-hangzhou (letters, digits and '-'); leave it out to "
		    "use %s", ALIYUN_DEFAULT_REGION);
		return -EINVAL;
	}
	return 0;
}

static int
aliyun_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	const char *val[OPT_N];
	int idx[OPT_N];
	struct aliyun *a;
	char missing[128];
	int r;

	*state = NULL;
	if ((r = pluglib_options("aliyun_sms", aliyun_keys, OPT_N, opts, nopts,
	    val, idx, err)) < 0)
		return r;
	if (pluglib_missing(aliyun_keys, OPT_NREQUIRED, val, missing,
	    sizeof(missing)) > 0) {
		pluglib_error(err, -1, "the aliyun_sms channel needs "
		    "access_key_id, access_key_secret, sign_name and "
		    "template_code (all from the Aliyun SMS console); "
		    "missing: %s", missing);
		return -EINVAL;
	}
	if ((r = aliyun_check(val, idx, err)) < 0)
		return r;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->url = strdup(val[OPT_URL] ? val[OPT_URL] :
	    ALIYUN_DEFAULT_URL)) == NULL ||
	    (a->key_id = strdup(val[OPT_KEY_ID])) == NULL ||
	    (a->secret = strdup(val[OPT_SECRET])) == NULL ||
	    (a->sign_name = strdup(val[OPT_SIGN])) == NULL ||
	    (a->template_code = strdup(val[OPT_TEMPLATE])) == NULL ||
	    (a->region = strdup(val[OPT_REGION] ? val[OPT_REGION] :
	    ALIYUN_DEFAULT_REGION)) == NULL) {
		aliyun_release(a);
		pluglib_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	{
		/* Aliyun signs with the secret and "&". */
		const struct pluglib_span key[2] = {
			{ a->secret, strlen(a->secret) }, { "&", 1 },
		};

		if ((a->hmac = pluglib_hmac_new("SHA1", key, 2, err)) ==
		    NULL) {
			r = -errno;
			aliyun_release(a);
			return r;
		}
	}
	*state = a;
	return 0;
}

/*
 * Copy at most ALIYUN_VAR_CHARS characters of s into buf, cutting only
 * between characters, also when buf is too small.
 */
static const char *
aliyun_cut(const char *s, char *buf, size_t len)
{
	size_t n;

	if (s == NULL)
		return "";
	n = pluglib_utf8_cut(s, strlen(s), len - 1, ALIYUN_VAR_CHARS);
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

/* "2026-11-28T14:40:35.123+08:00" -> "11-28 14:40", local time as written. */
static const char *
aliyun_when(const char *s, char *buf, size_t len)
{
	static const char shape[] = "dddd-dd-ddTdd:dd";
	size_t i;

	if (s == NULL || len < 12)
		return "";
	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') :
		    shape[i] == 'T' ? !(s[i] == 'T' || s[i] == 't' ||
		    s[i] == ' ') : s[i] != shape[i])
			return "";
	}
	snprintf(buf, len, "%.5s %.5s", s + 5, s + 11);
	return buf;
}

static int
aliyun_template(const char *incident_json, char **out)
{
	json_t *inc, *tp, *level;
	const char *office;
	char b_office[4 * ALIYUN_VAR_CHARS + 1], b_title[sizeof(b_office)];
	char b_level[sizeof(b_office)], b_id[sizeof(b_office)], b_time[16];
	char num[32];
	const char *lv = NULL;

	*out = NULL;
	if (incident_json == NULL ||
	    (inc = json_loads(incident_json, 0, NULL)) == NULL)
		return -EINVAL;
	if (!json_is_object(inc)) {
		json_decref(inc);
		return -EINVAL;
	}
	if ((office = json_string_value(json_object_get(inc,
	    "office_name"))) == NULL || office[0] == '\0')
		office = json_string_value(json_object_get(inc, "office"));
	level = json_object_get(inc, "level");
	if (json_is_string(level))
		lv = json_string_value(level);
	else if (json_is_integer(level)) {
		snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(level));
		lv = num;
	}
	tp = json_pack("{s:s, s:s, s:s, s:s, s:s}",
	    "office", aliyun_cut(office, b_office, sizeof(b_office)),
	    "title", aliyun_cut(json_string_value(json_object_get(inc,
		"title")), b_title, sizeof(b_title)),
	    "level", aliyun_cut(lv, b_level, sizeof(b_level)),
	    "time", aliyun_when(json_string_value(json_object_get(inc,
		"received_at")), b_time, sizeof(b_time)),
	    "id", aliyun_cut(json_string_value(json_object_get(inc, "id")),
		b_id, sizeof(b_id)));
	json_decref(inc);
	if (tp == NULL)
		return -ENOMEM;
	*out = json_dumps(tp, JSON_COMPACT);
	json_decref(tp);
	return *out == NULL ? -ENOMEM : 0;
}

/*
 * Unique per attempt without randomness: a retry of the same delivery has a
 * later now_ms.  Shaped like the UUID Aliyun's examples use.
 */
static int
aliyun_nonce(const char *delivery_id, int64_t now_ms, char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *in;
	int n;

	if ((n = asprintf(&in, "dutyd\n%s\n%lld", delivery_id,
	    (long long)now_ms)) == -1)
		return -ENOMEM;
	if (EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 16) {
		free(in);
		return -EIO;
	}
	free(in);
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4],
	    md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13],
	    md[14], md[15]);
	return 0;
}

static int
aliyun_timestamp(int64_t now_ms, char *buf, size_t len)
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -EINVAL;
	return 0;
}

struct aliyun_param {
	const char	*name;
	const char	*value;
};

/* "k1=v1&k2=v2...", names and values encoded, in the order given. */
static char *
aliyun_join(const struct aliyun_param *p, size_t n)
{
	char *k[ALIYUN_NPARAMS] = { NULL }, *v[ALIYUN_NPARAMS] = { NULL };
	char *out = NULL, *o;
	size_t i, total = 1;

	for (i = 0; i < n; i++) {
		if ((k[i] = pluglib_escape(p[i].name)) == NULL ||
		    (v[i] = pluglib_escape(p[i].value)) == NULL)
			goto done;
		total += strlen(k[i]) + strlen(v[i]) + 2;
	}
	if ((out = malloc(total)) == NULL)
		goto done;
	o = out;
	for (i = 0; i < n; i++)
		o += sprintf(o, "%s%s=%s", i ? "&" : "", k[i], v[i]);
 done:
	for (i = 0; i < n; i++) {
		free(k[i]);
		free(v[i]);
	}
	return out;
}

static int
aliyun_sign(const struct aliyun *a, const char *canonical, char *b64,
    size_t b64len)
{
	struct pluglib_span in[2] = { { "POST&%2F&", 9 } };
	char *enc;
	int r;

	if ((enc = pluglib_escape(canonical)) == NULL)
		return -ENOMEM;
	in[1].data = enc;
	in[1].len = strlen(enc);
	r = pluglib_hmac_sign(a->hmac, in, 2, PLUGLIB_BASE64, b64, b64len);
	free(enc);
	return r;
}

static int
aliyun_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct aliyun *a = arg;
	const char *to = msg->recipient.to;
	char nonce[40], stamp[32], sig[64], *tparam = NULL, *canon = NULL;
	struct aliyun_param sp[1];
	char *sigpart = NULL;
	int r, n;

	/* A comma would make one message go to several numbers. */
	if (msg->delivery_id == NULL || to == NULL ||
	    !pluglib_printable(to, ALIYUN_PHONE_MAX) || strchr(to, ',') != NULL)
		return -EINVAL;
	if ((r = aliyun_template(msg->incident_json, &tparam)) < 0)
		return r;
	if ((r = aliyun_nonce(msg->delivery_id, msg->now_ms, nonce,
	    sizeof(nonce))) < 0 ||
	    (r = aliyun_timestamp(msg->now_ms, stamp, sizeof(stamp))) < 0)
		goto out;
	{
		/* Sorted by name: the signature is over this order. */
		const struct aliyun_param p[] = {
			{ "AccessKeyId", a->key_id },
			{ "Action", "SendSms" },
			{ "Format", "JSON" },
			{ "OutId", msg->delivery_id },
			{ "PhoneNumbers", to },
			{ "RegionId", a->region },
			{ "SignName", a->sign_name },
			{ "SignatureMethod", "HMAC-SHA1" },
			{ "SignatureNonce", nonce },
			{ "SignatureVersion", "1.0" },
			{ "TemplateCode", a->template_code },
			{ "TemplateParam", tparam },
			{ "Timestamp", stamp },
			{ "Version", "2017-05-25" },
		};

		if ((canon = aliyun_join(p, sizeof(p) / sizeof(p[0]))) == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	if ((r = aliyun_sign(a, canon, sig, sizeof(sig))) < 0)
		goto out;
	sp[0].name = "Signature";
	sp[0].value = sig;
	if ((sigpart = aliyun_join(sp, 1)) == NULL ||
	    (n = asprintf(&req->body, "%s&%s", canon, sigpart)) == -1) {
		req->body = NULL;
		r = -ENOMEM;
		goto out;
	}
	req->body_len = (size_t)n;
	if ((r = pluglib_post(req, a->url)) == 0)
		r = pluglib_headers(req,
		    "Content-Type", "application/x-www-form-urlencoded",
		    "Accept", "application/json", "User-Agent", "dutyd", NULL);
 out:
	free(tparam);
	free(canon);
	free(sigpart);
	return r;
}

static int
aliyun_is_permanent(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(aliyun_permanent) / sizeof(aliyun_permanent[0]);
	    i++)
		if (strcmp(aliyun_permanent[i], code) == 0)
			return 1;
	return 0;
}

static int
aliyun_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	char code[64] = "", text[ALIYUN_QUOTE + 8] = "";
	json_t *o;
	const char *s;

	if (pluglib_parse_start(resp, res))
		return 0;
	o = pluglib_json_load(resp);
	if (json_is_object(o) &&
	    (s = json_string_value(json_object_get(o, "Code"))) != NULL) {
		pluglib_quote(code, sizeof(code), s, strlen(s), 48);
		if ((s = json_string_value(json_object_get(o,
		    strcmp(code, "OK") == 0 ? "BizId" : "Message"))) != NULL)
			pluglib_quote(text, sizeof(text), s, strlen(s),
			    ALIYUN_QUOTE);
	} else if (resp->body != NULL)
		pluglib_quote(text, sizeof(text), resp->body, resp->body_len,
		    ALIYUN_QUOTE);
	json_decref(o);

	if (code[0] == '\0') {
		pluglib_http_detail(res, resp->status, text);
		if (resp->status == 429)
			res->retry_after_ms = pluglib_retry_after(resp,
			    ALIYUN_RETRY_MS);
		return 0;
	}
	if (pluglib_is_2xx(resp->status) && strcmp(code, "OK") == 0) {
		res->outcome = DUTYD_DELIVERED;
		snprintf(res->detail, sizeof(res->detail), "Code OK: BizId %s",
		    text);
		return 0;
	}
	snprintf(res->detail, sizeof(res->detail), "Code %s: %s", code, text);
	if (resp->status == 429 ||
	    strcmp(code, "isv.BUSINESS_LIMIT_CONTROL") == 0 ||
	    strncmp(code, "Throttling", 10) == 0)
		res->retry_after_ms = pluglib_retry_after(resp,
		    ALIYUN_RETRY_MS);
	else if (resp->status < 500 && aliyun_is_permanent(code))
		res->outcome = DUTYD_FAILED;
	return 0;
}

DUTYD_PLUGIN_EXPORT const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "aliyun_sms",
	.description = "SMS through Alibaba Cloud (Aliyun) Dysmsapi SendSms "
	    "with an approved template",
	.configure = aliyun_configure,
	.release = aliyun_release,
	.build = aliyun_build,
	.parse = aliyun_parse,
	.flags = DUTYD_PLUGIN_SMS,
	.rate_per_min = 0,
};
