/* notify.c - notifications from events, and the live streams' wake-up. */
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>

#include "lenz.h"
#include "notify.h"
#include "dbd.h"

const lenz_stmt lenz_notify_stmts[] = {
    /* Held to the end of the dispatch transaction: one user's rows get
     * their ids in commit order, so a stream that has sent id N never
     * sees a smaller id commit later (Last-Event-ID would skip it). */
    { "lenz_notify_lock",
      "SELECT pg_advisory_xact_lock(hashtext('lenz_notify:' || %s))" },
    { "lenz_notify_add",
      "INSERT INTO notifications (user_id, event_id, type, title, body) "
      "SELECT %s::uuid, %s::bigint, %s, %s, %s::jsonb WHERE EXISTS (SELECT 1 FROM users WHERE id = %s::uuid) "
      "ON CONFLICT (event_id, user_id) DO NOTHING" },
    { "lenz_notify_after",
      "SELECT id, type, title, body::text, "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), (read_at IS NOT NULL) "
      "FROM notifications WHERE user_id = %s::uuid AND id > %s::bigint "
      "AND (%s::text IS NULL OR read_at IS NULL) ORDER BY id LIMIT %s::int" },
    { "lenz_notify_recent",
      "SELECT id, type, title, body::text, "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), (read_at IS NOT NULL) "
      "FROM notifications WHERE user_id = %s::uuid ORDER BY id DESC LIMIT %s::int" },
    { "lenz_notify_latest",
      "SELECT coalesce(max(id), 0) FROM notifications WHERE user_id = %s::uuid" },
    { "lenz_notify_unread",
      "SELECT count(*) FROM notifications WHERE user_id = %s::uuid AND read_at IS NULL" },
    { "lenz_notify_read",
      "UPDATE notifications SET read_at = now() WHERE user_id = %s::uuid AND id = %s::bigint "
      "AND read_at IS NULL" },
    { "lenz_notify_read_all",
      "UPDATE notifications SET read_at = now() WHERE user_id = %s::uuid AND read_at IS NULL" },
    { NULL }
};

/* Subscriber -------------------------------------------------------------- */

static apr_status_t add(lenz_eventctx *ec, const lenz_event *ev, const char *user,
                        const char *title, const lenz_json *body)
{
    const char *args[6];
    if (!user)
        return APR_SUCCESS;
    args[0] = user;
    args[1] = apr_psprintf(ec->pool, "%" APR_INT64_T_FMT, ev->id);
    args[2] = ev->type;
    args[3] = title;
    args[4] = lenz_json_dump(ec->pool, body);
    args[5] = user;
    if (lenz_db_exec(ec->db, "lenz_notify_lock", NULL, 1, args) != APR_SUCCESS
        || lenz_db_exec(ec->db, "lenz_notify_add", NULL, 6, args) != APR_SUCCESS) {
        ec->error = "inserting the notification failed";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_notify_on_event(lenz_eventctx *ec, const lenz_event *ev)
{
    const char *name = NULL, *owner = NULL;
    lenz_json_get_str(ev->payload, "name", &name);
    if (strcmp(ev->type, "link.downloaded") == 0) {
        lenz_json_get_str(ev->payload, "owner_id", &owner);
        return add(ec, ev, owner, apr_psprintf(ec->pool, "Downloaded: %s", name ? name : "your shared files"),
                   ev->payload);
    }
    if (strcmp(ev->type, "file.uploaded") == 0 && ev->actor)
        return add(ec, ev, ev->actor, apr_psprintf(ec->pool, "Uploaded: %s", name ? name : "a file"),
                   ev->payload);
    return APR_SUCCESS;
}

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

apr_uint32_t lenz_notify_user_hash(const char *user_id)
{
    apr_uint32_t h = 2166136261u;           /* FNV-1a */
    if (!user_id || !*user_id)
        return 0;
    for (; *user_id; user_id++)
        h = (h ^ (unsigned char)*user_id) * 16777619u;
    return h ? h : 1;
}

void lenz_notify_child_init(apr_pool_t *pchild)
{
    if (apr_thread_mutex_create(&wake.mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&wake.cond, pchild) != APR_SUCCESS) {
        wake.mutex = NULL;
        wake.cond = NULL;
    }
}

void lenz_notify_poke(const char *user_id)
{
    if (!wake.mutex)
        return;
    apr_thread_mutex_lock(wake.mutex);
    wake.gen++;
    wake.ring[wake.gen % RING] = lenz_notify_user_hash(user_id);
    apr_thread_cond_broadcast(wake.cond);
    apr_thread_mutex_unlock(wake.mutex);
}

apr_uint32_t lenz_notify_generation(void)
{
    apr_uint32_t g;
    if (!wake.mutex)
        return 0;
    apr_thread_mutex_lock(wake.mutex);
    g = wake.gen;
    apr_thread_mutex_unlock(wake.mutex);
    return g;
}

int lenz_notify_wait(apr_uint32_t *gen, apr_uint32_t user_hash, apr_interval_time_t timeout)
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
