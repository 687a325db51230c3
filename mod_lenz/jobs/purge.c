/* purge.c - housekeeping of the queue's own tables, as scheduled jobs:
 *   lenz-purge-jobs    done jobs older than LenzJobRetention days, dead
 *                      jobs older than that and 30 days (admins look at
 *                      those); their job_runs go with them
 *   lenz-purge-events  events dispatched more than LenzJobRetention days
 *                      ago (the audit log keeps its copy for good)
 * Deletes in batches so no statement holds many locks for long. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "jobkinds.h"
#include "httpd/config.h"

#define DEAD_MIN_DAYS 30

const lenz_stmt lenz_purge_stmts[] = {
    { "lenz_purge_jobs",
      "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('done', 'dead') "
      "AND finished_at < now() - make_interval(days => %s::int) "
      "AND (state = 'done' OR finished_at < now() - make_interval(days => %s::int)) "
      "LIMIT " APR_STRINGIFY(LENZ_PURGE_BATCH) ")" },
    { "lenz_purge_events",
      "DELETE FROM events WHERE id IN (SELECT id FROM events "
      "WHERE dispatched_at < now() - make_interval(days => %s::int) LIMIT " APR_STRINGIFY(LENZ_PURGE_BATCH) ")" },
    { NULL }
};

apr_status_t lenz_purge_batched(lenz_jobctx *jc, apr_time_t start, const char *label, int nargs,
                                const char *const *args, const char *what)
{
    long total = 0;
    int n;
    do {
        n = 0;
        if (lenz_db_exec(jc->db, label, &n, nargs, args) != APR_SUCCESS)
            return lenz_job_failed(jc, 0, "deleting %s failed after %ld rows", what, total);
        total += n;
    } while (n == LENZ_PURGE_BATCH && apr_time_now() - start < LENZ_PURGE_BUDGET);
    ap_log_error(APLOG_MARK, total ? APLOG_INFO : APLOG_DEBUG, 0, jc->s,
                 "purge: %ld %s deleted%s", total, what, n == LENZ_PURGE_BATCH ? " (more next time)" : "");
    return APR_SUCCESS;
}

apr_status_t lenz_purge_jobs_job(lenz_jobctx *jc)
{
    int days = lenz_cfg_job_retention(lenz_srv(jc->s));
    const char *args[2];
    args[0] = apr_itoa(jc->pool, days);
    args[1] = apr_itoa(jc->pool, days > DEAD_MIN_DAYS ? days : DEAD_MIN_DAYS);
    return lenz_purge_batched(jc, apr_time_now(), "lenz_purge_jobs", 2, args, "finished jobs");
}

apr_status_t lenz_purge_events_job(lenz_jobctx *jc)
{
    const char *args[1];
    args[0] = apr_itoa(jc->pool, lenz_cfg_job_retention(lenz_srv(jc->s)));
    return lenz_purge_batched(jc, apr_time_now(), "lenz_purge_events", 1, args, "dispatched events");
}
