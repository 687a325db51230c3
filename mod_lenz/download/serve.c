/* serve.c - sending a stored file to a visitor: HTTP semantics (ETag,
 * Last-Modified, conditional requests, Range, Content-Disposition), the
 * streamed decryption of encrypted files, presigned redirects for plain
 * ones, and counting downloads: a link with a limit reserves before the
 * first byte and settles at the end (budget.c); one without counts a
 * download once its bytes reached the client.
 *
 * Streaming: S3 GetObject -> decryptor -> one brigade passed down the
 * output filters per segment and cleaned up after each pass.  Nothing of
 * a segment leaves before its tag verified; a segment that fails ends the
 * response as broken (error bucket, connection closed), never cleanly.
 * The database connection is closed before the first body byte.
 */
#include <apr_strings.h>
#include <apr_uuid.h>
#include <http_core.h>
#include <apr_date.h>

#include "httpd/lenz.h"
#include "serve.h"
#include "budget.h"
#include "httpd/config.h"
#include "httpd/problem.h"
#include "httpd/keystore.h"
#include "httpd/metrics.h"
#include "httpd/s3glue.h"
#include "httpd/shared.h"
#include "sigv4.h"
#include "http.h"
#include "aead.h"
#include "keys.h"
#include "codec.h"
#include "crypto.h"
#include "httpfmt.h"
#include "err.h"

/* A plain file's presigned URL: a client follows the redirect at once,
 * so it need not live longer than that takes (with room for the hosts'
 * clocks to differ a little); until then it can be fetched again by
 * anyone who has it, whatever the link's limit says (docs/security.md). */
#define PRESIGN_TTL 30

/* A response whose body is under way and has failed: make sure the
 * client sees it broken (short body, closed connection). */
