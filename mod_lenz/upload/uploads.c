/* uploads.c - the upload token and the calls on an upload under way:
 * presigned part URLs, resume, abort and complete.  Initiate is
 * upload_init.c; the encrypted part upload itself is upload_part.c. */
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_uuid.h>

#include "httpd/lenz.h"
#include "uploads.h"
#include "upload_common.h"
#include "httpd/config.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/rate.h"
#include "httpd/links.h"
#include "httpd/keystore.h"
#include "httpd/s3glue.h"
#include "sigv4.h"
#include "http.h"
#include "aead.h"
#include "keys.h"
#include "token.h"
#include "passwd.h"
#include "mail.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"
#include "jobs/events.h"
#include "jobs/requests.h"

#define PRESIGN_TTL   900

const lenz_stmt lenz_uploads_stmts[] = {
    /* Storage use (sql/012_storage.sql: kept exact by a trigger on files). */
    /* "Where to upload": the member's default where the policy is a choice. */
    { "lenz_up_default", "SELECT coalesce(upload_default, 'encrypted') FROM users WHERE id = %s::uuid" },
    { "lenz_up_quota",
      "SELECT coalesce((SELECT used FROM storage_usage WHERE user_id = %s::uuid), 0)" },
    /* The authoritative check, inside initiate's transaction: the member's
     * row locked, so parallel initiates pass the quota one at a time. */
    { "lenz_up_usage_row",
      "INSERT INTO storage_usage (user_id) VALUES (%s::uuid) ON CONFLICT (user_id) DO NOTHING" },
    { "lenz_up_usage_lock",
      "SELECT used FROM storage_usage WHERE user_id = %s::uuid FOR UPDATE" },
    /* The upload's folder, still live and the owner's, held until the file
     * is recorded (a transfer of ownership waits, or is waited for). */
    { "lenz_up_folder_hold",
      "SELECT 1 FROM folders WHERE id = %s::uuid AND owner_id = %s::uuid AND trashed_at IS NULL "
      "AND left(path, 2) <> '//' FOR SHARE" },
    /* A folder of the member's that can take a file (live, not in the
     * trash); "root" names the root. */
    { "lenz_up_folder",
      "SELECT id FROM folders WHERE owner_id = %s::uuid AND trashed_at IS NULL AND left(path, 2) <> '//' "
      "AND (id::text = %s OR (%s = 'root' AND parent_id IS NULL))" },
    /* A folder the member sees that is someone else's: its owner and the
     * member's rank there (lenz_access, sql/024). */
    { "lenz_up_shared_folder",
      "SELECT f.owner_id, a.rk FROM folders f "
      "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'folder', f.id) AS rk) a "
      "WHERE f.id = %s::uuid AND a.rk > 0 AND f.owner_id <> %s::uuid "
      "AND f.trashed_at IS NULL AND left(f.path, 2) <> '//'" },
    { "lenz_up_transfer_get",
      "SELECT t.owner_id, t.guest_ip, t.state, (t.created_at > now() - interval '1 day'), "
      "(SELECT count(*) FROM files f WHERE f.transfer_id = t.id AND f.state <> 'deleted'), "
      "t.link_token_sealed, t.request_id FROM transfers t WHERE t.id = %s::uuid FOR UPDATE" },
    { "lenz_up_transfer_request",
      "INSERT INTO transfers (owner_id, guest_ip, request_id, uploader_name, uploader_message) "
      "VALUES (%s::uuid, %s, %s::uuid, %s, %s) RETURNING id" },
    /* A file request's place and bytes for one more file, if it has them. */
    { "lenz_up_request_take",
      "UPDATE file_requests SET files_received = files_received + 1, "
      "bytes_received = bytes_received + %s::bigint "
      "WHERE id = %s::uuid AND revoked_at IS NULL AND expires_at > now() "
      "AND (max_files IS NULL OR files_received < max_files) "
      "AND (max_bytes IS NULL OR bytes_received + %s::bigint <= max_bytes) RETURNING 1" },
    { "lenz_up_request_giveback",
      "UPDATE file_requests SET files_received = greatest(files_received - 1, 0), "
      "bytes_received = greatest(bytes_received - %s::bigint, 0) WHERE id = %s::uuid" },
    { "lenz_up_transfer_new",
      "INSERT INTO transfers (owner_id, guest_ip, expires_at) VALUES (%s::uuid, %s, "
      "CASE WHEN %s::int > 0 THEN now() + make_interval(secs => %s::int) END) RETURNING id" },
    { "lenz_up_transfer_link",
      "UPDATE transfers SET link_id = %s::uuid, link_token_sealed = %s WHERE id = %s::uuid" },
    { "lenz_up_file_new",
      "INSERT INTO files (id, owner_id, transfer_id, name, content_type, size, storage, s3_key, "
      "format_version, segment_size, nonce_prefix, wrapped_dek, kek_user_id, kek_version, expires_at, "
      "segments_per_part, folder_id) "
      "VALUES (%s::uuid, %s::uuid, %s::uuid, %s, %s, %s::bigint, %s, %s, %s::smallint, %s::int, "
      "decode(%s, 'hex'), decode(%s, 'hex'), %s::uuid, %s::int, "
      "CASE WHEN %s::int > 0 THEN now() + make_interval(secs => %s::int) END, %s::int, %s::uuid)" },
    { "lenz_up_upload_new",
      "INSERT INTO uploads (file_id, s3_upload_id, part_size, part_count) "
      "VALUES (%s::uuid, %s, %s::bigint, %s::int)" },
    { "lenz_up_file_state",
      "SELECT f.state, f.name, f.size, f.format_version, f.folder_id, f.owner_id FROM files f "
      "WHERE f.id = %s::uuid FOR UPDATE" },
    { "lenz_up_parts_list",
      "SELECT part, size, etag, encode(nonce_prefix, 'hex') FROM upload_parts "
      "WHERE file_id = %s::uuid ORDER BY part" },
    /* An encrypted part's row names the attempt S3 holds: its ETag and
     * (format 2) its nonce prefix, replaced together. */
    { "lenz_up_part_put",
      "INSERT INTO upload_parts (file_id, part, size, etag, sha256, nonce_prefix) "
      "VALUES (%s::uuid, %s::int, %s::bigint, %s, decode(%s, 'hex'), decode(%s, 'hex')) "
      "ON CONFLICT (file_id, part) DO UPDATE SET size = EXCLUDED.size, etag = EXCLUDED.etag, "
      "sha256 = EXCLUDED.sha256, nonce_prefix = EXCLUDED.nonce_prefix, created_at = now()" },
    { "lenz_up_part_drop",
      "DELETE FROM upload_parts WHERE file_id = %s::uuid AND part = %s::int AND etag = %s" },
    { "lenz_up_part_prefixes",
      "UPDATE files SET part_prefixes = decode(%s, 'hex') WHERE id = %s::uuid AND format_version = 2" },
    { "lenz_up_ready",
      "UPDATE files SET state = 'ready', updated_at = now() WHERE id = %s::uuid AND state = 'uploading'" },
    { "lenz_up_done",
      "UPDATE uploads SET completed_at = now() WHERE file_id = %s::uuid" },
    { "lenz_up_deleted",
      "UPDATE files SET state = 'deleted', updated_at = now() WHERE id = %s::uuid AND state = 'uploading'" },
    { "lenz_up_file_keys",
      "SELECT f.state, encode(f.nonce_prefix, 'hex'), encode(f.wrapped_dek, 'hex'), f.kek_user_id, "
      "f.kek_version, f.segment_size, "
      /* the wrapping user key, so a part needs one query before S3 */
      "encode(k.wrapped_kek, 'hex'), k.master_key_version, f.format_version "
      "FROM files f LEFT JOIN user_keys k ON k.user_id = f.kek_user_id AND k.version = f.kek_version "
      "WHERE f.id = %s::uuid" },
    { "lenz_up_link_token",
      "SELECT link_token_sealed FROM transfers WHERE id = %s::uuid" },
    { NULL }
};

