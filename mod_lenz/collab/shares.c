/* shares.c - shared folders: invitations, roles, accepting, leaving,
 * revoking (shares.h; docs/collab.md).  The API (h_shares.c) and the pages
 * (h_pages.c) call the same functions.  What the caller may see is decided
 * by lenz_access() (sql/024): a folder they have no access to, and a share
 * of one, answer 404 like ids that do not exist; one they see without the
 * role for the action, 403. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "collab.h"
#include "shares.h"
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

static int role_forbids(request_rec *r, const char *detail)
{
    return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "role-forbids", "Not with your role", detail);
}

void lenz_share_json(lenz_json *o, const char **row)
{
    lenz_json_set_str(o, "id", row[0]);
    lenz_json_set_str(o, "email", row[1]);
    lenz_json_set_str(o, "role", row[2]);
    lenz_json_set_str(o, "status", row[3]);
    lenz_json_set_str(o, "name", row[4]);
    lenz_json_set_str(o, "created_at", row[5]);
}

void lenz_share_incoming_json(lenz_json *o, const char **row)
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

/* The event of a share's change, in the change's transaction. */
apr_status_t lenz_share_event(lenz_db *db, lenz_req *lr, const char *type, const char *share,
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

int lenz_share_invite(request_rec *r, lenz_req *lr, const char *folder, const char *email, const char *role,
                      const char ***out)
{
    const char *args[5], *user;
    lenz_rows rows, f;
    lenz_db *db;
    int rank;

    if (!role_rank(role))
        return lenz_field_bad(r, "role", "viewer, commenter, editor or co-owner"), 0;
    if (!lenz_mail_addr_ok(email))
        return lenz_field_bad(r, "email", "not a valid e-mail address"), 0;
    email = lenz_ascii_lower(r->pool, email);
    if (!lenz_uuid_ok(folder))
        return lenz_fail_not_found(r, "folder"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2700)), 0;
    args[0] = lr->user->id;
    args[1] = folder;
    if (lenz_db_select(db, "lenz_sh_folder", &f, 2, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2700)), 0;
    if (f.nrows != 1)
        return lenz_db_close(db), lenz_fail_not_found(r, "folder"), 0;
    rank = (int)apr_atoi64(f.rows[0][3]);
    if (rank < LENZ_COLLAB_COOWNER)
        return lenz_db_close(db), role_forbids(r, "only the folder's owner and co-owners invite people"), 0;
    if (f.rows[0][4][0] == 't')
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "root-folder", "The root folder",
                                           "share a folder inside your files, not the top folder"), 0;
    if (!strcasecmp(email, lr->user->email) || !strcasecmp(email, f.rows[0][5]))
        return lenz_db_close(db), lenz_field_bad(r, "email", "the folder is yours (or its owner's) already"), 0;
    if (!lenz_rate_check(r, "collab-invites", lr->user->id,
                         lenz_cfg_collab_limit(lr->srv, LENZ_COLLAB_INVITES), 3600))
        return lenz_db_close(db), 0;
    args[0] = email;
    if (lenz_db_select(db, "lenz_sh_member", &rows, 1, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2701)), 0;
    user = rows.nrows == 1 ? rows.rows[0][0] : NULL;
    if (lenz_db_begin(db) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2701)), 0;
    args[0] = folder;
    args[1] = email;
    args[2] = user;
    args[3] = role;
    args[4] = lr->user->id;
    if (lenz_db_select(db, "lenz_sh_invite", &rows, 5, args) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2701)), 0;
    }
    if (rows.nrows != 1) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "already-shared", "Shared already",
                         "this address is invited to the folder or a member of it already"), 0;
    }
    if (lenz_share_event(db, lr, "share.invited", rows.rows[0][0], folder, f.rows[0][1], f.rows[0][2], email, user,
                    role) != APR_SUCCESS
        || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2701)), 0;
    }
    lenz_db_close(db);
    *out = rows.rows[0];
    return 1;
}

int lenz_share_list(request_rec *r, lenz_req *lr, const char *folder, const char ***frow, lenz_rows *shares)
{
    const char *args[2];
    lenz_rows f;
    lenz_db *db;
    if (!lenz_uuid_ok(folder))
        return lenz_fail_not_found(r, "folder"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2702)), 0;
    args[0] = lr->user->id;
    args[1] = folder;
    if (lenz_db_select(db, "lenz_sh_folder", &f, 2, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2702)), 0;
    if (f.nrows != 1)
        return lenz_db_close(db), lenz_fail_not_found(r, "folder"), 0;
    args[0] = folder;
    if (lenz_db_select(db, "lenz_sh_list", shares, 1, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2702)), 0;
    lenz_db_close(db);
    *frow = f.rows[0];
    return 1;
}

/* A share as the caller may act on it, locked for the transaction begun
 * here.  0 after answering (404 when they have no part in it). */
typedef struct {
    const char *id, *folder, *email, *role, *status, *user, *folder_name, *owner;
    int rank, mine;
} share_row;

