/* s3_int.h - what s3.c (the client and its one signed call) and s3_ops.c
 * (the S3 operations) share.  Private to the core; not part of the s3.h API.
 */
#ifndef LENZ_S3_INT_H
#define LENZ_S3_INT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "s3.h"
#include "sigv4.h"

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

/* One S3 call, as an operation describes it to lenz_s3_call(). */
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

/* Appends a header to send and sign to an array of lenz_sigv4_hdr (name
 * and value are not copied). */
void lenz_s3_add_hdr(apr_pool_t *p, apr_array_header_t *a, const char *name, const char *value);

/* The status for an S3 error answer: LENZ_ENOTFOUND, LENZ_EUNAVAIL or
 * LENZ_EUPSTREAM. */
apr_status_t lenz_s3_map_code(const lenz_s3_error *err);

/* One logical S3 call: the breaker, then up to max_attempts tries for
 * calls that can be repeated safely.  On failure err says why. */
apr_status_t lenz_s3_call(lenz_s3 *s3, lenz_http *h, apr_pool_t *p, const s3call *c,
                          lenz_http_resp *resp, lenz_s3_error *err);

#endif