void lenz_stream_broken(request_rec *r, apr_bucket_brigade *bb)
{
    apr_bucket *e;
    apr_brigade_cleanup(bb);
    e = ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, r->pool, r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(bb, e);
    e = apr_bucket_eos_create(r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(bb, e);
    r->connection->keepalive = AP_CONN_CLOSE;
    r->no_cache = 1;
    ap_pass_brigade(r->output_filters, bb);
    apr_brigade_cleanup(bb);
}

apr_status_t lenz_file_params(request_rec *r, lenz_db *db, const lenz_dfile *f,
                              lenz_aead_params *pp)
{
    unsigned char kek[LENZ_KEY_LEN], blob[LENZ_WRAP_LEN];
    apr_uuid_t uuid;
    apr_status_t rv;

    memset(pp, 0, sizeof(*pp));
    pp->segment_size = (apr_uint32_t)f->segment_size;
    pp->plain_size = (apr_uint64_t)f->size;
    pp->version = f->format_version;
    if (apr_uuid_parse(&uuid, f->crypt_id ? f->crypt_id : f->id) != APR_SUCCESS || !f->wrapped_hex
        || lenz_unhex(f->wrapped_hex, strlen(f->wrapped_hex), blob, sizeof(blob)) != APR_SUCCESS)
        return LENZ_EFORMAT;
    if (f->format_version == LENZ_AEAD_VERSION_PARTS) {
        /* One nonce prefix per part (docs/format.md, format 2), kept for as
         * long as the request (the decryptor reads them as it goes). */
        apr_size_t hl = f->part_prefixes_hex ? strlen(f->part_prefixes_hex) : 0;
        unsigned char *t;
        if (hl == 0 || hl % (2 * LENZ_AEAD_PREFIX_LEN) != 0 || f->segments_per_part <= 0)
            return LENZ_EFORMAT;
        t = apr_palloc(r->pool, hl / 2);
        if (lenz_unhex(f->part_prefixes_hex, hl, t, hl / 2) != APR_SUCCESS)
            return LENZ_EFORMAT;
        pp->part_prefixes = t;
        pp->part_count = hl / (2 * LENZ_AEAD_PREFIX_LEN);
        pp->segments_per_part = (apr_uint32_t)f->segments_per_part;
    }
    else if (f->format_version != LENZ_AEAD_VERSION || !f->prefix_hex
             || lenz_unhex(f->prefix_hex, strlen(f->prefix_hex), pp->prefix, sizeof(pp->prefix))
                != APR_SUCCESS) {
        return LENZ_EFORMAT;
    }
    if (lenz_aead_check(pp) != APR_SUCCESS)
        return LENZ_EFORMAT;
    memcpy(pp->file_id, uuid.data, sizeof(pp->file_id));
    /* The user key came joined to the file's row (NULL: there is none). */
    rv = lenz_kek_from_row(r, f->kek_user, f->kek_wrapped_hex, f->kek_master_version, kek);
    if (rv == APR_SUCCESS)
        rv = lenz_key_unwrap(r->pool, kek, lenz_key_context_dek(r->pool, f->crypt_id ? f->crypt_id : f->id),
                             blob, sizeof(blob),
                             pp->key);
    lenz_wipe(kek, sizeof(kek));
    return rv;
}

/* Decrypting stream ------------------------------------------------------------ */

typedef struct {
    request_rec *r;
    apr_bucket_brigade *bb;
    lenz_aead_dec *dec;
    apr_status_t failed;        /* the decryptor's or the client's error */
    apr_off_t sent;             /* handed on: to the sink, or to the client (a
                                 * failed pass too: part of it may have gone out) */
    lenz_stream_sink *sink;     /* optional: where plaintext goes instead of the client */
    void *sink_baton;
} dstream;

static apr_status_t to_client(void *baton, const unsigned char *data, apr_size_t len)
{
    dstream *d = baton;
    apr_status_t rv;
    if (d->sink) {
        rv = d->sink(d->sink_baton, (const char *)data, len);
    }
    else {
        /* Transient: the bytes are only good during this call; a filter
         * that has to keep them copies them (bounded by its own limits). */
        apr_bucket *b = apr_bucket_transient_create((const char *)data, len,
                                                    d->r->connection->bucket_alloc);
        APR_BRIGADE_INSERT_TAIL(d->bb, b);
        rv = ap_pass_brigade(d->r->output_filters, d->bb);
        apr_brigade_cleanup(d->bb);
        if (rv == APR_SUCCESS && d->r->connection->aborted)
            rv = APR_ECONNABORTED;
        d->sent += (apr_off_t)len;
        return rv;
    }
    if (rv == APR_SUCCESS)
        d->sent += (apr_off_t)len;
    return rv;
}

static apr_status_t from_s3(void *baton, const char *buf, apr_size_t len)
{
    dstream *d = baton;
    apr_status_t rv = lenz_aead_dec_feed(d->dec, buf, len);
    if (rv != APR_SUCCESS)
        d->failed = rv;
    return rv;
}

apr_status_t lenz_stream_decrypted(request_rec *r, lenz_req *lr, const lenz_dfile *f,
                                   const lenz_aead_params *pp, const lenz_aead_span *span,
                                   apr_bucket_brigade *bb, lenz_stream_sink *sink, void *baton,
                                   apr_off_t *sent)
{
    dstream d;
    lenz_s3_error err;
    lenz_s3_object info;
    apr_status_t rv;

    memset(&d, 0, sizeof(d));
    d.r = r;
    d.bb = bb;
    d.sink = sink;
    d.sink_baton = baton;
    rv = lenz_aead_dec_make(&d.dec, r->pool, pp, span, to_client, &d);
    if (rv != APR_SUCCESS)
        return rv;
    rv = lenz_s3_get_object(lr->srv->s3, lenz_process_http(), r->pool, f->s3_key,
                            (apr_off_t)span->cipher_offset,
                            (apr_off_t)(span->cipher_offset + span->cipher_length - 1),
                            from_s3, &d, &info, &err);
    if (rv == APR_SUCCESS)
        rv = lenz_aead_dec_finish(d.dec);
    else if (d.failed != APR_SUCCESS)
        rv = d.failed;
    *sent = d.sent;
    if (rv == LENZ_EAUTH || rv == LENZ_EFORMAT) {
        lenz_metrics_add(LENZ_CNT_AEAD_AUTH_FAILURES, 1);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      LENZLOGNO(2110) "file %s: the stored object %s at plaintext byte %" APR_OFF_T_FMT
                      "; nothing of that segment or after it was sent", f->id,
                      rv == LENZ_EAUTH ? "failed authentication" : "is truncated or too long",
                      (apr_off_t)span->first_segment * pp->segment_size + d.sent);
    }
    else if (rv != APR_SUCCESS && rv != APR_ECONNABORTED && d.failed == APR_SUCCESS) {
        lenz_s3_status(r, "GetObject", rv, &err);
    }
    else if (rv == APR_ECONNABORTED) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "file %s: client went away after %"
                      APR_OFF_T_FMT " bytes", f->id, d.sent);
    }
    return rv;
}

