/* runner.c - the job runners: mod_watchdog threads in every child, each
 * with a PostgreSQL connection of its own (see runner.h, docs/jobs.md).
 *
 * Why mod_watchdog and not a thread of our own: it is httpd's mechanism
 * for background work in children (mod_md, mod_proxy_hcheck use it), it
 * starts the threads after fork in exactly the processes httpd manages,
 * ends them when the MPM says the child is stopping (graceful restart,
 * stop, idle child reaped) and joins them before the process goes.  What
 * it does not give us we add: the callback runs on a 100 ms tick and must
 * notice a stop between two jobs itself, and mod_watchdog may call the
 * STOPPING callback from its pool cleanup while the thread is still in a
 * RUNNING call - so all runner state is behind a mutex, teardown is
 * idempotent, and a pre-cleanup on the child's pool waits for the job in
 * flight before anything it uses (the child pool) goes away.
 *
 * Why a connection of its own: mod_dbd's connections belong to requests,
 * and LISTEN needs one that stays.  It is opened through apr_dbd's pgsql
 * driver, so handlers and subscribers get an ordinary lenz_db with every
 * prepared statement; pq.c does LISTEN on the driver's native handle.
 */
#include <unistd.h>
#include <apr_strings.h>
#include <apr_atomic.h>
#include <apr_network_io.h>
#include <apr_thread_mutex.h>
#include <apr_dbd.h>
#include <apr_optional.h>
#include <ap_mpm.h>
#include <http_core.h>
#include <mod_watchdog.h>

#include "httpd/lenz.h"
#include "wake.h"
#include "runner.h"
#include "httpd/config.h"
#include "httpd/directives.h"
#include "httpd/dbd.h"
#include "jobs.h"
#include "traffic.h"
#include "events.h"
#include "schedule.h"
#include "httpd/pq.h"
#include "http.h"

#define CHANNEL          "lenz_jobs"
#define WD_NAME          "lenz-jobs-"
#define TICK             AP_WD_TM_SLICE              /* the watchdog's resolution */
#define WORK_BUDGET      apr_time_from_sec(2)        /* then give the tick back */
#define MAX_RECONNECT    60                          /* seconds between tries, at most */

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register_callback;

typedef struct runner {
    int index;                      /* 1..LenzJobWorkers */
    int listening;                  /* its LISTEN is up (counted by wake.c) */
    server_rec *s;                  /* whose settings jobs use */
    const char *conninfo;           /* LenzJobsDB, normalised */
    const char *kinds;              /* the kinds we have handlers for */
    const apr_dbd_driver_t *driver;
    int backoff_base, backoff_max;
    apr_interval_time_t poll;
    apr_thread_mutex_t *lock;       /* held while working; teardown takes it */
    volatile apr_uint32_t stopping;

    /* In the child, under lock. */
    apr_pool_t *pool;               /* id and HTTP client; NULL before start and after stop */
    apr_pool_t *cpool;              /* the connection; NULL when not connected */
    ap_dbd_t conn;
    lenz_http *http;
    const char *id;                 /* host/pid/index */
    apr_time_t wake_at;             /* look for work at this time at the latest */
    apr_time_t reap_at;             /* requeue expired leases at this time */
    apr_time_t connect_at;          /* next connection attempt */
    int failures;                   /* connection attempts failed in a row */
} runner;

static runner *runners;
static int nrunners;

static apr_status_t forget(void *data)
{
    runners = NULL;
    nrunners = 0;
    return APR_SUCCESS;
}

static server_rec *settings_server(server_rec *s)
{
    for (; s; s = s->next)
        if (lenz_srv(s)->enabled)
            return s;
    return NULL;
}

const char *lenz_runner_check(apr_pool_t *ptemp, server_rec *s, const char **directive)
{
    lenz_srv_cfg *c = lenz_srv(s);
    const char *why = NULL;

    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    *directive = LENZ_D_JOBS;
    if (!wd_get_instance || !wd_register_callback)
        return "the job runners need mod_watchdog (LoadModule watchdog_module ...; Debian "
               "builds it in), or set " LENZ_D_JOBS " Off";
    *directive = LENZ_D_JOBS_DB;
    if (!c->jobs_db)
        return "is required while " LENZ_D_JOBS " is On: the libpq connection string of the "
               "job runners' own database connections (usually DBDParams' value)";
    if (!lenz_pq_conninfo(ptemp, c->jobs_db, NULL, &why))
        return why;
    return NULL;
}