/* Shared helpers -------------------------------------------------------------- */

lenz_db *lenz_up_db(request_rec *r)
{
    lenz_db *db = lenz_db_open(r);
    if (!db)
        lenz_fail(r, APLOG_ERR, LENZLOGNO(2000), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                  "Service unavailable", "the database is unavailable; try again shortly");
    return db;
}

const char *lenz_up_subject(request_rec *r, lenz_req *lr, int who)
{
    if (who == LENZ_UP_REQUEST)
        return apr_pstrcat(r->pool, "request:", ((const lenz_up_fr *)lr->ctx)->id, NULL);
    return who == LENZ_UP_MEMBER ? apr_pstrcat(r->pool, "user:", lr->user->id, NULL) : "guest";
}

const char *lenz_up_owner(lenz_req *lr, int who)
{
    if (who == LENZ_UP_REQUEST)
        return ((const lenz_up_fr *)lr->ctx)->owner_id;
    return who == LENZ_UP_MEMBER ? lr->user->id : NULL;
}

apr_int64_t lenz_up_part_len(const lenz_up *u, int n)
{
    if (n < u->part_count)
        return u->part_size;
    return u->size - u->part_size * (apr_int64_t)(u->part_count - 1);
}

static int bad_token(request_rec *r, const char *detail)
{
    lenz_fail(r, APLOG_INFO, LENZLOGNO(2001), HTTP_FORBIDDEN, "invalid-upload-token",
              "Invalid upload token", detail);
    return 0;
}

