/* wake.c - the process's wake-up: the job runners' LISTEN on PostgreSQL
 * pokes it when a notification commits, and the live streams of this
 * process wait on it (jobs/wake.h). */
#include <apr_atomic.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>

#include "httpd/lenz.h"
#include "wake.h"

/* The process's wake-up -------------------------------------------------- */

/* Every poke bumps the generation and records, in a ring, whose
 * notification it was (a hash of the user id, high bit clear; of the room,
 * high bit set; 0 for "anyone").  A stream that wakes looks in the ring
 * for its own user and rooms between the generation it slept at and now,
 * so a busy site wakes each stream's query only for its own
 * notifications and rooms, not for everyone's, and tells it which of its
 * two queries to run. */
#define RING 256

static struct {
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    apr_uint32_t gen;
    apr_uint32_t ring[RING];
} wake;
static volatile apr_uint32_t listeners;

#define ROOM_BIT 0x80000000u

static apr_uint32_t fnv(const char *s)
{
    apr_uint32_t h = 2166136261u;           /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

apr_uint32_t lenz_wake_user_hash(const char *user_id)
{
    apr_uint32_t h;
    if (!user_id || !*user_id)
        return 0;
    h = fnv(user_id) & ~ROOM_BIT;
    return h ? h : 1;
}

apr_uint32_t lenz_wake_room_hash(const char *room)
{
    return fnv(room) | ROOM_BIT;
}

void lenz_wake_listener(int up)
{
    if (up) {
        apr_atomic_inc32(&listeners);
        lenz_wake_poke("");
    }
    else
        apr_atomic_dec32(&listeners);
}

int lenz_wake_listening(void)
{
    return apr_atomic_read32(&listeners) > 0;
}

void lenz_wake_child_init(apr_pool_t *pchild)
{
    if (apr_thread_mutex_create(&wake.mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&wake.cond, pchild) != APR_SUCCESS) {
        wake.mutex = NULL;
        wake.cond = NULL;
    }
}

void lenz_wake_poke(const char *payload)
{
    if (!wake.mutex)
        return;
    apr_thread_mutex_lock(wake.mutex);
    wake.gen++;
    /* A room's event ("room:topic:ID") wakes the streams in that room. */
    wake.ring[wake.gen % RING] = strncmp(payload, "room:", 5) ? lenz_wake_user_hash(payload)
                                                              : lenz_wake_room_hash(payload + 5);
    apr_thread_cond_broadcast(wake.cond);
    apr_thread_mutex_unlock(wake.mutex);
}

apr_uint32_t lenz_wake_generation(void)
{
    apr_uint32_t g;
    if (!wake.mutex)
        return 0;
    apr_thread_mutex_lock(wake.mutex);
    g = wake.gen;
    apr_thread_mutex_unlock(wake.mutex);
    return g;
}

/* What the poke of one ring slot means to a stream. */
static int what(apr_uint32_t v, apr_uint32_t user_hash, const apr_uint32_t *rooms, int nrooms)
{
    int i;
    if (v == 0)
        return LENZ_WAKE_MINE | (nrooms ? LENZ_WAKE_ROOM : 0);
    if (v == user_hash)
        return LENZ_WAKE_MINE;
    for (i = 0; i < nrooms; i++)
        if (v == rooms[i])
            return LENZ_WAKE_ROOM;
    return 0;
}

int lenz_wake_wait(apr_uint32_t *gen, apr_uint32_t user_hash, const apr_uint32_t *rooms, int nrooms,
                   apr_interval_time_t timeout)
{
    apr_time_t until = apr_time_now() + timeout;
    int mine = 0;

    if (!wake.mutex) {
        apr_sleep(timeout);
        return 0;
    }
    apr_thread_mutex_lock(wake.mutex);
    for (;;) {
        apr_time_t now;
        if (wake.gen != *gen) {
            apr_uint32_t g;
            if (wake.gen - *gen >= RING)        /* the ring went round: look at both */
                mine = LENZ_WAKE_MINE | (nrooms ? LENZ_WAKE_ROOM : 0);
            for (g = *gen + 1; g != wake.gen + 1 && mine != (LENZ_WAKE_MINE | LENZ_WAKE_ROOM); g++)
                mine |= what(wake.ring[g % RING], user_hash, rooms, nrooms);
            *gen = wake.gen;
            if (mine)
                break;
        }
        now = apr_time_now();
        if (now >= until)
            break;
        apr_thread_cond_timedwait(wake.cond, wake.mutex, until - now);
    }
    apr_thread_mutex_unlock(wake.mutex);
    return mine;
}
