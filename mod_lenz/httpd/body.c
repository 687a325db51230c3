/* body.c - reading requests: query strings, JSON and form bodies with
 * limits, and raw bodies streamed in bounded pieces. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "lenz.h"
#include <util_script.h>
#include "body.h"
#include "problem.h"
#include "err.h"
#include "auth.h"
#include "netread.h"

#define READ_CHUNK (256 * 1024)

const char *lenz_query(request_rec *r, const char *name)
{
    apr_table_t *t = NULL;
    if (!r->args)
        return NULL;
    ap_args_to_table(r, &t);
    return t ? apr_table_get(t, name) : NULL;
}

static int type_is(request_rec *r, const char *want)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    apr_size_t n = strlen(want);
    if (!ct)
        return 0;
    while (apr_isspace(*ct))
        ct++;
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || apr_isspace(ct[n]));
}

static void count_in(request_rec *r, apr_off_t n)
{
    lenz_req *lr = ap_get_module_config(r->request_config, &lenz_module);
    if (lr)
        lr->bytes_in += n;
}

/* Content-Length over the limit is refused before reading anything. */
static int declared_too_big(request_rec *r, apr_off_t limit)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    return cl && apr_atoi64(cl) > limit;
}

static int too_big(request_rec *r, apr_off_t limit)
{
    lenz_fail(r, APLOG_INFO, LENZLOGNO(0351), HTTP_REQUEST_ENTITY_TOO_LARGE, "too-large",
              "Request body too large",
              apr_psprintf(r->pool, "the body may hold at most %" APR_OFF_T_FMT " bytes", limit));
    return 0;
}

static int read_failed(request_rec *r, apr_status_t rv)
{
    if (APR_STATUS_IS_TIMEUP(rv))
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0352), HTTP_REQUEST_TIME_OUT, "timeout",
                  "Request timed out", "the body did not arrive in time");
    else
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0353), HTTP_BAD_REQUEST, "truncated-body",
                  "Incomplete request body", "the body ended before its declared length");
    return 0;
}

lenz_json *lenz_body_json(request_rec *r, lenz_req *lr)
{
    apr_off_t limit = lenz_cfg_json_limit(lr->dir), total = 0;
    apr_bucket_brigade *bb;
    lenz_json_parser *jp;
    lenz_json *j;
    const char *why = NULL;
    int seen_eos = 0;

    if (lr->json)
        return lr->json;
    if (!type_is(r, "application/json")) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0350), HTTP_UNSUPPORTED_MEDIA_TYPE,
                  "unsupported-media-type", "Unsupported media type",
                  "send the body as application/json");
        return NULL;
    }
    if (declared_too_big(r, limit)) {
        too_big(r, limit);
        return NULL;
    }
    jp = lenz_json_parser_make(r->pool, 0);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!seen_eos) {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                                         APR_BLOCK_READ, READ_CHUNK);
        if (rv != APR_SUCCESS) {
            read_failed(r, rv);
            return NULL;
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t len;
            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b))
                continue;
            rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                read_failed(r, rv);
                return NULL;
            }
            total += (apr_off_t)len;
            if (total > limit) {
                too_big(r, limit);
                return NULL;
            }
            if (len && lenz_json_parser_feed(jp, data, len, &why) != APR_SUCCESS) {
                lenz_fail(r, APLOG_INFO, LENZLOGNO(0354), HTTP_BAD_REQUEST, "bad-json",
                          "Malformed JSON", apr_psprintf(r->pool, "the body is not valid JSON: %s", why));
                return NULL;
            }
        }
        apr_brigade_cleanup(bb);
    }
    count_in(r, total);
    if (total == 0) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0355), HTTP_BAD_REQUEST, "bad-json",
                  "Malformed JSON", "the body is empty; a JSON object is expected");
        return NULL;
    }
    j = lenz_json_parser_finish(jp, &why);
    if (!j) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0354), HTTP_BAD_REQUEST, "bad-json", "Malformed JSON",
                  apr_psprintf(r->pool, "the body is not valid JSON: %s", why));
        return NULL;
    }
    if (lenz_json_typeof(j) != LENZ_JSON_OBJECT) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0356), HTTP_BAD_REQUEST, "bad-json", "Malformed JSON",
                  "a JSON object is expected");
        return NULL;
    }
    lr->json = j;       /* read once: idem.c reads it before the route does */
    return j;
}

