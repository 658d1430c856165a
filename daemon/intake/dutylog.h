/*
 * dutylog.h: GET /api/v1/dutylog?date=YYYY-MM-DD (staff): the duty log
 * (值班日志) of one duty day, from the leader's handover on that local
 * date to the next day's, read from the audit log (store_scan()), so any
 * day the log holds, also beyond audit.retention.  &format=csv: the
 * entries as a spreadsheet (UTF-8 with BOM).  See docs/dutylog.md.
 */
#ifndef DUTYD_DUTYLOG_H
#define DUTYD_DUTYLOG_H

struct http_call;

void	dutylog_get(struct http_call *);

#endif
