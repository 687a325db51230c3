/* jobs.c - enqueueing, and running one claimed job (see jobs.h). */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "jobs.h"
#include "httpd/metrics.h"
#include "err.h"

/* A "%%" in these strings is apr_dbd's escape for one '%'. */
#define KIND_IN(param) "kind = ANY (string_to_array(" param ", ','))"
/* A job that ends (done or dead) loses its payload's "sealed" member:
 * what a mail's secrets were sealed in (mailjob.h) is not kept for the
 * job's retention. */
#define UNSEAL(p) "(" p " - 'sealed')"

const lenz_stmt lenz_jobs_stmts[] = {
    { "lenz_job_enqueue",
      "SELECT lenz_job_enqueue(%s, %s::jsonb, to_timestamp(%s::float8), %s, %s::int)" },
    /* The oldest due job of a kind we run; SKIP LOCKED lets every other
     * runner pass it by while this one takes it. */
    { "lenz_job_claim",
      "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = %s, "
      "locked_until = now() + interval '" APR_STRINGIFY(LENZ_JOB_LEASE) " seconds', updated_at = now() "
      "WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= now() "
      "AND " KIND_IN("%s") " ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
      "RETURNING id, kind, payload::text, attempts, max_attempts, result::text" },
    /* Finishing records the run and changes the job only while this
     * runner still holds it (same runner, same attempt). */
    { "lenz_job_done",
      "WITH run AS (INSERT INTO job_runs (job_id, attempt, runner, started_at, ok) "
      "VALUES (%s::bigint, %s::int, %s, to_timestamp(%s::float8), true) "
      "RETURNING job_id, attempt, runner) "
      "UPDATE jobs j SET state = 'done', locked_by = NULL, locked_until = NULL, "
      "payload = " UNSEAL("j.payload") ", "
      "last_error = NULL, finished_at = now(), updated_at = now() FROM run "
      "WHERE j.id = run.job_id AND j.state = 'running' AND j.locked_by = run.runner "
      "AND j.attempts = run.attempt" },
    /* Next run after base * 2^(attempt-1) seconds (capped), +-25% jitter. */
    { "lenz_job_fail",
      "WITH run AS (INSERT INTO job_runs (job_id, attempt, runner, started_at, ok, error) "
      "VALUES (%s::bigint, %s::int, %s, to_timestamp(%s::float8), false, %s) "
      "RETURNING job_id, attempt, runner, error), "
      "d AS (SELECT %s::boolean AS permanent, %s::float8 AS base, %s::float8 AS cap) "
      "UPDATE jobs j SET "
      "state = CASE WHEN d.permanent OR j.attempts >= j.max_attempts THEN 'dead' ELSE 'queued' END, "
      "run_at = CASE WHEN d.permanent OR j.attempts >= j.max_attempts THEN j.run_at "
      "ELSE now() + make_interval(secs => least(d.base * 2 ^ (j.attempts - 1), d.cap) "
      "* (0.75 + random() * 0.5)) END, "
      "finished_at = CASE WHEN d.permanent OR j.attempts >= j.max_attempts THEN now() END, "
      "payload = CASE WHEN d.permanent OR j.attempts >= j.max_attempts "
      "THEN " UNSEAL("j.payload") " ELSE j.payload END, "
      "last_error = run.error, locked_by = NULL, locked_until = NULL, updated_at = now() "
      "FROM run, d WHERE j.id = run.job_id AND j.state = 'running' "
      "AND j.locked_by = run.runner AND j.attempts = run.attempt "
      "RETURNING j.state, extract(epoch FROM j.run_at - now())" },
    { "lenz_job_reap",
      "UPDATE jobs j SET "
      "state = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'queued' END, "
      "run_at = now(), finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END, "
      "payload = CASE WHEN j.attempts >= j.max_attempts THEN " UNSEAL("j.payload") " "
      "ELSE j.payload END, "
      "last_error = 'the lease ran out: runner ' || j.locked_by || "
      "' did not finish the job (stopped or killed?)', "
      "locked_by = NULL, locked_until = NULL, updated_at = now() "
      "WHERE j.id IN (SELECT id FROM jobs WHERE state = 'running' AND locked_until < now() "
      "FOR UPDATE SKIP LOCKED)" },
    { "lenz_job_record",
      "UPDATE jobs SET result = %s::jsonb, updated_at = now() "
      "WHERE id = %s::bigint AND state = 'running' AND locked_by = %s" },
    { "lenz_job_next_due",
      "SELECT extract(epoch FROM least("
      "(SELECT min(run_at) FROM jobs WHERE state = 'queued' AND " KIND_IN("%s") "), "
      "(SELECT min(next_run_at) FROM job_schedules WHERE enabled AND " KIND_IN("%s") "), "
      "(SELECT min(dispatch_after) FROM events WHERE dispatched_at IS NULL)) - now())" },
    { NULL }
};

