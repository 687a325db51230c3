/* h_files_page.c - lenz-files: the members' file manager as pages, mounted
 * at /files (and reached from the seed's /sst-file-manager, which the
 * configuration redirects here).  Everything works without scripts: each
 * action is a form that posts and redirects back (a clash or a bad name
 * re-renders the folder with the reason and the status the API gives).
 * The same store as /api/v1 (store.c, listing.c). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "store.h"
#include "httpd/quota.h"
#include "listing.h"
#include "httpd/config.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/dbd.h"
#include "httpd/auth.h"
#include "names.h"
#include "codec.h"

#define PAGE_ROWS 200

const lenz_stmt lenz_files_page_stmts[] = {
    /* The folder's ancestors the member sees (lenz_access, sql/024), root
     * first, by their paths in the owner's tree.  Arguments: owner, paths,
     * member. */
    { "lenz_fp_crumbs",
      "SELECT id, name, path FROM folders WHERE owner_id = %s::uuid AND trashed_at IS NULL "
      "AND path = ANY (string_to_array(%s, E'\\n')) AND lenz_access(%s::uuid, 'folder', id) > 0 ORDER BY depth" },
    /* Where an item can move to (a folder picker), at most 500: the
     * owner's folders the member may change.  Arguments: owner, member. */
    { "lenz_fp_folders",
      "SELECT id, lenz_visible_path(%s::uuid, id) FROM folders WHERE owner_id = %s::uuid AND trashed_at IS NULL "
      "AND left(path, 2) <> '//' AND lenz_access(%s::uuid, 'folder', id) >= 3 ORDER BY path COLLATE \"C\" LIMIT 500" },
    { NULL }
};

static int redirect(request_rec *r, lenz_req *lr, const char *to)
{
    apr_table_setn(r->err_headers_out, "Location", apr_pstrcat(r->pool, lr->srv->public_url, to, NULL));
    r->status = HTTP_SEE_OTHER;
    return OK;
}

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2501), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

static const char *folder_url(apr_pool_t *p, const char *id, const char *root)
{
    return root && !strcmp(id, root) ? "/files" : apr_pstrcat(p, "/files/folder/", id, NULL);
}

/* What a store outcome tells the member on the page. */
static void page_error(apr_pool_t *p, lenz_json *ctx, lenz_fs_rc rc, const char *suggested, const char *detail)
{
    lenz_json *e = lenz_json_obj_add_object(ctx, "error");
    switch (rc) {
    case LENZ_FS_CLASH:
        lenz_json_set_str(e, "title", "That name is taken");
        lenz_json_set_str(e, "detail", suggested ? apr_pstrcat(p, "Something there has this name already. "
                                                              "A free one would be \u201c", suggested, "\u201d.", NULL)
                                                 : "Something there has this name already.");
        break;
    case LENZ_FS_CYCLE:
        lenz_json_set_str(e, "title", "Not into itself");
        lenz_json_set_str(e, "detail", "A folder cannot go into itself or into a folder inside it.");
        break;
    case LENZ_FS_TOO_DEEP:
        lenz_json_set_str(e, "title", "Too deep");
        lenz_json_set_str(e, "detail", "Folders cannot nest any deeper.");
        break;
    case LENZ_FS_ROOT:
        lenz_json_set_str(e, "title", "Your top folder");
        lenz_json_set_str(e, "detail", "The top folder cannot be renamed, moved or deleted.");
        break;
    case LENZ_FS_FORBIDDEN:
        lenz_json_set_str(e, "title", "Not with your role");
        lenz_json_set_str(e, "detail", "Your role in this shared folder does not allow that; ask its owner.");
        break;
    case LENZ_FS_OTHER_OWNER:
        lenz_json_set_str(e, "title", "Another owner's folder");
        lenz_json_set_str(e, "detail", "Items move only within one owner's files.");
        break;
    default:
        lenz_json_set_str(e, "title", "That did not work");
        lenz_json_set_str(e, "detail", detail ? detail : "The item is no longer there.");
    }
}

