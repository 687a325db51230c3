/* body.h - what a request carries: query parameters, bounded JSON and form
 * bodies, and a streaming reader for raw bodies of known length.
 *
 * The answering functions reply with a problem (4xx) themselves when the
 * input is bad and return NULL; the route function then returns OK.
 */
#ifndef LENZ_BODY_H
#define LENZ_BODY_H

#include "lenz.h"
#include "router.h"
#include "json.h"

/* Query parameter (decoded, first occurrence), or NULL. */
const char *lenz_query(request_rec *r, const char *name);

/* A JSON object body: Content-Type application/json (else 415), at most
 * LenzJSONLimit bytes (else 413), well-formed UTF-8 JSON (else 400),
 * complete (a body shorter than its Content-Length is 400). */
lenz_json *lenz_body_json(request_rec *r, lenz_req *lr);

/* An application/x-www-form-urlencoded body (browser forms), bounded like
 * JSON; values as strings.  NULL after answering 4xx. */
apr_table_t *lenz_body_form(request_rec *r, lenz_req *lr);

/* Field checks for JSON bodies.  On a bad field they answer 400 with a
 * problem naming it ("invalid-field", member "field") and return 0. */
int lenz_field_str(request_rec *r, const lenz_json *body, const char *name, int required,
                   apr_size_t max_len, const char **out);
int lenz_field_int(request_rec *r, const lenz_json *body, const char *name, int required,
                   apr_int64_t min, apr_int64_t max, apr_int64_t *out);
/* Answers 400 invalid-field for name with detail.  Returns 0. */
int lenz_field_bad(request_rec *r, const char *name, const char *detail);

/* Streaming reader for a raw body that must be exactly `expected` bytes
 * (Content-Length or chunked).  Reads through the input filters with
 * bounded buckets, never holding more than one read's worth (READ_CHUNK). */
typedef struct lenz_body_reader lenz_body_reader;

lenz_body_reader *lenz_body_reader_make(request_rec *r, apr_off_t expected);
/* A lenz_aead_src_fn / lenz_http_read_fn: bytes into buf, 0 at the end of
 * the body, -1 on a read error, a client gone, or more bytes than expected
 * (lenz_body_error() says which). */
apr_ssize_t lenz_body_read(void *reader, char *buf, apr_size_t len);
/* A lenz_aead_peek_fn: the same without a copy; *data points into the
 * input's buckets and stays valid until the next call on the reader. */
apr_ssize_t lenz_body_peek(void *reader, const char **data, apr_size_t max);
/* APR_SUCCESS, APR_EOF (body shorter than expected), LENZ_ETOOBIG (longer),
 * APR_ECONNABORTED (client gone or read error). */
/* The caller reads no more of the body (all of it came, or the transfer
 * failed): reads on the connection wake for any byte again. */
void lenz_body_end(lenz_body_reader *br);

apr_status_t lenz_body_error(const lenz_body_reader *br);
apr_off_t lenz_body_count(const lenz_body_reader *br);

#endif
