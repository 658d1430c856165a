/*
 * wrsend.h: the written report sent to the province (报送).
 *
 * Submitting records report.submitted (the report clock stops at that
 * record, not at the delivery) and then a notify.intent on the incident
 * whose one recipient is the province (`province.contacts`): the report's
 * title and text go out like every notification, with retries, fallback
 * and every attempt recorded; a delivery that fails for good raises
 * notify.undeliverable to the duty officers.  A report filed by other
 * means (fax, the provincial system's own form) is incident.report_filed
 * with via "other".
 */
#ifndef DUTYD_WRSEND_H
#define DUTYD_WRSEND_H

#include <stddef.h>

struct incident;

/* The province's recipient id in intents and deliveries (not a person). */
#define WRSEND_PROVINCE		"province"
#define WRSEND_REFERENCE_MAX	100	/* characters of a 文号 */

/*
 * Follows replayed records: a report.submitted whose delivery intent is
 * not in the log (dutyd stopped between the two) is remembered, and
 * wrsend_replayed() records that intent after replay, so the province
 * still gets the report.
 */
void	wrsend_init(void);
void	wrsend_replayed(void);
void	wrsend_shutdown(void);
/* At start: a warning when the province has no contacts (nothing would be sent). */
void	wrsend_check_config(void);

/*
 * What stops the current report from being sent, as the duty room says
 * it: "未审核" (approval required, never asked), "待审核" (asked, not
 * given), "已退回" (rejected), or NULL when it may be sent.
 */
const char *wrsend_missing(const struct incident *);

/*
 * PERSON sends the current report (its latest version) with REFERENCE
 * (may be NULL).  *sent_to is how many contacts the province has (0: it
 * was recorded, nothing was sent).  IDEM_KEY (may be NULL) is kept in the
 * record: the same key again is the same submission (see
 * wrsend_find_key()), not 续报.  0; -EACCES: approval missing
 * (wrsend_missing() says what); -EALREADY: merged or dismissed; -ENOMEM;
 * or the store's error (nothing recorded).
 */
int	wrsend_submit(struct incident *, const char *person,
	    const char *reference, const char *idem_key, size_t *sent_to);
/*
 * The number of the report INC's submission with IDEM_KEY sent, or -1:
 * a retried or double-clicked submit must not send the next report.
 */
int	wrsend_find_key(const struct incident *, const char *idem_key);

/*
 * Filed by other means: incident.report_filed with via "other" and
 * whether the current version was approved.  The first report once (a
 * repeat changes nothing); a later one (续报) when its reference is new.
 * The api_action shape: *changed is 0 when nothing was recorded.
 */
int	wrsend_file_other(struct incident *, const char *person,
	    const char *reference, int *changed);

#endif
