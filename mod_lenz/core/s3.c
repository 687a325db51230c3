/* s3.c - the S3 client: endpoint and credentials, and one S3 call
 * (lenz_s3_call: request building, SigV4 signing, retries, breaker, error
 * mapping).  The operations built on it are in s3_ops.c.
 * Transport is http.c, signatures sigv4.c, XML answers s3xml.c. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "s3_int.h"
#include "s3xml.h"
#include "sigv4.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_XML_ANSWER (4 * 1024 * 1024)
#define UNSIGNED "UNSIGNED-PAYLOAD"

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

const char *lenz_s3_origin(const lenz_s3 *s3)
{
    return s3->base_url;
}

const char *lenz_s3_key_path(lenz_s3 *s3, apr_pool_t *p, const char *key)
{
    return apr_pstrcat(p, s3->path_prefix, "/",
                       key ? lenz_sigv4_uri_encode(p, key, strlen(key), 0) : "", NULL);
}

/* One S3 call ------------------------------------------------------------- */

void lenz_s3_add_hdr(apr_pool_t *p, apr_array_header_t *a, const char *name, const char *value)
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

apr_status_t lenz_s3_map_code(const lenz_s3_error *err)
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
    return lenz_s3_map_code(err);
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

    lenz_s3_add_hdr(p, shdrs, "host", s3->host);
    lenz_s3_add_hdr(p, shdrs, "x-amz-date", lenz_sigv4_amz_date(p, now));
    /* RGW refuses requests without it; AWS wants it for S3 too. */
    lenz_s3_add_hdr(p, shdrs, "x-amz-content-sha256", hash);
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
apr_status_t lenz_s3_call(lenz_s3 *s3, lenz_http *h, apr_pool_t *p, const s3call *c,
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