static int get_share(request_rec *r, lenz_req *lr, lenz_db *db, const char *id, share_row *s)
{
    const char *args[4];
    lenz_rows rows;
    if (!lenz_uuid_ok(id))
        return lenz_fail_not_found(r, "share"), 0;
    if (lenz_db_begin(db) != APR_SUCCESS)
        return lenz_fail_db(r, LENZLOGNO(2703)), 0;
    args[0] = lr->user->id;
    args[1] = lr->user->email;
    args[2] = lr->user->id;
    args[3] = id;
    if (lenz_db_select(db, "lenz_sh_get", &rows, 4, args) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_fail_db(r, LENZLOGNO(2703)), 0;
    }
    if (rows.nrows != 1) {
        lenz_db_end(db, 1);
        return lenz_fail_not_found(r, "share"), 0;
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
        return lenz_fail_not_found(r, "share"), 0;
    }
    return 1;
}

/* Ends the transaction and reads the share's row of label. */
static int reread(request_rec *r, lenz_db *db, const char *label, const char *id, const char *tag,
                  const char ***row)
{
    const char *args[1] = { id };
    lenz_rows rows;
    if (lenz_db_end(db, 0) != APR_SUCCESS || lenz_db_select(db, label, &rows, 1, args) != APR_SUCCESS
        || rows.nrows != 1) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, tag), 0;
    }
    lenz_db_close(db);
    *row = rows.rows[0];
    return 1;
}

int lenz_share_change(request_rec *r, lenz_req *lr, const char *id, const char *role, const char ***row)
{
    const char *args[2];
    share_row s;
    lenz_db *db;
    if (!role_rank(role))
        return lenz_field_bad(r, "role", "viewer, commenter, editor or co-owner"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2704)), 0;
    if (!get_share(r, lr, db, id, &s))
        return lenz_db_close(db), 0;
    if (s.rank < LENZ_COLLAB_COOWNER) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), role_forbids(r, "only the folder's owner and co-owners change roles"), 0;
    }
    args[0] = role;
    args[1] = s.id;
    if (strcmp(role, s.role)
        && (lenz_db_exec(db, "lenz_sh_role", NULL, 2, args) != APR_SUCCESS
            || lenz_share_event(db, lr, "share.role_changed", s.id, s.folder, s.folder_name, s.owner, s.email, s.user,
                           role) != APR_SUCCESS)) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2704)), 0;
    }
    return reread(r, db, "lenz_sh_one", s.id, LENZLOGNO(2704), row);
}

int lenz_share_remove(request_rec *r, lenz_req *lr, const char *id, const char **folder)
{
    const char *args[1];
    share_row s;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2705)), 0;
    if (!get_share(r, lr, db, id, &s))
        return lenz_db_close(db), 0;
    if (!s.mine && s.rank < LENZ_COLLAB_COOWNER) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), role_forbids(r, "only the folder's owner and co-owners remove people"), 0;
    }
    args[0] = s.id;
    if (lenz_db_exec(db, "lenz_sh_remove", NULL, 1, args) != APR_SUCCESS
        || lenz_share_event(db, lr, s.mine ? "share.left" : "share.revoked", s.id, s.folder, s.folder_name, s.owner,
                       s.email, s.user, s.role) != APR_SUCCESS
        || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2705)), 0;
    }
    lenz_db_close(db);
    if (folder)
        *folder = s.folder;
    return 1;
}

int lenz_share_respond(request_rec *r, lenz_req *lr, const char *id, int accept, const char ***row)
{
    const char *args[4];
    share_row s;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2706)), 0;
    if (!get_share(r, lr, db, id, &s))
        return lenz_db_close(db), 0;
    if (!s.mine) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "not-yours", "Not your invitation",
                                           "only the person invited accepts or declines an invitation"), 0;
    }
    if (!accept && !strcmp(s.status, "active")) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "accepted-already",
                                           "Accepted already", "leave the folder instead (DELETE the share)"), 0;
    }
    if (strcmp(s.status, accept ? "active" : "declined")) {
        args[0] = accept ? "active" : "declined";
        args[1] = lr->user->id;
        args[2] = args[0];
        args[3] = s.id;
        if (lenz_db_exec(db, "lenz_sh_answer", NULL, 4, args) != APR_SUCCESS
            || lenz_share_event(db, lr, accept ? "share.accepted" : "share.declined", s.id, s.folder, s.folder_name,
                           s.owner, s.email, lr->user->id, s.role) != APR_SUCCESS) {
            lenz_db_end(db, 1);
            return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2706)), 0;
        }
    }
    return reread(r, db, "lenz_sh_incoming_one", s.id, LENZLOGNO(2706), row);
}

int lenz_share_incoming(request_rec *r, lenz_req *lr, lenz_rows *rows)
{
    const char *args[2] = { lr->user->id, lr->user->email };
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2707)), 0;
    if (lenz_db_select(db, "lenz_sh_incoming", rows, 2, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2707)), 0;
    lenz_db_close(db);
    return 1;
}
