/* s3.c - S3 operations: request building, SigV4 signing, error mapping.
 * Transport is http.c, signatures sigv4.c, XML answers s3xml.c. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <apr_lib.h>
#include <apr_date.h>
#include <sys/uio.h>

#include "s3.h"
#include "s3xml.h"
#include "sigv4.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_XML_ANSWER (4 * 1024 * 1024)
#define UNSIGNED "UNSIGNED-PAYLOAD"

struct lenz_s3 {
    lenz_s3_conf conf;
    const char *scheme;
    const char *host;            /* as in the Host header (with a non-default port) */
    const char *base_url;        /* scheme://host[:port] (virtual style: bucket.host) */
    const char *path_prefix;     /* "/bucket" (path style) or "" */
    lenz_sigv4_creds creds;
    lenz_s3_observe_fn *observe;
    void *observe_baton;
    lenz_breaker *breaker;
};

apr_status_t lenz_s3_make(apr_pool_t *p, const lenz_s3_conf *conf, lenz_s3 **out,
                          const char **why)
{
    lenz_s3 *s3 = apr_pcalloc(p, sizeof(*s3));
    apr_uri_t u;
    const char *hostport;

    if (!conf->endpoint || apr_uri_parse(p, conf->endpoint, &u) != APR_SUCCESS
        || !u.scheme || !u.hostname || !*u.hostname
        || (strcasecmp(u.scheme, "http") != 0 && strcasecmp(u.scheme, "https") != 0)) {
        *why = apr_psprintf(p, "'%s' is not an http(s) URL with a host",
                            conf->endpoint ? conf->endpoint : "");
        return APR_EINVAL;
    }
    if (u.path && *u.path && strcmp(u.path, "/") != 0) {
        *why = apr_psprintf(p, "'%s' has a path; give only scheme://host[:port]", conf->endpoint);
        return APR_EINVAL;
    }
    if (!conf->bucket || !*conf->bucket || !conf->region || !*conf->region
        || !conf->access_key || !*conf->access_key || !conf->secret_key || !*conf->secret_key) {
        *why = "bucket, region, access key and secret key are all required";
        return APR_EINVAL;
    }
    s3->conf = *conf;
    s3->scheme = apr_pstrdup(p, u.scheme);
    hostport = u.hostname;
    if (strchr(hostport, ':'))      /* IPv6 literal */
        hostport = apr_pstrcat(p, "[", hostport, "]", NULL);
    if (u.port_str && u.port != apr_uri_port_of_scheme(u.scheme))
        hostport = apr_pstrcat(p, hostport, ":", u.port_str, NULL);
    if (conf->path_style) {
        s3->host = hostport;
        s3->path_prefix = apr_pstrcat(p, "/", conf->bucket, NULL);
    }
    else {
        s3->host = apr_pstrcat(p, conf->bucket, ".", hostport, NULL);
        s3->path_prefix = "";
    }
    s3->base_url = apr_pstrcat(p, s3->scheme, "://", s3->host, NULL);
    s3->creds.access_key = conf->access_key;
    s3->creds.secret_key = conf->secret_key;
    s3->creds.region = conf->region;
    s3->creds.service = "s3";
    *out = s3;
    return APR_SUCCESS;
}

void lenz_s3_set_breaker(lenz_s3 *s3, lenz_breaker *b)
{
    s3->breaker = b;
}

lenz_breaker *lenz_s3_breaker(const lenz_s3 *s3)
{
    return s3->breaker;
}

int lenz_s3_error_is_config(const lenz_s3_error *err)
{
    static const char *const codes[] = {
        "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "NoSuchBucket",
        "AuthorizationHeaderMalformed", "InvalidBucketName", NULL
    };
    int i;
    for (i = 0; err->code && codes[i]; i++)
        if (strcmp(err->code, codes[i]) == 0)
            return 1;
    return 0;
}

apr_status_t lenz_s3_check_plan(apr_uint64_t size, apr_uint64_t part_size, const char **why)
{
    apr_uint64_t parts;
    if (size > LENZ_S3_MAX_OBJECT) {
        *why = "an object holds at most 5 TiB";
        return LENZ_ETOOBIG;
    }
    if (part_size == 0 || part_size > LENZ_S3_MAX_PART) {
        *why = "a part holds at most 5 GiB";
        return APR_EINVAL;
    }
    parts = size == 0 ? 1 : (size + part_size - 1) / part_size;
    if (parts > 1 && part_size < LENZ_S3_MIN_PART) {
        *why = "every part but the last needs at least 5 MiB";
        return APR_EINVAL;
    }
    if (parts > LENZ_S3_MAX_PARTS) {
        *why = "that needs more than 10000 parts; use larger parts";
        return LENZ_ETOOBIG;
    }
    return APR_SUCCESS;
}

