/* wake.c - the process's wake-up: the job runners' LISTEN on PostgreSQL
 * pokes it when a notification commits, and the live streams of this
 * process wait on it (jobs/wake.h). */
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>

#include "httpd/lenz.h"
#include "wake.h"

/* The process's wake-up -------------------------------------------------- */

/* Every poke bumps the generation and records, in a ring, whose
 * notification it was (a hash of the user id; 0 for "anyone").  A stream
 * that wakes looks in the ring for its own user between the generation it
 * slept at and now, so a busy site wakes each stream's query only for its
 * own notifications, not for everyone's. */
#define RING 256

static struct {
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    apr_uint32_t gen;
    apr_uint32_t ring[RING];
} wake;

apr_uint32_t lenz_wake_user_hash(const char *user_id)
{
    apr_uint32_t h = 2166136261u;           /* FNV-1a */
    if (!user_id || !*user_id)
        return 0;
    for (; *user_id; user_id++)
        h = (h ^ (unsigned char)*user_id) * 16777619u;
    return h ? h : 1;
}

void lenz_wake_child_init(apr_pool_t *pchild)
{
    if (apr_thread_mutex_create(&wake.mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&wake.cond, pchild) != APR_SUCCESS) {
        wake.mutex = NULL;
        wake.cond = NULL;
    }
}

void lenz_wake_poke(const char *user_id)
{
    if (!wake.mutex)
        return;
    apr_thread_mutex_lock(wake.mutex);
    wake.gen++;
    /* A room's event ("room:...") wakes every stream: each looks at its
     * own rooms (0 is "anyone"). */
    wake.ring[wake.gen % RING] = strncmp(user_id, "room:", 5) ? lenz_wake_user_hash(user_id) : 0;
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

int lenz_wake_wait(apr_uint32_t *gen, apr_uint32_t user_hash, apr_interval_time_t timeout)
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
            if (wake.gen - *gen >= RING)
                mine = 1;               /* the ring went round: look anyway */
            for (g = *gen + 1; !mine && g != wake.gen + 1; g++)
                mine = wake.ring[g % RING] == 0 || wake.ring[g % RING] == user_hash;
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