apr_table_t *lenz_body_form(request_rec *r, lenz_req *lr)
{
    apr_off_t limit = lenz_cfg_json_limit(lr->dir);
    apr_array_header_t *pairs = NULL;
    apr_table_t *t;
    int rc, i;

    if (lr->form)
        return lr->form;            /* read already (the router's CSRF check) */
    if (!type_is(r, "application/x-www-form-urlencoded")) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0350), HTTP_UNSUPPORTED_MEDIA_TYPE,
                  "unsupported-media-type", "Unsupported media type",
                  "send the form as application/x-www-form-urlencoded");
        return NULL;
    }
    if (declared_too_big(r, limit)) {
        too_big(r, limit);
        return NULL;
    }
    rc = ap_parse_form_data(r, NULL, &pairs, 64, (apr_size_t)limit);
    if (rc != OK || !pairs) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0357), rc == HTTP_REQUEST_ENTITY_TOO_LARGE ? rc : HTTP_BAD_REQUEST,
                  "bad-form", "Malformed form", "the form could not be read");
        return NULL;
    }
    t = apr_table_make(r->pool, pairs->nelts + 1);
    for (i = 0; i < pairs->nelts; i++) {
        ap_form_pair_t *fp = &APR_ARRAY_IDX(pairs, i, ap_form_pair_t);
        apr_off_t len;
        apr_size_t size;
        char *buf;
        apr_brigade_length(fp->value, 1, &len);
        size = (apr_size_t)len;
        buf = apr_palloc(r->pool, size + 1);
        apr_brigade_flatten(fp->value, buf, &size);
        buf[size] = '\0';
        count_in(r, (apr_off_t)size);
        apr_table_addn(t, fp->name, buf);
    }
    if (lr->csrf_pending && !lenz_csrf_ok(r, lr, apr_table_get(t, "csrf"))) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0359), HTTP_FORBIDDEN, "csrf", "Invalid CSRF token",
                  "the form is stale or came from elsewhere; reload the page and try again");
        return NULL;
    }
    lr->form = t;
    return t;
}

int lenz_field_bad(request_rec *r, const char *name, const char *detail)
{
    lenz_json *ext = lenz_json_new_object(r->pool);
    lenz_json_set_str(ext, "field", name);
    lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(0358), HTTP_BAD_REQUEST, "invalid-field",
                  "Invalid field", apr_psprintf(r->pool, "%s: %s", name, detail), ext);
    return 0;
}

int lenz_field_str(request_rec *r, const lenz_json *body, const char *name, int required,
                   apr_size_t max_len, const char **out)
{
    apr_status_t rv = lenz_json_get_str(body, name, out);
    if (rv == APR_NOTFOUND) {
        *out = NULL;
        return required ? lenz_field_bad(r, name, "is required") : 1;
    }
    if (rv != APR_SUCCESS)
        return lenz_field_bad(r, name, "must be a string");
    if (strlen(*out) != lenz_json_string_len(lenz_json_get(body, name)))
        return lenz_field_bad(r, name, "must not contain NUL characters");
    if (strlen(*out) > max_len)
        return lenz_field_bad(r, name, apr_psprintf(r->pool, "is longer than %" APR_SIZE_T_FMT
                                                    " bytes", max_len));
    if (required && !**out)
        return lenz_field_bad(r, name, "must not be empty");
    return 1;
}

int lenz_field_int(request_rec *r, const lenz_json *body, const char *name, int required,
                   apr_int64_t min, apr_int64_t max, apr_int64_t *out)
{
    apr_status_t rv = lenz_json_get_int(body, name, out);
    if (rv == APR_NOTFOUND)
        return required ? lenz_field_bad(r, name, "is required") : 1;
    if (rv != APR_SUCCESS)
        return lenz_field_bad(r, name, "must be an integer");
    if (*out < min || *out > max)
        return lenz_field_bad(r, name, apr_psprintf(r->pool, "must be between %" APR_INT64_T_FMT
                                                    " and %" APR_INT64_T_FMT, min, max));
    return 1;
}

/* Raw bodies ---------------------------------------------------------------- */

/* The reader keeps the buckets the input filters gave and hands out
 * pointers into them (peek): a bucket is deleted only once its bytes were
 * taken and the next are asked for, so a pointer stays good until the
 * next call.  Nothing is flattened or copied on the way. */
