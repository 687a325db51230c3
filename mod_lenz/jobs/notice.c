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