lenz_up *lenz_up_token(request_rec *r, lenz_req *lr, int who, const char *token)
{
    lenz_json *c;
    lenz_up *u;
    apr_int64_t v;
    apr_status_t rv;

    if (!token || !*token) {
        lenz_field_bad(r, "token", "is required");
        return NULL;
    }
    rv = lenz_token_open(r->pool, lr->srv->keyring, "upload", lenz_up_subject(r, lr, who),
                         apr_time_sec(apr_time_now()), token, &c);
    if (rv == LENZ_EEXPIRED) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(2002), HTTP_GONE, "upload-expired", "Upload expired",
                  "this upload's token has expired; start the upload again");
        return NULL;
    }
    if (rv != APR_SUCCESS) {
        bad_token(r, "the upload token is not valid here (forged, damaged or someone else's)");
        return NULL;
    }
    u = apr_pcalloc(r->pool, sizeof(*u));
    if (lenz_json_get_str(c, "f", &u->file_id) != APR_SUCCESS
        || lenz_json_get_str(c, "t", &u->transfer_id) != APR_SUCCESS
        || lenz_json_get_str(c, "k", &u->key) != APR_SUCCESS
        || lenz_json_get_str(c, "u", &u->upload_id) != APR_SUCCESS
        || lenz_json_get_int(c, "s", &u->size) != APR_SUCCESS
        || lenz_json_get_int(c, "ps", &u->part_size) != APR_SUCCESS
        || lenz_json_get_int(c, "pc", &v) != APR_SUCCESS) {
        bad_token(r, "the upload token is incomplete");
        return NULL;
    }
    u->part_count = (int)v;
    u->encrypted = lenz_json_get_int(c, "g", &v) == APR_SUCCESS;
    u->segment_size = u->encrypted ? (int)v : 0;
    u->no_link = lenz_json_get_int(c, "nl", &v) == APR_SUCCESS && v == 1;
    return u;
}

/* Part numbers ------------------------------------------------------------------- */

static int part_number(request_rec *r, const lenz_up *u, const char *s)
{
    char *end;
    long n;
    if (!s || !*s)
        return lenz_field_bad(r, "part", "is required");
    n = strtol(s, &end, 10);
    if (*end || n < 1 || n > u->part_count)
        return lenz_field_bad(r, "part", apr_psprintf(r->pool, "must be 1 to %d", u->part_count));
    return (int)n;
}

static int sha256_hex_ok(const char *s)
{
    int i;
    for (i = 0; i < 64; i++)
        if (!apr_isxdigit(s[i]))
            return 0;
    return s[64] == '\0';
}

static const char *lower_hex(apr_pool_t *p, const char *s)
{
    char *d = apr_pstrdup(p, s), *c;
    for (c = d; *c; c++)
        *c = (char)apr_tolower(*c);
    return d;
}

