/* h_shares.c - shared folders under /api/v1 (docs/api.md, "Shared
 * folders"): the owner (or a co-owner) invites people by e-mail with a
 * role; the invitee accepts or declines; roles change; a share ends by
 * revoking it or leaving.
 *
 *   POST   /folders/{id}/shares {"email","role"} -> 201 {"id","email","role","status"}
 *   GET    /folders/{id}/shares                  -> 200 {"owner",...,"shares":[...]}
 *   PATCH  /shares/{id} {"role"}                 -> 200 the share
 *   DELETE /shares/{id}                          -> 204 (revoke, or leave/decline one's own)
 *   GET    /shares/incoming                      -> 200 {"shares":[{"id","folder_id",
 *                                                   "folder_name","role","status","owner"}]}
 *   POST   /shares/{id}/accept | /decline        -> 200 the incoming share
 *
 * What the caller may see is decided by lenz_access() (sql/024): a folder
 * they have no access to, and a share of one, answer 404 like ids that
 * do not exist; one they see without the role for the action, 403. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "collab.h"
#include "httpd/config.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/dbd.h"
#include "httpd/auth.h"
#include "httpd/outbox.h"
#include "httpd/rate.h"
#include "codec.h"
#include "mail.h"

#define SHARE_COLS "s.id, s.email, s.role, s.status, u.name, " \
    "to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define INCOMING_COLS "s.id, s.folder_id, f.name, s.role, s.status, coalesce(nullif(o.name, ''), o.email), o.email"

const lenz_stmt lenz_shares_stmts[] = {
    /* A live folder the member sees, with their rank (0: no row). */
    { "lenz_sh_folder",
      "SELECT f.id, f.name, f.owner_id, a.rk, (f.parent_id IS NULL), o.email, coalesce(nullif(o.name, ''), o.email) "
      "FROM folders f JOIN users o ON o.id = f.owner_id "
      "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'folder', f.id) AS rk) a "
      "WHERE f.id = %s::uuid AND a.rk > 0 AND f.trashed_at IS NULL AND left(f.path, 2) <> '//'" },
    { "lenz_sh_list",
      "SELECT " SHARE_COLS " FROM shares s LEFT JOIN users u ON u.id = s.user_id "
      "WHERE s.folder_id = %s::uuid ORDER BY s.created_at, s.id" },
    { "lenz_sh_member", "SELECT id FROM users WHERE email = %s AND status <> 'deleted'" },
    /* A declined invitation may be made again; a live one is a clash. */
    { "lenz_sh_invite",
      "INSERT INTO shares (folder_id, email, user_id, role, invited_by) "
      "VALUES (%s::uuid, %s, %s::uuid, %s, %s::uuid) "
      "ON CONFLICT (folder_id, email) DO UPDATE SET role = EXCLUDED.role, status = 'invited', "
      "user_id = EXCLUDED.user_id, invited_by = EXCLUDED.invited_by, created_at = now(), accepted_at = NULL "
      "WHERE shares.status = 'declined' "
      "RETURNING id, email, role, status" },
    /* A share, the caller's rank on its folder, and whether it is theirs. */
    { "lenz_sh_get",
      "SELECT s.id, s.folder_id, s.email, s.role, s.status, s.user_id, a.rk, "
      "(s.user_id = %s::uuid OR (s.user_id IS NULL AND s.email = %s)), f.name, f.owner_id "
      "FROM shares s JOIN folders f ON f.id = s.folder_id "
      "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'folder', s.folder_id) AS rk) a "
      "WHERE s.id = %s::uuid AND f.trashed_at IS NULL AND left(f.path, 2) <> '//' FOR UPDATE OF s" },
    { "lenz_sh_role", "UPDATE shares SET role = %s WHERE id = %s::uuid" },
    { "lenz_sh_remove", "DELETE FROM shares WHERE id = %s::uuid" },
    { "lenz_sh_answer",
      "UPDATE shares SET status = %s, user_id = %s::uuid, "
      "accepted_at = CASE WHEN %s = 'active' THEN now() END WHERE id = %s::uuid" },
    { "lenz_sh_one",
      "SELECT " SHARE_COLS " FROM shares s LEFT JOIN users u ON u.id = s.user_id WHERE s.id = %s::uuid" },
    { "lenz_sh_incoming_one",
      "SELECT " INCOMING_COLS " FROM shares s JOIN folders f ON f.id = s.folder_id "
      "JOIN users o ON o.id = f.owner_id WHERE s.id = %s::uuid" },
    /* Invitations waiting and shares held, of live folders. */
    { "lenz_sh_incoming",
      "SELECT " INCOMING_COLS " FROM shares s JOIN folders f ON f.id = s.folder_id "
      "JOIN users o ON o.id = f.owner_id "
      "WHERE (s.user_id = %s::uuid OR (s.user_id IS NULL AND s.email = %s)) "
      "AND s.status IN ('invited', 'active') AND f.trashed_at IS NULL AND left(f.path, 2) <> '//' "
      "ORDER BY s.status DESC, f.name_key, s.id LIMIT 1000" },
    { NULL }
};

