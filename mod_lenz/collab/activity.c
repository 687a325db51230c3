/* activity.c - what happened in shared folders: the subscriber that
 * records it and the statements the feeds read (h_activity.c; docs/api.md,
 * "Activity").
 *
 * The subscriber turns events from the outbox into rows of `activity`
 * (sql/024): storage.changed in a folder that is shared or inside one
 * (uploaded, created, renamed, moved, trashed, restored), share.* (invited,
 * joined, declined, left, removed, role changed) and comment.created.  A
 * change in a folder nobody shares leaves no row. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "httpd/dbd.h"

#define ACT_COLS "a.id, a.verb, a.item_type, a.item_id, a.item_name, a.actor_id, " \
    "coalesce(nullif(u.name, ''), u.email, 'a former member'), a.detail::text, a.folder_id, " \
    "to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* The rows of folder %s's subtree (arguments: folder, folder). */
#define IN_SUBTREE "a.folder_id IN (SELECT d.id FROM folders d JOIN folders t ON t.id = %s::uuid " \
    "WHERE d.owner_id = t.owner_id AND (d.id = t.id OR left(d.path, length(t.path) + 1) = t.path || '/')) " \
    "AND (SELECT lenz_access(%s::uuid, 'folder', %s::uuid)) > 0 "

const lenz_stmt lenz_activity_stmts[] = {
    /* Arguments: event, folder, actor, verb, type, item, name, detail. */
    { "lenz_act_add",
      "INSERT INTO activity (event_id, folder_id, owner_id, actor_id, verb, item_type, item_id, item_name, detail) "
      "SELECT %s::bigint, f.id, f.owner_id, %s::uuid, %s, %s, %s::uuid, %s, %s::jsonb FROM folders f "
      "WHERE f.id = %s::uuid AND (%s::int = 1 OR EXISTS (SELECT 1 FROM lenz_share_scopes(f.id))) "
      "ON CONFLICT (event_id, folder_id) DO NOTHING" },
    { "lenz_act_folder_after",
      "SELECT " ACT_COLS " FROM activity a LEFT JOIN users u ON u.id = a.actor_id "
      "WHERE " IN_SUBTREE "AND a.id > %s::bigint ORDER BY a.id LIMIT %s::int" },
    { "lenz_act_folder_before",
      "SELECT " ACT_COLS " FROM activity a LEFT JOIN users u ON u.id = a.actor_id "
      "WHERE " IN_SUBTREE "AND a.id < %s::bigint ORDER BY a.id DESC LIMIT %s::int" },
    /* The member's feed: rows of their own and their sharers' trees that
     * they can see, by others. */
    { "lenz_act_mine",
      "SELECT " ACT_COLS " FROM activity a LEFT JOIN users u ON u.id = a.actor_id "
      "WHERE a.owner_id IN (SELECT %s::uuid UNION SELECT sf.owner_id FROM shares s "
      "  JOIN folders sf ON sf.id = s.folder_id WHERE s.user_id = %s::uuid AND s.status = 'active') "
      "AND a.actor_id IS DISTINCT FROM %s::uuid AND a.id > %s::bigint "
      "AND lenz_access(%s::uuid, 'folder', a.folder_id) > 0 ORDER BY a.id LIMIT %s::int" },
    { "lenz_act_seen_get", "SELECT activity_seen FROM users WHERE id = %s::uuid" },
    { "lenz_act_seen_set",
      "UPDATE users SET activity_seen = greatest(activity_seen, %s::bigint) WHERE id = %s::uuid "
      "RETURNING activity_seen" },
    { "lenz_act_visible",
      "SELECT 1 FROM folders f WHERE f.id = %s::uuid AND f.trashed_at IS NULL AND left(f.path, 2) <> '//' "
      "AND lenz_access(%s::uuid, 'folder', f.id) > 0" },
    { NULL }
};

/* Subscriber ------------------------------------------------------------- */