int lenz_up_presign(request_rec *r, lenz_req *lr, int who)
{
    lenz_up *u = lenz_up_token(r, lr, who, lenz_query(r, "token"));
    apr_array_header_t *hdrs = NULL;
    lenz_sigv4_hdr *h;
    const char *url, *sha;
    lenz_json *out, *sh;
    apr_time_t now = apr_time_now();
    int n;

    if (!u || !(n = part_number(r, u, lenz_query(r, "part"))))
        return OK;
    if (u->encrypted)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2010), HTTP_BAD_REQUEST, "wrong-path",
                         "Encrypted upload", "parts of an encrypted upload go through upload-part");
    /* The URL is bound to the part's planned length: a body of any other
     * length (or one sent chunked, without Content-Length) no longer
     * matches the signature and S3 refuses it, so a part URL cannot store
     * more than the part (docs/security.md, "Upload parts").  Clients send
     * Content-Length themselves (browsers must): nothing for them to add. */
    hdrs = apr_array_make(r->pool, 2, sizeof(lenz_sigv4_hdr));
    h = apr_array_push(hdrs);
    h->name = "content-length";
    h->value = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, lenz_up_part_len(u, n));
    /* With ?sha256= the URL is bound to the part's digest: S3 refuses any
     * other bytes (XAmzContentSHA256Mismatch), so the part is checked
     * before it is accepted although it never passes through here. */
    if ((sha = lenz_query(r, "sha256")) != NULL) {
        if (!sha256_hex_ok(sha))
            return lenz_field_bad(r, "sha256", "64 hex digits"), OK;
        sha = lower_hex(r->pool, sha);
        h = apr_array_push(hdrs);
        h->name = "x-amz-content-sha256";
        h->value = sha;
    }
    if (lenz_s3_presign_hdrs(lr->srv->s3, r->pool, "PUT", u->key,
                             apr_psprintf(r->pool, "partNumber=%d&uploadId=%s", n,
                                          lenz_sigv4_uri_encode(r->pool, u->upload_id, strlen(u->upload_id), 1)),
                             hdrs, PRESIGN_TTL, now, &url) != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2011), HTTP_INTERNAL_SERVER_ERROR, "presign",
                         "Internal error", "the part URL could not be signed");
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "url", url);
    lenz_json_set_str(out, "method", "PUT");
    if (sha)
        lenz_json_set_str(lenz_json_obj_add_object(out, "headers"), "x-amz-content-sha256", sha);
    /* What the signature covers, as X-Amz-SignedHeaders says (sorted):
     * "headers" stays the ones a client must add itself. */
    sh = lenz_json_obj_add_array(out, "signed_headers");
    lenz_json_arr_add_str(sh, "content-length");
    lenz_json_arr_add_str(sh, "host");
    if (sha)
        lenz_json_arr_add_str(sh, "x-amz-content-sha256");
    lenz_json_set_str(out, "expires_at", ap_ht_time(r->pool, now + apr_time_from_sec(PRESIGN_TTL),
                                                   "%Y-%m-%dT%H:%M:%SZ", 1));
    lenz_json_set_int(out, "part", n);
    lenz_json_set_int(out, "size", lenz_up_part_len(u, n));
    return lenz_send_json(r, HTTP_OK, out);
}

/* The parts received so far: recorded rows (encrypted) or S3's list (plain).
 * prefixes (optional, encrypted only): each recorded part's nonce prefix in
 * hex by part number (NULL for format 1), read with its ETag. */
static apr_status_t received(request_rec *r, lenz_req *lr, lenz_db *db, const lenz_up *u,
                             apr_array_header_t **parts, const char ***prefixes,
                             lenz_s3_error *err)
{
    if (!u->encrypted)
        return lenz_s3_list_parts(lr->srv->s3, lenz_process_http(), r->pool, u->key, u->upload_id,
                                  parts, err);
    else {
        const char *args[1] = { u->file_id };
        lenz_rows rows;
        int i;
        memset(err, 0, sizeof(*err));
        if (lenz_db_select(db, "lenz_up_parts_list", &rows, 1, args) != APR_SUCCESS)
            return APR_EGENERAL;
        *parts = apr_array_make(r->pool, rows.nrows + 1, sizeof(lenz_s3_part));
        if (prefixes)
            *prefixes = apr_pcalloc(r->pool, sizeof(char *) * (u->part_count + 1));
        for (i = 0; i < rows.nrows; i++) {
            lenz_s3_part *p = apr_array_push(*parts);
            p->number = (int)apr_atoi64(rows.rows[i][0]);
            p->size = (apr_off_t)apr_atoi64(rows.rows[i][1]);
            p->etag = rows.rows[i][2];
            if (prefixes && p->number >= 1 && p->number <= u->part_count)
                (*prefixes)[p->number] = rows.rows[i][3];
        }
        return APR_SUCCESS;
    }
}

