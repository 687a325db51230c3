/* s3_ops.c - the S3 operations: bucket check, multipart upload, object
 * get/head/copy/delete, batch delete and listings, each made of
 * lenz_s3_call()s (s3.c); and presigned URLs. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_date.h>
#include <apr_hash.h>
#include <sys/uio.h>

#include "s3_int.h"
#include "s3xml.h"
#include "sigv4.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"

apr_status_t lenz_s3_head_bucket(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                 lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    apr_status_t rv;
    c.op = "HeadBucket";
    c.idempotent = 1;
    c.method = "HEAD";
    c.head = 1;
    rv = lenz_s3_call(s3, h, p, &c, &resp, err);
    /* HEAD has no error body: a 404 can only mean the bucket, a 403 our
     * keys or the bucket's permissions. */
    if (rv == LENZ_ENOTFOUND)
        err->code = "NoSuchBucket";
    else if (err->http_status == 403) {
        err->code = "AccessDenied";
        err->message = "wrong access key or secret, or no access to the bucket";
    }
    return rv;
}

static int meta_to_hdr(void *baton, const char *k, const char *v)
{
    void **b = baton;
    apr_pool_t *p = b[0];
    apr_array_header_t *a = b[1];
    char *name = apr_pstrcat(p, "x-amz-meta-", k, NULL), *q;
    for (q = name; *q; q++)
        *q = (char)apr_tolower(*q);
    lenz_s3_add_hdr(p, a, name, v);
    return 1;
}

static apr_array_header_t *meta_headers(apr_pool_t *p, const char *content_type,
                                        apr_table_t *meta)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(lenz_sigv4_hdr));
    void *b[2] = { p, a };
    if (content_type)
        lenz_s3_add_hdr(p, a, "content-type", content_type);
    if (meta)
        apr_table_do(meta_to_hdr, b, meta, NULL);
    return a;
}

apr_status_t lenz_s3_create_multipart(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                      const char *key, const char *content_type,
                                      apr_table_t *meta, const char **upload_id,
                                      lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    apr_status_t rv;
    c.op = "CreateMultipartUpload";
    c.method = "POST";
    c.key = key;
    c.query = "uploads=";
    c.hdrs = meta_headers(p, content_type, meta);
    c.body = "";
    rv = lenz_s3_call(s3, h, p, &c, &resp, err);
    if (rv != APR_SUCCESS)
        return rv;
    if (lenz_s3xml_upload_id(p, resp.body, resp.body_len, upload_id) != APR_SUCCESS) {
        err->http_status = (int)resp.status;
        err->code = "BadResponse";
        err->message = "no UploadId in the answer";
        return LENZ_EUPSTREAM;
    }
    return APR_SUCCESS;
}

static const char *enc(apr_pool_t *p, const char *s)
{
    return lenz_sigv4_uri_encode(p, s, strlen(s), 1);
}

apr_status_t lenz_s3_upload_part(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                 const char *key, const char *upload_id, int part,
                                 apr_off_t len, lenz_http_read_fn *reader, void *baton,
                                 const char *payload_sha256, const char **etag,
                                 lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    apr_status_t rv;
    if (part < 1 || part > LENZ_S3_MAX_PARTS || len < 0 || (apr_uint64_t)len > LENZ_S3_MAX_PART) {
        memset(err, 0, sizeof(*err));
        err->code = "InvalidArgument";
        err->message = "part number 1-10000 and at most 5 GiB per part";
        return APR_EINVAL;
    }
    c.op = "UploadPart";
    c.method = "PUT";
    c.key = key;
    c.query = apr_psprintf(p, "partNumber=%d&uploadId=%s", part, enc(p, upload_id));
    c.reader = reader;
    c.reader_baton = baton;
    c.reader_len = len;
    c.payload_hash = payload_sha256;
    c.streaming = 1;
    rv = lenz_s3_call(s3, h, p, &c, &resp, err);
    if (rv != APR_SUCCESS)
        return rv;
    *etag = apr_table_get(resp.headers, "etag");
    if (!*etag || !**etag) {
        err->http_status = (int)resp.status;
        err->code = "BadResponse";
        err->message = "no ETag in the UploadPart answer";
        return LENZ_EUPSTREAM;
    }
    return APR_SUCCESS;
}

