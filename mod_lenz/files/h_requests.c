/* h_requests.c - /api/v1/file-requests: a member's upload-only links into
 * one of their folders (create, list, close).  The uploader's side is
 * the upload area's /upload/request/{token} (upload/h_request.c).  The
 * token is shown once, at creation; only its SHA-256 is stored. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "store.h"
#include "requests.h"
#include "httpd/config.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/dbd.h"
#include "httpd/auth.h"
#include "httpd/pwgate.h"
#include "token.h"
#include "codec.h"
#include "names.h"
#include "err.h"


#define REQ_COLS \
    "r.id, r.folder_id, r.title, r.message, " \
    "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
    "to_char(r.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
    "r.max_bytes, r.max_files, (r.password_hash IS NOT NULL), r.files_received, r.bytes_received, " \
    "(r.revoked_at IS NOT NULL), (r.expires_at <= now()), d.name, " \
    "(SELECT count(*) FROM files f JOIN transfers t ON t.id = f.transfer_id " \
    " WHERE t.request_id = r.id AND f.state = 'ready'), " \
    "(SELECT coalesce(sum(f.size), 0) FROM files f JOIN transfers t ON t.id = f.transfer_id " \
    " WHERE t.request_id = r.id AND f.state = 'ready')"

const lenz_stmt lenz_requests_api_stmts[] = {
    /* A live folder of the member's ("root": theirs). */
    { "lenz_fr_folder",
      "SELECT id, name FROM folders WHERE owner_id = %s::uuid AND trashed_at IS NULL AND left(path, 2) <> '//' "
      "AND (id::text = %s OR (%s = 'root' AND parent_id IS NULL))" },
    { "lenz_fr_new",
      "WITH r AS (INSERT INTO file_requests (owner_id, folder_id, token_hash, title, message, expires_at, "
      "max_bytes, max_files, password_hash) VALUES (%s::uuid, %s::uuid, decode(%s, 'hex'), %s, %s, "
      "now() + make_interval(secs => %s::int), %s::bigint, %s::int, %s) RETURNING *) "
      "SELECT " REQ_COLS " FROM r JOIN folders d ON d.id = r.folder_id" },
    { "lenz_fr_mine",
      "SELECT " REQ_COLS " FROM file_requests r JOIN folders d ON d.id = r.folder_id "
      "WHERE r.owner_id = %s::uuid ORDER BY r.created_at DESC LIMIT 500" },
    { "lenz_fr_close",
      "UPDATE file_requests SET revoked_at = now() WHERE owner_id = %s::uuid AND id::text = %s "
      "AND revoked_at IS NULL" },
    { NULL }
};

void lenz_fr_json(lenz_json *o, const char **row)
{
    lenz_json_set_str(o, "id", row[0]);
    lenz_json_set_str(o, "folder_id", row[1]);
    lenz_json_set_str(o, "folder", row[13]);
    lenz_json_set_str(o, "title", row[2]);
    lenz_json_set_str(o, "message", row[3]);
    lenz_json_set_str(o, "created_at", row[4]);
    lenz_json_set_str(o, "expires_at", row[5]);
    if (row[6])
        lenz_json_set_int(o, "max_bytes", apr_atoi64(row[6]));
    else
        lenz_json_set_null(o, "max_bytes");
    if (row[7])
        lenz_json_set_int(o, "max_files", apr_atoi64(row[7]));
    else
        lenz_json_set_null(o, "max_files");
    lenz_json_set_bool(o, "has_password", row[8][0] == 't');
    lenz_json_set_int(o, "files_received", apr_atoi64(row[14]));
    lenz_json_set_int(o, "bytes_received", apr_atoi64(row[15]));
    lenz_json_set_bool(o, "closed", row[11][0] == 't');
    lenz_json_set_bool(o, "expired", row[12][0] == 't');
}

static int unavailable(request_rec *r, const char *tag)
{
    return lenz_fail(r, APLOG_ERR, tag, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "Service unavailable",
                     "try again shortly");
}

const char *lenz_fr_url(request_rec *r, const char *token)
{
    return apr_pstrcat(r->pool, lenz_srv(r->server)->public_url, "/upload/request/", token, NULL);
}

lenz_fs_rc lenz_fr_make(request_rec *r, lenz_db *db, const char *owner, const lenz_fr_spec *spec,
                        const char ***row, const char **token)
{
    const char *args[9], *title = spec->title;
    unsigned char h[32];
    lenz_rows rows;

    args[0] = owner;
    args[1] = args[2] = spec->folder;
    if (strcmp(spec->folder, "root") == 0)
        lenz_fs_root(db, owner);        /* a member without a root yet gets one */
    if (lenz_db_select(db, "lenz_fr_folder", &rows, 3, args) != APR_SUCCESS)
        return LENZ_FS_DB;
    if (rows.nrows != 1)
        return LENZ_FS_NOT_FOUND;
    args[1] = rows.rows[0][0];
    if (!title)
        title = *rows.rows[0][1] ? rows.rows[0][1] : "Files";
    if (lenz_token_new(r->pool, token, h) != APR_SUCCESS)
        return LENZ_FS_DB;
    args[2] = lenz_hex(r->pool, h, 32);
    args[3] = title;
    args[4] = spec->message && *spec->message ? spec->message : NULL;
    args[5] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, spec->ttl);
    args[6] = spec->max_bytes ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT, spec->max_bytes) : NULL;
    args[7] = spec->max_files ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT, spec->max_files) : NULL;
    args[8] = spec->password_hash;
    if (lenz_db_select(db, "lenz_fr_new", &rows, 9, args) != APR_SUCCESS || rows.nrows != 1)
        return LENZ_FS_DB;
    *row = rows.rows[0];
    return LENZ_FS_OK;
}

