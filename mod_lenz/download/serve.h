/* serve.h - sending stored files: one file with HTTP semantics, or a
 * transfer as a ZIP streamed while it is made. */
#ifndef LENZ_SERVE_H
#define LENZ_SERVE_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "download.h"
#include "aead.h"

/* Serves one file (gates already passed).  Takes over db: it is closed
 * before the first body byte. */
int lenz_serve_file(request_rec *r, lenz_req *lr, lenz_link *l, const lenz_dfile *f, lenz_db *db);
/* Serves every file of the link as one ZIP (takes over db likewise). */
int lenz_serve_zip(request_rec *r, lenz_req *lr, lenz_link *l, lenz_db *db);

/* Where decrypted bytes go when not straight to the client (the ZIP). */
typedef apr_status_t lenz_stream_sink(void *baton, const char *buf, apr_size_t len);

/* The file's AEAD parameters with its key unwrapped (wipe pp->key after). */
apr_status_t lenz_file_params(request_rec *r, lenz_db *db, const lenz_dfile *f,
                              lenz_aead_params *pp);
/* Streams span of an encrypted file, decrypted, to the client (sink NULL)
 * or into sink.  Logs integrity failures (LENZ2110) and counts them. */
apr_status_t lenz_stream_decrypted(request_rec *r, lenz_req *lr, const lenz_dfile *f,
                                   const lenz_aead_params *pp, const lenz_aead_span *span,
                                   apr_bucket_brigade *bb, lenz_stream_sink *sink, void *baton,
                                   apr_off_t *sent);
/* Ends a response whose body is under way as broken. */
void lenz_stream_broken(request_rec *r, apr_bucket_brigade *bb);

#endif
