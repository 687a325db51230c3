/* h_files.c - members' storage under /api/v1: folders and their children,
 * renaming and moving, the trash, storage use and search (docs/api.md,
 * "Storage").  Another member's item answers 404 exactly like an id that
 * does not exist, on every route. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "store.h"
#include "httpd/quota.h"
#include "listing.h"
#include "httpd/config.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/dbd.h"
#include "httpd/auth.h"
#include "names.h"

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2500), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

/* A store outcome as an answer (OK: the caller answers). */
int lenz_files_fail(request_rec *r, int rc, const char *what, const char *suggested)
{
    lenz_json *ext;
    switch (rc) {
    case LENZ_FS_NOT_FOUND:
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found",
                         apr_pstrcat(r->pool, "no such ", what, NULL));
    case LENZ_FS_CLASH:
        ext = lenz_json_new_object(r->pool);
        lenz_json_set_str(ext, "field", "name");
        if (suggested)
            lenz_json_set_str(ext, "suggested_name", suggested);
        return lenz_fail_ext(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "name-taken", "Name taken",
                             "an item of this name is there already", ext);
    case LENZ_FS_CYCLE:
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "folder-cycle", "Not below itself",
                         "a folder cannot be moved into itself or a folder inside it");
    case LENZ_FS_TOO_DEEP:
        ext = lenz_json_new_object(r->pool);
        lenz_json_set_str(ext, "field", "parent_id");
        return lenz_fail_ext(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "too-deep", "Folders too deep",
                             apr_psprintf(r->pool, "folders nest at most %d deep (LenzFolderDepth)",
                                          lenz_cfg_folder_depth(lenz_srv(r->server))), ext);
    case LENZ_FS_STALE:
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_PRECONDITION_FAILED, "changed", "Changed meanwhile",
                         "the item changed since its ETag was read; read it again");
    case LENZ_FS_ROOT:
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "root-folder", "The root folder",
                         "the root folder cannot be renamed, moved or deleted");
    case LENZ_FS_FORBIDDEN:
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "role-forbids", "Not with your role",
                         "your role in this shared folder does not allow this");
    case LENZ_FS_OTHER_OWNER:
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "other-owner", "Another owner's folder",
                         "items move only within one owner's storage; copy instead");
    default:
        return unavailable(r);
    }
}

static int name_ok(request_rec *r, const char *name)
{
    const char *why = lenz_name_problem(name);
    return why ? lenz_field_bad(r, "name", why) : 1;
}

/* A folder id from the client: a UUID or "root"; *id NULL when absent. */
static int folder_ref(request_rec *r, lenz_db *db, const lenz_req *lr, const char *given,
                      const char **id)
{
    if (!given) {
        *id = NULL;
        return 1;
    }
    *id = strcmp(given, "root") ? given : lenz_fs_root(db, lr->user->id);
    return *id != NULL;
}

static int send_item(request_rec *r, int status, const lenz_fs_item *it)
{
    lenz_json *o = lenz_json_new_object(r->pool);
    lenz_fs_item_json(o, it, 1);
    apr_table_setn(r->headers_out, "ETag", it->etag);
    return lenz_send_json(r, status, o);
}

static int get_folder(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id"), *sort_s = lenz_query(r, "sort"), *order = lenz_query(r, "order");
    const char *limit_s = lenz_query(r, "limit"), *cursor = lenz_query(r, "cursor"), *next;
    lenz_json *out, *kids;
    lenz_fs_item it;
    lenz_fs_rc rc;
    lenz_db *db;
    int sort = lenz_ls_sort(sort_s), desc = 0, limit = LENZ_LS_LIMIT_DEFAULT;
    apr_status_t rv;

    if (sort < 0)
        return lenz_field_bad(r, "sort", "name, size or modified"), OK;
    if (order && strcmp(order, "asc") && (desc = 1, strcmp(order, "desc")))
        return lenz_field_bad(r, "order", "asc or desc"), OK;
    if (limit_s) {
        char *end;
        long v = strtol(limit_s, &end, 10);
        if (!*limit_s || *end || v < 1 || v > LENZ_LS_LIMIT_MAX)
            return lenz_field_bad(r, "limit", apr_psprintf(r->pool, "1 to %d", LENZ_LS_LIMIT_MAX)), OK;
        limit = (int)v;
    }
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (!strcmp(id, "root") && !(id = lenz_fs_root(db, lr->user->id))) {
        lenz_db_close(db);
        return unavailable(r);
    }
    if ((rc = lenz_fs_folder(db, lr->user->id, id, &it)) != LENZ_FS_OK) {
        lenz_db_close(db);
        return lenz_files_fail(r, rc, "folder", NULL);
    }
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", it.id);
    lenz_json_set_str(out, "name", it.name);
    lenz_json_set_str(out, "parent_id", it.parent_id);
    lenz_json_set_str(out, "path", it.path);
    lenz_json_set_str(out, "modified_at", it.modified_at);
    lenz_json_set_str(out, "etag", it.etag);
    lenz_json_set_str(out, "role", lenz_fs_role_name(it.rank));
    kids = lenz_json_obj_add_array(out, "children");
    rv = lenz_ls_children(db, it.id, sort, desc, cursor, limit, kids, &next);
    lenz_db_close(db);
    if (rv == APR_EINVAL)
        return lenz_field_bad(r, "cursor", "a next_cursor this listing gave"), OK;
    if (rv != APR_SUCCESS)
        return unavailable(r);
    lenz_json_set_str(out, "next_cursor", next);
    return lenz_send_json(r, HTTP_OK, out);
}

