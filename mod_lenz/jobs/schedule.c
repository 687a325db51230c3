/* schedule.c - cron-like jobs (see schedule.h). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "schedule.h"

/* epoch seconds of the next multiple of the period after now */
#define NEXT_SLOT "to_timestamp((floor(extract(epoch FROM now()) / extract(epoch FROM period)) + 1) " \
                  "* extract(epoch FROM period))"

const lenz_stmt lenz_schedule_stmts[] = {
    { "lenz_schedule_upsert",
      "INSERT INTO job_schedules (name, kind, period) VALUES (%s, %s, %s::interval) "
      "ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, period = EXCLUDED.period "
      "WHERE (job_schedules.kind, job_schedules.period) IS DISTINCT FROM "
      "(EXCLUDED.kind, EXCLUDED.period)" },
    /* The key names the due time being consumed: each is consumed once. */
    { "lenz_schedule_run",
      "WITH due AS (SELECT name, kind, payload, next_run_at, " NEXT_SLOT " AS next "
      "FROM job_schedules WHERE next_run_at <= now() AND enabled "
      "AND kind = ANY (string_to_array(%s, ',')) FOR UPDATE SKIP LOCKED), "
      "queued AS (SELECT name, next, lenz_job_enqueue(kind, payload, now(), "
      "'schedule:' || name || ':' || extract(epoch FROM next_run_at), NULL) AS job_id FROM due) "
      "UPDATE job_schedules s SET last_run_at = now(), next_run_at = q.next, "
      "last_job_id = COALESCE(q.job_id, s.last_job_id) FROM queued q WHERE s.name = q.name "
      "RETURNING s.name, q.job_id" },
    { NULL }
};

apr_status_t lenz_schedules_sync(lenz_db *db)
{
    const lenz_schedule *sc;
    for (sc = lenz_schedules; sc->name; sc++) {
        const char *args[3] = { sc->name, sc->kind, sc->period };
        apr_status_t rv = lenz_db_exec(db, "lenz_schedule_upsert", NULL, 3, args);
        if (rv != APR_SUCCESS)
            return rv;
    }
    return APR_SUCCESS;
}

int lenz_schedules_run(lenz_db *db, apr_pool_t *p, server_rec *s, const char *kinds)
{
    const char *args[1] = { kinds };
    lenz_rows rows;
    int i;
    if (lenz_db_select(db, "lenz_schedule_run", &rows, 1, args) != APR_SUCCESS)
        return -1;
    for (i = 0; i < rows.nrows; i++)
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "schedule %s: job %s queued",
                     rows.rows[i][0], rows.rows[i][1] ? rows.rows[i][1] : "(already there)");
    return rows.nrows;
}