/* Counting ----------------------------------------------------------------------- */

/* A link without a limit: a download counts once its bytes reached the
 * client: a whole one at once, ranges when the bytes they delivered add
 * up to the file (per link and client address, in the shared store), so
 * "Range: bytes=0-" forever still counts. */
static void count(request_rec *r, lenz_link *l, apr_int64_t size, apr_off_t delivered, int ranged)
{
    const lenz_kv *kv = lenz_shared_kv();
    lenz_db *db;
    if (ranged && kv) {
        const char *key = apr_psprintf(r->pool, "lenz:dl:%s:%s", l->id, r->useragent_ip);
        unsigned char buf[8];
        apr_size_t len = sizeof(buf);
        apr_uint64_t total = 0;
        int i, due;
        if (kv->lock)
            kv->lock(kv->baton);
        if (kv->get(kv->baton, key, buf, &len, r->pool) == APR_SUCCESS && len == 8)
            for (i = 0; i < 8; i++)
                total = total << 8 | buf[i];
        total += (apr_uint64_t)delivered;
        due = total >= (apr_uint64_t)size;
        if (due)
            total -= (apr_uint64_t)size;
        for (i = 7; i >= 0; i--, total >>= 8)
            buf[i] = (unsigned char)(total & 0xff);
        kv->put(kv->baton, key, buf, 8, apr_time_now() + apr_time_from_sec(7 * 86400), r->pool);
        if (kv->unlock)
            kv->unlock(kv->baton);
        if (!due)
            return;
    }
    else if (ranged) {
        return;
    }
    if ((db = lenz_db_open(r))) {
        lenz_link_count(r, db, l);
        lenz_db_close(db);
    }
}

/* One file ------------------------------------------------------------------------- */

/* The type a preview is sent as: images, PDF, audio and video as they
 * are; any other text as text/plain (HTML, SVG, XML and scripts are never
 * rendered from our origin); anything else as bytes. */