struct lenz_body_reader {
    request_rec *r;
    apr_bucket_brigade *bb;
    const char *data;           /* the first bucket's bytes */
    apr_size_t off, len;
    apr_off_t expected, got;
    apr_status_t err;
    int eos;
    int exact;                  /* Content-Length == expected, not chunked */
};

lenz_body_reader *lenz_body_reader_make(request_rec *r, apr_off_t expected)
{
    lenz_body_reader *br = apr_pcalloc(r->pool, sizeof(*br));
    br->r = r;
    br->expected = expected;
    br->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    {
        const char *cl = apr_table_get(r->headers_in, "Content-Length");
        br->exact = cl && !apr_table_get(r->headers_in, "Transfer-Encoding")
            && apr_atoi64(cl) == expected;
    }
    return br;
}

/* Makes the first bucket of the brigade the current one, reading more
 * from the input filters (at most READ_CHUNK) when none is left. */
static apr_status_t fetch(lenz_body_reader *br)
{
    apr_status_t rv;

    if (!APR_BRIGADE_EMPTY(br->bb) && br->data)
        apr_bucket_delete(APR_BRIGADE_FIRST(br->bb));   /* taken whole */
    br->data = NULL;
    br->off = br->len = 0;
    for (;;) {
        apr_bucket *b;
        if (APR_BRIGADE_EMPTY(br->bb)) {
            /* All that was read of the body so far was handed out: what is
             * left is still to come on the socket; wake when it is there
             * (or 256 KiB of it), not for every packet. */
            if (br->exact && br->expected > br->got)
                lenz_net_expect(br->r, br->expected - br->got);
            rv = ap_get_brigade(br->r->input_filters, br->bb, AP_MODE_READBYTES, APR_BLOCK_READ,
                                READ_CHUNK);
            if (rv != APR_SUCCESS) {
                apr_brigade_cleanup(br->bb);
                return br->r->connection->aborted || APR_STATUS_IS_ECONNRESET(rv)
                    ? APR_ECONNABORTED : (rv == APR_EOF ? APR_EOF : APR_ECONNABORTED);
            }
            if (APR_BRIGADE_EMPTY(br->bb))
                return APR_ECONNABORTED;
        }
        b = APR_BRIGADE_FIRST(br->bb);
        if (APR_BUCKET_IS_EOS(b)) {
            br->eos = 1;
            apr_brigade_cleanup(br->bb);
            return APR_SUCCESS;
        }
        if (APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
            continue;
        }
        rv = apr_bucket_read(b, &br->data, &br->len, APR_BLOCK_READ);
        if (rv != APR_SUCCESS) {
            apr_brigade_cleanup(br->bb);
            br->data = NULL;
            return APR_ECONNABORTED;
        }
        if (br->len > 0)
            return APR_SUCCESS;
        apr_bucket_delete(b);
        br->data = NULL;
    }
}

apr_ssize_t lenz_body_peek(void *reader, const char **data, apr_size_t max)
{
    lenz_body_reader *br = reader;
    apr_size_t n;

    if (br->err != APR_SUCCESS)
        return -1;
    while (br->off == br->len) {
        if (br->eos) {
            if (br->got < br->expected) {
                br->err = APR_EOF;
                return -1;
            }
            return 0;
        }
        br->err = fetch(br);
        if (br->err != APR_SUCCESS)
            return -1;
    }
    n = br->len - br->off;
    if (n > max)
        n = max;
    if (br->got + (apr_off_t)n > br->expected) {
        br->err = LENZ_ETOOBIG;
        return -1;
    }
    *data = br->data + br->off;
    br->off += n;
    br->got += (apr_off_t)n;
    count_in(br->r, (apr_off_t)n);
    if (br->exact && br->got == br->expected)
        lenz_body_end(br);
    return (apr_ssize_t)n;
}

void lenz_body_end(lenz_body_reader *br)
{
    if (br->exact)
        lenz_net_expect(br->r, 0);
}

apr_ssize_t lenz_body_read(void *reader, char *buf, apr_size_t len)
{
    const char *data;
    apr_ssize_t n = lenz_body_peek(reader, &data, len);
    if (n > 0)
        memcpy(buf, data, (apr_size_t)n);
    return n;
}

apr_status_t lenz_body_error(const lenz_body_reader *br)
{
    return br->err;
}

apr_off_t lenz_body_count(const lenz_body_reader *br)
{
    return br->got;
}
