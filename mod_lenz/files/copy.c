/* copy.c - POST /api/v1/files/{id}/copy {"folder_id","name"}: a second
 * file with the same content, by a server-side S3 CopyObject; nothing is
 * decrypted or encrypted again.
 *
 * The key hierarchy allows it: the copy stays in the same member's
 * storage, so the file key (wrapped by that member's KEK) is shared, and
 * so is what the encryption binds: the AAD and the key's wrapping name the
 * original's id, kept as the copy's crypt_id.  Its S3 object is its own
 * (files/<copy's id>), so deleting either leaves the other whole.  The
 * quota is checked with the member's usage row locked, as initiate does;
 * objects over 5 GiB (CopyObject's limit) are refused with 413. */
#include <apr_strings.h>
#include <apr_uuid.h>

#include "httpd/lenz.h"
#include "area.h"
#include "store.h"
#include "httpd/quota.h"
#include "httpd/config.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/s3glue.h"
#include "httpd/dbd.h"
#include "httpd/auth.h"
#include "s3.h"
#include "names.h"
#include "codec.h"

#define COPY_MAX ((apr_int64_t)5 << 30)

const lenz_stmt lenz_copy_stmts[] = {
    { "lenz_cp_source",
      "SELECT x.s3_key, x.size, x.content_type, x.storage, x.folder_id, x.name "
      "FROM files x JOIN folders p ON p.id = x.folder_id WHERE x.id = %s::uuid AND x.owner_id = %s::uuid "
      "AND x.state = 'ready' AND x.trashed_at IS NULL AND left(p.path, 2) <> '//'" },
    { "lenz_cp_usage",
      "SELECT used FROM storage_usage WHERE user_id = %s::uuid FOR UPDATE" },
    { "lenz_cp_insert",
      "INSERT INTO files (id, owner_id, folder_id, name, content_type, size, storage, s3_key, state, "
      "format_version, segment_size, nonce_prefix, wrapped_dek, kek_user_id, kek_version, "
      "segments_per_part, part_prefixes, crypt_id) "
      "SELECT %s::uuid, owner_id, %s::uuid, %s, content_type, size, storage, %s, 'ready', "
      "format_version, segment_size, nonce_prefix, wrapped_dek, kek_user_id, kek_version, "
      "segments_per_part, part_prefixes, coalesce(crypt_id, id) FROM files WHERE id = %s::uuid" },
    { NULL }
};

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2502), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

