/* notify.h - in-app notifications: the event subscriber that makes them,
 * the statements that read them, and the per-process wake-up the live
 * streams (Server-Sent Events) wait on.
 *
 * Wake-up path: a notification row is inserted (by the subscriber, in the
 * event's dispatch transaction) -> its trigger NOTIFYs lenz_notify at
 * commit -> every job runner of every process and host LISTENs there and
 * calls lenz_wake_poke() (jobs/wake.h) -> the streams of that process wake and read
 * their user's new rows.  Without runners (LenzJobs Off) streams still
 * look every few seconds.
 */
#ifndef LENZ_NOTIFY_H
#define LENZ_NOTIFY_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "jobs/events.h"

#include "jobs/wake.h"

extern const lenz_stmt lenz_notify_stmts[];

/* The subscriber (subscribers.c): link.downloaded -> the link's owner,
 * file.uploaded -> the member who uploaded. */
apr_status_t lenz_notify_on_event(lenz_eventctx *ec, const lenz_event *ev);

/* A row of lenz_notify_after as the API's notification object. */
void lenz_notify_row_json(lenz_json *o, const char **row, apr_pool_t *p);
/* ... and its "object" and "count" (sql/026: a coalesced entry). */
void lenz_notify_row_count(lenz_json *o, const char **row);
/* A notification id from the client: 0 when absent, -1 when not one. */
apr_int64_t lenz_notify_id_arg(const char *s);
/* GET /events/stream (stream.c). */
int lenz_notify_stream(request_rec *r, struct lenz_req *lr);

#endif