static const char *lenz_preview_type(apr_pool_t *p, const char *ct)
{
    static const char *const shown[] = { "image/png", "image/jpeg", "image/gif", "image/webp",
                                         "image/avif", "image/bmp", "application/pdf", NULL };
    int i;
    if (!ct || !*ct)
        return "application/octet-stream";
    for (i = 0; shown[i]; i++)
        if (!strcasecmp(ct, shown[i]))
            return shown[i];
    if (!strncasecmp(ct, "audio/", 6) || !strncasecmp(ct, "video/", 6))
        return apr_pstrdup(p, ct);
    if (!strncasecmp(ct, "text/", 5) || !strcasecmp(ct, "image/svg+xml") || !strcasecmp(ct, "application/json")
        || !strcasecmp(ct, "application/xml") || !strcasecmp(ct, "application/javascript"))
        return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

static void common_headers(request_rec *r, const lenz_dfile *f)
{
    apr_table_setn(r->headers_out, "ETag", apr_pstrcat(r->pool, "\"", f->id, "\"", NULL));
    ap_update_mtime(r, f->modified);
    ap_set_last_modified(r);
    apr_table_setn(r->headers_out, "Accept-Ranges", "bytes");
    if (f->inline_view) {
        /* A member's preview of their own file: shown, but never run.
         * Anything a browser could execute comes as text/plain, and the
         * sandbox keeps even that from scripts, forms and our origin. */
        apr_table_setn(r->headers_out, "Content-Disposition",
                       lenz_content_disposition(r->pool, "inline", f->name));
        apr_table_setn(r->headers_out, "Content-Security-Policy",
                       "default-src 'none'; img-src 'self' data:; media-src 'self'; "
                       "style-src 'unsafe-inline'; sandbox");
        ap_set_content_type(r, lenz_preview_type(r->pool, f->content_type));
        return;
    }
    /* Always an attachment: a share never renders HTML or SVG in our
     * origin, whatever type the uploader claimed. */
    apr_table_setn(r->headers_out, "Content-Disposition",
                   lenz_content_disposition(r->pool, "attachment", f->name));
    ap_set_content_type(r, f->content_type && *f->content_type ? f->content_type
                                                               : "application/octet-stream");
}

/* If-Range: send the range only if the validator still matches. */
static int if_range_ok(request_rec *r, const lenz_dfile *f)
{
    const char *ir = apr_table_get(r->headers_in, "If-Range");
    if (!ir)
        return 1;
    if (ir[0] == '"' || ir[0] == 'W')
        return strcmp(ir, apr_pstrcat(r->pool, "\"", f->id, "\"", NULL)) == 0;
    return apr_date_parse_http(ir) == apr_time_from_sec(apr_time_sec(f->modified));
}

/* Takes over db.  The presigned URL serves the whole file to anyone who
 * has it until it expires, so a limited link reserves the whole file
 * here, whatever Range the request had, and never gives it back.  A HEAD
 * gets a URL signed for HEAD, which S3 refuses for a GET. */
static int redirect_plain(request_rec *r, lenz_req *lr, lenz_link *l, const lenz_dfile *f, lenz_db *db)
{
    const char *url, *q, *cd = lenz_content_disposition(r->pool, f->inline_view ? "inline" : "attachment", f->name);
    const char *ct = f->inline_view ? lenz_preview_type(r->pool, f->content_type) : f->content_type;
    lenz_dl_claim claim;
    q = apr_pstrcat(r->pool, "response-content-disposition=",
                    lenz_sigv4_uri_encode(r->pool, cd, strlen(cd), 1),
                    "&response-content-type=",
                    lenz_sigv4_uri_encode(r->pool, ct, strlen(ct), 1), NULL);
    if (lenz_s3_presign(lr->srv->s3, r->pool, r->header_only ? "HEAD" : "GET", f->s3_key, q, PRESIGN_TTL,
                        apr_time_now(), &url) != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2111), HTTP_INTERNAL_SERVER_ERROR, "presign",
                         "Internal error", "the download URL could not be signed");
    }
    /* The bytes go straight from S3: this is the moment we can count. */
    if (!r->header_only && l && l->max_downloads) {
        if (!lenz_dl_reserve(r, db, l, lenz_dl_starts_download(l, 0, 0), f->size, &claim)) {
            lenz_db_close(db);
            return OK;
        }
    }
    lenz_db_close(db);
    if (!r->header_only && l && !l->max_downloads)
        count(r, l, f->size, 0, 0);
    apr_table_setn(r->err_headers_out, "Location", url);
    r->status = HTTP_MOVED_TEMPORARILY;
    return OK;
}