static int unavailable(request_rec *r, const char *tag)
{
    return lenz_fail(r, APLOG_ERR, tag, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "Service unavailable",
                     "the database is unavailable; try again shortly");
}

static int not_found(request_rec *r, const char *what)
{
    return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found",
                     apr_pstrcat(r->pool, "no such ", what, NULL));
}

static int role_forbids(request_rec *r, const char *detail)
{
    return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "role-forbids", "Not with your role", detail);
}

static void share_json(lenz_json *o, const char **row)
{
    lenz_json_set_str(o, "id", row[0]);
    lenz_json_set_str(o, "email", row[1]);
    lenz_json_set_str(o, "role", row[2]);
    lenz_json_set_str(o, "status", row[3]);
    lenz_json_set_str(o, "name", row[4]);
    lenz_json_set_str(o, "created_at", row[5]);
}

static void incoming_json(lenz_json *o, const char **row)
{
    lenz_json_set_str(o, "id", row[0]);
    lenz_json_set_str(o, "folder_id", row[1]);
    lenz_json_set_str(o, "folder_name", row[2]);
    lenz_json_set_str(o, "role", row[3]);
    lenz_json_set_str(o, "status", row[4]);
    lenz_json_set_str(o, "owner", row[5]);
    lenz_json_set_str(o, "owner_email", row[6]);
}

static int role_rank(const char *role)
{
    static const char *const roles[] = { "viewer", "commenter", "editor", "co-owner" };
    int i;
    for (i = 0; i < 4; i++)
        if (role && !strcmp(role, roles[i]))
            return i + 1;
    return 0;
}

static int role_field(request_rec *r, const lenz_json *b, const char **role)
{
    if (!lenz_field_str(r, b, "role", 1, 20, role))
        return 0;
    if (!role_rank(*role))
        return lenz_field_bad(r, "role", "viewer, commenter, editor or co-owner"), 0;
    return 1;
}

/* The event of a share's change, in the change's transaction. */
static apr_status_t share_event(lenz_db *db, lenz_req *lr, const char *type, const char *share,
                                const char *folder, const char *folder_name, const char *owner,
                                const char *email, const char *user, const char *role)
{
    lenz_json *ev = lenz_json_new_object(lenz_db_pool(db));
    lenz_json_set_str(ev, "share_id", share);
    lenz_json_set_str(ev, "folder_id", folder);
    lenz_json_set_str(ev, "folder_name", folder_name);
    lenz_json_set_str(ev, "owner_id", owner);
    lenz_json_set_str(ev, "email", email);
    if (user)
        lenz_json_set_str(ev, "user_id", user);
    lenz_json_set_str(ev, "role", role);
    lenz_json_set_str(ev, "by", lr->user->name && *lr->user->name ? lr->user->name : lr->user->email);
    return lenz_event_emit(db, type, lr->user->id, share, ev);
}