void lenz_s3_set_observer(lenz_s3 *s3, lenz_s3_observe_fn *fn, void *baton)
{
    s3->observe = fn;
    s3->observe_baton = baton;
}

const lenz_s3_conf *lenz_s3_conf_of(const lenz_s3 *s3)
{
    return &s3->conf;
}

const char *lenz_s3_key_path(lenz_s3 *s3, apr_pool_t *p, const char *key)
{
    return apr_pstrcat(p, s3->path_prefix, "/",
                       key ? lenz_sigv4_uri_encode(p, key, strlen(key), 0) : "", NULL);
}

/* One S3 call ------------------------------------------------------------- */

typedef struct s3call {
    const char *op;
    const char *method;
    const char *key;              /* NULL: the bucket itself */
    const char *query;            /* encoded, or NULL */
    apr_array_header_t *hdrs;     /* extra lenz_sigv4_hdr to send and sign */
    const char *body;             /* small body (XML), or NULL */
    apr_size_t body_len;
    lenz_http_read_fn *reader;
    void *reader_baton;
    apr_off_t reader_len;
    const char *payload_hash;
    lenz_http_write_fn *writer;
    void *writer_baton;
    int head;
    int streaming;
    int idempotent;               /* safe to send again after a failure */
    int *writer_started;          /* retry only while nothing reached the writer */
} s3call;

static void add_hdr(apr_pool_t *p, apr_array_header_t *a, const char *name, const char *value)
{
    lenz_sigv4_hdr *h = apr_array_push(a);
    h->name = name;
    h->value = value;
    (void)p;
}

static void transport_error(lenz_s3_error *err, apr_status_t rv, const lenz_http_resp *resp)
{
    err->http_status = 0;
    err->code = rv == LENZ_ETIMEOUT ? "Timeout" : rv == LENZ_ETOOBIG ? "BadResponse" : "Transport";
    err->message = resp->error ? resp->error : "";
    err->request_id = NULL;
}

static apr_status_t map_code(const lenz_s3_error *err)
{
    const char *c = err->code ? err->code : "";
    if (strcmp(c, "NoSuchKey") == 0 || strcmp(c, "NoSuchUpload") == 0
        || strcmp(c, "NoSuchBucket") == 0 || strcmp(c, "NotFound") == 0 || err->http_status == 404)
        return LENZ_ENOTFOUND;
    if (strcmp(c, "SlowDown") == 0 || strcmp(c, "ServiceUnavailable") == 0
        || strcmp(c, "InternalError") == 0 || err->http_status >= 500)
        return LENZ_EUNAVAIL;
    return LENZ_EUPSTREAM;
}

static const char *status_code_name(int status)
{
    switch (status) {
    case 400: return "BadRequest";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 503: return "ServiceUnavailable";
    default:  return status >= 500 ? "InternalError" : "HttpError";
    }
}

/* Fills err from a non-2xx answer (or a 200 with an <Error> body). */
static apr_status_t answer_error(apr_pool_t *p, const lenz_http_resp *resp, lenz_s3_error *err)
{
    memset(err, 0, sizeof(*err));
    err->http_status = (int)resp->status;
    if (!resp->body || lenz_s3xml_error(p, resp->body, resp->body_len, err) != APR_SUCCESS) {
        err->code = status_code_name((int)resp->status);
        err->message = "";
    }
    if (!err->request_id)
        err->request_id = apr_table_get(resp->headers, "x-amz-request-id");
    return map_code(err);
}