static int status_of(lenz_fs_rc rc)
{
    switch (rc) {
    case LENZ_FS_NOT_FOUND: return HTTP_NOT_FOUND;
    case LENZ_FS_TOO_DEEP:  return HTTP_BAD_REQUEST;
    case LENZ_FS_STALE:     return HTTP_PRECONDITION_FAILED;
    case LENZ_FS_FORBIDDEN: return HTTP_FORBIDDEN;
    case LENZ_FS_DB:        return HTTP_SERVICE_UNAVAILABLE;
    default:                return HTTP_CONFLICT;
    }
}

/* The folder page: breadcrumb, storage used, its children with their
 * actions, and the forms to add a folder or upload here.  rc/detail: an
 * action that failed, shown above the list. */
static int folder_page(request_rec *r, lenz_req *lr, const char *id, int status, lenz_json *err)
{
    apr_pool_t *p = r->pool;
    lenz_json *ctx = lenz_json_new_object(p), *kids = lenz_json_new_array(p), *crumbs, *dests, *bulk_dests;
    const char *root, *next = NULL, *args[3], *pre, *s, *where;
    apr_int64_t used = 0, trash = 0;
    apr_off_t quota;
    lenz_fs_item it;
    lenz_rows rows;
    lenz_fs_rc rc;
    lenz_db *db;
    apr_size_t i;
    int k;
    /* The list's order (headers link to each) and page (cursor). */
    const char *sort_s = lenz_query(r, "sort"), *order = lenz_query(r, "order"), *cursor = lenz_query(r, "cursor");
    int sort = lenz_ls_sort(sort_s), desc = order && !strcmp(order, "desc");
    apr_status_t lrv;

    if (sort < 0 || (order && strcmp(order, "asc") && strcmp(order, "desc")))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "No such order",
                         "sort by name, size or modified, asc or desc");
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (!(root = lenz_fs_root(db, lr->user->id))) {
        lenz_db_close(db);
        return unavailable(r);
    }
    if ((rc = lenz_fs_folder(db, lr->user->id, id ? id : root, &it)) != LENZ_FS_OK) {
        lenz_db_close(db);
        if (rc == LENZ_FS_NOT_FOUND)
            return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Folder not found",
                             "there is no such folder in your files");
        return unavailable(r);
    }
    lrv = lenz_ls_children(db, it.id, sort, desc, cursor, PAGE_ROWS, kids, &next);
    if (lrv == APR_EINVAL) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "No such page",
                         "this page of the list does not exist (any more); start from the folder");
    }
    if (lrv != APR_SUCCESS || lenz_fs_usage(db, lr->user->id, &used, &trash) != LENZ_FS_OK) {
        lenz_db_close(db);
        return unavailable(r);
    }
    /* Breadcrumb: every prefix of the path ("/", "/a", "/a/b") in the
     * owner's tree, as far up as the member sees. */
    pre = "/";
    for (s = it.stored_path + 1; *s; s++)
        if (*s == '/')
            pre = apr_pstrcat(p, pre, "\n", apr_pstrmemdup(p, it.stored_path, (apr_size_t)(s - it.stored_path)), NULL);
    if (strcmp(it.stored_path, "/"))
        pre = apr_pstrcat(p, pre, "\n", it.stored_path, NULL);
    args[0] = it.owner_id;
    args[1] = pre;
    args[2] = lr->user->id;
    crumbs = lenz_json_obj_add_array(ctx, "crumbs");
    if (it.rank != LENZ_RANK_OWNER) {
        lenz_json *c = lenz_json_arr_add_object(crumbs);
        lenz_json_set_str(c, "name", "Shared with me");
        lenz_json_set_str(c, "url", "/collab/shares");
        lenz_json_set_str(c, "id", "");
    }
    if (lenz_db_select(db, "lenz_fp_crumbs", &rows, 3, args) == APR_SUCCESS)
        for (k = 0; k < rows.nrows; k++) {
            lenz_json *c = lenz_json_arr_add_object(crumbs);
            lenz_json_set_str(c, "name", rows.rows[k][1][0] ? rows.rows[k][1] : "My files");
            lenz_json_set_str(c, "url", folder_url(p, rows.rows[k][0], root));
            lenz_json_set_str(c, "id", rows.rows[k][0]);
            lenz_json_set_bool(c, "current", !strcmp(rows.rows[k][0], it.id));
        }
    dests = lenz_json_new_array(p);
    where = lenz_fs_upload_default(db, lr->user->id);
    quota = lenz_member_quota(r, db, lr->user->id);
    args[0] = lr->user->id;
    args[1] = it.owner_id;
    args[2] = lr->user->id;
    if (lenz_db_select(db, "lenz_fp_folders", &rows, 3, args) == APR_SUCCESS)
        for (k = 0; k < rows.nrows; k++) {
            lenz_json *d = lenz_json_arr_add_object(dests);
            lenz_json_set_str(d, "id", rows.rows[k][0]);
            lenz_json_set_str(d, "path", !strcmp(rows.rows[k][1], "/") ? "/ (My files)" : rows.rows[k][1]);
        }
    lenz_db_close(db);

    lenz_json_set_str(ctx, "title", it.depth ? it.name : "My files");
    /* What the member may do here (a folder shared with them: their role). */
    lenz_json_set_bool(ctx, "can_edit", it.rank >= LENZ_RANK_EDITOR);
    lenz_json_set_bool(ctx, "is_owner", it.rank == LENZ_RANK_OWNER);
    if (it.rank != LENZ_RANK_OWNER)
        lenz_json_set_str(ctx, "role", lenz_fs_role_name(it.rank));
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    lenz_json_set_str(ctx, "folder_id", it.id);
    lenz_json_set_str(ctx, "back", folder_url(p, it.id, root));
    lenz_json_set_str(ctx, "used", lenz_human_size(p, used));
    lenz_json_set_str(ctx, "quota", lenz_human_size(p, quota));
    lenz_json_set_str(ctx, "trash", lenz_human_size(p, trash));
    if (err)
        lenz_json_set_copy(ctx, "error", lenz_json_get(err, "error"));
    /* Each row: its links and its actions' forms (the folder picker
     * without the item itself for folders). */
    for (i = 0; i < lenz_json_array_len(kids); i++) {
        lenz_json *c = lenz_json_array_get(kids, i), *moves = lenz_json_obj_add_array(c, "dests");
        const char *cid = lenz_json_string(lenz_json_get(c, "id"));
        int folder = !strcmp(lenz_json_string(lenz_json_get(c, "type")), "folder");
        apr_size_t j;
        lenz_json_set_bool(c, "folder", folder);
        if (folder)
            lenz_json_set_str(c, "url", folder_url(p, cid, root));
        else
            lenz_json_set_str(c, "size_text", lenz_human_size(p, lenz_json_int(lenz_json_get(c, "size"))));
        for (j = 0; j < lenz_json_array_len(dests); j++) {
            lenz_json *d = lenz_json_array_get(dests, j);
            const char *did = lenz_json_string(lenz_json_get(d, "id"));
            if (!strcmp(did, it.id) || (folder && !strcmp(did, cid)))
                continue;
            {
                lenz_json *m = lenz_json_arr_add_object(moves);
                lenz_json_set_str(m, "id", did);
                lenz_json_set_str(m, "path", lenz_json_string(lenz_json_get(d, "path")));
            }
        }
        lenz_json_set_bool(c, "has_dests", lenz_json_array_len(moves) > 0);
    }
    /* The picked items' move: anywhere but here. */
    bulk_dests = lenz_json_obj_add_array(ctx, "bulk_dests");
    for (i = 0; i < lenz_json_array_len(dests); i++) {
        lenz_json *d = lenz_json_array_get(dests, i);
        if (strcmp(lenz_json_string(lenz_json_get(d, "id")), it.id)) {
            lenz_json *m = lenz_json_arr_add_object(bulk_dests);
            lenz_json_set_str(m, "id", lenz_json_string(lenz_json_get(d, "id")));
            lenz_json_set_str(m, "path", lenz_json_string(lenz_json_get(d, "path")));
        }
    }
    lenz_json_set_bool(ctx, "policy_choice", lenz_cfg_upload_policy(lr->srv) == LENZ_POLICY_CHOICE);
    /* For files.js: where dropped files go (upload.js decides the same). */
    lenz_json_set_str(ctx, "policy", lenz_cfg_upload_policy(lr->srv) == LENZ_POLICY_ENCRYPTED ? "encrypted"
                      : lenz_cfg_upload_policy(lr->srv) == LENZ_POLICY_PLAIN ? "plain" : "choice");
    lenz_json_set_str(ctx, "upload_default", where ? where : "encrypted");
    if (lenz_cfg_plain_above(lr->srv) > 0 && lenz_cfg_upload_policy(lr->srv) != LENZ_POLICY_PLAIN)
        lenz_json_set_int(ctx, "plain_above", lenz_cfg_plain_above(lr->srv));
    lenz_json_set_bool(ctx, "upload_plain", where && !strcmp(where, "plain"));
    lenz_json_set_bool(ctx, "is_root", it.depth == 0);
    lenz_json_set_copy(ctx, "children", kids);
    lenz_json_set_bool(ctx, "empty", lenz_json_array_len(kids) == 0 && !cursor);
    lenz_json_set_bool(ctx, "more", next != NULL);
    {
        /* Each header sorts by its column; again: the other way round. */
        static const char *const cols[] = { "name", "size", "modified" };
        static const char *const asc_words[] = { "A to Z", "smallest first", "oldest first" };
        static const char *const desc_words[] = { "Z to A", "largest first", "newest first" };
        const char *base = folder_url(p, it.id, root);
        for (k = 0; k < 3; k++) {
            lenz_json *c = lenz_json_obj_add_object(ctx, apr_pstrcat(p, "sort_", cols[k], NULL));
            int now = sort == k, flip = now && !desc;
            lenz_json_set_str(c, "url", apr_pstrcat(p, base, "?sort=", cols[k], flip ? "&order=desc" : "", NULL));
            lenz_json_set_str(c, "aria", now ? (desc ? "descending" : "ascending") : "none");
            lenz_json_set_str(c, "next", flip ? desc_words[k] : asc_words[k]);
        }
        lenz_json_set_str(ctx, "order_text", apr_pstrcat(p, "Folders first, then files, by ",
                          sort == 1 ? "size" : sort == 2 ? "date changed" : "name",
                          desc ? " (descending)" : "", NULL));
        if (next)
            lenz_json_set_str(ctx, "next_url", apr_pstrcat(p, base, "?sort=", cols[sort], desc ? "&order=desc" : "",
                                                           "&cursor=", ap_escape_uri(p, next), NULL));
    }
    return lenz_render_page(r, status, "files/folder", ctx);
}