int lenz_serve_file(request_rec *r, lenz_req *lr, lenz_link *l, const lenz_dfile *f, lenz_db *db)
{
    lenz_range ranges[LENZ_RANGES_MAX];
    lenz_aead_params pp;
    lenz_aead_span span;
    apr_bucket_brigade *bb;
    lenz_dl_claim claim;
    apr_off_t sent = 0;
    apr_status_t rv;
    int n = 0, rc, ranged = 0;
    const char *rh;

    common_headers(r, f);
    rc = ap_meets_conditions(r);
    if (rc != OK) {
        lenz_db_close(db);
        return rc;
    }
    if (strcmp(f->storage, "plain") == 0)
        return redirect_plain(r, lr, l, f, db);
    rh = apr_table_get(r->headers_in, "Range");
    if (rh && if_range_ok(r, f)) {
        rv = lenz_range_parse(rh, (apr_uint64_t)f->size, ranges, LENZ_RANGES_MAX, &n);
        if (rv == LENZ_EFORMAT || rv == APR_EINVAL) {
            lenz_db_close(db);
            apr_table_setn(r->err_headers_out, "Content-Range",
                           apr_psprintf(r->pool, "bytes */%" APR_INT64_T_FMT, f->size));
            return lenz_fail(r, APLOG_INFO, LENZLOGNO(2112), HTTP_RANGE_NOT_SATISFIABLE, "bad-range",
                             "Range not satisfiable", rv == LENZ_EFORMAT ? "the Range header is malformed"
                             : "the range lies outside the file");
        }
        /* Several ranges: the whole file (allowed, and simpler for clients). */
        ranged = rv == APR_SUCCESS && n == 1;
    }
    rv = lenz_file_params(r, db, f, &pp);
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LENZLOGNO(2113) "file %s: its key cannot be opened (%s)",
                      f->id, lenz_strerror(rv));
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_SERVICE_UNAVAILABLE, "keys-unavailable",
                         "Service unavailable", "the file cannot be opened right now");
    }
    rv = ranged ? lenz_aead_range(&pp, ranges[0].first, ranges[0].last, &span)
                : lenz_aead_range_all(&pp, &span);
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        lenz_wipe(pp.key, sizeof(pp.key));
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2114), HTTP_INTERNAL_SERVER_ERROR, "plan",
                         "Internal error", "the file's layout is inconsistent");
    }
    if (ranged) {
        r->status = HTTP_PARTIAL_CONTENT;
        apr_table_setn(r->headers_out, "Content-Range",
                       apr_psprintf(r->pool, "bytes %" APR_UINT64_T_FMT "-%" APR_UINT64_T_FMT "/%"
                                    APR_INT64_T_FMT, ranges[0].first, ranges[0].last, f->size));
    }
    ap_set_content_length(r, (apr_off_t)span.length);
    if (r->header_only
        || (l && !lenz_dl_reserve(r, db, l, lenz_dl_starts_download(l, 0, ranged ? ranges[0].first : 0),
                                  (apr_int64_t)span.length, &claim))) {
        lenz_db_close(db);
        lenz_wipe(pp.key, sizeof(pp.key));
        return OK;
    }
    lenz_db_close(db);      /* never held while streaming */
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    rv = lenz_stream_decrypted(r, lr, f, &pp, &span, bb, NULL, NULL, &sent);
    lenz_wipe(pp.key, sizeof(pp.key));
    if (l && l->max_downloads)
        lenz_dl_settle(r, l, &claim, sent);
    if (rv != APR_SUCCESS) {
        if (!r->sent_bodyct && rv != APR_ECONNABORTED) {
            /* Nothing went out yet: a proper error answer is still possible. */
            int integrity = rv == LENZ_EAUTH || rv == LENZ_EFORMAT;
            r->status = HTTP_OK;
            return lenz_fail(r, APLOG_DEBUG, NULL, integrity ? HTTP_BAD_GATEWAY : HTTP_SERVICE_UNAVAILABLE,
                             integrity ? "integrity-error" : "storage-unavailable",
                             integrity ? "Stored file damaged" : "Storage unavailable",
                             integrity ? "the stored file failed its integrity check"
                                       : "the file could not be read; try again shortly");
        }
        lenz_stream_broken(r, bb);
        return OK;
    }
    if (l && !l->max_downloads)
        count(r, l, f->size, sent, ranged);
    return OK;
}