const char *lenz_epoch_text(apr_pool_t *p, apr_time_t t)
{
    return apr_psprintf(p, "%" APR_TIME_T_FMT ".%06d", apr_time_sec(t), (int)apr_time_usec(t));
}

const lenz_job_kind *lenz_job_kind_find(const char *kind)
{
    const lenz_job_kind *k;
    for (k = lenz_job_kinds; kind && k->kind; k++)
        if (strcmp(k->kind, kind) == 0)
            return k;
    return NULL;
}

const char *lenz_job_kind_list(apr_pool_t *p)
{
    const lenz_job_kind *k;
    const char *out = "";
    for (k = lenz_job_kinds; k->kind; k++)
        out = *out ? apr_pstrcat(p, out, ",", k->kind, NULL) : k->kind;
    return out;
}

apr_status_t lenz_job_enqueue_ex(lenz_db *db, const char *kind, const lenz_json *payload,
                                 apr_time_t run_at, const char *unique_key, int max_attempts,
                                 apr_int64_t *id)
{
    apr_pool_t *p = lenz_db_pool(db);
    const char *args[5];
    lenz_rows rows;
    apr_status_t rv;

    if (id)
        *id = 0;
    if (!lenz_job_kind_find(kind)) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, lenz_db_server(db),
                     LENZLOGNO(2300) "enqueue: no job kind '%s' is registered (jobkinds.c)",
                     kind ? kind : "(null)");
        return APR_EINVAL;
    }
    if (payload && lenz_json_typeof(payload) != LENZ_JSON_OBJECT) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, lenz_db_server(db),
                     LENZLOGNO(2301) "enqueue: the payload of a '%s' job must be an object", kind);
        return APR_EINVAL;
    }
    args[0] = kind;
    args[1] = payload ? lenz_json_dump(p, payload) : "{}";
    args[2] = run_at ? lenz_epoch_text(p, run_at) : NULL;
    args[3] = unique_key;
    args[4] = max_attempts > 0 ? apr_itoa(p, max_attempts) : NULL;
    rv = lenz_db_select(db, "lenz_job_enqueue", &rows, 5, args);
    if (rv == APR_SUCCESS && id && rows.nrows == 1 && rows.rows[0][0])
        *id = apr_atoi64(rows.rows[0][0]);
    return rv;
}

apr_status_t lenz_job_enqueue(lenz_db *db, const char *kind, const lenz_json *payload,
                              apr_time_t run_at, const char *unique_key)
{
    return lenz_job_enqueue_ex(db, kind, payload, run_at, unique_key, 0, NULL);
}

apr_status_t lenz_job_record(lenz_jobctx *jc, const lenz_json *result)
{
    const char *args[3];
    int n = 0;
    apr_status_t rv;
    args[0] = lenz_json_dump(jc->pool, result);
    args[1] = apr_psprintf(jc->pool, "%" APR_INT64_T_FMT, jc->job->id);
    args[2] = jc->runner;
    rv = lenz_db_exec(jc->db, "lenz_job_record", &n, 3, args);
    return rv == APR_SUCCESS && n != 1 ? LENZ_ECONFLICT : rv;
}

apr_status_t lenz_job_failed(lenz_jobctx *jc, int permanent, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    jc->error = apr_pvsprintf(jc->pool, fmt, ap);
    va_end(ap);
    jc->permanent = permanent;
    return APR_EGENERAL;
}

apr_status_t lenz_jobs_reap(lenz_db *db, int *n)
{
    *n = 0;
    return lenz_db_exec(db, "lenz_job_reap", n, 0, NULL);
}

apr_status_t lenz_jobs_next_due(lenz_db *db, const char *kinds, double *secs, int *any)
{
    const char *args[2] = { kinds, kinds };
    lenz_rows rows;
    apr_status_t rv = lenz_db_select(db, "lenz_job_next_due", &rows, 2, args);
    *any = 0;
    if (rv == APR_SUCCESS && rows.nrows == 1 && rows.rows[0][0]) {
        *any = 1;
        *secs = atof(rows.rows[0][0]);
    }
    return rv;
}

