/* notify.c - notifications from events (the live streams wake through
 * jobs/wake.c). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "notify.h"
#include "httpd/dbd.h"
#include "names.h"

const lenz_stmt lenz_notify_stmts[] = {
    /* Held to the end of the dispatch transaction: one user's rows get
     * their ids in commit order, so a stream that has sent id N never
     * sees a smaller id commit later (Last-Event-ID would skip it). */
    { "lenz_notify_lock",
      "SELECT pg_advisory_xact_lock(hashtext('lenz_notify:' || %s))" },
    /* Unless the member turned notices of the kind off (sql/019). */
    { "lenz_notify_add",
      "INSERT INTO notifications (user_id, event_id, type, title, body) "
      "SELECT %s::uuid, %s::bigint, %s, %s, %s::jsonb WHERE EXISTS (SELECT 1 FROM users WHERE id = %s::uuid) "
      "AND lenz_wants(%s::uuid, %s, 'in_app') "
      "ON CONFLICT (event_id, user_id) DO NOTHING" },
    /* A live change (sql/015): read at once, never listed. */
    { "lenz_notify_add_live",
      "INSERT INTO notifications (user_id, event_id, type, title, body, live, read_at) "
      "SELECT %s::uuid, %s::bigint, %s, %s, %s::jsonb, true, now() "
      "WHERE EXISTS (SELECT 1 FROM users WHERE id = %s::uuid) "
      "ON CONFLICT (event_id, user_id) DO NOTHING" },
    { "lenz_notify_after",
      "SELECT id, type, title, body::text, "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), (read_at IS NOT NULL), live "
      "FROM notifications WHERE user_id = %s::uuid AND id > %s::bigint "
      "AND (%s::text IS NULL OR read_at IS NULL) AND (%s::text IS NOT NULL OR NOT live) "
      "ORDER BY id LIMIT %s::int" },
    { "lenz_notify_recent",
      "SELECT id, type, title, body::text, "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), (read_at IS NOT NULL) "
      "FROM notifications WHERE user_id = %s::uuid AND NOT live ORDER BY id DESC LIMIT %s::int" },
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

static apr_status_t add_row(lenz_eventctx *ec, const lenz_event *ev, const char *user, const char *kind,
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
    if (lenz_db_exec(ec->db, "lenz_notify_lock", NULL, 1, args) != APR_SUCCESS
        || lenz_db_exec(ec->db, live ? "lenz_notify_add_live" : "lenz_notify_add", NULL, live ? 6 : 8, args)
           != APR_SUCCESS) {
        ec->error = "inserting the notification failed";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* kind: the preference it falls under (sql/019), or NULL (always). */
static apr_status_t add(lenz_eventctx *ec, const lenz_event *ev, const char *user, const char *kind,
                        const char *title, const lenz_json *body)
{
    return add_row(ec, ev, user, kind, title, body, 0);
}

apr_status_t lenz_notify_on_event(lenz_eventctx *ec, const lenz_event *ev)
{
    const char *name = NULL, *owner = NULL;
    lenz_json_get_str(ev->payload, "name", &name);
    name = lenz_name_neutral(ec->pool, name);     /* a title shown as it is (names.h) */
    if (strcmp(ev->type, "link.downloaded") == 0) {
        lenz_json_get_str(ev->payload, "owner_id", &owner);
        return add(ec, ev, owner, "downloads",
                   apr_psprintf(ec->pool, "Downloaded: %s", name ? name : "your shared files"),
                   ev->payload);
    }
    if (strcmp(ev->type, "storage.changed") == 0) {
        /* To the owner's open pages only (a live row: /events/stream's
         * "event: storage"), never a notice. */
        lenz_json_get_str(ev->payload, "owner_id", &owner);
        return add_row(ec, ev, owner, NULL, "Your files changed", ev->payload, 1);
    }
    if (strcmp(ev->type, "file_request.received") == 0) {
        const char *title = NULL, *who = NULL;
        apr_int64_t n = 0;
        lenz_json_get_str(ev->payload, "owner_id", &owner);
        lenz_json_get_str(ev->payload, "title", &title);
        lenz_json_get_str(ev->payload, "uploader_name", &who);
        lenz_json_get_int(ev->payload, "files", &n);
        return add(ec, ev, owner, "requests", apr_psprintf(ec->pool, "Received %d file%s for “%s”%s%s", (int)n,
                                               n == 1 ? "" : "s", lenz_name_neutral(ec->pool, title ? title : ""),
                                               who ? " from " : "", who ? lenz_name_neutral(ec->pool, who) : ""),
                   ev->payload);
    }
    if (strcmp(ev->type, "file.uploaded") == 0 && ev->actor)
        return add(ec, ev, ev->actor, NULL, apr_psprintf(ec->pool, "Uploaded: %s", name ? name : "a file"),
                   ev->payload);
    return APR_SUCCESS;
}

/* Rows and ids, for the list (h_notify.c) and the stream (stream.c) ---- */

apr_int64_t lenz_notify_id_arg(const char *s)
{
    char *end;
    apr_int64_t v;
    if (!s || !*s)
        return 0;
    v = apr_strtoi64(s, &end, 10);
    return (*end || v < 0) ? -1 : v;
}

void lenz_notify_row_json(lenz_json *o, const char **row, apr_pool_t *p)
{
    lenz_json *body = lenz_json_parse(p, row[3], strlen(row[3]), 0, NULL);
    lenz_json_set_int(o, "id", apr_atoi64(row[0]));
    lenz_json_set_str(o, "type", row[1]);
    lenz_json_set_str(o, "title", row[2]);
    if (body)
        lenz_json_set_copy(o, "body", body);
    lenz_json_set_str(o, "created_at", row[4]);
    lenz_json_set_bool(o, "read", row[5][0] == 't');
}