int lenz_up_parts(request_rec *r, lenz_req *lr, int who)
{
    lenz_up *u = lenz_up_token(r, lr, who, lenz_query(r, "token"));
    apr_array_header_t *parts;
    lenz_s3_error err;
    lenz_json *out, *arr;
    lenz_db *db;
    apr_status_t rv;
    int i;

    if (!u || !(db = lenz_up_db(r)))
        return OK;
    rv = received(r, lr, db, u, &parts, NULL, &err);
    lenz_db_close(db);
    if (rv == LENZ_ENOTFOUND)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2012), HTTP_GONE, "upload-gone", "Upload gone",
                         "this upload was completed or aborted");
    if (rv != APR_SUCCESS)
        return u->encrypted ? lenz_fail(r, APLOG_ERR, LENZLOGNO(2013), HTTP_SERVICE_UNAVAILABLE,
                                        "db-unavailable", "Service unavailable", "try again shortly")
                            : lenz_s3_fail(r, "ListParts", rv, &err);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_int(out, "part_size", u->part_size);
    lenz_json_set_int(out, "part_count", u->part_count);
    arr = lenz_json_obj_add_array(out, "parts");
    for (i = 0; i < parts->nelts; i++) {
        lenz_s3_part *p = &APR_ARRAY_IDX(parts, i, lenz_s3_part);
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_int(o, "part", p->number);
        lenz_json_set_int(o, "size", p->size);
        lenz_json_set_str(o, "etag", p->etag);
    }
    return lenz_send_json(r, HTTP_OK, out);
}

int lenz_up_abort(request_rec *r, lenz_req *lr, int who)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *token, *args[1];
    lenz_s3_error err;
    lenz_up *u;
    lenz_db *db;
    int n = 0;

    if (!b || !lenz_field_str(r, b, "token", 1, 4096, &token) || !(u = lenz_up_token(r, lr, who, token)))
        return OK;
    if (!(db = lenz_up_db(r)))
        return OK;
    args[0] = u->file_id;
    lenz_db_exec(db, "lenz_up_deleted", &n, 1, args);
    if (n == 1 && who == LENZ_UP_REQUEST) {
        /* what initiate took of the request's limits goes back */
        const char *ga[2] = { apr_psprintf(r->pool, "%" APR_INT64_T_FMT, u->size),
                              ((const lenz_up_fr *)lr->ctx)->id };
        lenz_db_exec(db, "lenz_up_request_giveback", NULL, 2, ga);
    }
    lenz_db_close(db);
    if (n != 1)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2014), HTTP_CONFLICT, "not-uploading",
                         "Nothing to abort", "this upload was completed or aborted already");
    lenz_s3_abort_multipart(lr->srv->s3, lenz_process_http(), r->pool, u->key, u->upload_id, &err);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

/* Complete ------------------------------------------------------------------------- */

static const char *strip_quotes(apr_pool_t *p, const char *e)
{
    apr_size_t n = strlen(e);
    if (n >= 2 && e[0] == '"' && e[n - 1] == '"')
        return apr_pstrmemdup(p, e + 1, n - 2);
    return e;
}

/* The client's list for a plain upload: every part once, in any order,
 * each with its ETag and, optionally, the SHA-256 its URL was bound to. */
static int client_etags(request_rec *r, const lenz_json *b, const lenz_up *u, const char ***etags,
                        const char ***shas)
{
    lenz_json *a = lenz_json_get(b, "parts");
    apr_size_t i, n;
    if (!a || lenz_json_typeof(a) != LENZ_JSON_ARRAY)
        return lenz_field_bad(r, "parts", "must be an array of {\"part\", \"etag\"}");
    n = lenz_json_array_len(a);
    if (n > LENZ_S3_MAX_PARTS)
        return lenz_field_bad(r, "parts", "too many entries");
    *etags = apr_pcalloc(r->pool, sizeof(char *) * (u->part_count + 1));
    *shas = apr_pcalloc(r->pool, sizeof(char *) * (u->part_count + 1));
    for (i = 0; i < n; i++) {
        lenz_json *o = lenz_json_array_get(a, i);
        apr_int64_t num;
        const char *e, *sha = NULL;
        if (lenz_json_get_int(o, "part", &num) != APR_SUCCESS || num < 1 || num > u->part_count
            || lenz_json_get_str(o, "etag", &e) != APR_SUCCESS || !*e || strlen(e) > 200)
            return lenz_field_bad(r, "parts", apr_psprintf(r->pool, "entry %d needs a part 1-%d and an etag",
                                                          (int)i + 1, u->part_count));
        if (lenz_json_get_str(o, "sha256", &sha) == APR_EINVAL || (sha && !sha256_hex_ok(sha)))
            return lenz_field_bad(r, "parts", apr_psprintf(r->pool, "entry %d: sha256 must be 64 hex digits",
                                                          (int)i + 1));
        if ((*etags)[num])
            return lenz_field_bad(r, "parts", apr_psprintf(r->pool, "part %d is listed twice", (int)num));
        (*etags)[num] = strip_quotes(r->pool, e);
        (*shas)[num] = sha ? lower_hex(r->pool, sha) : NULL;
    }
    return 1;
}