static apr_status_t add(lenz_eventctx *ec, const lenz_event *ev, const char *folder, const char *verb,
                        const char *type, const char *item, const char *name, const lenz_json *detail,
                        int always)
{
    const char *args[9];
    if (!folder)
        return APR_SUCCESS;
    args[0] = apr_psprintf(ec->pool, "%" APR_INT64_T_FMT, ev->id);
    args[1] = ev->actor;
    args[2] = verb;
    args[3] = type;
    args[4] = item;
    args[5] = name;
    args[6] = detail ? lenz_json_dump(ec->pool, detail) : "{}";
    args[7] = folder;
    args[8] = always ? "1" : "0";
    if (lenz_db_exec(ec->db, "lenz_act_add", NULL, 9, args) != APR_SUCCESS) {
        ec->error = "adding the activity failed";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static const char *share_verb(const char *type)
{
    static const char *const map[][2] = {
        { "share.invited", "invited" }, { "share.accepted", "joined" }, { "share.declined", "declined" },
        { "share.left", "left" }, { "share.revoked", "removed" }, { "share.role_changed", "role changed" },
        { "share.transfer_offered", "offered ownership" }, { "share.transferred", "took ownership" },
        { "share.transfer_declined", "declined ownership" }, { "share.transfer_withdrawn", "withdrew ownership" },
    };
    unsigned i;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(type, map[i][0]))
            return map[i][1];
    return NULL;
}

apr_status_t lenz_activity_on_event(lenz_eventctx *ec, const lenz_event *ev)
{
    const char *folder = NULL, *op = NULL, *kind = NULL, *name = NULL, *id = NULL, *verb;
    if (!strcmp(ev->type, "storage.changed")) {
        lenz_json *fs = lenz_json_get(ev->payload, "folders"), *f1;
        lenz_json_get_str(ev->payload, "op", &op);
        lenz_json_get_str(ev->payload, "kind", &kind);
        lenz_json_get_str(ev->payload, "name", &name);
        lenz_json_get_str(ev->payload, "id", &id);
        if (!op || !fs || lenz_json_array_len(fs) < 1 || !(folder = lenz_json_string(lenz_json_array_get(fs, 0))))
            return APR_SUCCESS;         /* "emptied": nothing in a folder */
        verb = op;
        if (!strcmp(op, "changed")) {
            /* folders: [where it is now, where it was (a move), itself] */
            const char *f2 = lenz_json_array_len(fs) > 1 && (f1 = lenz_json_array_get(fs, 1))
                             ? lenz_json_string(f1) : NULL;
            verb = f2 && (!id || strcmp(f2, id)) ? "moved" : "renamed";
        }
        return add(ec, ev, folder, verb, kind, id, name, NULL, 0);
    }
    if ((verb = share_verb(ev->type))) {
        const char *email = NULL, *role = NULL;
        lenz_json *d = lenz_json_new_object(ec->pool);
        lenz_json_get_str(ev->payload, "folder_id", &folder);
        lenz_json_get_str(ev->payload, "folder_name", &name);
        lenz_json_get_str(ev->payload, "email", &email);
        lenz_json_get_str(ev->payload, "role", &role);
        lenz_json_set_str(d, "email", email);
        lenz_json_set_str(d, "role", role);
        return add(ec, ev, folder, verb, "folder", folder, name, d, 1);
    }
    if (!strcmp(ev->type, "comment.created")) {
        const char *excerpt = NULL;
        lenz_json *d = lenz_json_new_object(ec->pool);
        lenz_json_get_str(ev->payload, "folder_id", &folder);
        lenz_json_get_str(ev->payload, "item_type", &kind);
        lenz_json_get_str(ev->payload, "item_id", &id);
        lenz_json_get_str(ev->payload, "name", &name);
        lenz_json_get_str(ev->payload, "excerpt", &excerpt);
        lenz_json_set_str(d, "comment_id", ev->subject);
        lenz_json_set_str(d, "excerpt", excerpt);
        return add(ec, ev, folder, "commented", kind, id, name, d, 0);
    }
    return APR_SUCCESS;
}