static int create_folder(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *name, *parent_s = NULL, *parent, *suggested = NULL;
    lenz_fs_item it;
    lenz_fs_rc rc;
    lenz_db *db;

    if (!b || !lenz_field_str(r, b, "name", 1, 1024, &name) || !name_ok(r, name)
        || !lenz_field_str(r, b, "parent_id", 0, 64, &parent_s))
        return OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (!folder_ref(r, db, lr, parent_s ? parent_s : "root", &parent)) {
        lenz_db_close(db);
        return unavailable(r);
    }
    rc = lenz_fs_mkdir(db, lr->user->id, parent, name, lenz_cfg_folder_depth(lr->srv), &it, &suggested);
    lenz_db_close(db);
    if (rc != LENZ_FS_OK)
        return lenz_files_fail(r, rc, "parent folder", suggested);
    return send_item(r, HTTP_CREATED, &it);
}

/* {id} of a folder route: a UUID, or "root" (NULL on a DB error). */
static const char *folder_param(lenz_db *db, const lenz_req *lr)
{
    const char *id = lenz_param(lr, "id");
    return strcmp(id, "root") ? id : lenz_fs_root(db, lr->user->id);
}

/* PATCH /folders/{id}, /files/{id}: {"name"} and/or {"parent_id"} or
 * {"folder_id"}; If-Match with the item's ETag. */
static int change(request_rec *r, lenz_req *lr, int folder)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *name = NULL, *to_s = NULL, *to = NULL, *suggested = NULL, *id;
    const char *if_match = apr_table_get(r->headers_in, "If-Match");
    const char *to_field = folder ? "parent_id" : "folder_id";
    lenz_fs_item it;
    lenz_fs_rc rc;
    lenz_db *db;

    if (!b || !lenz_field_str(r, b, "name", 0, 1024, &name) || (name && !name_ok(r, name))
        || !lenz_field_str(r, b, to_field, 0, 64, &to_s))
        return OK;
    if (!name && !to_s)
        return lenz_field_bad(r, "name", apr_pstrcat(r->pool, "give a name, a ", to_field, " or both", NULL)), OK;
    if (if_match && !strcmp(if_match, "*"))
        if_match = NULL;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (!folder_ref(r, db, lr, to_s, &to)) {
        lenz_db_close(db);
        return unavailable(r);
    }
    if (!(id = folder ? folder_param(db, lr) : lenz_param(lr, "id"))) {
        lenz_db_close(db);
        return unavailable(r);
    }
    rc = lenz_fs_change(db, lr->user->id, folder, id, name, to, if_match,
                        lenz_cfg_folder_depth(lr->srv), &it, &suggested);
    lenz_db_close(db);
    if (rc != LENZ_FS_OK)
        return lenz_files_fail(r, rc, folder ? "folder" : "file", suggested);
    return send_item(r, HTTP_OK, &it);
}

static int change_folder(request_rec *r, lenz_req *lr) { return change(r, lr, 1); }
static int change_file(request_rec *r, lenz_req *lr) { return change(r, lr, 0); }

