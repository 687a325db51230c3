/* h_api_links.c - /api/v1/links: a member's share links (create, list,
 * change limits, revoke).  Tokens are shown once, at creation; the list
 * identifies links by id, and {token} in paths may be the token or the id. */
#include <apr_strings.h>
#include <apr_uuid.h>
#include <apr_hash.h>

#include "httpd/lenz.h"
#include "area.h"
#include "httpd/links.h"
#include "httpd/config.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "passwd.h"
#include "mail.h"
#include "token.h"
#include "codec.h"
#include "httpd/auth.h"
#include "httpd/pwgate.h"
#include "err.h"

const lenz_stmt lenz_api_links_stmts[] = {
    { "lenz_links_owns_file",
      "SELECT 1 FROM files WHERE id = %s::uuid AND owner_id = %s::uuid AND state = 'ready'" },
    { "lenz_links_owns_transfer",
      "SELECT 1 FROM transfers WHERE id = %s::uuid AND owner_id = %s::uuid AND state = 'open'" },
    /* A live folder of the member's, not the root: its name. */
    { "lenz_links_owns_folder",
      "SELECT (parent_id IS NULL) FROM folders WHERE id = %s::uuid AND owner_id = %s::uuid "
      "AND trashed_at IS NULL AND left(path, 2) <> '//'" },
    /* How many of a set's ids are the member's live ready files. */
    { "lenz_links_owns_files",
      "SELECT count(*) FROM files f WHERE f.id = ANY (string_to_array(%s, ',')::uuid[]) "
      "AND f.owner_id = %s::uuid AND f.state = 'ready' AND f.trashed_at IS NULL" },
    { NULL }
};

static const char *token_key(request_rec *r, const char *t)
{
    unsigned char h[32];
    /* A token hashes; an id does not: pass both forms to the statement. */
    if (lenz_token_hash(t, strlen(t), h) == APR_SUCCESS)
        return lenz_hex(r->pool, h, 32);
    return "00";
}

#define MAX_SET 1000

/* "file_ids": 1 to MAX_SET distinct file ids, also as one comma-separated
 * text for the ownership check.  0 after answering 400. */
static int file_set(request_rec *r, const lenz_json *b, apr_array_header_t **ids, const char **joined)
{
    lenz_json *a = lenz_json_get(b, "file_ids");
    apr_hash_t *seen;
    apr_size_t i, n;
    *ids = NULL;
    *joined = NULL;
    if (!a || lenz_json_typeof(a) == LENZ_JSON_NULL)
        return 1;
    if (lenz_json_typeof(a) != LENZ_JSON_ARRAY || (n = lenz_json_array_len(a)) < 1 || n > MAX_SET)
        return lenz_field_bad(r, "file_ids", "an array of 1 to " APR_STRINGIFY(MAX_SET) " file ids");
    seen = apr_hash_make(r->pool);
    *ids = apr_array_make(r->pool, (int)n, sizeof(const char *));
    for (i = 0; i < n; i++) {
        const char *id = lenz_json_string(lenz_json_array_get(a, i));
        if (!id || !lenz_uuid_ok(id))
            return lenz_field_bad(r, "file_ids", apr_psprintf(r->pool, "entry %d is not a file id", (int)i + 1));
        id = apr_pstrdup(r->pool, id);
        ap_str_tolower((char *)id);
        if (apr_hash_get(seen, id, APR_HASH_KEY_STRING))
            continue;
        apr_hash_set(seen, id, APR_HASH_KEY_STRING, id);
        APR_ARRAY_PUSH(*ids, const char *) = id;
    }
    *joined = apr_array_pstrcat(r->pool, *ids, ',');
    return 1;
}