/* Printable, one line, bounded: error texts go into the row and the log. */
static const char *clean_error(apr_pool_t *p, const char *e)
{
    char *s = apr_pstrndup(p, e && *e ? e : "failed (no reason given)", LENZ_JOB_MAX_ERROR);
    char *c;
    for (c = s; *c; c++)
        if (apr_iscntrl(*c))
            *c = ' ';
    return s;
}

static int finish(lenz_db *db, apr_pool_t *p, const lenz_job_runner *jr, const lenz_job *job,
                  apr_time_t started, apr_status_t rv, const lenz_jobctx *jc)
{
    const char *id = apr_psprintf(p, "%" APR_INT64_T_FMT, job->id);
    const char *args[8];
    lenz_rows rows;
    const char *err;
    int n = 0;

    args[0] = id;
    args[1] = apr_itoa(p, job->attempt);
    args[2] = jr->id;
    args[3] = lenz_epoch_text(p, started);
    if (rv == APR_SUCCESS) {
        if (lenz_db_exec(db, "lenz_job_done", &n, 4, args) != APR_SUCCESS)
            return -1;
        if (n == 1) {
            lenz_metrics_add(LENZ_CNT_JOBS_DONE, 1);
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, jr->s, "job %s (%s) done in %.3f s",
                         id, job->kind, (double)(apr_time_now() - started) / APR_USEC_PER_SEC);
        }
    }
    else {
        err = clean_error(p, jc->error ? jc->error : lenz_strerror(rv));
        args[4] = err;
        args[5] = jc->permanent ? "true" : "false";
        args[6] = apr_itoa(p, jr->backoff_base);
        args[7] = apr_itoa(p, jr->backoff_max);
        if (lenz_db_select(db, "lenz_job_fail", &rows, 8, args) != APR_SUCCESS)
            return -1;
        n = rows.nrows;
        if (n == 1 && strcmp(rows.rows[0][0], "dead") == 0) {
            lenz_metrics_add(LENZ_CNT_JOBS_DEAD, 1);
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, jr->s,
                         LENZLOGNO(2311) "job %s (%s) is dead after attempt %d of %d%s: %s",
                         id, job->kind, job->attempt, job->max_attempts,
                         jc->permanent ? " (retrying cannot help)" : "", err);
        }
        else if (n == 1) {
            lenz_metrics_add(LENZ_CNT_JOBS_RETRIED, 1);
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, jr->s,
                         LENZLOGNO(2310) "job %s (%s) attempt %d of %d failed: %s; "
                         "next attempt in %.0f s", id, job->kind, job->attempt,
                         job->max_attempts, err, atof(rows.rows[0][1]));
        }
    }
    if (n != 1)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, jr->s,
                     LENZLOGNO(2312) "job %s (%s) took longer than its %d s lease: another "
                     "runner may have run it again", id, job->kind, LENZ_JOB_LEASE);
    return 1;
}

int lenz_job_run_one(lenz_db *db, apr_pool_t *p, const lenz_job_runner *jr)
{
    const char *args[2] = { jr->id, jr->kinds };
    const lenz_job_kind *k;
    const char **row, *why = NULL;
    lenz_rows rows;
    lenz_job job;
    lenz_jobctx jc;
    apr_time_t started;
    apr_status_t rv;

    if (lenz_db_select(db, "lenz_job_claim", &rows, 2, args) != APR_SUCCESS)
        return -1;
    if (rows.nrows == 0)
        return 0;
    row = rows.rows[0];
    started = apr_time_now();
    memset(&job, 0, sizeof(job));
    job.id = apr_atoi64(row[0]);
    job.kind = row[1];
    job.attempt = atoi(row[3]);
    job.max_attempts = atoi(row[4]);
    memset(&jc, 0, sizeof(jc));
    jc.pool = p;
    jc.s = jr->s;
    jc.db = db;
    jc.http = jr->http;
    jc.runner = jr->id;
    jc.job = &job;

    job.payload = lenz_json_parse(p, row[2], strlen(row[2]), 0, &why);
    if (row[5])
        job.result = lenz_json_parse(p, row[5], strlen(row[5]), 0, &why);
    k = lenz_job_kind_find(job.kind);
    if (!job.payload)
        rv = lenz_job_failed(&jc, 1, "the payload cannot be read: %s", why);
    else if (!k)        /* the claim only takes registered kinds */
        rv = lenz_job_failed(&jc, 1, "no handler for this kind");
    else {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, jr->s, "job %s (%s) attempt %d by %s",
                     row[0], job.kind, job.attempt, jr->id);
        rv = k->fn(&jc);
    }
    return finish(db, p, jr, &job, started, rv, &jc);
}
