/* The HTTP API's handlers; http.c routes to them. */
#ifndef DUTYD_API_H
#define DUTYD_API_H

struct http_call;

void	api_healthz(struct http_call *);
void	api_report_create(struct http_call *);
void	api_incident_list(struct http_call *);
void	api_incident_get(struct http_call *);
void	api_incident_ack(struct http_call *);
void	api_incident_written_report(struct http_call *);
void	api_incident_resolve(struct http_call *);
void	api_incident_update(struct http_call *);
void	api_incident_merge(struct http_call *);
void	api_incident_dismiss(struct http_call *);
void	api_incident_note(struct http_call *);

#endif