/* Child side ------------------------------------------------------------ */

static int stopping(runner *r)
{
    int st = 0;
    return apr_atomic_read32(&r->stopping)
           || (ap_mpm_query(AP_MPMQ_MPM_STATE, &st) == APR_SUCCESS && st == AP_MPMQ_STOPPING);
}

static void *native(runner *r)
{
    return apr_dbd_native_handle(r->conn.driver, r->conn.handle);
}

static void disconnect(runner *r)
{
    if (r->listening) {
        lenz_wake_listener(0);
        r->listening = 0;
    }
    if (r->cpool) {
        if (r->conn.handle)
            apr_dbd_close(r->driver, r->conn.handle);
        apr_pool_destroy(r->cpool);
    }
    r->cpool = NULL;
    memset(&r->conn, 0, sizeof(r->conn));
}

static void retry_later(runner *r)
{
    int secs = 1 << (r->failures < 6 ? r->failures : 6);
    r->failures++;
    r->connect_at = apr_time_now() + apr_time_from_sec(secs < MAX_RECONNECT ? secs : MAX_RECONNECT);
}

static void lost(runner *r, const char *what)
{
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, r->s,
                 LENZLOGNO(2321) "job runner %s: %s; reconnecting", r->id, what);
    disconnect(r);
    retry_later(r);
}

static apr_status_t connect_db(runner *r)
{
    const char *why = NULL, *app, *ci;
    lenz_db *db;
    apr_status_t rv;

    apr_pool_create(&r->cpool, r->pool);
    app = apr_psprintf(r->cpool, "mod_lenz jobs %" APR_PID_T_FMT "/%d", getpid(), r->index);
    ci = lenz_pq_conninfo(r->cpool, r->conninfo, app, &why);
    rv = ci ? apr_dbd_open_ex(r->driver, r->cpool, ci, &r->conn.handle, &why) : APR_EINVAL;
    if (rv != APR_SUCCESS) {
        /* Once per outage at warning level; then quietly until it works. */
        ap_log_error(APLOG_MARK, r->failures ? APLOG_DEBUG : APLOG_WARNING, 0, r->s,
                     LENZLOGNO(2322) "job runner %s cannot connect to the database ("
                     LENZ_D_JOBS_DB "): %s", r->id, why ? why : "no reason given");
        r->conn.handle = NULL;
        disconnect(r);
        retry_later(r);
        return APR_EGENERAL;
    }
    r->conn.driver = r->driver;
    r->conn.pool = r->cpool;
    why = NULL;
    rv = lenz_db_prepare_conn(r->cpool, &r->conn, &why);
    if (rv == APR_SUCCESS)
        rv = lenz_pq_listen(native(r), CHANNEL, &why);
    /* The runners also hear about new in-app notifications and wake the
     * live streams of their process (notify.c). */
    if (rv == APR_SUCCESS)
        rv = lenz_pq_listen(native(r), LENZ_NOTIFY_CHANNEL, &why);
    if (rv == APR_SUCCESS) {
        db = lenz_db_wrap(r->cpool, r->s, &r->conn);
        rv = lenz_schedules_sync(db);
        if (rv != APR_SUCCESS)
            why = "writing the schedules failed";
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, r->s,
                     LENZLOGNO(2323) "job runner %s: setting up its connection failed (is the "
                     "schema current? lenzctl migrate): %s", r->id, why ? why : "");
        disconnect(r);
        retry_later(r);
        return rv;
    }
    if (r->failures)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, r->s,
                     "job runner %s: connected to the database again", r->id);
    else
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, r->s,
                     "job runner %s: connected (server pid %d)", r->id, lenz_pq_backend_pid(native(r)));
    r->failures = 0;
    r->wake_at = 0;
    r->reap_at = 0;
    r->listening = 1;
    lenz_wake_listener(1);          /* streams: look once, then wait for pokes */
    return APR_SUCCESS;
}

