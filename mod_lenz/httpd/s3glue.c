/* s3glue.c - logging and answering S3 failures. */
#include <apr_strings.h>
#include <apr_atomic.h>

#include "lenz.h"
#include "s3glue.h"
#include "problem.h"
#include "directives.h"
#include "err.h"

/* While the breaker is open every S3 call is refused at once, and each
 * refusal would log a warning: at an outage's request rate that floods the
 * log.  One warning per BREAKER_LOG_EVERY seconds and process says it (with
 * how many it stands for); the others go to debug, without the tag. */
#define BREAKER_LOG_EVERY 10
static apr_uint32_t breaker_logged;     /* apr_time_sec of the last warning */
static apr_uint32_t breaker_quiet;      /* refusals not warned about since */

static int breaker_warn_due(apr_uint32_t *quiet)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&breaker_logged);
    if ((last != 0 && now - last < BREAKER_LOG_EVERY)
        || apr_atomic_cas32(&breaker_logged, now, last) != last) {
        apr_atomic_inc32(&breaker_quiet);
        return 0;
    }
    *quiet = apr_atomic_xchg32(&breaker_quiet, 0);
    return 1;
}

int lenz_s3_status(request_rec *r, const char *what, apr_status_t rv, const lenz_s3_error *err)
{
    const char *code = err->code ? err->code : "-";
    const char *msg = err->message && *err->message ? err->message : "(no message)";

    if (lenz_s3_error_is_config(err)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      LENZLOGNO(1002) "S3 %s: S3 refused the configured bucket or keys (%d %s: %s); "
                      "check " LENZ_D_S3_BUCKET ", " LENZ_D_S3_ACCESS_KEY " and "
                      LENZ_D_S3_SECRET_FILE, what, err->http_status, code, msg);
        return HTTP_BAD_GATEWAY;
    }
    if (rv == LENZ_ENOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "S3 %s: not found (%s)", what, code);
        return HTTP_NOT_FOUND;
    }
    if (rv == LENZ_EUNAVAIL || rv == LENZ_ETIMEOUT) {
        int after = err->retry_after > 0 ? err->retry_after : 5;
        apr_uint32_t quiet = 0;
        if (strcmp(code, "BreakerOpen") == 0 && !breaker_warn_due(&quiet))
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "S3 %s: refused, the breaker is open", what);
        else
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          LENZLOGNO(1001) "S3 %s: storage unavailable (%s, %d %s: %s)%s", what,
                          lenz_strerror(rv), err->http_status, code, msg,
                          quiet ? apr_psprintf(r->pool, "; %u more refused by the open breaker "
                                               "since this process last said so", quiet) : "");
        apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, after));
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  LENZLOGNO(1003) "S3 %s failed (%s, %d %s: %s, request id %s)", what,
                  lenz_strerror(rv), err->http_status, code, msg,
                  err->request_id ? err->request_id : "-");
    return HTTP_BAD_GATEWAY;
}

int lenz_s3_fail(request_rec *r, const char *what, apr_status_t rv, const lenz_s3_error *err)
{
    int status = lenz_s3_status(r, what, rv, err);
    switch (status) {
    case HTTP_NOT_FOUND:
        return lenz_fail(r, APLOG_DEBUG, NULL, status, "not-found", "Not found",
                         "the stored object does not exist");
    case HTTP_SERVICE_UNAVAILABLE:
        return lenz_fail(r, APLOG_DEBUG, NULL, status, "storage-unavailable",
                         "Storage unavailable", "file storage is unavailable; try again shortly");
    default:
        return lenz_fail(r, APLOG_DEBUG, NULL, status, "storage-error", "Storage error",
                         "file storage refused the request");
    }
}
