/* notify.h - in-app notifications: the event subscriber that makes them,
 * the statements that read them, and the per-process wake-up the live
 * streams (Server-Sent Events) wait on.
 *
 * Wake-up path: a notification row is inserted (by the subscriber, in the
 * event's dispatch transaction) -> its trigger NOTIFYs lenz_notify at
 * commit -> every job runner of every process and host LISTENs there and
 * calls lenz_notify_poke() -> the streams of that process wake and read
 * their user's new rows.  Without runners (LenzJobs Off) streams still
 * look every few seconds.
 */
#ifndef LENZ_NOTIFY_H
#define LENZ_NOTIFY_H

#include "lenz.h"
#include "router.h"
#include "events.h"

#define LENZ_NOTIFY_CHANNEL "lenz_notify"

extern const lenz_stmt lenz_notify_stmts[];

/* The subscriber (subscribers.c): link.downloaded -> the link's owner,
 * file.uploaded -> the member who uploaded. */
apr_status_t lenz_notify_on_event(lenz_eventctx *ec, const lenz_event *ev);

/* child_init: the process's wake-up (mutex + condition). */
void lenz_notify_child_init(apr_pool_t *pchild);
/* A notification for user_id (NULL or "": for anyone) was committed. */
void lenz_notify_poke(const char *user_id);
apr_uint32_t lenz_notify_user_hash(const char *user_id);
apr_uint32_t lenz_notify_generation(void);
/* Sleeps until a poke for user_hash (or for anyone) arrives after *gen, or
 * timeout passes; *gen moves to the current generation.  1 when there
 * was such a poke. */
int lenz_notify_wait(apr_uint32_t *gen, apr_uint32_t user_hash, apr_interval_time_t timeout);

#endif
