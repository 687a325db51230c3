/* notice.c - a notification row for a member (notice.h). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "notice.h"
#include "httpd/dbd.h"

const lenz_stmt lenz_notice_stmts[] = {
    /* Held to the end of the dispatch transaction: one user's rows get
     * their ids in commit order, so a stream that has sent id N never
     * sees a smaller id commit later (Last-Event-ID would skip it). */
    { "lenz_notice_lock",
      "SELECT pg_advisory_xact_lock(hashtext('lenz_notify:' || %s))" },
    /* Unless the member turned notices of the kind off (sql/019). */
    { "lenz_notice_add",
      "INSERT INTO notifications (user_id, event_id, type, title, body) "
      "SELECT %s::uuid, %s::bigint, %s, %s, %s::jsonb WHERE EXISTS (SELECT 1 FROM users WHERE id = %s::uuid) "
      "AND lenz_wants(%s::uuid, %s, 'in_app') "
      "ON CONFLICT (event_id, user_id) DO NOTHING" },
    /* A live change (sql/015): read at once, never listed. */
    { "lenz_notice_add_live",
      "INSERT INTO notifications (user_id, event_id, type, title, body, live, read_at) "
      "SELECT %s::uuid, %s::bigint, %s, %s, %s::jsonb, true, now() "
      "WHERE EXISTS (SELECT 1 FROM users WHERE id = %s::uuid) "
      "ON CONFLICT (event_id, user_id) DO NOTHING" },
    /* Coalesced (sql/026): an unread entry of the same kind about the
     * same object within the window is replaced by one counting both, with
     * a new id (so open streams get it; the page drops the old one by its
     * object).  Arguments: user, event, type, title for one, body, user,
     * user, kind, object, window seconds, the title for n around n. */
    { "lenz_notice_coalesce",
      "WITH old AS (DELETE FROM notifications WHERE user_id = %s::uuid AND type = %s AND object = %s "
      "  AND read_at IS NULL AND NOT live AND created_at > now() - make_interval(secs => %s::int) RETURNING count) "
      "INSERT INTO notifications (user_id, event_id, type, title, body, object, count) "
      "SELECT %s::uuid, %s::bigint, %s, CASE WHEN c.n = 1 THEN %s ELSE %s || c.n::text || %s END, "
      "%s::jsonb, %s, c.n FROM (SELECT 1 + coalesce((SELECT sum(count) FROM old), 0)::int AS n) c "
      "WHERE EXISTS (SELECT 1 FROM users WHERE id = %s::uuid) AND lenz_wants(%s::uuid, %s, 'in_app') "
      "ON CONFLICT (event_id, user_id) DO NOTHING" },
    { NULL }
};

apr_status_t lenz_notice_add(lenz_eventctx *ec, const lenz_event *ev, const char *user, const char *kind,
                             const char *title, const lenz_json *body, int live)
{
    const char *args[8];
    if (!user)
        return APR_SUCCESS;
    args[0] = user;
    args[1] = apr_psprintf(ec->pool, "%" APR_INT64_T_FMT, ev->id);
    args[2] = ev->type;
    args[3] = title;
    args[4] = lenz_json_dump(ec->pool, body);
    args[5] = user;
    args[6] = user;
    args[7] = kind;
    if (lenz_db_exec(ec->db, "lenz_notice_lock", NULL, 1, args) != APR_SUCCESS
        || lenz_db_exec(ec->db, live ? "lenz_notice_add_live" : "lenz_notice_add", NULL, live ? 6 : 8, args)
           != APR_SUCCESS) {
        ec->error = "inserting the notification failed";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}


apr_status_t lenz_notice_add_counted(lenz_eventctx *ec, const lenz_event *ev, const char *user, const char *kind,
                                     const char *object, const char *title_one, const char *many_before,
                                     const char *many_after, const lenz_json *body)
{
    const char *args[15];
    if (!user)
        return APR_SUCCESS;
    if (!object)
        return lenz_notice_add(ec, ev, user, kind, title_one, body, 0);
    args[0] = user;
    args[1] = ev->type;
    args[2] = object;
    args[3] = apr_itoa(ec->pool, LENZ_NOTICE_WINDOW);
    args[4] = user;
    args[5] = apr_psprintf(ec->pool, "%" APR_INT64_T_FMT, ev->id);
    args[6] = ev->type;
    args[7] = title_one;
    args[8] = many_before;
    args[9] = many_after;
    args[10] = lenz_json_dump(ec->pool, body);
    args[11] = object;
    args[12] = user;
    args[13] = user;
    args[14] = kind;
    if (lenz_db_exec(ec->db, "lenz_notice_lock", NULL, 1, args) != APR_SUCCESS
        || lenz_db_exec(ec->db, "lenz_notice_coalesce", NULL, 15, args) != APR_SUCCESS) {
        ec->error = "inserting the notification failed";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}