/* After a statement failed: a broken connection is reopened; any other
 * error (logged by dbd.c) waits for the next poll. */
static void after_error(runner *r)
{
    if (!lenz_pq_ok(native(r)))
        lost(r, "the database connection broke");
    else
        r->wake_at = apr_time_now() + r->poll;
}

/* Looks for work until nothing is due or the budget is spent. */
static void work(runner *r, apr_pool_t *ptemp)
{
    apr_time_t start = apr_time_now(), now = start;
    lenz_job_runner jr;
    apr_pool_t *p;
    double secs = 0;
    int rc = 0, any = 0, n = 0;

    jr.s = r->s;
    jr.http = r->http;
    jr.id = r->id;
    jr.kinds = r->kinds;
    jr.backoff_base = r->backoff_base;
    jr.backoff_max = r->backoff_max;
    apr_pool_create(&p, ptemp);

    if (start >= r->reap_at) {
        if (lenz_jobs_reap(lenz_db_wrap(p, r->s, &r->conn), &n) != APR_SUCCESS)
            goto failed;
        if (n > 0)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, r->s,
                         LENZLOGNO(2313) "%d job(s) outlived their lease (the runner stopped "
                         "or was killed?) and go back to the queue", n);
        r->reap_at = start + r->poll;
    }
    /* This host's bytes served since the last pass (traffic.c). */
    lenz_traffic_flush(lenz_db_wrap(p, r->s, &r->conn));
    apr_pool_clear(p);
    /* Events first: their subscribers may enqueue jobs. */
    while (!stopping(r) && (now = apr_time_now()) - start < WORK_BUDGET) {
        apr_pool_clear(p);
        if ((rc = lenz_events_dispatch_one(lenz_db_wrap(p, r->s, &r->conn), p, r->s)) <= 0)
            break;
    }
    if (rc < 0)
        goto failed;
    apr_pool_clear(p);
    if (!stopping(r) && lenz_schedules_run(lenz_db_wrap(p, r->s, &r->conn), p, r->s, r->kinds) < 0)
        goto failed;
    while (!stopping(r) && (now = apr_time_now()) - start < WORK_BUDGET) {
        apr_pool_clear(p);
        if ((rc = lenz_job_run_one(lenz_db_wrap(p, r->s, &r->conn), p, &jr)) <= 0)
            break;
    }
    if (rc < 0)
        goto failed;
    if (stopping(r) || now - start >= WORK_BUDGET) {
        r->wake_at = 0;                 /* more to do: on the next tick */
        apr_pool_destroy(p);
        return;
    }
    apr_pool_clear(p);
    if (lenz_jobs_next_due(lenz_db_wrap(p, r->s, &r->conn), r->kinds, &secs, &any) != APR_SUCCESS)
        goto failed;
    now = apr_time_now();
    r->wake_at = now + r->poll;
    if (any && secs < (double)r->poll / APR_USEC_PER_SEC)
        r->wake_at = now + (secs > 0 ? (apr_time_t)(secs * APR_USEC_PER_SEC) : TICK);
    apr_pool_destroy(p);
    return;

failed:
    apr_pool_destroy(p);
    after_error(r);
}

static void tick(runner *r, apr_pool_t *ptemp)
{
    apr_time_t now = apr_time_now();
    int notified, broken = 0;

    if (!r->pool) {
        char host[APRMAXHOSTLEN + 1];
        if (apr_pool_create(&r->pool, NULL) != APR_SUCCESS)
            return;
        if (apr_gethostname(host, sizeof(host), r->pool) != APR_SUCCESS)
            apr_cpystrn(host, "localhost", sizeof(host));
        r->id = apr_psprintf(r->pool, "%s/%" APR_PID_T_FMT "/%d", host, getpid(), r->index);
        r->http = lenz_http_make(r->pool);
    }
    if (!r->cpool) {
        if (now < r->connect_at || connect_db(r) != APR_SUCCESS)
            return;
    }
    notified = lenz_pq_notified_on(native(r), &broken, LENZ_NOTIFY_CHANNEL, lenz_wake_poke);
    if (broken) {
        lost(r, "the database connection broke");
        return;
    }
    if (notified || now >= r->wake_at)
        work(r, ptemp);
}