static int create(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out, *rj;
    lenz_link_spec spec;
    const char *file = NULL, *transfer = NULL, *folder = NULL, *pw = NULL, *token, *link_id, *expires;
    const char *args[2], *set = NULL;
    int given;
    apr_int64_t ttl = lenz_cfg_link_expiry(lr->srv), max = 0;
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv;
    apr_uuid_t u;
    apr_size_t i;

    if (!b || !lenz_field_str(r, b, "file_id", 0, 64, &file) || !lenz_field_str(r, b, "transfer_id", 0, 64, &transfer)
        || !lenz_field_str(r, b, "folder_id", 0, 64, &folder)
        || !lenz_field_int(r, b, "expires_in", 0, 60, lenz_cfg_link_expiry_max(lr->srv), &ttl)
        || !lenz_field_int(r, b, "max_downloads", 0, 1, 1000000, &max)
        || !lenz_field_str(r, b, "password", 0, 1024, &pw))
        return OK;
    memset(&spec, 0, sizeof(spec));
    if (!file_set(r, b, &spec.file_ids, &set))
        return OK;
    given = !!file + !!transfer + !!folder + !!set;
    if (given != 1)
        return lenz_field_bad(r, file ? "transfer_id" : "file_id",
                              "give exactly one of file_id, transfer_id, folder_id and file_ids"), OK;
    if (!set && apr_uuid_parse(&u, file ? file : transfer ? transfer : folder) != APR_SUCCESS)
        return lenz_field_bad(r, file ? "file_id" : transfer ? "transfer_id" : "folder_id", "not an id"), OK;
    rj = lenz_json_get(b, "recipients");
    if (rj && lenz_json_typeof(rj) != LENZ_JSON_NULL) {
        if (lenz_json_typeof(rj) != LENZ_JSON_ARRAY || lenz_json_array_len(rj) > 20)
            return lenz_field_bad(r, "recipients", "an array of at most 20 e-mail addresses"), OK;
        spec.recipients = apr_array_make(r->pool, 4, sizeof(const char *));
        for (i = 0; i < lenz_json_array_len(rj); i++) {
            const char *e = lenz_json_string(lenz_json_array_get(rj, i));
            if (!e || !lenz_mail_addr_ok(e))
                return lenz_field_bad(r, "recipients", "each entry must be an e-mail address"), OK;
            APR_ARRAY_PUSH(spec.recipients, const char *) = e;
        }
    }
    if (!(db = lenz_db_open(r)))
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2140), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    args[0] = file ? file : transfer ? transfer : folder ? folder : set;
    args[1] = lr->user->id;
    /* Only the owner's own ready files, transfers and live folders; anything
     * else is 404 (a set: every one of its files). */
    if (lenz_db_select(db, file ? "lenz_links_owns_file" : transfer ? "lenz_links_owns_transfer"
                       : folder ? "lenz_links_owns_folder" : "lenz_links_owns_files", &rows, 2, args)
        != APR_SUCCESS || rows.nrows != 1
        || (set && apr_atoi64(rows.rows[0][0]) != spec.file_ids->nelts)) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2141), HTTP_NOT_FOUND, "not-found", "Not found",
                         file ? "no such file of yours" : transfer ? "no such transfer of yours"
                         : folder ? "no such folder of yours" : "file_ids: a file is not one of yours");
    }
    if (folder && rows.rows[0][0][0] == 't') {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2149), HTTP_CONFLICT, "root-folder", "Not the root folder",
                         "share the folders and files in your root, not the root itself");
    }
    spec.file_id = file;
    spec.transfer_id = transfer;
    spec.folder_id = folder;
    spec.owner_id = lr->user->id;
    spec.ttl = (int)ttl;
    spec.max_downloads = (int)max;
    if (pw && *pw && (rv = lenz_pw_hash(r, pw, NULL, &spec.password_hash)) != APR_SUCCESS) {
        lenz_db_close(db);
        if (rv == LENZ_EUNAVAIL)
            return lenz_pw_busy(r);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2142), HTTP_INTERNAL_SERVER_ERROR, "internal",
                         "Internal error", "the password could not be stored");
    }
    lenz_db_begin(db);
    rv = lenz_link_create(r, db, &spec, &token, &link_id, &expires);
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2143), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "the link could not be stored; try again");
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "token", token);
    lenz_json_set_str(out, "url", lenz_link_url(r, token));
    lenz_json_set_str(out, "expires_at", expires);
    if (max)
        lenz_json_set_int(out, "max_downloads", max);
    else
        lenz_json_set_null(out, "max_downloads");
    lenz_json_set_str(out, "id", link_id);
    return lenz_send_json(r, HTTP_CREATED, out);
}

static int list(request_rec *r, lenz_req *lr)
{
    const char *args[1] = { lr->user->id };
    lenz_json *out, *arr;
    lenz_rows rows;
    lenz_db *db = lenz_db_open(r);
    int i;
    if (!db || lenz_db_select(db, "lenz_links_mine", &rows, 1, args) != APR_SUCCESS) {
        if (db)
            lenz_db_close(db);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2144), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "links");
    for (i = 0; i < rows.nrows; i++)
        lenz_link_row_json(r->pool, rows.rows[i], lenz_json_arr_add_object(arr));
    return lenz_send_json(r, HTTP_OK, out);
}

static int link_revoke(request_rec *r, lenz_req *lr)
{
    const char *t = lenz_param(lr, "token"), *args[3];
    lenz_db *db = lenz_db_open(r);
    int n = 0;
    if (!db)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2145), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    args[0] = lr->user->id;
    args[1] = token_key(r, t);
    args[2] = t;
    lenz_db_exec(db, "lenz_links_revoke", &n, 3, args);
    lenz_db_close(db);
    if (n != 1)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2146), HTTP_NOT_FOUND, "not-found", "Not found",
                         "no such link of yours (or it was revoked already)");
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int limits(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *t = lenz_param(lr, "token"), *args[8];
    apr_int64_t ttl = -1, max = -1;
    lenz_rows rows;
    lenz_db *db;
    if (!b || !lenz_field_int(r, b, "expires_in", 0, 60, lenz_cfg_link_expiry_max(lr->srv), &ttl)
        || !lenz_field_int(r, b, "max_downloads", 0, 0, 1000000, &max))
        return OK;
    if (!(db = lenz_db_open(r)))
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2147), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    args[0] = args[1] = ttl >= 0 ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT, ttl) : NULL;
    args[2] = args[3] = args[4] = max >= 0 ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT, max) : NULL;
    args[5] = lr->user->id;
    args[6] = token_key(r, t);
    args[7] = t;
    if (lenz_db_select(db, "lenz_links_limits", &rows, 8, args) != APR_SUCCESS || rows.nrows != 1) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2148), HTTP_NOT_FOUND, "not-found", "Not found",
                         "no such live link of yours");
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", rows.rows[0][0]);
    lenz_json_set_str(out, "expires_at", rows.rows[0][1]);
    if (rows.rows[0][2])
        lenz_json_set_int(out, "max_downloads", apr_atoi64(rows.rows[0][2]));
    else
        lenz_json_set_null(out, "max_downloads");
    return lenz_send_json(r, HTTP_OK, out);
}

const lenz_route lenz_api_link_routes[] = {
    { LENZ_POST, "/links", create, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/links", list, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/links/{token}", link_revoke, LENZ_ACCESS_MEMBER },
    { LENZ_PATCH, "/links/{token}", limits, LENZ_ACCESS_MEMBER },
    { 0 }
};