/* POST /api/v1/folders/{id}/shares */
static int invite(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *folder = lenz_param(lr, "id"), *email = NULL, *role = NULL, *args[5], *user;
    lenz_rows rows, f;
    lenz_db *db;
    int rank;

    if (!b || !lenz_field_str(r, b, "email", 1, 254, &email) || !role_field(r, b, &role))
        return OK;
    if (!lenz_mail_addr_ok(email))
        return lenz_field_bad(r, "email", "not a valid e-mail address"), OK;
    email = lenz_ascii_lower(r->pool, email);
    if (!lenz_uuid_ok(folder))
        return not_found(r, "folder");
    if (!(db = lenz_db_open(r)))
        return unavailable(r, LENZLOGNO(2700));
    args[0] = lr->user->id;
    args[1] = folder;
    if (lenz_db_select(db, "lenz_sh_folder", &f, 2, args) != APR_SUCCESS)
        return lenz_db_close(db), unavailable(r, LENZLOGNO(2700));
    if (f.nrows != 1)
        return lenz_db_close(db), not_found(r, "folder");
    rank = (int)apr_atoi64(f.rows[0][3]);
    if (rank < LENZ_COLLAB_COOWNER)
        return lenz_db_close(db), role_forbids(r, "only the folder's owner and co-owners invite people");
    if (f.rows[0][4][0] == 't')
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "root-folder", "The root folder",
                                           "share a folder inside your files, not the top folder");
    if (!strcasecmp(email, lr->user->email) || !strcasecmp(email, f.rows[0][5]))
        return lenz_db_close(db), lenz_field_bad(r, "email", "the folder is yours (or its owner's) already"), OK;
    if (!lenz_rate_check(r, "collab-invites", lr->user->id,
                         lenz_cfg_collab_limit(lr->srv, LENZ_COLLAB_INVITES), 3600))
        return lenz_db_close(db), OK;
    args[0] = email;
    if (lenz_db_select(db, "lenz_sh_member", &rows, 1, args) != APR_SUCCESS)
        return lenz_db_close(db), unavailable(r, LENZLOGNO(2701));
    user = rows.nrows == 1 ? rows.rows[0][0] : NULL;
    if (lenz_db_begin(db) != APR_SUCCESS)
        return lenz_db_close(db), unavailable(r, LENZLOGNO(2701));
    args[0] = folder;
    args[1] = email;
    args[2] = user;
    args[3] = role;
    args[4] = lr->user->id;
    if (lenz_db_select(db, "lenz_sh_invite", &rows, 5, args) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), unavailable(r, LENZLOGNO(2701));
    }
    if (rows.nrows != 1) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "already-shared", "Shared already",
                         "this address is invited to the folder or a member of it already");
    }
    if (share_event(db, lr, "share.invited", rows.rows[0][0], folder, f.rows[0][1], f.rows[0][2], email, user,
                    role) != APR_SUCCESS
        || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), unavailable(r, LENZLOGNO(2701));
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", rows.rows[0][0]);
    lenz_json_set_str(out, "email", rows.rows[0][1]);
    lenz_json_set_str(out, "role", rows.rows[0][2]);
    lenz_json_set_str(out, "status", rows.rows[0][3]);
    apr_table_setn(r->headers_out, "Location", apr_pstrcat(r->pool, "/api/v1/shares/", rows.rows[0][0], NULL));
    return lenz_send_json(r, HTTP_CREATED, out);
}