int lenz_files_copy(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *src = lenz_param(lr, "id"), *to = NULL, *name = NULL, *why, *suggested = NULL;
    const char *args[5], *key;
    char nid[APR_UUID_FORMATTED_LENGTH + 1];
    apr_uuid_t uuid;
    lenz_fs_item dest, it;
    lenz_s3_error err;
    lenz_rows rows;
    lenz_fs_rc rc;
    lenz_db *db;
    apr_int64_t size;
    apr_status_t rv;
    int free_ = 1, over = 0;

    if (!b || !lenz_field_str(r, b, "folder_id", 0, 64, &to) || !lenz_field_str(r, b, "name", 0, 1024, &name))
        return OK;
    if (name && (why = lenz_name_problem(name)))
        return lenz_field_bad(r, "name", why), OK;
    if (!lenz_uuid_ok(src))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such file");
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    args[0] = src;
    args[1] = lr->user->id;
    if (lenz_db_select(db, "lenz_cp_source", &rows, 2, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    if (rows.nrows != 1) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such file");
    }
    size = apr_atoi64(rows.rows[0][1]);
    if (!to)
        to = rows.rows[0][4];
    else if (!strcmp(to, "root") && !(to = lenz_fs_root(db, lr->user->id))) {
        lenz_db_close(db);
        return unavailable(r);
    }
    if (!name)
        name = rows.rows[0][5];
    /* A copy is the copier's: it goes into their own folders only. */
    if ((rc = lenz_fs_folder(db, lr->user->id, to, &dest)) == LENZ_FS_OK && dest.rank != LENZ_RANK_OWNER)
        rc = LENZ_FS_NOT_FOUND;
    if (rc != LENZ_FS_OK) {
        lenz_db_close(db);
        return rc == LENZ_FS_NOT_FOUND
               ? lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such folder")
               : unavailable(r);
    }
    if (size > COPY_MAX) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2503), HTTP_REQUEST_ENTITY_TOO_LARGE, "too-large",
                         "Too large to copy", "files over 5 GiB cannot be copied on the server");
    }
    /* S3 first; the row only once the object exists (and the object goes
     * again if the row cannot be made). */
    apr_uuid_get(&uuid);
    apr_uuid_format(nid, &uuid);
    key = apr_pstrcat(r->pool, "files/", nid, NULL);
    rv = lenz_s3_copy_object(lr->srv->s3, lenz_process_http(), r->pool, rows.rows[0][0], key,
                             rows.rows[0][3][0] == 'e' ? "application/octet-stream" : rows.rows[0][2],
                             NULL, &err);
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_s3_fail(r, "CopyObject", rv, &err);
    }
    rc = LENZ_FS_DB;
    if (lenz_db_begin(db) == APR_SUCCESS) {
        const char *ua[1] = { lr->user->id }, *la[2] = { dest.id, name }, *ta[3] = { dest.id, name, NULL };
        lenz_rows u, t;
        if (lenz_db_select(db, "lenz_cp_usage", &u, 1, ua) == APR_SUCCESS
            && lenz_db_select(db, "lenz_fs_lock_name", &t, 2, la) == APR_SUCCESS
            && lenz_db_select(db, "lenz_fs_taken", &t, 3, ta) == APR_SUCCESS && t.nrows == 1) {
            if (u.nrows == 1 && apr_atoi64(u.rows[0][0]) + size > lenz_member_quota(r, db, lr->user->id)) {
                over = 1;
            }
            else if (t.rows[0][0][0] == 't') {
                free_ = 0;
                if (lenz_db_select(db, "lenz_fs_free", &t, 3, ta) == APR_SUCCESS && t.nrows == 1)
                    suggested = t.rows[0][0];
                rc = LENZ_FS_CLASH;
            }
            else {
                args[0] = nid;
                args[1] = dest.id;
                args[2] = name;
                args[3] = key;
                args[4] = src;
                if (lenz_db_exec(db, "lenz_cp_insert", NULL, 5, args) == APR_SUCCESS)
                    rc = lenz_fs_changed(db, lr->user->id, "copied", nid, dest.id);
            }
        }
        if (lenz_db_end(db, rc != LENZ_FS_OK) != APR_SUCCESS && rc == LENZ_FS_OK)
            rc = LENZ_FS_DB;
    }
    if (rc != LENZ_FS_OK) {
        lenz_db_close(db);
        lenz_s3_delete_object(lr->srv->s3, lenz_process_http(), r->pool, key, &err);
        if (over)
            return lenz_fail(r, APLOG_INFO, LENZLOGNO(2504), HTTP_REQUEST_ENTITY_TOO_LARGE, "quota-exceeded",
                             "Storage quota exceeded", "the copy would pass your storage quota");
        return free_ ? unavailable(r) : lenz_files_fail(r, LENZ_FS_CLASH, "file", suggested);
    }
    rc = lenz_fs_file(db, lr->user->id, nid, &it);
    lenz_db_close(db);
    if (rc != LENZ_FS_OK)
        return unavailable(r);
    out = lenz_json_new_object(r->pool);
    lenz_fs_item_json(out, &it, 1);
    apr_table_setn(r->headers_out, "ETag", it.etag);
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, lr->srv->public_url, "/api/v1/files/", nid, "/content", NULL));
    return lenz_send_json(r, HTTP_CREATED, out);
}
