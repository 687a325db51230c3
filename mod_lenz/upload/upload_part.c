/* upload_part.c - POST .../encrypted/upload-part?token=T&part=N: the
 * request body (the part's plaintext) is sealed where the input filters
 * left it, straight into libcurl's send buffer, and streamed on to S3
 * UploadPart as it arrives (hashed on the way when a digest is wanted).
 * Memory per request: the input's buckets and curl's buffer, whatever the
 * part size; no temporary file.  The database connection is given back before
 * the body is read and taken again only to record the part.
 */
#include <apr_strings.h>
#include <apr_uuid.h>

#include "httpd/lenz.h"
#include "uploads.h"
#include "upload_common.h"
#include "httpd/config.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/keystore.h"
#include "httpd/s3glue.h"
#include "http.h"
#include "aead.h"
#include "aead_pull.h"
#include "keys.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"

/* The body source, zero-copy, hashing the plaintext as it goes by when a
 * digest is wanted. */
typedef struct {
    lenz_body_reader *body;
    lenz_sha256_ctx *sha;       /* NULL: no digest */
} tap;

static apr_ssize_t tap_peek(void *baton, const char **data, apr_size_t max)
{
    tap *t = baton;
    apr_ssize_t n = lenz_body_peek(t->body, data, max);
    if (n > 0 && t->sha)
        lenz_sha256_update(t->sha, *data, (apr_size_t)n);
    return n;
}

/* The file's key material, unwrapped; the connection is closed after. */
static int load_keys(request_rec *r, lenz_req *lr, const lenz_up *u, lenz_aead_params *pp)
{
    const char *args[1] = { u->file_id };
    unsigned char kek[LENZ_KEY_LEN], blob[LENZ_WRAP_LEN];
    lenz_rows rows;
    lenz_db *db = lenz_up_db(r);
    apr_status_t rv;
    const char **row;
    apr_uuid_t uuid;

    if (!db)
        return 0;
    rv = lenz_db_select(db, "lenz_up_file_keys", &rows, 1, args);
    if (rv != APR_SUCCESS || rows.nrows != 1) {
        lenz_db_close(db);
        lenz_fail(r, APLOG_ERR, LENZLOGNO(2030), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                  "Service unavailable", "try again shortly");
        return 0;
    }
    row = rows.rows[0];
    if (strcmp(row[0], "uploading") != 0) {
        lenz_db_close(db);
        lenz_fail(r, APLOG_INFO, LENZLOGNO(2031), HTTP_CONFLICT, "not-uploading", "Already finished",
                  "this upload was completed or aborted");
        return 0;
    }
    memset(pp, 0, sizeof(*pp));
    pp->segment_size = (apr_uint32_t)apr_atoi64(row[5]);
    pp->plain_size = (apr_uint64_t)u->size;
    pp->version = row[8] ? (int)apr_atoi64(row[8]) : 0;
    apr_uuid_parse(&uuid, u->file_id);
    memcpy(pp->file_id, uuid.data, sizeof(pp->file_id));
    /* Format 2: every attempt at a part draws a nonce prefix of its own, so
     * a part sent again (other bytes, or the same) never seals under a
     * (key, nonce) pair used before.  Format 1 (an upload begun before
     * format 2) keeps the file's one prefix. */
    if (pp->version == LENZ_AEAD_VERSION_PARTS)
        rv = lenz_random(pp->prefix, sizeof(pp->prefix));
    else if (pp->version == LENZ_AEAD_VERSION && row[1])
        rv = lenz_unhex(row[1], strlen(row[1]), pp->prefix, sizeof(pp->prefix));
    else
        rv = LENZ_EFORMAT;
    if (rv == APR_SUCCESS)
        rv = row[2] ? lenz_unhex(row[2], strlen(row[2]), blob, sizeof(blob)) : LENZ_EFORMAT;
    /* The user key came joined to the file's row (NULL: there is none). */
    if (rv == APR_SUCCESS)
        rv = lenz_kek_from_row(r, row[3], row[6], row[7], kek);
    lenz_db_close(db);
    if (rv == APR_SUCCESS)
        rv = lenz_key_unwrap(r->pool, kek, lenz_key_context_dek(r->pool, u->file_id), blob,
                             sizeof(blob), pp->key);
    lenz_wipe(kek, sizeof(kek));
    if (rv != APR_SUCCESS) {
        lenz_fail(r, APLOG_ERR, LENZLOGNO(2032), HTTP_SERVICE_UNAVAILABLE, "keys-unavailable",
                  "Service unavailable", "the file's key could not be opened");
        return 0;
    }
    return 1;
}

static int wipe_key(lenz_aead_params *pp)
{
    lenz_wipe(pp->key, sizeof(pp->key));
    return 1;
}

