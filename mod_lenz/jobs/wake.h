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
/* A NOTIFY's payload was committed: a member's id (their notification),
 * "room:ROOM" (an event in that room, sql/030), or "" (anyone: look). */
void lenz_wake_poke(const char *payload);
/* A runner of this process has its LISTEN up (1) or lost it (0).  Coming
 * up pokes "anyone", so that streams read what committed while nobody
 * listened. */
void lenz_wake_listener(int up);
/* Whether some runner of this process listens: then a stream needs no
 * query but on a poke (else it polls). */
int lenz_wake_listening(void);
/* What a stream waits for: its member's hash, and its rooms' ("topic:ID",
 * lower case, as room_events.room holds them). */
apr_uint32_t lenz_wake_user_hash(const char *user_id);
apr_uint32_t lenz_wake_room_hash(const char *room);
apr_uint32_t lenz_wake_generation(void);
#define LENZ_WAKE_MINE  1       /* the member's notifications (or anyone's) */
#define LENZ_WAKE_ROOM  2       /* one of the stream's rooms */
/* Sleeps until a poke for user_hash, one of the rooms (or anyone) arrives
 * after *gen, or timeout passes; *gen moves to the current generation.
 * Returns what the pokes were for (LENZ_WAKE_* bits; both when the ring
 * went round), 0 on a timeout. */
int lenz_wake_wait(apr_uint32_t *gen, apr_uint32_t user_hash, const apr_uint32_t *rooms, int nrooms,
                   apr_interval_time_t timeout);

#endif