static apr_status_t s3_once(lenz_s3 *s3, lenz_http *h, apr_pool_t *p, const s3call *c,
                            lenz_http_resp *resp, lenz_s3_error *err)
{
    lenz_http_req hr;
    lenz_sigv4_req sr;
    apr_array_header_t *shdrs = apr_array_make(p, 8, sizeof(lenz_sigv4_hdr));
    apr_array_header_t *hhdrs = apr_array_make(p, 8, sizeof(const char *));
    apr_time_t now = apr_time_now();
    const char *path, *authz = NULL, *hash;
    apr_status_t rv;
    int i;

    memset(err, 0, sizeof(*err));
    if (!h) {
        err->code = "Transport";
        err->message = "no HTTP client in this process";
        return LENZ_EUNAVAIL;
    }
    path = lenz_s3_key_path(s3, p, c->key);
    if (!c->key && !s3->conf.path_style)
        path = "/";
    else if (!c->key)
        path = s3->path_prefix;   /* "/bucket" without a trailing slash */

    if (c->payload_hash)
        hash = c->payload_hash;
    else if (c->body)
        hash = lenz_sha256_hex(p, c->body, c->body_len);
    else if (c->reader)
        hash = UNSIGNED;
    else
        hash = EMPTY_SHA256;

    add_hdr(p, shdrs, "host", s3->host);
    add_hdr(p, shdrs, "x-amz-date", lenz_sigv4_amz_date(p, now));
    /* RGW refuses requests without it; AWS wants it for S3 too. */
    add_hdr(p, shdrs, "x-amz-content-sha256", hash);
    for (i = 0; c->hdrs && i < c->hdrs->nelts; i++)
        *(lenz_sigv4_hdr *)apr_array_push(shdrs) = APR_ARRAY_IDX(c->hdrs, i, lenz_sigv4_hdr);

    memset(&sr, 0, sizeof(sr));
    sr.method = c->method;
    sr.path = path;
    sr.query = c->query;
    sr.headers = shdrs;
    sr.payload_hash = hash;
    rv = lenz_sigv4_sign(p, &s3->creds, LENZ_SIGV4_S3, &sr, now, &authz, NULL, NULL);
    if (rv != APR_SUCCESS) {
        err->code = "BadRequest";
        err->message = "request could not be signed (bad header or key)";
        return rv;
    }
    /* curl writes Host itself from the URL; send everything else. */
    for (i = 1; i < shdrs->nelts; i++) {
        lenz_sigv4_hdr *sh = &APR_ARRAY_IDX(shdrs, i, lenz_sigv4_hdr);
        APR_ARRAY_PUSH(hhdrs, const char *) = apr_pstrcat(p, sh->name, ": ", sh->value, NULL);
    }
    APR_ARRAY_PUSH(hhdrs, const char *) = apr_pstrcat(p, "Authorization: ", authz, NULL);

    memset(&hr, 0, sizeof(hr));
    hr.method = c->method;
    hr.url = apr_pstrcat(p, s3->base_url, path, c->query ? "?" : "", c->query ? c->query : "", NULL);
    hr.headers = hhdrs;
    hr.body = c->body;
    hr.body_len = c->body_len;
    hr.reader = c->reader;
    hr.reader_baton = c->reader_baton;
    hr.reader_len = c->reader ? c->reader_len : -1;
    hr.writer = c->writer;
    hr.writer_baton = c->writer_baton;
    hr.writer_only_2xx = 1;
    hr.max_body = MAX_XML_ANSWER;
    hr.connect_timeout_ms = s3->conf.connect_timeout_ms;
    hr.timeout_ms = c->streaming ? 0 : s3->conf.op_timeout_ms;
    hr.stall_seconds = s3->conf.stall_seconds;
    hr.head = c->head;

    rv = lenz_http_perform(h, p, &hr, resp);
    if (s3->observe)
        s3->observe(s3->observe_baton, c->op, resp->seconds, (int)resp->status);
    if (rv != APR_SUCCESS) {
        transport_error(err, rv, resp);
        /* A callback's own error (client went away, decryption failed)
         * is passed through unchanged. */
        return rv;
    }
    if (resp->status < 200 || resp->status >= 300)
        return answer_error(p, resp, err);
    return APR_SUCCESS;
}

/* Did the backend misbehave (as opposed to answering a bad request)? */
static int backend_failed(apr_status_t rv, const lenz_http_resp *resp, const lenz_s3_error *err)
{
    if (rv == LENZ_EUNAVAIL || rv == LENZ_ETIMEOUT)
        return resp->status == 0 || resp->status >= 500;
    return resp->status >= 500 || (err->code && strcmp(err->code, "SlowDown") == 0);
}