static int parts_missing(request_rec *r, const char *missing, const char *why)
{
    lenz_json *ext = lenz_json_new_object(r->pool);
    lenz_json_set_str(ext, "missing_parts", missing);
    return lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(2018), HTTP_BAD_REQUEST, "parts-missing",
                         "Parts missing", apr_psprintf(r->pool, "%s: %s", why, missing), ext);
}

/* S3 refused to assemble an encrypted upload (InvalidPart): a recorded
 * part is not the attempt S3 holds (a later attempt reached S3 but was
 * never recorded: the database failed, or the client went away).  Its
 * ETag, and under format 2 its nonce prefix, would be the wrong ones, so
 * the row goes and the part counts as missing: a resume sends it again.
 * Answers parts-missing, or returns -1 when every row matches S3. */
static int stale_parts(request_rec *r, lenz_req *lr, lenz_db *db, const lenz_up *u,
                       const lenz_s3_part *list)
{
    apr_array_header_t *held;
    const char **at_s3, *missing = NULL;
    lenz_s3_error err;
    int i;

    if (lenz_s3_list_parts(lr->srv->s3, lenz_process_http(), r->pool, u->key, u->upload_id,
                           &held, &err) != APR_SUCCESS)
        return -1;
    at_s3 = apr_pcalloc(r->pool, sizeof(char *) * (u->part_count + 1));
    for (i = 0; i < held->nelts; i++) {
        lenz_s3_part *p = &APR_ARRAY_IDX(held, i, lenz_s3_part);
        if (p->number >= 1 && p->number <= u->part_count)
            at_s3[p->number] = strip_quotes(r->pool, p->etag);
    }
    for (i = 1; i <= u->part_count; i++) {
        const char *args[3] = { u->file_id, apr_itoa(r->pool, i), list[i].etag };
        if (at_s3[i] && strcmp(at_s3[i], strip_quotes(r->pool, list[i].etag)) == 0)
            continue;
        if (lenz_db_exec(db, "lenz_up_part_drop", NULL, 3, args) != APR_SUCCESS)
            return -1;
        missing = missing ? apr_psprintf(r->pool, "%s, %d", missing, i) : apr_itoa(r->pool, i);
    }
    if (!missing)
        return -1;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LENZLOGNO(2021)
                  "complete of file %s: S3 holds other attempts at parts %s than were recorded; "
                  "their rows are dropped and the parts must be sent again", u->file_id, missing);
    return parts_missing(r, missing, "S3 holds another attempt at these parts than the one recorded; "
                         "send them again");
}

static int link_answer(request_rec *r, lenz_req *lr, lenz_db *db, const lenz_up *u)
{
    const char *args[1] = { u->transfer_id }, *link;
    lenz_json *claims, *out;
    lenz_rows rows;

    if (lenz_db_select(db, "lenz_up_link_token", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1
        || !rows.rows[0][0]
        || lenz_token_open(r->pool, lr->srv->keyring, "transfer-link", u->transfer_id, apr_time_sec(apr_time_now()),
                           rows.rows[0][0], &claims) != APR_SUCCESS
        || lenz_json_get_str(claims, "link", &link) != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2015), HTTP_INTERNAL_SERVER_ERROR, "link",
                         "Internal error", "the transfer's share link could not be read");
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "file_id", u->file_id);
    lenz_json_set_str(out, "download_url", lenz_link_url(r, link));
    lenz_json_set_str(out, "token", link);
    lenz_json_set_str(out, "transfer_id", u->transfer_id);
    return lenz_send_json(r, HTTP_CREATED, out);
}

