/* h_status.c - lenz-status: /health and /metrics.
 *
 * Mount it with a base the routes are relative to, e.g.
 *   <LocationMatch "^/(health|metrics)$">
 *       SetHandler lenz-status
 *       LenzBase /
 *   </LocationMatch>
 * and restrict /metrics with Require as for mod_status.
 */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "httpd/problem.h"
#include "httpd/dbd.h"
#include "httpd/metrics.h"
#include "json.h"
#include "s3.h"
#include "http.h"
#include "err.h"
#include "httpd/s3glue.h"

#define PROBE_TIMEOUT_MS 3000

static int db_ok(request_rec *r)
{
    lenz_rows rows;
    lenz_db *db = lenz_db_open(r);
    int ok;
    if (!db)
        return 0;
    ok = lenz_db_select(db, "lenz_ping", &rows, 0, NULL) == APR_SUCCESS
         && rows.nrows == 1 && rows.rows[0][0] && strcmp(rows.rows[0][0], "1") == 0;
    lenz_db_close(db);
    return ok;
}

/* Goes through the breaker like every other S3 call: while it is open
 * the answer is "down" at once; after the cool-down a health check is
 * as good a probe as any. */
static int s3_ok(request_rec *r, lenz_req *lr)
{
    lenz_s3_error err;
    apr_status_t rv = lenz_s3_head_bucket(lr->srv->s3, lenz_process_http(), r->pool, &err);
    if (rv == APR_SUCCESS)
        return 1;
    lenz_s3_status(r, "health check", rv, &err);
    return 0;
}

static int smtp_ok(request_rec *r, lenz_req *lr)
{
    const char *why = NULL;
    apr_status_t rv = lenz_smtp_probe(lenz_process_http(), r->pool, lr->srv->smtp_url,
                                      lr->srv->smtp_ca_file, PROBE_TIMEOUT_MS, &why);
    if (rv == APR_SUCCESS)
        return 1;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  LENZLOGNO(0302) "health: SMTP is down (%s): %s", lenz_strerror(rv),
                  why ? why : "");
    return 0;
}

static int health(request_rec *r, lenz_req *lr)
{
    lenz_json *j = lenz_json_new_object(r->pool);
    int db = db_ok(r);
    int s3 = s3_ok(r, lr);
    int smtp = smtp_ok(r, lr);

    if (!db)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, LENZLOGNO(0303) "health: database is down");
    lenz_metrics_add(LENZ_CNT_HEALTH_CHECKS, 1);
    lenz_json_set_str(j, "db", db ? "ok" : "down");
    lenz_json_set_str(j, "s3", s3 ? "ok" : "down");
    lenz_json_set_str(j, "smtp", smtp ? "ok" : "down");
    if (!(db && s3 && smtp))
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
    return lenz_send_json(r, db && s3 && smtp ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE, j);
}

static int metrics(request_rec *r, lenz_req *lr)
{
    lenz_breaker *b = lenz_s3_breaker(lr->srv->s3);
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    if (r->header_only)
        return OK;
    lenz_metrics_write(r);
    if (b)
        ap_rprintf(r, "# HELP lenz_s3_breaker_state S3 circuit breaker: 0 closed, 1 open, 2 half-open.\n"
                   "# TYPE lenz_s3_breaker_state gauge\n"
                   "lenz_s3_breaker_state{breaker=\"%s\"} %d\n",
                   lenz_breaker_name(b), (int)lenz_breaker_state_of(b, apr_time_now(), r->pool));
    return OK;
}

static const lenz_route routes[] = {
    { LENZ_GET, "/health", health, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/metrics", metrics, LENZ_ACCESS_PUBLIC },
    { 0 }
};

static const lenz_stmt stmts[] = {
    { "lenz_ping", "SELECT 1" },
    { NULL }
};

static const lenz_route *const tables[] = { routes, NULL };

/* Not an API area: its errors follow the client's Accept header. */
const lenz_area lenz_area_status = { "lenz-status", "status", tables, stmts, 0 };
