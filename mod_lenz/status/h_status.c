/* h_status.c - lenz-status: /health and /metrics.
 *
 * /health answers from the last probe's result, shared by every process
 * of the host through the shared store (LenzSharedCache; per process
 * without one): a result younger than FRESH is the answer; an older one
 * is refreshed by the one request that claims the probe (a claim key with
 * a short expiry) while the others answer with what is there.  So a
 * flood of /health costs no database query, S3 request or SMTP session
 * per hit: at most one probe a second per host.  ?fresh=1 forces a probe
 * (an operator's; 6 a minute per client address).  Entries are keyed by
 * the host's name, so with a store shared by several hosts each still
 * reports what it reaches itself.
 *
 * Mount it with a base the routes are relative to, e.g.
 *   <LocationMatch "^/(health|metrics)$">
 *       SetHandler lenz-status
 *       LenzBase /
 *   </LocationMatch>
 * and restrict /metrics with Require as for mod_status.
 */
#include <apr_strings.h>
#include <apr_network_io.h>

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
#include "httpd/health.h"
#include "httpd/rate.h"
#include "httpd/body.h"

#define PROBE_TIMEOUT_MS 3000
#define FRESH            apr_time_from_sec(1)     /* a result this young is the answer */

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

static void probe(request_rec *r, lenz_req *lr, lenz_health_result *p)
{
    p->db = (unsigned char)db_ok(r);
    p->s3 = (unsigned char)s3_ok(r, lr);
    p->smtp = (unsigned char)smtp_ok(r, lr);
    p->at = apr_time_now();
    if (!p->db)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, LENZLOGNO(0303) "health: database is down");
    lenz_metrics_add(LENZ_CNT_HEALTH_CHECKS, 1);
}

static int health(request_rec *r, lenz_req *lr)
{
    lenz_json *j = lenz_json_new_object(r->pool);
    const char *fresh_q = lenz_query(r, "fresh");
    apr_time_t now = apr_time_now();
    lenz_health_result p;
    int have, db, s3, smtp;

    memset(&p, 0, sizeof(p));
    if (fresh_q && strcmp(fresh_q, "1") == 0) {
        if (!lenz_rate_check(r, "health-fresh", lenz_rate_addr(r), 6, 60))
            return OK;
        probe(r, lr, &p);
        lenz_health_store(r, &p);
    }
    else {
        have = lenz_health_last(r, &p);
        if ((!have || now - p.at >= FRESH) && lenz_health_claim(r, now)) {
            probe(r, lr, &p);
            lenz_health_store(r, &p);
        }
        else if (!have) {
            /* Another request is making the first probe: not known yet. */
            apr_table_setn(r->err_headers_out, "Retry-After", "1");
            lenz_json_set_str(j, "status", "probing");
            return lenz_send_json(r, HTTP_SERVICE_UNAVAILABLE, j);
        }
    }
    db = p.db;
    s3 = p.s3;
    smtp = p.smtp;
    /* How old the answer is, in whole seconds (0: just probed). */
    apr_table_setn(r->headers_out, "Age", apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                                                       apr_time_sec(now - p.at > 0 ? now - p.at : 0)));
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