static int trash(request_rec *r, lenz_req *lr, int folder)
{
    const char *id;
    lenz_fs_rc rc;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (!(id = folder ? folder_param(db, lr) : lenz_param(lr, "id"))) {
        lenz_db_close(db);
        return unavailable(r);
    }
    rc = lenz_fs_trash(db, lr->user->id, folder, id);
    lenz_db_close(db);
    if (rc != LENZ_FS_OK)
        return lenz_files_fail(r, rc, folder ? "folder" : "file", NULL);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int trash_folder(request_rec *r, lenz_req *lr) { return trash(r, lr, 1); }
static int trash_file(request_rec *r, lenz_req *lr) { return trash(r, lr, 0); }

static int trash_list(request_rec *r, lenz_req *lr)
{
    lenz_json *out = lenz_json_new_object(r->pool);
    lenz_fs_rc rc;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = lenz_fs_trash_list(db, lr->user->id, lenz_json_obj_add_array(out, "items"));
    lenz_db_close(db);
    return rc == LENZ_FS_OK ? lenz_send_json(r, HTTP_OK, out) : unavailable(r);
}

static int restore(request_rec *r, lenz_req *lr)
{
    lenz_fs_item it;
    lenz_fs_rc rc;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = lenz_fs_restore(db, lr->user->id, lenz_param(lr, "id"), lenz_cfg_folder_depth(lr->srv), &it);
    lenz_db_close(db);
    if (rc != LENZ_FS_OK)
        return lenz_files_fail(r, rc, "item in the trash", NULL);
    return send_item(r, HTTP_OK, &it);
}

static int empty_trash(request_rec *r, lenz_req *lr)
{
    lenz_fs_rc rc;
    lenz_db *db;
    int n;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = lenz_fs_empty(db, lr->user->id, 0, &n);
    lenz_db_close(db);
    if (rc != LENZ_FS_OK)
        return unavailable(r);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int storage(request_rec *r, lenz_req *lr)
{
    lenz_json *out = lenz_json_new_object(r->pool), *b;
    const char *where = NULL, *def;
    apr_int64_t used, trash_bytes;
    apr_off_t quota;
    int policy = lenz_cfg_upload_policy(lr->srv);
    lenz_fs_rc rc;
    lenz_db *db;

    if (r->method_number == M_PATCH) {
        /* {"upload_default":"encrypted"|"plain"}: where the site lets
         * members choose (LenzUploadPolicy choice). */
        if (!(b = lenz_body_json(r, lr)) || !lenz_field_str(r, b, "upload_default", 1, 16, &where))
            return OK;
        if (strcmp(where, "encrypted") && strcmp(where, "plain"))
            return lenz_field_bad(r, "upload_default", "\"encrypted\" or \"plain\""), OK;
        if (policy != LENZ_POLICY_CHOICE)
            return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "not-a-choice", "Not a choice here",
                             "this site's upload policy decides where files go");
    }
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (where && lenz_fs_set_upload_default(db, lr->user->id, where) != LENZ_FS_OK) {
        lenz_db_close(db);
        return unavailable(r);
    }
    rc = lenz_fs_usage(db, lr->user->id, &used, &trash_bytes);
    def = rc == LENZ_FS_OK ? lenz_fs_upload_default(db, lr->user->id) : NULL;
    quota = lenz_member_quota(r, db, lr->user->id);
    lenz_db_close(db);
    if (rc != LENZ_FS_OK || !def)
        return unavailable(r);
    lenz_json_set_int(out, "used", used);
    lenz_json_set_int(out, "quota", quota);
    lenz_json_set_int(out, "trash", trash_bytes);
    /* Where new uploads go: the site's policy, or (choice) the member's
     * default; files over plain_above go plain whatever either says. */
    lenz_json_set_str(out, "policy", policy == LENZ_POLICY_ENCRYPTED ? "encrypted"
                                     : policy == LENZ_POLICY_PLAIN ? "plain" : "choice");
    lenz_json_set_str(out, "upload_default", policy == LENZ_POLICY_ENCRYPTED ? "encrypted"
                                             : policy == LENZ_POLICY_PLAIN ? "plain" : def);
    if (lenz_cfg_plain_above(lr->srv) > 0 && policy != LENZ_POLICY_PLAIN)
        lenz_json_set_int(out, "plain_above", lenz_cfg_plain_above(lr->srv));
    else
        lenz_json_set_null(out, "plain_above");
    return lenz_send_json(r, HTTP_OK, out);
}

static int search(request_rec *r, lenz_req *lr)
{
    const char *q = lenz_query(r, "q"), *limit_s = lenz_query(r, "limit"), *next;
    lenz_json *out = lenz_json_new_object(r->pool);
    apr_status_t rv;
    lenz_db *db;
    int limit = 50;

    if (!q || !*q || strlen(q) > 200 || lenz_name_problem(q))
        return lenz_field_bad(r, "q", "1 to 200 bytes of text"), OK;
    if (limit_s) {
        char *end;
        long v = strtol(limit_s, &end, 10);
        if (!*limit_s || *end || v < 1 || v > 200)
            return lenz_field_bad(r, "limit", "1 to 200"), OK;
        limit = (int)v;
    }
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rv = lenz_ls_search(db, lr->user->id, q, lenz_query(r, "cursor"), limit,
                        lenz_json_obj_add_array(out, "results"), &next);
    lenz_db_close(db);
    if (rv == APR_EINVAL)
        return lenz_field_bad(r, "cursor", "a next_cursor this search gave"), OK;
    if (rv != APR_SUCCESS)
        return unavailable(r);
    lenz_json_set_str(out, "next_cursor", next);
    return lenz_send_json(r, HTTP_OK, out);
}

const lenz_route lenz_api_files_routes[] = {
    { LENZ_GET, "/folders/{id}", get_folder, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/folders", create_folder, LENZ_ACCESS_MEMBER },
    { LENZ_PATCH, "/folders/{id}", change_folder, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/folders/{id}", trash_folder, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/files/search", search, LENZ_ACCESS_MEMBER },
    { LENZ_PATCH, "/files/{id}", change_file, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/files/{id}/copy", lenz_files_copy, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/files/{id}", trash_file, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/trash", trash_list, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/trash", empty_trash, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/trash/{id}/restore", restore, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/me/storage", storage, LENZ_ACCESS_MEMBER },
    { LENZ_PATCH, "/me/storage", storage, LENZ_ACCESS_MEMBER },
    { 0 }
};