int lenz_up_complete(request_rec *r, lenz_req *lr, int who, int encrypted)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *token, **etags = NULL, **shas = NULL, **prefixes = NULL, *args[5];
    apr_array_header_t *parts;
    lenz_s3_part *list;
    lenz_s3_error err;
    lenz_rows rows;
    lenz_up *u;
    lenz_db *db;
    apr_status_t rv;
    const char *etag, *missing = NULL;
    int i, n, rc, v2;

    if (!b || !lenz_field_str(r, b, "token", 1, 4096, &token) || !(u = lenz_up_token(r, lr, who, token)))
        return OK;
    if (u->encrypted != encrypted)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2016), HTTP_BAD_REQUEST, "wrong-path", "Wrong path",
                         encrypted ? "this is a plain upload" : "this is an encrypted upload");
    if (!encrypted && !client_etags(r, b, u, &etags, &shas))
        return OK;
    if (!(db = lenz_up_db(r)))
        return OK;
    args[0] = u->file_id;
    if (lenz_db_select(db, "lenz_up_file_state", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1
        || strcmp(rows.rows[0][0], "uploading") != 0) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2017), HTTP_CONFLICT, "not-uploading", "Already finished",
                         "this upload was completed or aborted already");
    }
    rv = received(r, lr, db, u, &parts, &prefixes, &err);
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        if (rv == LENZ_ENOTFOUND)
            return lenz_fail(r, APLOG_INFO, LENZLOGNO(2012), HTTP_GONE, "upload-gone", "Upload gone",
                             "this upload was completed or aborted");
        return lenz_s3_fail(r, "ListParts", rv, &err);
    }
    /* Every part, exactly once, with its expected size (and, plain, the
     * ETag the client got from S3; format 2, the nonce prefix recorded with
     * its ETag) before S3 is asked to assemble. */
    v2 = encrypted && rows.rows[0][3] && apr_atoi64(rows.rows[0][3]) == LENZ_AEAD_VERSION_PARTS;
    list = apr_pcalloc(r->pool, sizeof(lenz_s3_part) * (u->part_count + 1));
    n = 0;
    for (i = 0; i < parts->nelts; i++) {
        lenz_s3_part *p = &APR_ARRAY_IDX(parts, i, lenz_s3_part);
        if (p->number < 1 || p->number > u->part_count || p->size != lenz_up_part_len(u, p->number)
            || (etags && (!etags[p->number] || strcmp(strip_quotes(r->pool, p->etag), etags[p->number]) != 0))
            || (v2 && !prefixes[p->number]))
            continue;
        list[p->number] = *p;
    }
    for (i = 1; i <= u->part_count; i++) {
        if (!list[i].etag) {
            missing = missing ? apr_psprintf(r->pool, "%s, %d", missing, i) : apr_itoa(r->pool, i);
            if (++n >= 10)
                break;
        }
    }
    if (missing) {
        lenz_db_close(db);
        return parts_missing(r, missing, apr_psprintf(r->pool, "these parts are missing or have the wrong size%s",
                                                      etags ? " or ETag" : ""));
    }
    rv = lenz_s3_complete_multipart(lr->srv->s3, lenz_process_http(), r->pool, u->key, u->upload_id,
                                    list + 1, u->part_count, &etag, &err);
    if (rv != APR_SUCCESS && rv != LENZ_ENOTFOUND && encrypted && err.code
        && strcmp(err.code, "InvalidPart") == 0) {
        rc = stale_parts(r, lr, db, u, list);
        if (rc != -1) {
            lenz_db_close(db);
            return rc;
        }
    }
    if (rv == LENZ_ENOTFOUND) {
        /* Completed before, but not recorded (the database failed after
         * S3 assembled the object)?  Then the object is there, whole. */
        lenz_s3_object info;
        apr_uint64_t want = u->encrypted ? lenz_aead_cipher_size((apr_uint64_t)u->size,
                                                                 (apr_uint32_t)u->segment_size)
                                         : (apr_uint64_t)u->size;
        if (lenz_s3_head_object(lr->srv->s3, lenz_process_http(), r->pool, u->key, &info, &err)
            == APR_SUCCESS && info.size >= 0 && (apr_uint64_t)info.size == want)
            rv = APR_SUCCESS;
    }
    if (rv == LENZ_ENOTFOUND) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2019), HTTP_CONFLICT, "not-uploading", "Already finished",
                         "S3 no longer has this upload (completed or aborted)");
    }
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_s3_fail(r, "CompleteMultipartUpload", rv, &err);
    }
    lenz_db_begin(db);
    rv = APR_SUCCESS;
    if (v2) {
        /* Every part's prefix, in part order, from the rows whose ETags S3
         * just assembled: the files row is then all a reader needs. */
        const char *pa[2];
        char *table = apr_palloc(r->pool, (apr_size_t)u->part_count * 2 * LENZ_AEAD_PREFIX_LEN + 1);
        for (i = 1; i <= u->part_count; i++)
            memcpy(table + (i - 1) * 2 * LENZ_AEAD_PREFIX_LEN, prefixes[i], 2 * LENZ_AEAD_PREFIX_LEN);
        table[u->part_count * 2 * LENZ_AEAD_PREFIX_LEN] = '\0';
        pa[0] = table;
        pa[1] = u->file_id;
        rv = lenz_db_exec(db, "lenz_up_part_prefixes", NULL, 2, pa);
    }
    if (rv == APR_SUCCESS)
        rv = lenz_db_exec(db, "lenz_up_ready", NULL, 1, args);
    if (rv == APR_SUCCESS)
        rv = lenz_db_exec(db, "lenz_up_done", NULL, 1, args);
    for (i = 1; rv == APR_SUCCESS && !encrypted && i <= u->part_count; i++) {
        const char *pa[6] = { u->file_id, apr_itoa(r->pool, i),
                              apr_psprintf(r->pool, "%" APR_OFF_T_FMT, list[i].size), list[i].etag,
                              shas[i], NULL };
        rv = lenz_db_exec(db, "lenz_up_part_put", NULL, 6, pa);
    }
    if (rv == APR_SUCCESS) {
        lenz_json *ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "name", rows.rows[0][1]);
        lenz_json_set_int(ev, "size", u->size);
        lenz_json_set_str(ev, "storage", u->encrypted ? "encrypted" : "plain");
        lenz_json_set_str(ev, "transfer_id", u->transfer_id);
        /* A request's uploader is no account: the owner hears of the batch
         * (jobs/requests.c), not of each file as its own upload. */
        rv = lenz_event_emit(db, "file.uploaded", who == LENZ_UP_MEMBER ? lr->user->id : NULL, u->file_id, ev);
        if (rv == APR_SUCCESS && who == LENZ_UP_REQUEST)
            rv = lenz_request_batch_queue(db, u->transfer_id, lenz_cfg_request_notify_delay(lr->srv));
        if (rv == APR_SUCCESS && rows.rows[0][4]) {
            /* The owner's open pages of that folder refresh (sql/015). */
            lenz_json *ch = lenz_json_new_object(r->pool);
            lenz_json_set_str(ch, "owner_id", rows.rows[0][5]);
            lenz_json_set_str(ch, "op", "uploaded");
            lenz_json_set_str(ch, "id", u->file_id);
            lenz_json_set_str(ch, "kind", "file");
            lenz_json_set_str(ch, "name", rows.rows[0][1]);
            lenz_json_arr_add_str(lenz_json_obj_add_array(ch, "folders"), rows.rows[0][4]);
            rv = lenz_event_emit(db, "storage.changed", who == LENZ_UP_MEMBER ? lr->user->id : rows.rows[0][5],
                                 u->file_id, ch);
        }
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2020), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "the upload is stored but could not be recorded; "
                         "complete it again");
    }
    if (who == LENZ_UP_REQUEST || u->no_link) {
        /* An uploader gets no link: the files are the owner's (a
         * request's, or a shared folder's). */
        lenz_json *out = lenz_json_new_object(r->pool);
        lenz_db_close(db);
        lenz_json_set_str(out, "file_id", u->file_id);
        lenz_json_set_str(out, "transfer_id", u->transfer_id);
        return lenz_send_json(r, HTTP_CREATED, out);
    }
    rc = link_answer(r, lr, db, u);
    lenz_db_close(db);
    return rc;
}