static int show_root(request_rec *r, lenz_req *lr) { return folder_page(r, lr, NULL, HTTP_OK, NULL); }
static int show_folder(request_rec *r, lenz_req *lr) { return folder_page(r, lr, lenz_param(lr, "id"), HTTP_OK, NULL); }

/* After an action: back to the folder it was done in (the form's "back",
 * one of ours: /files or /files/folder/<uuid>), or the folder page with the
 * reason it failed. */
static const char *back_of(apr_table_t *f)
{
    const char *b = apr_table_get(f, "back");
    if (b && (!strcmp(b, "/files") || (!strncmp(b, "/files/folder/", 14) && lenz_uuid_ok(b + 14))))
        return b;
    return "/files";
}

static int after(request_rec *r, lenz_req *lr, apr_table_t *f, lenz_fs_rc rc, const char *suggested,
                 const char *detail)
{
    const char *b = back_of(f);
    lenz_json *err;
    if (rc == LENZ_FS_OK)
        return redirect(r, lr, b);
    if (rc == LENZ_FS_DB)
        return unavailable(r);
    err = lenz_json_new_object(r->pool);
    page_error(r->pool, err, rc, suggested, detail);
    return folder_page(r, lr, !strcmp(b, "/files") ? NULL : b + 14, status_of(rc), err);
}

