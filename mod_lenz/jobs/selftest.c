/* selftest.c - the "selftest" job kind: what an operator enqueues (lenzctl
 * enqueue selftest '{...}') to see the queue, the runners, the event bus
 * and mail work end to end, and what the tests use.  Payload, all
 * optional:
 *   "fail": N         the first N attempts fail (retries and backoff)
 *   "error": TEXT     the error those attempts report
 *   "sleep_ms": MS    takes that long (at most 10 s)
 *   "event": true     emits system.selftest (-> the audit log)
 *   "mail_to": ADDR   queues the "test" mail to ADDR
 * Every run is in job_runs, like any job's.  The event, the mail and a
 * note on the job's own row ("effects") are written in one transaction:
 * a retry after a crash sees the note and does not write them again. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "jobkinds.h"
#include "events.h"
#include "mailjob.h"
#include "err.h"

#define MAX_SLEEP_MS 10000

apr_status_t lenz_selftest_job(lenz_jobctx *jc)
{
    const lenz_json *pl = jc->job->payload;
    apr_int64_t fail = 0, sleep_ms = 0;
    const char *error = NULL, *mail_to = NULL;
    int event = 0;
    lenz_json *info;
    apr_status_t rv = APR_SUCCESS;

    if (lenz_json_get_int(pl, "fail", &fail) == APR_EINVAL
        || lenz_json_get_int(pl, "sleep_ms", &sleep_ms) == APR_EINVAL
        || lenz_json_get_str(pl, "error", &error) == APR_EINVAL
        || lenz_json_get_str(pl, "mail_to", &mail_to) == APR_EINVAL
        || lenz_json_get_bool(pl, "event", &event) == APR_EINVAL)
        return lenz_job_failed(jc, 1, "selftest: a payload member has the wrong type");
    if (sleep_ms > 0)
        apr_sleep(apr_time_from_msec(sleep_ms < MAX_SLEEP_MS ? sleep_ms : MAX_SLEEP_MS));
    if (jc->job->attempt <= fail)
        return lenz_job_failed(jc, 0, "%s (attempt %d, failing the first %" APR_INT64_T_FMT ")",
                               error ? error : "selftest: failing on purpose",
                               jc->job->attempt, fail);
    if (!event && !mail_to)
        return APR_SUCCESS;
    if (jc->job->result && lenz_json_has(jc->job->result, "effects"))
        return APR_SUCCESS;     /* an earlier attempt committed them */

    info = lenz_json_new_object(jc->pool);
    lenz_json_set_int(info, "job", jc->job->id);
    lenz_json_set_str(info, "runner", jc->runner);
    if (lenz_db_begin(jc->db) != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "selftest: cannot begin a transaction");
    if (event)
        rv = lenz_event_emit(jc->db, "system.selftest", NULL,
                             apr_psprintf(jc->pool, "job:%" APR_INT64_T_FMT, jc->job->id), info);
    if (rv == APR_SUCCESS && mail_to) {
        rv = lenz_mail_enqueue(jc->db, "test", mail_to, "mod_lenz test message", info);
        if (rv == LENZ_EFORMAT) {
            lenz_db_end(jc->db, 1);
            return lenz_job_failed(jc, 1, "selftest: mail_to is not an address we send to");
        }
    }
    if (rv == APR_SUCCESS) {
        lenz_json *note = lenz_json_new_object(jc->pool);
        lenz_json_set_str(note, "effects", lenz_epoch_text(jc->pool, apr_time_now()));
        rv = lenz_job_record(jc, note);
    }
    if (lenz_db_end(jc->db, rv != APR_SUCCESS) != APR_SUCCESS || rv != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "selftest: writing the event or the mail failed");
    return APR_SUCCESS;
}