/* Full-jitter exponential backoff: a random wait in [0, min(2 s, 100 ms * 2^n)). */
static void backoff(int attempt)
{
    apr_interval_time_t cap = apr_time_from_msec(100) << (attempt < 5 ? attempt : 5);
    unsigned char r[4];
    apr_uint32_t v;
    if (cap > apr_time_from_sec(2))
        cap = apr_time_from_sec(2);
    lenz_random(r, sizeof(r));
    v = (apr_uint32_t)r[0] << 24 | (apr_uint32_t)r[1] << 16 | (apr_uint32_t)r[2] << 8 | r[3];
    apr_sleep((apr_interval_time_t)(v % (apr_uint32_t)cap));
}

/* One logical S3 call: the breaker, then up to max_attempts tries for
 * calls that can be repeated safely. */
static apr_status_t s3_do(lenz_s3 *s3, lenz_http *h, apr_pool_t *p, const s3call *c,
                          lenz_http_resp *resp, lenz_s3_error *err)
{
    int attempts = s3->conf.max_attempts > 0 ? s3->conf.max_attempts : 3;
    int n;
    apr_status_t rv = APR_SUCCESS;

    for (n = 0; n < attempts; n++) {
        int failed;
        if (n > 0)
            backoff(n);
        if (s3->breaker) {
            int retry_after = 1;
            if (lenz_breaker_allow(s3->breaker, apr_time_now(), p, &retry_after) != APR_SUCCESS) {
                memset(err, 0, sizeof(*err));
                memset(resp, 0, sizeof(*resp));
                err->code = "BreakerOpen";
                err->message = "S3 failed repeatedly; calls are paused";
                err->retry_after = retry_after;
                return LENZ_EUNAVAIL;
            }
        }
        rv = s3_once(s3, h, p, c, resp, err);
        failed = rv != APR_SUCCESS && backend_failed(rv, resp, err);
        if (s3->breaker)
            lenz_breaker_report(s3->breaker, !failed, apr_time_now(), p);
        if (!failed)
            return rv;
        /* A streamed body cannot be sent twice, and a download that
         * already gave bytes to its writer cannot start over. */
        if (!c->idempotent || c->reader || (c->writer_started && *c->writer_started))
            return rv;
    }
    return rv;
}

/* Operations -------------------------------------------------------------- */

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
    rv = s3_do(s3, h, p, &c, &resp, err);
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
    add_hdr(p, a, name, v);
    return 1;
}

static apr_array_header_t *meta_headers(apr_pool_t *p, const char *content_type,
                                        apr_table_t *meta)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(lenz_sigv4_hdr));
    void *b[2] = { p, a };
    if (content_type)
        add_hdr(p, a, "content-type", content_type);
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
    rv = s3_do(s3, h, p, &c, &resp, err);
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
    rv = s3_do(s3, h, p, &c, &resp, err);
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
    rv = s3_do(s3, h, p, &c, &resp, err);
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
        return map_code(err) == LENZ_ENOTFOUND ? LENZ_ENOTFOUND : LENZ_EUPSTREAM;
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
    return s3_do(s3, h, p, &c, &resp, err);
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
        rv = s3_do(s3, h, p, &c, &resp, err);
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
        rv = s3_do(s3, h, p, &c, &resp, err);
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
        add_hdr(p, c.hdrs, "range", last >= 0
                ? apr_psprintf(p, "bytes=%" APR_OFF_T_FMT "-%" APR_OFF_T_FMT, first, last)
                : apr_psprintf(p, "bytes=%" APR_OFF_T_FMT "-", first));
    }
    rv = s3_do(s3, h, p, &c, &resp, err);
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
    rv = s3_do(s3, h, p, &c, &resp, err);
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
    add_hdr(p, c.hdrs, "x-amz-copy-source",
            apr_pstrcat(p, "/", s3->conf.bucket, "/",
                        lenz_sigv4_uri_encode(p, src_key, strlen(src_key), 0), NULL));
    add_hdr(p, c.hdrs, "x-amz-metadata-directive", "REPLACE");
    c.body = "";
    rv = s3_do(s3, h, p, &c, &resp, err);
    if (rv != APR_SUCCESS)
        return rv;
    if (lenz_s3xml_error(p, resp.body, resp.body_len, err) == APR_SUCCESS) {
        err->http_status = (int)resp.status;
        return map_code(err);
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
    return s3_do(s3, h, p, &c, &resp, err);
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
    rv = s3_do(s3, h, p, &c, &resp, err);
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
