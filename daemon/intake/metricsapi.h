/* GET /metrics: Prometheus text for the addresses in metrics.allow. */
#ifndef DUTYD_METRICSAPI_H
#define DUTYD_METRICSAPI_H

struct http_call;

void	metricsapi_get(struct http_call *);

#endif