/* GET /api/v1/folders/{id}/shares: everyone with access sees who else has it. */
static int list(request_rec *r, lenz_req *lr)
{
    const char *folder = lenz_param(lr, "id"), *args[2];
    lenz_json *out, *arr, *owner;
    lenz_rows f, rows;
    lenz_db *db;
    int i;
    if (!lenz_uuid_ok(folder))
        return not_found(r, "folder");
    if (!(db = lenz_db_open(r)))
        return unavailable(r, LENZLOGNO(2702));
    args[0] = lr->user->id;
    args[1] = folder;
    if (lenz_db_select(db, "lenz_sh_folder", &f, 2, args) != APR_SUCCESS)
        return lenz_db_close(db), unavailable(r, LENZLOGNO(2702));
    if (f.nrows != 1)
        return lenz_db_close(db), not_found(r, "folder");
    args[0] = folder;
    if (lenz_db_select(db, "lenz_sh_list", &rows, 1, args) != APR_SUCCESS)
        return lenz_db_close(db), unavailable(r, LENZLOGNO(2702));
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "folder_id", folder);
    lenz_json_set_str(out, "folder_name", f.rows[0][1]);
    lenz_json_set_str(out, "role", lenz_collab_role_name((int)apr_atoi64(f.rows[0][3])));
    owner = lenz_json_obj_add_object(out, "owner");
    lenz_json_set_str(owner, "name", f.rows[0][6]);
    lenz_json_set_str(owner, "email", f.rows[0][5]);
    arr = lenz_json_obj_add_array(out, "shares");
    for (i = 0; i < rows.nrows; i++)
        share_json(lenz_json_arr_add_object(arr), rows.rows[i]);
    return lenz_send_json(r, HTTP_OK, out);
}

/* A share as the caller may act on it, locked for the transaction begun
 * here.  0 after answering (404 when they have no part in it). */
typedef struct {
    const char *id, *folder, *email, *role, *status, *user, *folder_name, *owner;
    int rank, mine;
} share_row;

static int get_share(request_rec *r, lenz_req *lr, lenz_db *db, share_row *s)
{
    const char *id = lenz_param(lr, "id"), *args[4];
    lenz_rows rows;
    if (!lenz_uuid_ok(id))
        return not_found(r, "share"), 0;
    if (lenz_db_begin(db) != APR_SUCCESS)
        return unavailable(r, LENZLOGNO(2703)), 0;
    args[0] = lr->user->id;
    args[1] = lr->user->email;
    args[2] = lr->user->id;
    args[3] = id;
    if (lenz_db_select(db, "lenz_sh_get", &rows, 4, args) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return unavailable(r, LENZLOGNO(2703)), 0;
    }
    if (rows.nrows != 1) {
        lenz_db_end(db, 1);
        return not_found(r, "share"), 0;
    }
    s->id = rows.rows[0][0];
    s->folder = rows.rows[0][1];
    s->email = rows.rows[0][2];
    s->role = rows.rows[0][3];
    s->status = rows.rows[0][4];
    s->user = rows.rows[0][5];
    s->rank = (int)apr_atoi64(rows.rows[0][6]);
    s->mine = rows.rows[0][7][0] == 't';
    s->folder_name = rows.rows[0][8];
    s->owner = rows.rows[0][9];
    /* An invitee sees their invitation; others need access to the folder
     * (a declined one is the invitee's no longer). */
    if (s->rank == 0 && !(s->mine && strcmp(s->status, "declined"))) {
        lenz_db_end(db, 1);
        return not_found(r, "share"), 0;
    }
    return 1;
}

/* Ends the transaction and answers with the share's row of label. */
static int answer(request_rec *r, lenz_db *db, const char *label, const char *id, int incoming,
                  const char *tag)
{
    const char *args[1] = { id };
    lenz_rows rows;
    lenz_json *out;
    if (lenz_db_end(db, 0) != APR_SUCCESS || lenz_db_select(db, label, &rows, 1, args) != APR_SUCCESS
        || rows.nrows != 1) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), unavailable(r, tag);
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    if (incoming)
        incoming_json(out, rows.rows[0]);
    else
        share_json(out, rows.rows[0]);
    return lenz_send_json(r, HTTP_OK, out);
}

/* PATCH /api/v1/shares/{id} {"role"} */
static int change(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *role = NULL, *args[2];
    share_row s;
    lenz_db *db;
    if (!b || !role_field(r, b, &role))
        return OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r, LENZLOGNO(2704));
    if (!get_share(r, lr, db, &s))
        return lenz_db_close(db), OK;
    if (s.rank < LENZ_COLLAB_COOWNER) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), role_forbids(r, "only the folder's owner and co-owners change roles");
    }
    args[0] = role;
    args[1] = s.id;
    if (strcmp(role, s.role)
        && (lenz_db_exec(db, "lenz_sh_role", NULL, 2, args) != APR_SUCCESS
            || share_event(db, lr, "share.role_changed", s.id, s.folder, s.folder_name, s.owner, s.email, s.user,
                           role) != APR_SUCCESS)) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), unavailable(r, LENZLOGNO(2704));
    }
    return answer(r, db, "lenz_sh_one", s.id, 0, LENZLOGNO(2704));
}