int lenz_up_part(request_rec *r, lenz_req *lr, int who)
{
    lenz_up *u = lenz_up_token(r, lr, who, lenz_query(r, "token"));
    const char *cl, *want_sha, *etag = NULL, *args[6], *got_sha = NULL, *prefix_hex;
    unsigned char digest[32];
    lenz_aead_params pp;
    lenz_aead_part_info pi;
    lenz_aead_pull *pull;
    lenz_body_reader *body;
    lenz_s3_error err;
    apr_int64_t expected;
    apr_status_t rv, body_rv;
    lenz_db *db;
    tap t;
    char *end;
    long n;

    if (!u)
        return OK;
    if (!u->encrypted)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2033), HTTP_BAD_REQUEST, "wrong-path", "Plain upload",
                         "parts of a plain upload go straight to S3 (presigned-url)");
    cl = lenz_query(r, "part");
    n = cl ? strtol(cl, &end, 10) : 0;
    if (!cl || *end || n < 1 || n > u->part_count)
        return lenz_field_bad(r, "part", apr_psprintf(r->pool, "must be 1 to %d", u->part_count)), OK;
    expected = lenz_up_part_len(u, (int)n);
    /* A declared length that cannot be right is refused before reading. */
    cl = apr_table_get(r->headers_in, "Content-Length");
    if (cl && apr_atoi64(cl) != expected) {
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2034), HTTP_BAD_REQUEST, "size-mismatch",
                         "Wrong part size", apr_psprintf(r->pool, "part %ld must be exactly %"
                         APR_INT64_T_FMT " bytes", n, expected));
    }
    want_sha = apr_table_get(r->headers_in, "X-Part-SHA256");
    if (!want_sha)
        want_sha = lenz_query(r, "sha256");
    if (want_sha && (strlen(want_sha) != 64 || lenz_unhex(want_sha, 64, digest, 32) != APR_SUCCESS))
        return lenz_field_bad(r, "sha256", "64 hex digits"), OK;
    if (!load_keys(r, lr, u, &pp))
        return OK;
    if (lenz_aead_part(&pp, (apr_uint32_t)(u->part_size / pp.segment_size), (apr_uint64_t)n, &pi)
        != APR_SUCCESS || (apr_int64_t)pi.plain_size != expected) {
        wipe_key(&pp);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2035), HTTP_INTERNAL_SERVER_ERROR, "plan",
                         "Internal error", "the upload's part plan is inconsistent");
    }

    /* What the row records for this attempt (format 2): the prefix it seals
     * under, kept after the key is wiped. */
    prefix_hex = pp.version == LENZ_AEAD_VERSION_PARTS
        ? lenz_hex(r->pool, pp.prefix, sizeof(pp.prefix)) : NULL;

    body = lenz_body_reader_make(r, expected);
    t.body = body;
    /* The SHA-256 costs as much CPU as the encryption: only when the client
     * sent one to check, or LenzUploadPartDigest always. */
    t.sha = want_sha || lenz_cfg_part_digest_always(lr->srv)
        ? lenz_sha256_make(r->pool) : NULL;
    rv = lenz_aead_pull_make_peek(&pull, r->pool, &pp, pi.first_segment, pi.segments, tap_peek, &t);
    wipe_key(&pp);       /* the encryptor has its own cipher context */
    if (rv == APR_SUCCESS)
        rv = lenz_s3_upload_part(lr->srv->s3, lenz_process_http(), r->pool, u->key, u->upload_id,
                                 (int)n, (apr_off_t)pi.cipher_size, lenz_aead_pull_read, pull, NULL,
                                 &etag, &err);
    lenz_body_end(body);
    body_rv = lenz_body_error(body);
    if (body_rv == APR_EOF || body_rv == LENZ_ETOOBIG
        || lenz_aead_pull_status(pull) == LENZ_EFORMAT) {
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2036), HTTP_BAD_REQUEST, "size-mismatch",
                         "Wrong part size", apr_psprintf(r->pool, "part %ld must be exactly %"
                         APR_INT64_T_FMT " bytes; %s; the part was not stored", n, expected,
                         body_rv == LENZ_ETOOBIG ? "more arrived" : "the body ended early"));
    }
    if (body_rv == APR_ECONNABORTED || r->connection->aborted) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LENZLOGNO(2037)
                      "upload-part %ld of file %s: the client went away after %" APR_OFF_T_FMT
                      " bytes; the part was not stored", n, u->file_id, lenz_body_count(body));
        r->connection->keepalive = AP_CONN_CLOSE;
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "truncated-body",
                         "Incomplete request body", "the body ended before its declared length");
    }
    if (rv != APR_SUCCESS)
        return lenz_s3_fail(r, "UploadPart", rv, &err);
    /* S3 took exactly the part's bytes; the body must end there too (a
     * chunked body may carry more than the part). */
    {
        char extra[1];
        if (lenz_body_read(body, extra, 1) != 0)
            return lenz_fail(r, APLOG_INFO, LENZLOGNO(2036), HTTP_BAD_REQUEST, "size-mismatch",
                             "Wrong part size", apr_psprintf(r->pool, "part %ld must be exactly %"
                             APR_INT64_T_FMT " bytes; more arrived; the part was not stored", n, expected));
    }

    if (t.sha) {
        lenz_sha256_final(t.sha, digest);
        got_sha = lenz_hex(r->pool, digest, 32);
    }
    if (want_sha && strcasecmp(want_sha, got_sha) != 0)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2038), HTTP_BAD_REQUEST, "checksum-mismatch",
                         "Checksum mismatch", "the part's SHA-256 differs from the one sent; "
                         "the part was not stored");

    if (!(db = lenz_up_db(r)))
        return OK;
    args[0] = u->file_id;
    args[1] = apr_itoa(r->pool, (int)n);
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, expected);
    args[3] = etag;
    args[4] = got_sha;
    args[5] = prefix_hex;
    rv = lenz_db_exec(db, "lenz_up_part_put", NULL, 6, args);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2039), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "the part could not be recorded; send it again");
    {
        lenz_json *out = lenz_json_new_object(r->pool);
        lenz_json_set_int(out, "part", n);
        lenz_json_set_int(out, "size", expected);
        lenz_json_set_str(out, "etag", etag);
        if (got_sha)
            lenz_json_set_str(out, "sha256", got_sha);
        return lenz_send_json(r, HTTP_OK, out);
    }
}
