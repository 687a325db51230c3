/* comments.c - comments on files and folders (comments.h; docs/collab.md):
 * one level of replies, edits by the author within 15 minutes, deletion
 * by the author or the folder's owner and co-owners, @mentions of people
 * who can see the item.  The API (h_comments.c) and the pages (h_pages.c)
 * call these functions.
 *
 * Access is lenz_access() (sql/024) inside every statement: an item the
 * caller cannot see, and its comments, answer 404; a viewer who comments
 * gets 403.  A mention is "@" and an e-mail address; it tells the person
 * only when they can see the item (else nothing happens, and nothing in
 * the answer says whether the address exists). */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "area.h"
#include "collab.h"
#include "comments.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/dbd.h"
#include "httpd/auth.h"
#include "httpd/outbox.h"
#include "codec.h"
#include "mail.h"

#define EDIT_WINDOW "15 minutes"
#define MAX_MENTIONS 20
#define LIST_MAX 500

#define TS(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define COMMENT_COLS "c.id, c.parent_id, c.author_id, coalesce(nullif(u.name, ''), u.email, 'a former member'), " \
    "c.body, " TS("c.created_at") ", " TS("c.edited_at") ", (c.created_at > now() - interval '" EDIT_WINDOW "')"

const lenz_stmt lenz_comments_stmts[] = {
    /* The item: the caller's rank, whether it is live, its name, owner and
     * the folder it is in (a folder's own id).  Arguments: member, kind,
     * id (the file's or the folder's). */
    { "lenz_cm_item",
      "SELECT a.rk, i.live, i.name, i.owner_id, i.folder FROM ("
      " SELECT x.name, x.owner_id, x.folder_id AS folder, (x.trashed_at IS NULL AND x.state = 'ready' "
      "   AND left(p.path, 2) <> '//') AS live FROM files x JOIN folders p ON p.id = x.folder_id "
      "  WHERE %s = 'file' AND x.id = %s::uuid "
      " UNION ALL "
      " SELECT f.name, f.owner_id, f.id, (f.trashed_at IS NULL AND left(f.path, 2) <> '//') FROM folders f "
      "  WHERE %s = 'folder' AND f.id = %s::uuid) i "
      "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, %s, %s::uuid) AS rk) a WHERE a.rk > 0" },
    /* A top-level comment of the same item, to reply to (a reply to a
     * reply answers its top comment: one level). */
    { "lenz_cm_parent",
      "SELECT coalesce(c.parent_id, c.id) FROM comments c "
      "WHERE c.id = %s::uuid AND (c.file_id = %s::uuid OR c.folder_id = %s::uuid)" },
    { "lenz_cm_insert",
      "INSERT INTO comments (file_id, folder_id, author_id, parent_id, body) "
      "VALUES (%s::uuid, %s::uuid, %s::uuid, %s::uuid, %s) RETURNING id" },
    /* The people mentioned who can see the item (never the author). */
    { "lenz_cm_mentioned",
      "SELECT u.id FROM users u WHERE u.email = ANY (%s::citext[]) AND u.status = 'active' "
      "AND u.id <> %s::uuid AND lenz_access(u.id, %s, %s::uuid) > 0" },
    /* The comments of an item the caller sees (the access asked once, for
     * the item, as an InitPlan): top ones oldest first, each followed by
     * its replies. */
    { "lenz_cm_list",
      "SELECT " COMMENT_COLS " FROM comments c LEFT JOIN users u ON u.id = c.author_id "
      "WHERE (c.file_id = %s::uuid OR c.folder_id = %s::uuid) "
      "AND (SELECT lenz_access(%s::uuid, %s, %s::uuid)) > 0 "
      "ORDER BY (SELECT p.created_at FROM comments p WHERE p.id = coalesce(c.parent_id, c.id)), "
      "coalesce(c.parent_id, c.id), c.parent_id IS NOT NULL, c.created_at, c.id LIMIT " APR_STRINGIFY(LIST_MAX) },
    /* One comment the caller sees, their rank on its item, locked. */
    { "lenz_cm_get",
      "SELECT " COMMENT_COLS ", a.rk, coalesce(c.file_id, c.folder_id), "
      "CASE WHEN c.file_id IS NULL THEN 'folder' ELSE 'file' END "
      "FROM comments c LEFT JOIN users u ON u.id = c.author_id "
      "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'comment', c.id) AS rk) a "
      "WHERE c.id = %s::uuid AND a.rk > 0 FOR UPDATE OF c" },
    { "lenz_cm_edit", "UPDATE comments SET body = %s, edited_at = now() WHERE id = %s::uuid" },
    { "lenz_cm_delete", "DELETE FROM comments WHERE id = %s::uuid" },
    { NULL }
};