static int xml_safe(const char *s)
{
    for (; *s; s++)
        if (*s == '<' || *s == '>' || *s == '&' || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

apr_status_t lenz_s3_complete_multipart(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                        const char *key, const char *upload_id,
                                        const lenz_s3_part *parts, int nparts,
                                        const char **etag, lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    apr_status_t rv;
    struct iovec *iov;
    apr_size_t n = 0;
    int i;

    if (nparts < 1 || nparts > 10000) {
        err->code = "InvalidRequest";
        err->message = "1 to 10000 parts";
        return APR_EINVAL;
    }
    iov = apr_palloc(p, sizeof(struct iovec) * (nparts + 2));
    iov[n].iov_base = (void *)"<CompleteMultipartUpload>";
    iov[n++].iov_len = 25;
    for (i = 0; i < nparts; i++) {
        /* ETags come from S3 or the client; refuse anything that could
         * change the document's structure. */
        if (!parts[i].etag || !xml_safe(parts[i].etag)
            || (i > 0 && parts[i].number <= parts[i - 1].number)) {
            err->code = "InvalidPart";
            err->message = "bad ETag or part order";
            return APR_EINVAL;
        }
        /* Sizes, when the caller knows them: S3 would refuse only now. */
        if (i < nparts - 1 && parts[i].size > 0 && (apr_uint64_t)parts[i].size < LENZ_S3_MIN_PART) {
            err->code = "EntityTooSmall";
            err->message = "every part but the last needs at least 5 MiB";
            return APR_EINVAL;
        }
        iov[n].iov_base = apr_psprintf(p, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
                                       parts[i].number, parts[i].etag);
        iov[n].iov_len = strlen(iov[n].iov_base);
        n++;
    }
    iov[n].iov_base = (void *)"</CompleteMultipartUpload>";
    iov[n++].iov_len = 26;

    c.op = "CompleteMultipartUpload";
    c.method = "POST";
    c.key = key;
    c.query = apr_pstrcat(p, "uploadId=", enc(p, upload_id), NULL);
    c.body = apr_pstrcatv(p, iov, n, &c.body_len);
    c.hdrs = meta_headers(p, "application/xml", NULL);
    rv = lenz_s3_call(s3, h, p, &c, &resp, err);
    if (rv == LENZ_EUNAVAIL && err->http_status == 500) {
        /* Ceph RGW answers 500 InternalError when the upload was aborted
         * (AWS: 404 NoSuchUpload).  Ask whether the upload still exists
         * before calling it an outage. */
        apr_array_header_t *left;
        lenz_s3_error e2;
        if (lenz_s3_list_parts(s3, h, p, key, upload_id, &left, &e2) == LENZ_ENOTFOUND) {
            err->code = "NoSuchUpload";
            err->message = "the upload no longer exists (aborted or already completed)";
            err->http_status = 404;
            return LENZ_ENOTFOUND;
        }
    }
    if (rv != APR_SUCCESS)
        return rv;
    /* S3 may answer 200 and put an <Error> in the body (it fails after the
     * status line was sent). */
    if (lenz_s3xml_error(p, resp.body, resp.body_len, err) == APR_SUCCESS) {
        err->http_status = (int)resp.status;
        return lenz_s3_map_code(err) == LENZ_ENOTFOUND ? LENZ_ENOTFOUND : LENZ_EUPSTREAM;
    }
    memset(err, 0, sizeof(*err));
    if (lenz_s3xml_complete(p, resp.body, resp.body_len, etag) != APR_SUCCESS) {
        err->http_status = (int)resp.status;
        err->code = "BadResponse";
        err->message = "unexpected CompleteMultipartUpload answer";
        return LENZ_EUPSTREAM;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_s3_abort_multipart(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                     const char *key, const char *upload_id,
                                     lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    c.op = "AbortMultipartUpload";
    c.idempotent = 1;
    c.method = "DELETE";
    c.key = key;
    c.query = apr_pstrcat(p, "uploadId=", enc(p, upload_id), NULL);
    return lenz_s3_call(s3, h, p, &c, &resp, err);
}

apr_status_t lenz_s3_list_parts(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                const char *key, const char *upload_id,
                                apr_array_header_t **parts, lenz_s3_error *err)
{
    const char *marker = NULL;
    int pages = 0;
    *parts = apr_array_make(p, 16, sizeof(lenz_s3_part));
    do {
        s3call c = { 0 };
        lenz_http_resp resp;
        apr_status_t rv;
        c.op = "ListParts";
    c.idempotent = 1;
        c.method = "GET";
        c.key = key;
        c.query = marker
            ? apr_pstrcat(p, "part-number-marker=", enc(p, marker), "&uploadId=", enc(p, upload_id), NULL)
            : apr_pstrcat(p, "uploadId=", enc(p, upload_id), NULL);
        rv = lenz_s3_call(s3, h, p, &c, &resp, err);
        if (rv != APR_SUCCESS)
            return rv;
        if (lenz_s3xml_parts(p, resp.body, resp.body_len, *parts, &marker) != APR_SUCCESS) {
            err->code = "BadResponse";
            err->message = "unexpected ListParts answer";
            return LENZ_EUPSTREAM;
        }
    } while (marker && ++pages < 20);
    return APR_SUCCESS;
}

apr_status_t lenz_s3_list_multipart_uploads(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                            const char *prefix,
                                            apr_array_header_t **uploads,
                                            lenz_s3_error *err)
{
    const char *next_key = NULL, *next_id = NULL;
    int pages = 0;
    *uploads = apr_array_make(p, 16, sizeof(lenz_s3_upload));
    do {
        s3call c = { 0 };
        lenz_http_resp resp;
        apr_status_t rv;
        const char *q = "uploads=";
        if (next_key)
            q = apr_pstrcat(p, "key-marker=", enc(p, next_key), NULL);
        if (prefix && *prefix)
            q = apr_pstrcat(p, q, "&prefix=", enc(p, prefix), NULL);
        if (next_id && *next_id)
            q = apr_pstrcat(p, q, "&upload-id-marker=", enc(p, next_id), NULL);
        if (next_key)
            q = apr_pstrcat(p, q, "&uploads=", NULL);
        c.op = "ListMultipartUploads";
    c.idempotent = 1;
        c.method = "GET";
        c.query = q;
        rv = lenz_s3_call(s3, h, p, &c, &resp, err);
        if (rv != APR_SUCCESS)
            return rv;
        if (lenz_s3xml_uploads(p, resp.body, resp.body_len, *uploads, &next_key, &next_id)
            != APR_SUCCESS) {
            err->code = "BadResponse";
            err->message = "unexpected ListMultipartUploads answer";
            return LENZ_EUPSTREAM;
        }
    } while (next_key && ++pages < 100);
    return APR_SUCCESS;
}

static void object_info(apr_pool_t *p, const char *key, apr_table_t *hdrs, lenz_s3_object *o)
{
    const apr_array_header_t *arr = apr_table_elts(hdrs);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *v;
    int i;

    memset(o, 0, sizeof(*o));
    o->key = key;
    o->size = -1;
    o->total_size = -1;
    o->meta = apr_table_make(p, 4);
    if ((v = apr_table_get(hdrs, "content-length")))
        o->size = (apr_off_t)apr_atoi64(v);
    o->total_size = o->size;
    if ((v = apr_table_get(hdrs, "content-range")) && (v = strchr(v, '/')) && apr_isdigit(v[1]))
        o->total_size = (apr_off_t)apr_atoi64(v + 1);
    o->etag = apr_table_get(hdrs, "etag");
    o->content_type = apr_table_get(hdrs, "content-type");
    if ((v = apr_table_get(hdrs, "last-modified")))
        o->last_modified = apr_date_parse_http(v);
    for (i = 0; i < arr->nelts; i++)
        if (strncmp(e[i].key, "x-amz-meta-", 11) == 0)
            apr_table_set(o->meta, e[i].key + 11, e[i].val);
}

typedef struct {
    apr_pool_t *pool;
    const char *key;
    lenz_http_resp *resp;
    lenz_s3_object *info;
    int started;
    lenz_http_write_fn *writer;
    void *baton;
} get_ctx;

static apr_status_t get_write(void *baton, const char *buf, apr_size_t len)
{
    get_ctx *g = baton;
    if (!g->started) {
        g->started = 1;
        if (g->info)
            object_info(g->pool, g->key, g->resp->headers, g->info);
    }
    return g->writer(g->baton, buf, len);
}

apr_status_t lenz_s3_get_object(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                const char *key, apr_off_t first, apr_off_t last,
                                lenz_http_write_fn *writer, void *baton,
                                lenz_s3_object *info, lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    get_ctx g = { p, key, &resp, info, 0, writer, baton };
    apr_status_t rv;

    c.op = "GetObject";
    c.idempotent = 1;
    c.method = "GET";
    c.key = key;
    c.streaming = 1;
    c.writer = get_write;
    c.writer_baton = &g;
    c.writer_started = &g.started;
    if (first > 0 || last >= 0) {
        c.hdrs = apr_array_make(p, 1, sizeof(lenz_sigv4_hdr));
        lenz_s3_add_hdr(p, c.hdrs, "range", last >= 0
                        ? apr_psprintf(p, "bytes=%" APR_OFF_T_FMT "-%" APR_OFF_T_FMT, first, last)
                        : apr_psprintf(p, "bytes=%" APR_OFF_T_FMT "-", first));
    }
    rv = lenz_s3_call(s3, h, p, &c, &resp, err);
    if (rv == APR_SUCCESS && !g.started && info)
        object_info(p, key, resp.headers, info);   /* empty object */
    return rv;
}

apr_status_t lenz_s3_head_object(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                 const char *key, lenz_s3_object *info,
                                 lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    apr_status_t rv;
    c.op = "HeadObject";
    c.idempotent = 1;
    c.method = "HEAD";
    c.key = key;
    c.head = 1;
    rv = lenz_s3_call(s3, h, p, &c, &resp, err);
    if (rv == APR_SUCCESS && info)
        object_info(p, key, resp.headers, info);
    return rv;
}

apr_status_t lenz_s3_copy_object(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                 const char *src_key, const char *dst_key,
                                 const char *content_type, apr_table_t *meta,
                                 lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    apr_status_t rv;
    c.op = "CopyObject";
    c.idempotent = 1;
    c.method = "PUT";
    c.key = dst_key;
    c.hdrs = meta_headers(p, content_type, meta);
    lenz_s3_add_hdr(p, c.hdrs, "x-amz-copy-source",
                    apr_pstrcat(p, "/", s3->conf.bucket, "/",
                                lenz_sigv4_uri_encode(p, src_key, strlen(src_key), 0), NULL));
    lenz_s3_add_hdr(p, c.hdrs, "x-amz-metadata-directive", "REPLACE");
    c.body = "";
    rv = lenz_s3_call(s3, h, p, &c, &resp, err);
    if (rv != APR_SUCCESS)
        return rv;
    if (lenz_s3xml_error(p, resp.body, resp.body_len, err) == APR_SUCCESS) {
        err->http_status = (int)resp.status;
        return lenz_s3_map_code(err);
    }
    memset(err, 0, sizeof(*err));
    if (lenz_s3xml_copy(p, resp.body, resp.body_len) != APR_SUCCESS) {
        err->code = "BadResponse";
        err->message = "unexpected CopyObject answer";
        return LENZ_EUPSTREAM;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_s3_delete_object(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                   const char *key, lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    c.op = "DeleteObject";
    c.idempotent = 1;
    c.method = "DELETE";
    c.key = key;
    return lenz_s3_call(s3, h, p, &c, &resp, err);
}

apr_status_t lenz_s3_delete_objects(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                    const char *const *keys, int nkeys,
                                    apr_array_header_t **results, lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    apr_array_header_t *named;
    apr_hash_t *asked;
    unsigned char md5[16];
    apr_status_t rv;
    int i, bad = -1;

    memset(err, 0, sizeof(*err));
    *results = apr_array_make(p, nkeys > 0 ? nkeys : 1, sizeof(lenz_s3_deleted));
    if (nkeys < 1 || nkeys > LENZ_S3_MAX_DELETE) {
        err->code = "InvalidArgument";
        err->message = "1 to 1000 keys per DeleteObjects";
        return APR_EINVAL;
    }
    c.body = lenz_s3xml_delete_body(p, keys, nkeys, &c.body_len, &bad);
    if (!c.body) {
        err->code = "InvalidArgument";
        err->message = apr_psprintf(p, "key %d is not UTF-8 an XML body can carry", bad + 1);
        return APR_EINVAL;
    }
    /* S3 refuses DeleteObjects without Content-MD5 (or an x-amz-checksum-*
     * header).  RGW 16 neither needs nor checks it (measured in
     * t/unit/stack_s3.c: none, a wrong one and one that is not base64 all
     * delete): it is sent for S3 and the stores that follow it. */
    lenz_md5(c.body, c.body_len, md5);
    c.op = "DeleteObjects";
    c.idempotent = 1;              /* deleting again deletes nothing more */
    c.method = "POST";
    c.query = "delete=";
    c.hdrs = meta_headers(p, "application/xml", NULL);
    lenz_s3_add_hdr(p, c.hdrs, "content-md5", lenz_b64(p, md5, sizeof(md5)));
    rv = lenz_s3_call(s3, h, p, &c, &resp, err);
    if (rv != APR_SUCCESS)
        return rv;
    if (lenz_s3xml_error(p, resp.body, resp.body_len, err) == APR_SUCCESS) {
        err->http_status = (int)resp.status;
        return lenz_s3_map_code(err);
    }
    memset(err, 0, sizeof(*err));
    named = apr_array_make(p, nkeys, sizeof(lenz_s3_deleted));
    if (lenz_s3xml_deleted(p, resp.body, resp.body_len, named) != APR_SUCCESS) {
        err->http_status = (int)resp.status;
        err->code = "BadResponse";
        err->message = "unexpected DeleteObjects answer";
        return LENZ_EUPSTREAM;
    }
    /* Callers act on what the answer says of each key (a job forgets the
     * keys reported deleted): only keys asked for, each once. */
    asked = apr_hash_make(p);
    for (i = 0; i < nkeys; i++)
        apr_hash_set(asked, keys[i], APR_HASH_KEY_STRING, "");
    for (i = 0; i < named->nelts; i++) {
        const lenz_s3_deleted *d = &APR_ARRAY_IDX(named, i, lenz_s3_deleted);
        if (!apr_hash_get(asked, d->key, APR_HASH_KEY_STRING))
            continue;
        apr_hash_set(asked, d->key, APR_HASH_KEY_STRING, NULL);
        *(lenz_s3_deleted *)apr_array_push(*results) = *d;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_s3_list_objects(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                  const char *prefix, const char *token, int max_keys,
                                  lenz_s3_list *out, lenz_s3_error *err)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    apr_status_t rv;
    const char *q = "list-type=2";

    if (max_keys < 1 || max_keys > 1000)
        max_keys = 1000;
    if (token)
        q = apr_pstrcat(p, "continuation-token=", enc(p, token), "&", q, NULL);
    q = apr_psprintf(p, "%s&max-keys=%d", q, max_keys);
    if (prefix && *prefix)
        q = apr_pstrcat(p, q, "&prefix=", enc(p, prefix), NULL);
    c.op = "ListObjectsV2";
    c.idempotent = 1;
    c.method = "GET";
    c.query = q;
    rv = lenz_s3_call(s3, h, p, &c, &resp, err);
    if (rv != APR_SUCCESS)
        return rv;
    out->objects = apr_array_make(p, 16, sizeof(lenz_s3_object));
    if (lenz_s3xml_objects(p, resp.body, resp.body_len, out->objects, &out->next_token)
        != APR_SUCCESS) {
        err->code = "BadResponse";
        err->message = "unexpected ListObjectsV2 answer";
        return LENZ_EUPSTREAM;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_s3_presign_hdrs(lenz_s3 *s3, apr_pool_t *p, const char *method,
                                  const char *key, const char *query,
                                  apr_array_header_t *headers, int expires,
                                  apr_time_t now, const char **url)
{
    const char *u = apr_pstrcat(p, s3->base_url, lenz_s3_key_path(s3, p, key), NULL);
    return lenz_sigv4_presign(p, &s3->creds, method, u, query, headers, now, expires, url);
}

apr_status_t lenz_s3_presign(lenz_s3 *s3, apr_pool_t *p, const char *method,
                             const char *key, const char *query, int expires,
                             apr_time_t now, const char **url)
{
    return lenz_s3_presign_hdrs(s3, p, method, key, query, NULL, expires, now, url);
}
