/* jobs.h - the job queue in PostgreSQL (sql/003_jobs.sql, docs/jobs.md).
 *
 * Producers enqueue inside their own transaction, on the connection of
 * their change (lenz_db from dbd.h): the job exists if and only if the
 * change committed, and runners are woken (NOTIFY) at commit.
 *
 * Runners (runner.c) claim one due job at a time with FOR UPDATE SKIP
 * LOCKED, mark it running under a lease, run the handler of its kind
 * (jobkinds.c) and mark it done, or queued again after an exponential
 * backoff, or dead after max_attempts.  Delivery is at least once: a
 * runner that dies mid-job leaves the lease to expire and the job runs
 * again, so handlers must be idempotent.
 */
#ifndef LENZ_JOBS_H
#define LENZ_JOBS_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"
#include "json.h"

struct lenz_http;

/* Statements (registered in lenz_shared_stmts). */
extern const lenz_stmt lenz_jobs_stmts[];

/* A handler must finish within this; then another runner may take the job. */
#define LENZ_JOB_LEASE 300
/* Longest last_error kept. */
#define LENZ_JOB_MAX_ERROR 1000

/* Enqueues a job of a registered kind.  payload: a JSON object or NULL;
 * run_at: 0 for now; unique_key: NULL, or a key that makes enqueueing
 * idempotent (while a job with that key exists, nothing new is queued and
 * this still succeeds).  APR_EINVAL (logged) for an unknown kind.
 * A payload's "sealed" member is removed when the job ends, done or dead
 * (the mail job keeps its sealed secrets there: mailjob.h). */
apr_status_t lenz_job_enqueue(lenz_db *db, const char *kind, const lenz_json *payload,
                              apr_time_t run_at, const char *unique_key);
/* The same with max_attempts (0: the default, 5) and the new job's id
 * (0 when unique_key matched an existing job). */
apr_status_t lenz_job_enqueue_ex(lenz_db *db, const char *kind, const lenz_json *payload,
                                 apr_time_t run_at, const char *unique_key, int max_attempts,
                                 apr_int64_t *id);

/* Handlers ----------------------------------------------------------- */

typedef struct lenz_job {
    apr_int64_t id;
    const char *kind;
    lenz_json *payload;           /* always an object */
    int attempt;                  /* 1 for the first run */
    int max_attempts;
    lenz_json *result;            /* what an earlier attempt recorded, or NULL */
} lenz_job;

typedef struct lenz_jobctx {
    apr_pool_t *pool;             /* cleared after the job */
    server_rec *s;                /* the server whose settings jobs use */
    lenz_db *db;                  /* the runner's connection; no transaction open */
    struct lenz_http *http;       /* the runner's HTTP/SMTP client */
    const char *runner;           /* this runner's id (jobs.locked_by) */
    const lenz_job *job;
    const char *error;            /* why it failed: set by lenz_job_failed() */
    int permanent;                /* retrying cannot help: dead at once */
} lenz_jobctx;

/* APR_SUCCESS marks the job done; anything else is a failure (retried
 * unless permanent).  Runs in the runner's thread, never in a request. */
typedef apr_status_t lenz_job_fn(lenz_jobctx *jc);

typedef struct lenz_job_kind {
    const char *kind;
    lenz_job_fn *fn;
} lenz_job_kind;

/* jobkinds.c: every kind this module runs, ending with { NULL }. */
extern const lenz_job_kind lenz_job_kinds[];
const lenz_job_kind *lenz_job_kind_find(const char *kind);

/* Records result (an object) on the job row, e.g. "the server took the
 * message" before marking done, so a retry knows.  Only while this
 * runner holds the job. */
apr_status_t lenz_job_record(lenz_jobctx *jc, const lenz_json *result);
/* Sets jc->error (and jc->permanent) and returns APR_EGENERAL. */
apr_status_t lenz_job_failed(lenz_jobctx *jc, int permanent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The runner's side ---------------------------------------------------- */

typedef struct lenz_job_runner {
    server_rec *s;
    struct lenz_http *http;
    const char *id;               /* host/pid/worker */
    const char *kinds;            /* comma-separated registered kinds */
    int backoff_base, backoff_max;
} lenz_job_runner;

/* Claims the oldest due job and runs it: 1 when a job ran (whatever its
 * outcome), 0 when none is due, -1 on a database error. */
int lenz_job_run_one(lenz_db *db, apr_pool_t *p, const lenz_job_runner *jr);
/* Jobs whose lease expired go back to the queue (or die); *n of them. */
apr_status_t lenz_jobs_reap(lenz_db *db, int *n);
/* Seconds until something is due (a job, a schedule, an event to
 * dispatch): *secs, or *any = 0 when nothing is waiting. */
apr_status_t lenz_jobs_next_due(lenz_db *db, const char *kinds, double *secs, int *any);
/* "kind1,kind2,..." from lenz_job_kinds. */
const char *lenz_job_kind_list(apr_pool_t *p);

/* An apr_time_t as the epoch seconds statements take. */
const char *lenz_epoch_text(apr_pool_t *p, apr_time_t t);

#endif
