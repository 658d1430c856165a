/*
 * corefix.c: see corefix.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions/core.h"
#include "actions/desk.h"
#include "actions/incact.h"
#include "actions/smsact.h"
#include "base/timeutil.h"
#include "config/confload.h"
#include "config/config.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "notify/delivery.h"
#include "parse/smsin.h"
#include "state/incident.h"

#ifndef BUILD_PLUGIN_DIR
#error "BUILD_PLUGIN_DIR must be defined (the Makefile does)"
#endif

static char	corefix_dir[64];

static char *
corefix_replace(const char *text, const char *what, const char *with)
{
	const char	*at;
	char		*out;

	if ((at = strstr(text, what)) == NULL)
		return strdup(text);
	if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, with,
	    at + strlen(what)) == -1)
		return NULL;
	return out;
}

static struct config *
corefix_config(const char *yaml)
{
	struct config_diag	 diag = { NULL, 0 };
	struct config		*cf;
	char			 path[128], *text, *full;
	FILE			*f;
	size_t			 i;

	if (corefix_dir[0] == '\0') {
		snprintf(corefix_dir, sizeof(corefix_dir), "/tmp/dutyd-core-XXXXXX");
		assert_non_null(mkdtemp(corefix_dir));
	}
	text = corefix_replace(yaml, "@PLUGINS@", BUILD_PLUGIN_DIR);
	assert_non_null(text);
	assert_true(asprintf(&full, "%s%s%s%s%s%s%s",
	    strstr(text, "listen:") ? "" : "listen: \"127.0.0.1:1\"\n",
	    strstr(text, "state_dir:") ? "" : "state_dir: \"",
	    strstr(text, "state_dir:") ? "" : corefix_dir,
	    strstr(text, "state_dir:") ? "" : "\"\n",
	    strstr(text, "plugin_dir:") ? "" : "plugin_dir: \"" BUILD_PLUGIN_DIR "\"\n",
	    strstr(text, "public_url:") ? "" : "public_url: \"https://duty.example.gov.cn\"\n",
	    text) > 0);
	free(text);
	snprintf(path, sizeof(path), "%s/dutyd.yaml", corefix_dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(full, f);
	fclose(f);
	free(full);
	if ((cf = confload(path, &diag)) == NULL) {
		for (i = 0; i < diag.n; i++)
			print_error("%s\n", diag.lines[i]);
		fail_msg("the test's configuration does not load");
	}
	config_diag_free(&diag);
	return cf;
}

static void
corefix_core(void)
{
	char err[512];

	if (core_start(memstore(), 0, err, sizeof(err)) != 0)
		fail_msg("core_start: %s", err);
}

void
corefix_start(const char *yaml)
{
	memstore_reset();
	fakeclock_start(COREFIX_T0);
	fakefetch_start();
	config_install(corefix_config(yaml));
	time_set_zone(config_current()->tz);
	corefix_core();
}

void
corefix_restart(int64_t down_ms)
{
	core_stop();
	fakefetch_start();	/* transfers in flight died with dutyd */
	fakeclock_start(fakeclock_now() + down_ms);
	corefix_core();
}

void
corefix_reload(const char *yaml)
{
	config_install(corefix_config(yaml));
	time_set_zone(config_current()->tz);
	delivery_reconfigured();
	desk_arm();
}

void
corefix_stop(void)
{
	char path[128];

	core_stop();
	fakefetch_stop();
	fakeclock_stop();
	config_install(NULL);
	time_set_zone(NULL);
	memstore_reset();
	if (corefix_dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/dutyd.yaml", corefix_dir);
		unlink(path);
		rmdir(corefix_dir);
		corefix_dir[0] = '\0';
	}
}

int
corefix_teardown(void **state)
{
	corefix_stop();
	return 0;
}

json_t *
corefix_record(const char *event, const char *incident)
{
	json_t *all = memstore_records(event, incident), *r;

	if (json_array_size(all) != 1)
		fail_msg("%zu %s records for %s, not 1", json_array_size(all),
		    event, incident != NULL ? incident : "-");
	r = json_incref(json_array_get(all, 0));
	json_decref(all);
	return r;
}

struct incident *
corefix_report(const char *office, const char *title)
{
	struct incident	*inc = NULL;
	char		 at[TIME_RFC3339_MAX];
	json_t		*report;

	report = json_pack("{s:s, s:s}", "title", title, "occurred_at",
	    time_format(fakeclock_now(), at, sizeof(at)));
	assert_non_null(report);
	assert_int_equal(incact_report(office, NULL, report, fakeclock_now(),
	    "0", &inc), 0);
	json_decref(report);
	fakeclock_turn();
	return inc;
}

int
corefix_deliver_all(void)
{
	int n = fakefetch_answer_all("ok");

	fakeclock_turn();
	return n;
}

const char *
corefix_sent(const char *event, const char *incident)
{
	static char		 out[1024];
	struct fakefetch_req	*r;
	const char		*ev, *id, *who;
	size_t			 i, len = 0;

	out[0] = '\0';
	for (i = 0; (r = fakefetch_get(i)) != NULL; i++) {
		ev = json_string_value(json_object_get(r->json, "event"));
		id = json_string_value(json_object_get(json_object_get(r->json,
		    "incident"), "id"));
		who = json_string_value(json_object_get(json_object_get(r->json,
		    "recipient"), "id"));
		if (ev == NULL || who == NULL || strcmp(ev, event) != 0 ||
		    (incident != NULL && (id == NULL || strcmp(id, incident) != 0)))
			continue;
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
		    len > 0 ? "," : "", who);
		if (len >= sizeof(out))
			break;
	}
	return out;
}

const char *
corefix_sms_in(const char *id, const char *phone, const char *text)
{
	static char	 out[2048];
	char		*answer = out;	/* smsact_take() must set it, NULL included */

	assert_int_equal(smsact_take(config_current(), "twilio", id, phone,
	    "+861065000000", text, fakeclock_now(), &answer), 0);
	fakeclock_turn();
	if (answer == NULL)
		return NULL;
	snprintf(out, sizeof(out), "%s", answer);
	free(answer);
	return out;
}

const char *
corefix_sms_to(const char *phone)
{
	static char		 out[2048];
	struct fakefetch_req	*r;
	struct smsin_form	 form;
	const char		*to;
	size_t			 i;

	out[0] = '\0';
	for (i = 0; (r = fakefetch_get(i)) != NULL; i++) {
		if (strstr(r->url, "/Messages.json") == NULL)
			continue;
		assert_int_equal(smsin_form_parse(r->body, strlen(r->body),
		    &form), 0);
		if ((to = smsin_form_get(&form, "To")) != NULL &&
		    strcmp(to, phone) == 0)
			snprintf(out, sizeof(out), "%s",
			    smsin_form_get(&form, "Body"));
		smsin_form_free(&form);
	}
	return out;
}