void lenz_comment_json(lenz_json *o, const char **row, const char *me)
{
    lenz_json *a;
    lenz_json_set_str(o, "id", row[0]);
    lenz_json_set_str(o, "parent_id", row[1]);
    a = lenz_json_obj_add_object(o, "author");
    lenz_json_set_str(a, "id", row[2]);
    lenz_json_set_str(a, "name", row[3]);
    lenz_json_set_str(o, "body", row[4]);
    lenz_json_set_str(o, "created_at", row[5]);
    lenz_json_set_str(o, "edited_at", row[6]);
    lenz_json_set_bool(o, "can_edit", row[2] && !strcmp(row[2], me) && row[7][0] == 't');
}

/* The e-mail addresses after '@' in body, as a PostgreSQL array literal
 * (at most MAX_MENTIONS; NULL when none). */
static const char *mentions(apr_pool_t *p, const char *body)
{
    const char *s, *out = NULL;
    int n = 0;
    for (s = body; *s && n < MAX_MENTIONS; s++) {
        const char *e;
        char *addr;
        if (*s != '@' || (s > body && (apr_isalnum((unsigned char)s[-1]) || s[-1] == '.')))
            continue;
        for (e = s + 1; *e && (apr_isalnum((unsigned char)*e) || strchr(".-_+@", *e)); e++)
            ;
        while (e > s + 1 && e[-1] == '.')
            e--;                        /* "@a@b.example." ends a sentence */
        addr = apr_pstrmemdup(p, s + 1, e - s - 1);
        if (lenz_mail_addr_ok(addr)) {
            out = apr_pstrcat(p, out ? out : "{", out ? "," : "", "\"", addr, "\"", NULL);
            n++;
        }
        s = e - 1;
    }
    return out ? apr_pstrcat(p, out, "}", NULL) : NULL;
}

int lenz_comment_add(request_rec *r, lenz_req *lr, const char *kind, const char *item, const char *body,
                     const char *reply, const char **id)
{
    lenz_json *ev, *arr;
    const char *file = !strcmp(kind, "file") ? item : NULL, *folder = file ? NULL : item, *parent = NULL;
    const char *args[7], *addrs;
    lenz_rows it, rows;
    lenz_db *db;
    const char *cid;
    int rank, i;

    if (!*body || strspn(body, " \t\r\n") == strlen(body) || strlen(body) > 10000)
        return lenz_field_bad(r, "body", "1 to 10000 characters, not only spaces"), 0;
    if (!lenz_uuid_ok(item))
        return lenz_fail_not_found(r, kind), 0;
    if (reply && !lenz_uuid_ok(reply))
        return lenz_fail_not_found(r, "comment to reply to"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2720)), 0;
    args[0] = kind; args[1] = item; args[2] = kind; args[3] = item;
    args[4] = lr->user->id; args[5] = kind; args[6] = item;
    if (lenz_db_select(db, "lenz_cm_item", &it, 7, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2720)), 0;
    if (it.nrows != 1)
        return lenz_db_close(db), lenz_fail_not_found(r, kind), 0;
    rank = (int)apr_atoi64(it.rows[0][0]);
    if (it.rows[0][1][0] != 't')
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "in-trash", "In the trash",
                                           apr_pstrcat(r->pool, "the ", kind, " is in the trash; restore it first", NULL)), 0;
    if (rank < LENZ_COLLAB_COMMENTER)
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "role-forbids", "Not with your role",
                                           "viewers read comments; commenters and up write them"), 0;
    if (!lenz_collab_text_ok(r, lr, "body", body, LENZ_COLLAB_COMMENTS))
        return lenz_db_close(db), 0;
    if (reply) {
        args[0] = reply; args[1] = item; args[2] = item;
        if (lenz_db_select(db, "lenz_cm_parent", &rows, 3, args) != APR_SUCCESS)
            return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2720)), 0;
        if (rows.nrows != 1)
            return lenz_db_close(db), lenz_fail_not_found(r, "comment to reply to"), 0;
        parent = rows.rows[0][0];
    }
    if (lenz_db_begin(db) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2721)), 0;
    args[0] = file; args[1] = folder; args[2] = lr->user->id; args[3] = parent; args[4] = body;
    if (lenz_db_select(db, "lenz_cm_insert", &rows, 5, args) != APR_SUCCESS || rows.nrows != 1)
        goto failed;
    cid = rows.rows[0][0];
    ev = lenz_json_new_object(r->pool);
    lenz_json_set_str(ev, "comment_id", rows.rows[0][0]);
    lenz_json_set_str(ev, "item_type", kind);
    lenz_json_set_str(ev, "item_id", item);
    lenz_json_set_str(ev, "name", it.rows[0][2]);
    lenz_json_set_str(ev, "owner_id", it.rows[0][3]);
    lenz_json_set_str(ev, "folder_id", it.rows[0][4]);
    lenz_json_set_str(ev, "by", lr->user->name && *lr->user->name ? lr->user->name : lr->user->email);
    lenz_json_set_str(ev, "excerpt", apr_pstrndup(r->pool, body, 200));
    if (parent)
        lenz_json_set_str(ev, "reply_to", parent);
    arr = lenz_json_obj_add_array(ev, "mentions");
    if ((addrs = mentions(r->pool, body))) {
        args[0] = addrs; args[1] = lr->user->id; args[2] = kind; args[3] = item;
        if (lenz_db_select(db, "lenz_cm_mentioned", &rows, 4, args) != APR_SUCCESS)
            goto failed;
        for (i = 0; i < rows.nrows; i++)
            lenz_json_arr_add_str(arr, rows.rows[i][0]);
    }
    if (lenz_event_emit(db, "comment.created", lr->user->id, cid, ev) != APR_SUCCESS
        || lenz_db_end(db, 0) != APR_SUCCESS)
        goto failed;
    lenz_db_close(db);
    *id = cid;
    return 1;