static void teardown(runner *r)
{
    apr_atomic_set32(&r->stopping, 1);
    apr_thread_mutex_lock(r->lock);     /* waits for the job in flight */
    disconnect(r);
    if (r->pool) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, r->s, "job runner %s stopped", r->id);
        apr_pool_destroy(r->pool);
        r->pool = NULL;
        r->id = "(stopped)";
        r->http = NULL;
    }
    apr_thread_mutex_unlock(r->lock);
}

static apr_status_t wd_callback(int state, void *data, apr_pool_t *ptemp)
{
    runner *r = data;
    switch (state) {
    case AP_WATCHDOG_STATE_RUNNING:
        if (apr_atomic_read32(&r->stopping))
            break;
        apr_thread_mutex_lock(r->lock);
        if (!apr_atomic_read32(&r->stopping))
            tick(r, ptemp);
        apr_thread_mutex_unlock(r->lock);
        break;
    case AP_WATCHDOG_STATE_STOPPING:
        teardown(r);
        break;
    default:
        break;
    }
    return APR_SUCCESS;     /* anything else would end the calls for good */
}

static apr_status_t child_exit(void *data)
{
    teardown(data);
    return APR_SUCCESS;
}

void lenz_runner_child_init(apr_pool_t *pchild, server_rec *s)
{
    int i;
    for (i = 0; i < nrunners; i++)
        apr_pool_pre_cleanup_register(pchild, &runners[i], child_exit);
}

/* Parent side ------------------------------------------------------------ */

apr_status_t lenz_runner_post_config(apr_pool_t *pconf, server_rec *s)
{
    server_rec *ss = settings_server(s);
    lenz_srv_cfg *c = lenz_srv(s);
    const apr_dbd_driver_t *driver = NULL;
    const char *why = NULL, *conninfo;
    apr_status_t rv;
    int i, n;

    runners = NULL;
    nrunners = 0;
    /* mod_watchdog ignores the first (dry) configuration pass too. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return APR_SUCCESS;
    if (!ss || !lenz_cfg_jobs_on(c) || !wd_get_instance || !wd_register_callback)
        return APR_SUCCESS;
    conninfo = lenz_pq_conninfo(pconf, c->jobs_db, NULL, &why);
    if (!conninfo)
        return APR_EINVAL;              /* check_config said why */
    apr_dbd_init(pconf);
    rv = apr_dbd_get_driver(pconf, "pgsql", &driver);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     LENZLOGNO(2320) "the job runners need apr_dbd's pgsql driver "
                     "(Debian: libaprutil1-dbd-pgsql)");
        return rv;
    }
    n = lenz_cfg_job_workers(c);
    runners = apr_pcalloc(pconf, sizeof(runner) * n);
    for (i = 0; i < n; i++) {
        runner *r = &runners[i];
        ap_watchdog_t *wd = NULL;
        r->index = i + 1;
        r->s = ss;
        r->conninfo = conninfo;
        r->kinds = lenz_job_kind_list(pconf);
        r->driver = driver;
        r->backoff_base = lenz_cfg_job_backoff_base(c);
        r->backoff_max = lenz_cfg_job_backoff_max(c);
        r->poll = lenz_cfg_job_poll(c);
        r->id = "(starting)";
        if ((rv = apr_thread_mutex_create(&r->lock, APR_THREAD_MUTEX_DEFAULT, pconf)) != APR_SUCCESS
            || (rv = wd_get_instance(&wd, apr_psprintf(pconf, WD_NAME "%d", r->index), 0, 0,
                                     pconf)) != APR_SUCCESS
            || (rv = wd_register_callback(wd, TICK, r, wd_callback)) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                         LENZLOGNO(2324) "cannot set up job runner %d with mod_watchdog", r->index);
            return rv;
        }
    }
    nrunners = n;
    apr_pool_cleanup_register(pconf, NULL, forget, apr_pool_cleanup_null);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 "%d job runner(s) per child process, polling every %d s, kinds: %s", n,
                 (int)apr_time_sec(lenz_cfg_job_poll(c)), lenz_job_kind_list(pconf));
    return APR_SUCCESS;
}
