/* aead_pull.h - the segmented AEAD encryptor turned around: ciphertext is
 * produced on demand, as an HTTP client (an S3 UploadPart) asks for body
 * bytes, from a plaintext source it pulls in turn (a request body, a
 * file).  GCM reads the source's bytes where they lie and writes the
 * ciphertext straight into the reader's buffer: no copy, no segment
 * buffer.  Memory: a few dozen bytes, plus one segment of staging for a
 * copying source.
 */
#ifndef LENZ_AEAD_PULL_H
#define LENZ_AEAD_PULL_H

#include "aead.h"

/* Zero-copy source: points *data at up to max bytes that stay valid until
 * the next call, and counts them as taken.  Returns how many (0 = end,
 * negative = error). */
typedef apr_ssize_t lenz_aead_peek_fn(void *baton, const char **data, apr_size_t max);

/* Copying source: bytes written into buf (0 = end, negative = error). */
typedef apr_ssize_t lenz_aead_src_fn(void *baton, char *buf, apr_size_t len);

typedef struct lenz_aead_pull lenz_aead_pull;

/* Seals segments first_segment .. +segments-1 (segments 0: to the end of
 * the file) of the object pp describes, from a peek source ... */
apr_status_t lenz_aead_pull_make_peek(lenz_aead_pull **out, apr_pool_t *p,
                                      const lenz_aead_params *pp,
                                      apr_uint64_t first_segment, apr_uint64_t segments,
                                      lenz_aead_peek_fn *peek, void *baton);
/* ... or from a copying one (through one segment of staging). */
apr_status_t lenz_aead_pull_make(lenz_aead_pull **out, apr_pool_t *p,
                                 const lenz_aead_params *pp,
                                 apr_uint64_t first_segment, apr_uint64_t segments,
                                 lenz_aead_src_fn *src, void *baton);

/* A lenz_http_read_fn: fills buf with ciphertext (across segments, so an
 * HTTP client sends full buffers); 0 at the end; -1 when the source failed
 * or gave fewer bytes than the range needs, or, asked again after the end,
 * has more (lenz_aead_pull_status() says which).  An error after some
 * bytes were produced is reported by the next call. */
apr_ssize_t lenz_aead_pull_read(void *pull, char *buf, apr_size_t len);

/* APR_SUCCESS, the source's failure (APR_EGENERAL), or LENZ_EFORMAT for a
 * wrong plaintext length. */
apr_status_t lenz_aead_pull_status(const lenz_aead_pull *pl);
/* Plaintext bytes taken from the source so far. */
apr_uint64_t lenz_aead_pull_plain_bytes(const lenz_aead_pull *pl);

#endif