failed:
    lenz_db_end(db, 1);
    lenz_db_close(db);
    return lenz_fail_db(r, LENZLOGNO(2721)), 0;
}

int lenz_comment_list(request_rec *r, lenz_req *lr, const char *kind, const char *item, const char ***itrow,
                      lenz_rows *rows)
{
    const char *args[7];
    lenz_rows it;
    lenz_db *db;
    if (!lenz_uuid_ok(item))
        return lenz_fail_not_found(r, kind), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2722)), 0;
    args[0] = kind; args[1] = item; args[2] = kind; args[3] = item;
    args[4] = lr->user->id; args[5] = kind; args[6] = item;
    if (lenz_db_select(db, "lenz_cm_item", &it, 7, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2722)), 0;
    if (it.nrows != 1 || it.rows[0][1][0] != 't')
        return lenz_db_close(db), lenz_fail_not_found(r, kind), 0;
    args[0] = item; args[1] = item; args[2] = lr->user->id; args[3] = kind; args[4] = item;
    if (lenz_db_select(db, "lenz_cm_list", rows, 5, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2722)), 0;
    lenz_db_close(db);
    *itrow = it.rows[0];
    return 1;
}

/* The comment of the path, locked in a transaction begun here; 0 after
 * answering. */
static int get_comment(request_rec *r, lenz_req *lr, lenz_db *db, const char *id, const char ***row)
{
    const char *args[2];
    lenz_rows rows;
    if (!lenz_uuid_ok(id))
        return lenz_fail_not_found(r, "comment"), 0;
    if (lenz_db_begin(db) != APR_SUCCESS)
        return lenz_fail_db(r, LENZLOGNO(2723)), 0;
    args[0] = lr->user->id;
    args[1] = id;
    if (lenz_db_select(db, "lenz_cm_get", &rows, 2, args) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_fail_db(r, LENZLOGNO(2723)), 0;
    }
    if (rows.nrows != 1) {
        lenz_db_end(db, 1);
        return lenz_fail_not_found(r, "comment"), 0;
    }
    *row = rows.rows[0];
    return 1;
}

int lenz_comment_edit(request_rec *r, lenz_req *lr, const char *id, const char *body, const char ***out)
{
    const char **row, *args[2];
    lenz_rows rows;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2724)), 0;
    if (!get_comment(r, lr, db, id, &row))
        return lenz_db_close(db), 0;
    if (!row[2] || strcmp(row[2], lr->user->id)) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "not-yours", "Not your comment",
                                           "only its author edits a comment"), 0;
    }
    if (row[7][0] != 't') {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "edit-window-over", "Too late to edit",
                                           "a comment can be edited for " EDIT_WINDOW " after it is written"), 0;
    }
    if (!lenz_collab_text_ok(r, lr, "body", body, LENZ_COLLAB_COMMENTS)) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), 0;
    }
    args[0] = body;
    args[1] = row[0];
    if (lenz_db_exec(db, "lenz_cm_edit", NULL, 2, args) != APR_SUCCESS || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2724)), 0;
    }
    args[0] = lr->user->id;
    if (lenz_db_select(db, "lenz_cm_get", &rows, 2, args) != APR_SUCCESS || rows.nrows != 1)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2724)), 0;
    lenz_db_close(db);
    *out = rows.rows[0];
    return 1;
}

/* DELETE /api/v1/comments/{id}: its author, or the owner or a co-owner of
 * the folder it is in (its replies go with it). */
int lenz_comment_delete(request_rec *r, lenz_req *lr, const char *id)
{
    const char **row, *args[1];
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2725)), 0;
    if (!get_comment(r, lr, db, id, &row))
        return lenz_db_close(db), 0;
    if ((!row[2] || strcmp(row[2], lr->user->id)) && apr_atoi64(row[8]) < LENZ_COLLAB_COOWNER) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "not-yours", "Not your comment",
                                           "a comment is deleted by its author or the folder's owner"), 0;
    }
    args[0] = row[0];
    if (lenz_db_exec(db, "lenz_cm_delete", NULL, 1, args) != APR_SUCCESS || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2725)), 0;
    }
    lenz_db_close(db);
    return 1;
}

