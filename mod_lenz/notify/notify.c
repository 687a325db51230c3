/* notify.c - notifications from events (the live streams wake through
 * jobs/wake.c). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "notify.h"
#include "httpd/dbd.h"
#include "names.h"
#include "jobs/notice.h"

const lenz_stmt lenz_notify_stmts[] = {
    /* The members of the shares a changed folder is in (sql/024): their
     * open pages of it refresh too. */
    { "lenz_notify_share_members",
      "SELECT DISTINCT s.user_id FROM folders f JOIN folders sf ON sf.owner_id = f.owner_id "
      "JOIN shares s ON s.folder_id = sf.id AND s.status = 'active' "
      "WHERE f.id IN (SELECT value::uuid FROM jsonb_array_elements_text(%s::jsonb -> 'folders')) "
      "AND (sf.id = f.id OR left(f.path, length(sf.path) + 1) = sf.path || '/')" },
    /* Rooms (sql/030): the ones the member may not join, the newest id,
     * and what is new in them that they may still see. */
    { "lenz_notify_rooms_denied",
      "SELECT r FROM unnest(%s::text[]) r WHERE lenz_room_access(%s::uuid, r) = 0" },
    { "lenz_notify_rooms_latest", "SELECT coalesce(max(id), 0) FROM room_events" },
    { "lenz_notify_rooms_after",
      "SELECT id, event, payload::text FROM room_events WHERE room = ANY (%s::text[]) AND id > %s::bigint "
      "AND lenz_room_access(%s::uuid, room) > 0 ORDER BY id LIMIT %s::int" },
    { "lenz_notify_after",
      "SELECT id, type, title, body::text, "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), (read_at IS NOT NULL), live, "
      "object, count FROM notifications WHERE user_id = %s::uuid AND id > %s::bigint "
      "AND (%s::text IS NULL OR read_at IS NULL) AND (%s::text IS NOT NULL OR NOT live) "
      "ORDER BY id LIMIT %s::int" },
    { "lenz_notify_recent",
      "SELECT id, type, title, body::text, "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), (read_at IS NOT NULL), object "
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

/* kind: the preference it falls under (sql/019), or NULL (always). */
static apr_status_t add(lenz_eventctx *ec, const lenz_event *ev, const char *user, const char *kind,
                        const char *title, const lenz_json *body)
{
    return lenz_notice_add(ec, ev, user, kind, title, body, 0);
}

apr_status_t lenz_notify_on_event(lenz_eventctx *ec, const lenz_event *ev)
{
    const char *name = NULL, *owner = NULL;
    lenz_json_get_str(ev->payload, "name", &name);
    name = lenz_name_neutral(ec->pool, name);     /* a title shown as it is (names.h) */
    if (strcmp(ev->type, "link.downloaded") == 0) {
        const char *link = NULL, *what = name ? name : "your shared files";
        lenz_json_get_str(ev->payload, "owner_id", &owner);
        lenz_json_get_str(ev->payload, "link_id", &link);
        /* Repeats of one link within the window: one entry with a count
         * (ranged downloads make many events a second). */
        return lenz_notice_add_counted(ec, ev, owner, "downloads", link ? link : ev->subject,
                                       apr_psprintf(ec->pool, "Downloaded: %s", what),
                                       apr_psprintf(ec->pool, "%s was downloaded ", what), " times", ev->payload);
    }
    if (strcmp(ev->type, "storage.changed") == 0) {
        /* To the open pages of the owner and of the members of the
         * shares it is in (a live row: /events/stream's "event:
         * storage"), never a notice. */
        const char *args[1];
        lenz_rows rows;
        int i;
        lenz_json_get_str(ev->payload, "owner_id", &owner);
        if (lenz_notice_add(ec, ev, owner, NULL, "Your files changed", ev->payload, 1) != APR_SUCCESS)
            return APR_EGENERAL;
        args[0] = lenz_json_dump(ec->pool, ev->payload);
        if (lenz_db_select(ec->db, "lenz_notify_share_members", &rows, 1, args) != APR_SUCCESS) {
            ec->error = "reading the shares failed";
            return APR_EGENERAL;
        }
        for (i = 0; i < rows.nrows; i++)
            if (lenz_notice_add(ec, ev, rows.rows[i][0], NULL, "Shared files changed", ev->payload, 1)
                != APR_SUCCESS)
                return APR_EGENERAL;
        return APR_SUCCESS;
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

void lenz_notify_row_count(lenz_json *o, const char **row)
{
    lenz_json_set_str(o, "object", row[7]);
    lenz_json_set_int(o, "count", apr_atoi64(row[8]));
}

