/* s3glue.h - S3 failures as the error log and HTTP answers see them. */
#ifndef LENZ_S3GLUE_H
#define LENZ_S3GLUE_H

#include "lenz.h"
#include "s3.h"

/* Logs a failed S3 call about `what`:
 *   LENZ1001 (warn)  S3 unavailable: down, timing out, breaker open
 *   LENZ1002 (error) S3 refused our keys or bucket: names the directives
 *   LENZ1003 (error) any other S3 error (with S3's code and message)
 *   not found is logged at info (the caller decides what it means)
 * and returns the status to answer with: 503 (Retry-After set), 404, 502. */
int lenz_s3_status(request_rec *r, const char *what, apr_status_t rv, const lenz_s3_error *err);

/* lenz_s3_status(), then the problem answer for it.  Returns OK. */
int lenz_s3_fail(request_rec *r, const char *what, apr_status_t rv, const lenz_s3_error *err);

#endif
