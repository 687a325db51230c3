/* problem.c - JSON answers and errors for APIs and browsers. */
#include <apr_strings.h>

#include "lenz.h"
#include "problem.h"
#include "router.h"
#include "render.h"
#include "security.h"
#include "idem.h"

int lenz_wants_json(request_rec *r)
{
    const lenz_area *area = lenz_area_of(r);
    const char *accept = apr_table_get(r->headers_in, "Accept");
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    int html = accept && ap_strstr_c(accept, "text/html") != NULL;

    if (area && area->api)
        return 1;
    if (html)
        return 0;
    if (accept && ap_strstr_c(accept, "json"))
        return 1;
    if (ctype && ap_strcasestr(ctype, "json"))
        return 1;
    /* No preference at all (curl, scripts): JSON is the more useful answer. */
    return !accept || strcmp(accept, "*/*") == 0;
}

static int send_typed(request_rec *r, int status, const char *type, const lenz_json *body)
{
    const char *text = lenz_json_dump(r->pool, body);
    apr_size_t len = strlen(text);
    r->status = status;
    lenz_idem_capture(r, status, type, apr_pstrcat(r->pool, text, "\n", NULL), len + 1);
    ap_set_content_type(r, type);
    ap_set_content_length(r, (apr_off_t)len + 1);
    if (!r->header_only) {
        ap_rwrite(text, (int)len, r);
        ap_rputc('\n', r);
    }
    return OK;
}

int lenz_send_json(request_rec *r, int status, const lenz_json *body)
{
    const lenz_area *area = lenz_area_of(r);
    lenz_security_headers(r, area ? area->api : 1);
    return send_typed(r, status, "application/json", body);
}

#define DRAIN_MAX (1024 * 1024)

/* What is left of a small body on an HTTP/2 stream, read and dropped:
 * ap_discard_request_body() does nothing there (mod_http2 marks a stream's
 * connection AP_CONN_CLOSE).  Without it the answer is followed by
 * RST_STREAM(NO_ERROR), which RFC 9113 allows but some clients (curl
 * 7.88, older HTTP/2 stacks) report as a failed request. */
static void drain_stream(request_rec *r)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_off_t total = 0;
    int eos = 0;

    while (!eos && total <= DRAIN_MAX) {
        apr_off_t len = 0;
        if (ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ,
                           HUGE_STRING_LEN) != APR_SUCCESS || APR_BRIGADE_EMPTY(bb))
            break;
        eos = APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb));
        apr_brigade_length(bb, 1, &len);
        total += len;
        apr_brigade_cleanup(bb);
    }
    apr_brigade_destroy(bb);
}

/* A client still sending a body it was not asked for must be able to read
 * our answer: read small bodies to the end, close after large ones (on
 * HTTP/2 the stream is reset after the answer, the connection stays). */
static void drain_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    const char *te = apr_table_get(r->headers_in, "Transfer-Encoding");
    if (!cl && !te)
        return;
    if (!te && apr_atoi64(cl) <= DRAIN_MAX) {
        if (r->proto_num >= HTTP_VERSION(2, 0))
            drain_stream(r);
        else
            ap_discard_request_body(r);
    }
    else
        r->connection->keepalive = AP_CONN_CLOSE;
}

typedef struct {
    lenz_json *dst;
} copy_baton;

static int copy_member(void *baton, const char *key, lenz_json *val)
{
    copy_baton *cb = baton;
    lenz_json_set_copy(cb->dst, key, val);
    return 0;
}

int lenz_fail_at(const char *file, int line, int module_index, request_rec *r,
                 int level, const char *tag, int status, const char *slug,
                 const char *title, const char *detail, const lenz_json *ext)
{
    lenz_json *doc;

    if (tag)
        ap_log_rerror_(file, line, module_index, level, 0, r, "%s%s: %s",
                       tag, title, detail ? detail : "");
    drain_body(r);

    /* An answer already under way cannot change its status: the caller
     * must abort the connection instead; never write a second head. */
    if (r->sent_bodyct || r->bytes_sent)
        return OK;

    apr_table_unset(r->headers_out, "Content-Length");
    apr_table_unset(r->headers_out, "Content-Range");
    /* Every "unavailable" says when to come back (callers that know better,
     * like the S3 breaker, have set it already). */
    if (status == HTTP_SERVICE_UNAVAILABLE && !apr_table_get(r->err_headers_out, "Retry-After"))
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
    doc = lenz_json_new_object(r->pool);
    lenz_json_set_str(doc, "type", apr_pstrcat(r->pool, "urn:lenz:problem:", slug, NULL));
    lenz_json_set_str(doc, "title", title);
    lenz_json_set_int(doc, "status", status);
    if (detail)
        lenz_json_set_str(doc, "detail", detail);
    if (ext) {
        copy_baton cb = { doc };
        lenz_json_object_each(ext, copy_member, &cb);
    }

    if (lenz_wants_json(r)) {
        const lenz_area *area = lenz_area_of(r);
        lenz_security_headers(r, area ? area->api : 1);
        return send_typed(r, status, "application/problem+json", doc);
    }
    if (lenz_render_page(r, status, "error", doc) != OK) {
        /* Templates unusable: a minimal page, still an answer. */
        r->status = status;
        ap_set_content_type(r, "text/html; charset=utf-8");
        if (!r->header_only)
            ap_rprintf(r, "<!doctype html><title>%d</title><h1>%s</h1>\n", status,
                       ap_escape_html(r->pool, title));
    }
    return OK;
}
