/*
 * routes.c: method, path, who may call it, and the handler: the whole API.
 */
#include "intake/api.h"
#include "intake/console.h"
#include "intake/dirapi.h"
#include "intake/dutylog.h"
#include "intake/handapi.h"
#include "intake/http.h"
#include "intake/metricsapi.h"
#include "intake/oncallapi.h"
#include "intake/onetap.h"
#include "intake/routes.h"
#include "intake/session.h"
#include "intake/smsgw.h"
#include "intake/statsapi.h"
#include "intake/stream.h"
#include "intake/wrapi.h"
#include "intake/wrsubmit.h"

const struct http_route routes_table[] = {
	{ "GET",  "/healthz",				HTTP_AUTH_NONE,   api_healthz },
	/* Checks the peer against metrics.allow. */
	{ "GET",  "/metrics",				HTTP_AUTH_NONE,   metricsapi_get },
	{ "POST", "/api/v1/reports",			HTTP_AUTH_REPORTER, api_report_create },
	/* An office reads its own incidents only (api.c). */
	{ "GET",  "/api/v1/incidents",			HTTP_AUTH_ANY,    api_incident_list },
	{ "GET",  "/api/v1/incidents/{id}",		HTTP_AUTH_ANY,    api_incident_get },
	{ "POST", "/api/v1/incidents/{id}/ack",		HTTP_AUTH_PERSON, api_incident_ack },
	{ "POST", "/api/v1/incidents/{id}/written-report", HTTP_AUTH_PERSON, api_incident_written_report },
	/* The written report's draft and approval (intake/wrapi.c). */
	{ "GET",  "/api/v1/incidents/{id}/written-report/draft", HTTP_AUTH_PERSON, wrapi_draft_get },
	{ "PUT",  "/api/v1/incidents/{id}/written-report/draft", HTTP_AUTH_PERSON, wrapi_draft_put },
	{ "POST", "/api/v1/incidents/{id}/written-report/approval-request", HTTP_AUTH_PERSON, wrapi_request_post },
	{ "POST", "/api/v1/incidents/{id}/written-report/approve", HTTP_AUTH_PERSON, wrapi_approve_post },
	{ "POST", "/api/v1/incidents/{id}/written-report/reject", HTTP_AUTH_PERSON, wrapi_reject_post },
	{ "GET",  "/api/v1/incidents/{id}/written-report.txt", HTTP_AUTH_PERSON, wrapi_text_get },
	{ "POST", "/api/v1/incidents/{id}/written-report/submit", HTTP_AUTH_PERSON, wrsubmit_post },
	{ "POST", "/api/v1/incidents/{id}/resolve",	HTTP_AUTH_PERSON, api_incident_resolve },
	{ "POST", "/api/v1/incidents/{id}/updates",	HTTP_AUTH_OFFICE, api_incident_update },
	{ "POST", "/api/v1/incidents/{id}/merge",	HTTP_AUTH_PERSON, api_incident_merge },
	{ "POST", "/api/v1/incidents/{id}/dismiss",	HTTP_AUTH_PERSON, api_incident_dismiss },
	{ "POST", "/api/v1/incidents/{id}/notes",	HTTP_AUTH_PERSON, api_incident_note },
	/* The console signs in: a token for a cookie (intake/session.c). */
	{ "POST",   "/api/v1/session",			HTTP_AUTH_NONE,   session_create },
	{ "GET",    "/api/v1/session",			HTTP_AUTH_ANY,    session_get },
	{ "DELETE", "/api/v1/session",			HTTP_AUTH_ANY,    session_delete },
	{ "GET",  "/api/v1/oncall",			HTTP_AUTH_PERSON, oncallapi_get },
	{ "GET",  "/api/v1/offices",			HTTP_AUTH_PERSON, oncallapi_offices },
	/* Leaders' directives (intake/dirapi.c): an office sees and reports on its own. */
	{ "POST", "/api/v1/directives",			HTTP_AUTH_PERSON, dirapi_create },
	{ "GET",  "/api/v1/directives",			HTTP_AUTH_ANY,    dirapi_list },
	{ "GET",  "/api/v1/directives/{id}",		HTTP_AUTH_ANY,    dirapi_get },
	{ "POST", "/api/v1/directives/{id}/progress",	HTTP_AUTH_ANY,    dirapi_progress },
	{ "POST", "/api/v1/directives/{id}/delay",	HTTP_AUTH_ANY,    dirapi_delay },
	{ "POST", "/api/v1/directives/{id}/complete",	HTTP_AUTH_ANY,    dirapi_complete },
	/* Handovers: the outgoing's note, the incoming's acceptance (intake/handapi.c). */
	{ "GET",  "/api/v1/handover",			HTTP_AUTH_PERSON, handapi_get },
	{ "POST", "/api/v1/handover/note",		HTTP_AUTH_PERSON, handapi_note },
	{ "POST", "/api/v1/handover/accept",		HTTP_AUTH_PERSON, handapi_accept },
	/* The duty log of a day, read from the audit log (intake/dutylog.c). */
	{ "GET",  "/api/v1/dutylog",			HTTP_AUTH_PERSON, dutylog_get },
	/* The figures of a period, from the whole audit log (intake/statsapi.c). */
	{ "GET",  "/api/v1/stats",			HTTP_AUTH_PERSON, statsapi_get },
	/* Gateways and links authenticate themselves (signature, secret, token). */
	{ "POST", "/api/v1/sms/twilio",			HTTP_AUTH_NONE,   smsgw_twilio },
	{ "POST", "/api/v1/sms/aliyun",			HTTP_AUTH_NONE,   smsgw_aliyun },
	{ "GET",  "/a/{id}",				HTTP_AUTH_NONE,   onetap_get },
	{ "POST", "/a/{id}",				HTTP_AUTH_NONE,   onetap_post },
	/* Live updates for the console and integrators (intake/stream.c). */
	{ "GET",  "/api/v1/stream",			HTTP_AUTH_ANY,    stream_get },
	/* The console: every page is index.html, which signs in by the API. */
	{ "GET",  "/",					HTTP_AUTH_NONE,   console_page },
	{ "GET",  "/incidents/{id}",			HTTP_AUTH_NONE,   console_page },
	{ "GET",  "/incidents/{id}/written-report",	HTTP_AUTH_NONE,   console_page },
	{ "GET",  "/report",				HTTP_AUTH_NONE,   console_page },
	{ "GET",  "/oncall",				HTTP_AUTH_NONE,   console_page },
	{ "GET",  "/wall",				HTTP_AUTH_NONE,   console_page },
	{ "GET",  "/dutylog",				HTTP_AUTH_NONE,   console_page },
	{ "GET",  "/stats",				HTTP_AUTH_NONE,   console_page },
	{ "GET",  "/directives",			HTTP_AUTH_NONE,   console_page },
	{ "GET",  "/directives/{id}",			HTTP_AUTH_NONE,   console_page },
	{ "GET",  "/console/{id}",			HTTP_AUTH_NONE,   console_file },
};

const size_t routes_count = sizeof(routes_table) / sizeof(routes_table[0]);
