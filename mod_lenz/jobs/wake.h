/* wake.h - the process's wake-up for live streams.
 *
 * A notification row is inserted (by a subscriber, in the event's dispatch
 * transaction) -> its trigger NOTIFYs LENZ_NOTIFY_CHANNEL at commit ->
 * every job runner of every process and host LISTENs there and calls
 * lenz_wake_poke() -> the streams of that process wake and read their
 * user's new rows.
 */
#ifndef LENZ_WAKE_H
#define LENZ_WAKE_H

#include <apr_pools.h>
#include <apr_time.h>

#define LENZ_NOTIFY_CHANNEL "lenz_notify"

/* child_init: the process's wake-up (mutex + condition). */
void lenz_wake_child_init(apr_pool_t *pchild);
/* A notification for user_id (NULL or "": for anyone) was committed. */
void lenz_wake_poke(const char *user_id);
apr_uint32_t lenz_wake_user_hash(const char *user_id);
apr_uint32_t lenz_wake_generation(void);
/* Sleeps until a poke for user_hash (or for anyone) arrives after *gen, or
 * timeout passes; *gen moves to the current generation.  1 when there
 * was such a poke. */
int lenz_wake_wait(apr_uint32_t *gen, apr_uint32_t user_hash, apr_interval_time_t timeout);

#endif