/* POST /api/v1/file-requests {"folder_id","title","message","expires_in",
 * "max_bytes","max_files","password"} -> 201 with "token" and "url". */
static int create(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *folder = NULL, *title = NULL, *message = NULL, *pw = NULL, *phc = NULL, *token, **row;
    apr_int64_t ttl = LENZ_FR_DEFAULT_TTL, max_bytes = 0, max_files = 0;
    lenz_fr_spec spec;
    lenz_fs_rc rc;
    lenz_db *db;
    apr_status_t rv;

    if (!b || !lenz_field_str(r, b, "folder_id", 1, 64, &folder)
        || !lenz_field_str(r, b, "title", 0, 200, &title)
        || !lenz_field_str(r, b, "message", 0, 2000, &message)
        || !lenz_field_int(r, b, "expires_in", 0, 60, LENZ_FR_MAX_TTL, &ttl)
        || !lenz_field_int(r, b, "max_bytes", 0, 1, APR_INT64_C(1) << 50, &max_bytes)
        || !lenz_field_int(r, b, "max_files", 0, 1, 100000, &max_files)
        || !lenz_field_str(r, b, "password", 0, 1024, &pw))
        return OK;
    if (strcmp(folder, "root") && !lenz_uuid_ok(folder))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such folder");
    if (title && (!*title || lenz_name_has_bidi(title)))
        return lenz_field_bad(r, "title", "1 to 200 characters, without bidirectional controls"), OK;
    if (message && !*message)
        message = NULL;
    if (pw && *pw && (rv = lenz_pw_hash(r, pw, NULL, &phc)) != APR_SUCCESS)
        return rv == LENZ_EUNAVAIL ? lenz_pw_busy(r)
               : lenz_fail(r, APLOG_ERR, LENZLOGNO(2560), HTTP_INTERNAL_SERVER_ERROR, "internal",
                           "Internal error", "the password could not be stored");
    spec.folder = folder;
    spec.title = title;
    spec.message = message;
    spec.ttl = ttl;
    spec.max_bytes = max_bytes;
    spec.max_files = max_files;
    spec.password_hash = phc;
    if (!(db = lenz_db_open(r)))
        return unavailable(r, LENZLOGNO(2561));
    rc = lenz_fr_make(r, db, lr->user->id, &spec, &row, &token);
    lenz_db_close(db);
    if (rc == LENZ_FS_NOT_FOUND)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such folder");
    if (rc != LENZ_FS_OK)
        return unavailable(r, LENZLOGNO(2563));
    out = lenz_json_new_object(r->pool);
    lenz_fr_json(out, row);
    lenz_json_set_str(out, "token", token);
    lenz_json_set_str(out, "url", lenz_fr_url(r, token));
    apr_table_setn(r->headers_out, "Location", apr_pstrcat(r->pool, "/api/v1/file-requests/", row[0], NULL));
    return lenz_send_json(r, HTTP_CREATED, out);
}

static int list(request_rec *r, lenz_req *lr)
{
    const char *args[1] = { lr->user->id };
    lenz_json *out, *arr;
    lenz_rows rows;
    lenz_db *db = lenz_db_open(r);
    int i;
    if (!db)
        return unavailable(r, LENZLOGNO(2564));
    if (lenz_db_select(db, "lenz_fr_mine", &rows, 1, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r, LENZLOGNO(2564));
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "requests");
    for (i = 0; i < rows.nrows; i++)
        lenz_fr_json(lenz_json_arr_add_object(arr), rows.rows[i]);
    return lenz_send_json(r, HTTP_OK, out);
}

/* DELETE /api/v1/file-requests/{id}: closed at once; what was uploaded
 * stays in the folder. */
static int close_request(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id"), *args[2];
    lenz_db *db;
    int n = 0;
    if (!lenz_uuid_ok(id))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such file request");
    if (!(db = lenz_db_open(r)))
        return unavailable(r, LENZLOGNO(2565));
    args[0] = lr->user->id;
    args[1] = id;
    if (lenz_db_exec(db, "lenz_fr_close", &n, 2, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r, LENZLOGNO(2565));
    }
    lenz_db_close(db);
    if (n != 1)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found",
                         "no such open file request of yours");
    r->status = HTTP_NO_CONTENT;
    return OK;
}

const lenz_route lenz_api_request_routes[] = {
    { LENZ_POST, "/file-requests", create, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/file-requests", list, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/file-requests/{id}", close_request, LENZ_ACCESS_MEMBER },
    { 0 }
};