/* DELETE /api/v1/shares/{id}: an owner or co-owner revokes it; the
 * member leaves (or declines) their own. */
static int remove_share(request_rec *r, lenz_req *lr)
{
    const char *args[1];
    share_row s;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r, LENZLOGNO(2705));
    if (!get_share(r, lr, db, &s))
        return lenz_db_close(db), OK;
    if (!s.mine && s.rank < LENZ_COLLAB_COOWNER) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), role_forbids(r, "only the folder's owner and co-owners remove people");
    }
    args[0] = s.id;
    if (lenz_db_exec(db, "lenz_sh_remove", NULL, 1, args) != APR_SUCCESS
        || share_event(db, lr, s.mine ? "share.left" : "share.revoked", s.id, s.folder, s.folder_name, s.owner,
                       s.email, s.user, s.role) != APR_SUCCESS
        || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), unavailable(r, LENZLOGNO(2705));
    }
    lenz_db_close(db);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

/* POST /api/v1/shares/{id}/accept and /decline: the invitee's alone. */
static int respond(request_rec *r, lenz_req *lr, int accept)
{
    const char *args[4];
    share_row s;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r, LENZLOGNO(2706));
    if (!get_share(r, lr, db, &s))
        return lenz_db_close(db), OK;
    if (!s.mine) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "not-yours", "Not your invitation",
                                           "only the person invited accepts or declines an invitation");
    }
    if (!accept && !strcmp(s.status, "active")) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "accepted-already",
                                           "Accepted already", "leave the folder instead (DELETE the share)");
    }
    if (strcmp(s.status, accept ? "active" : "declined")) {
        args[0] = accept ? "active" : "declined";
        args[1] = lr->user->id;
        args[2] = args[0];
        args[3] = s.id;
        if (lenz_db_exec(db, "lenz_sh_answer", NULL, 4, args) != APR_SUCCESS
            || share_event(db, lr, accept ? "share.accepted" : "share.declined", s.id, s.folder, s.folder_name,
                           s.owner, s.email, lr->user->id, s.role) != APR_SUCCESS) {
            lenz_db_end(db, 1);
            return lenz_db_close(db), unavailable(r, LENZLOGNO(2706));
        }
    }
    return answer(r, db, "lenz_sh_incoming_one", s.id, 1, LENZLOGNO(2706));
}

static int accept_share(request_rec *r, lenz_req *lr) { return respond(r, lr, 1); }
static int decline_share(request_rec *r, lenz_req *lr) { return respond(r, lr, 0); }

/* GET /api/v1/shares/incoming */
static int incoming(request_rec *r, lenz_req *lr)
{
    const char *args[2] = { lr->user->id, lr->user->email };
    lenz_json *out, *arr;
    lenz_rows rows;
    lenz_db *db;
    int i;
    if (!(db = lenz_db_open(r)))
        return unavailable(r, LENZLOGNO(2707));
    if (lenz_db_select(db, "lenz_sh_incoming", &rows, 2, args) != APR_SUCCESS)
        return lenz_db_close(db), unavailable(r, LENZLOGNO(2707));
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "shares");
    for (i = 0; i < rows.nrows; i++)
        incoming_json(lenz_json_arr_add_object(arr), rows.rows[i]);
    return lenz_send_json(r, HTTP_OK, out);
}

const lenz_route lenz_api_share_routes[] = {
    { LENZ_POST, "/folders/{id}/shares", invite, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/folders/{id}/shares", list, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/shares/incoming", incoming, LENZ_ACCESS_MEMBER },
    { LENZ_PATCH, "/shares/{id}", change, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/shares/{id}", remove_share, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/shares/{id}/accept", accept_share, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/shares/{id}/decline", decline_share, LENZ_ACCESS_MEMBER },
    { 0 }
};
