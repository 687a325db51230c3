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
#include <pthread.h>
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
#include "httpd/shared.h"
#include "httpd/rate.h"
#include "httpd/body.h"

#define PROBE_TIMEOUT_MS 3000
#define FRESH            apr_time_from_sec(1)     /* a result this young is the answer */
#define KEEP             apr_time_from_sec(60)    /* kept this long for answers while a probe runs */
#define CLAIM            apr_time_from_sec(10)    /* a probe's claim; a probe that died frees it then */

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

/* A probe's result: when, and each service up (1) or down (0). */
typedef struct {
    apr_time_t at;
    unsigned char db, s3, smtp;
} probe_result;

/* Without a shared store: this process's own. */
static probe_result local_result;
static apr_time_t local_claim;
static pthread_mutex_t local_mtx = PTHREAD_MUTEX_INITIALIZER;

static void put_time(unsigned char *buf, apr_time_t t)
{
    int i;
    for (i = 0; i < 8; i++)
        buf[i] = (unsigned char)((apr_uint64_t)t >> (56 - 8 * i));
}

static apr_time_t get_time(const unsigned char *buf)
{
    apr_uint64_t t = 0;
    int i;
    for (i = 0; i < 8; i++)
        t = t << 8 | buf[i];
    return (apr_time_t)t;
}

static void encode(const probe_result *p, unsigned char buf[11])
{
    put_time(buf, p->at);
    buf[8] = p->db;
    buf[9] = p->s3;
    buf[10] = p->smtp;
}

static int decode(const unsigned char *buf, apr_size_t len, probe_result *p)
{
    if (len != 11)
        return 0;
    p->at = get_time(buf);
    p->db = buf[8];
    p->s3 = buf[9];
    p->smtp = buf[10];
    return 1;
}

/* Per machine and per virtual host (each may reach other services): the
 * machine's name, and where the vhost is defined. */
static const char *key_of(request_rec *r, const char *what)
{
    static char machine[APRMAXHOSTLEN + 1];
    if (!machine[0] && apr_gethostname(machine, sizeof(machine) - 1, r->pool) != APR_SUCCESS)
        apr_cpystrn(machine, "?", sizeof(machine));
    return apr_psprintf(r->pool, "lenz-health:%s:%s:%s:%s:%u", what, machine, r->server->server_hostname,
                        r->server->defn_name ? r->server->defn_name : "-", r->server->defn_line_number);
}

/* The last result (0 when there is none). */
static int last_result(request_rec *r, const lenz_kv *kv, probe_result *p)
{
    unsigned char buf[11];
    apr_size_t len = sizeof(buf);
    if (!kv) {
        pthread_mutex_lock(&local_mtx);
        *p = local_result;
        pthread_mutex_unlock(&local_mtx);
        return p->at != 0;
    }
    return kv->get(kv->baton, key_of(r, "result"), buf, &len, r->pool) == APR_SUCCESS && decode(buf, len, p);
}

/* Claims the next probe for this request; 0 when another holds it. */
/* The claim holds a time: held until then (0: released). */
static int claim(request_rec *r, const lenz_kv *kv, apr_time_t now)
{
    unsigned char buf[8];
    apr_size_t len = sizeof(buf);
    const char *k;
    int mine;
    if (!kv) {
        pthread_mutex_lock(&local_mtx);
        mine = local_claim < now;
        if (mine)
            local_claim = now + CLAIM;
        pthread_mutex_unlock(&local_mtx);
        return mine;
    }
    k = key_of(r, "claim");
    if (kv->lock)
        kv->lock(kv->baton);
    /* A store without a lock (memcache) may let two probes through at
     * once: still at most a few a second, never one per hit. */
    mine = kv->get(kv->baton, k, buf, &len, r->pool) != APR_SUCCESS || len != 8 || get_time(buf) < now;
    if (mine) {
        put_time(buf, now + CLAIM);
        kv->put(kv->baton, k, buf, 8, now + CLAIM, r->pool);
    }
    if (kv->unlock)
        kv->unlock(kv->baton);
    return mine;
}

static void release(request_rec *r, const lenz_kv *kv, const probe_result *p)
{
    unsigned char buf[11];
    if (!kv) {
        pthread_mutex_lock(&local_mtx);
        local_result = *p;
        local_claim = 0;
        pthread_mutex_unlock(&local_mtx);
        return;
    }
    encode(p, buf);
    kv->put(kv->baton, key_of(r, "result"), buf, sizeof(buf), p->at + KEEP, r->pool);
    put_time(buf, 0);           /* released */
    kv->put(kv->baton, key_of(r, "claim"), buf, 8, p->at + CLAIM, r->pool);
}

static void probe(request_rec *r, lenz_req *lr, probe_result *p)
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
    const lenz_kv *kv = lenz_shared_kv();
    const char *fresh_q = lenz_query(r, "fresh");
    apr_time_t now = apr_time_now();
    probe_result p;
    int have, db, s3, smtp;

    memset(&p, 0, sizeof(p));
    if (fresh_q && strcmp(fresh_q, "1") == 0) {
        if (!lenz_rate_check(r, "health-fresh", lenz_rate_addr(r), 6, 60))
            return OK;
        probe(r, lr, &p);
        release(r, kv, &p);
    }
    else {
        have = last_result(r, kv, &p);
        if ((!have || now - p.at >= FRESH) && claim(r, kv, now)) {
            probe(r, lr, &p);
            release(r, kv, &p);
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