static int bad_name(request_rec *r, lenz_req *lr, apr_table_t *f, const char *why)
{
    lenz_json *err = lenz_json_new_object(r->pool), *e = lenz_json_obj_add_object(err, "error");
    const char *b = back_of(f);
    lenz_json_set_str(e, "title", "That name cannot be used");
    lenz_json_set_str(e, "detail", apr_pstrcat(r->pool, "A name ", why, ".", NULL));
    return folder_page(r, lr, !strcmp(b, "/files") ? NULL : b + 14, HTTP_BAD_REQUEST, err);
}

static int new_folder(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *name, *why, *suggested = NULL;
    lenz_fs_item it;
    lenz_fs_rc rc;
    lenz_db *db;
    if (!f)
        return OK;
    name = apr_table_get(f, "name");
    if ((why = lenz_name_problem(name)))
        return bad_name(r, lr, f, why);
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = lenz_fs_mkdir(db, lr->user->id, lenz_param(lr, "id"), name, lenz_cfg_folder_depth(lr->srv), &it, &suggested);
    lenz_db_close(db);
    return after(r, lr, f, rc, suggested, NULL);
}

/* rename, move, delete: the form says whether the item is a folder. */
static int item_action(request_rec *r, lenz_req *lr, int what)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *kind, *name = NULL, *to = NULL, *why, *suggested = NULL;
    lenz_fs_item it;
    lenz_fs_rc rc;
    lenz_db *db;
    int folder;
    if (!f)
        return OK;
    kind = apr_table_get(f, "kind");
    folder = kind && !strcmp(kind, "folder");
    if (what == 0 && (why = lenz_name_problem(name = apr_table_get(f, "name"))))
        return bad_name(r, lr, f, why);
    if (what == 1 && !lenz_uuid_ok(to = apr_table_get(f, "to")))
        return after(r, lr, f, LENZ_FS_NOT_FOUND, NULL, "Choose a folder to move it to.");
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (what == 2)
        rc = lenz_fs_trash(db, lr->user->id, folder, lenz_param(lr, "id"));
    else
        rc = lenz_fs_change(db, lr->user->id, folder, lenz_param(lr, "id"), name, to, NULL,
                            lenz_cfg_folder_depth(lr->srv), &it, &suggested);
    lenz_db_close(db);
    /* A folder deleted from its own page: back to where it was. */
    return after(r, lr, f, rc, suggested, NULL);
}

static int rename_item(request_rec *r, lenz_req *lr) { return item_action(r, lr, 0); }
static int move_item(request_rec *r, lenz_req *lr) { return item_action(r, lr, 1); }
static int delete_item(request_rec *r, lenz_req *lr) { return item_action(r, lr, 2); }

static int trash_page(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = lenz_json_new_object(r->pool), *items = lenz_json_obj_add_array(ctx, "items");
    lenz_fs_rc rc;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = lenz_fs_trash_list(db, lr->user->id, items);
    lenz_db_close(db);
    if (rc != LENZ_FS_OK)
        return unavailable(r);
    lenz_json_set_str(ctx, "title", "Trash");
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    lenz_json_set_int(ctx, "days", lenz_cfg_trash_days(lr->srv));
    lenz_json_set_bool(ctx, "empty", lenz_json_array_len(items) == 0);
    return lenz_render_page(r, HTTP_OK, "files/trash", ctx);
}

static int restore_item(request_rec *r, lenz_req *lr)
{
    lenz_fs_item it;
    lenz_fs_rc rc;
    lenz_db *db;
    if (!lenz_body_form(r, lr))
        return OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = lenz_fs_restore(db, lr->user->id, lenz_param(lr, "id"), lenz_cfg_folder_depth(lr->srv), &it);
    lenz_db_close(db);
    if (rc == LENZ_FS_DB)
        return unavailable(r);
    return redirect(r, lr, "/files/trash");
}

static int empty_trash(request_rec *r, lenz_req *lr)
{
    lenz_fs_rc rc;
    lenz_db *db;
    int n;
    if (!lenz_body_form(r, lr))
        return OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = lenz_fs_empty(db, lr->user->id, 0, &n);
    lenz_db_close(db);
    if (rc != LENZ_FS_OK)
        return unavailable(r);
    return redirect(r, lr, "/files/trash");
}

static const lenz_route routes[] = {
    { LENZ_GET, "/", show_root, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/folder/{id}", show_folder, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/folder/{id}/new", new_folder, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/item/{id}/rename", rename_item, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/item/{id}/move", move_item, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/item/{id}/delete", delete_item, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/trash", trash_page, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/trash/{id}/restore", restore_item, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/trash/empty", empty_trash, LENZ_ACCESS_MEMBER },
    { 0 }
};

static const lenz_route *const tables[] = { routes, lenz_share_page_routes, NULL };

const lenz_area lenz_area_files = { "lenz-files", "files", tables, lenz_files_page_stmts, 0 };
