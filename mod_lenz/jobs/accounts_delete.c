/* accounts_delete.c - the "lenz-delete-account" job: an account an
 * administrator deleted (admin/users.c: disabled at once, this job
 * queued) goes with everything it stored.  In batches of DELETE_BATCH
 * files, one transaction each: the rows are deleted and their S3 keys
 * queued in s3_garbage, whose job deletes the objects in batches
 * (DeleteObjects) and retries what S3 refused; then a run of that job is
 * queued.  When no file is left, the users row goes, and with it (ON
 * DELETE CASCADE) folders, links, transfers, sessions, tokens, keys,
 * notifications and preferences; an account.deleted event records it.
 * A run that dies leaves what it had not committed for the retry: nothing
 * is deleted twice or left behind.  A run that reaches its time budget
 * queues the next one. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "jobkinds.h"
#include "s3garbage.h"
#include "jobs.h"
#include "httpd/outbox.h"
#include "codec.h"

#define DELETE_BATCH  1000
#define DELETE_BUDGET apr_time_from_sec(60)

const lenz_stmt lenz_delete_account_stmts[] = {
    /* Only an account the administrator disabled for deletion. */
    { "lenz_delacct_user",
      "SELECT email FROM users WHERE id = %s::uuid AND status = 'disabled' AND deleting_at IS NOT NULL "
      "FOR UPDATE" },
    { "lenz_delacct_files",
      "WITH gone AS (DELETE FROM files WHERE id IN (SELECT id FROM files WHERE owner_id = %s::uuid "
      "LIMIT " APR_STRINGIFY(DELETE_BATCH) ") RETURNING s3_key, state), "
      "q AS (INSERT INTO s3_garbage (s3_key) SELECT s3_key FROM gone WHERE state <> 'deleted' "
      "ON CONFLICT (s3_key) DO NOTHING RETURNING 1) "
      "SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM q)" },
    { "lenz_delacct_user_gone", "DELETE FROM users WHERE id = %s::uuid" },
    { NULL }
};

apr_status_t lenz_delete_account_job(lenz_jobctx *jc)
{
    const char *user = NULL, *args[1], *email;
    apr_time_t start = apr_time_now();
    apr_int64_t rows = 0, objects = 0;
    lenz_rows r;
    lenz_json *ev;
    apr_status_t rv;

    if (lenz_json_get_str(jc->job->payload, "user_id", &user) != APR_SUCCESS || !lenz_uuid_ok(user))
        return lenz_job_failed(jc, 1, "the payload names no user_id");
    args[0] = user;
    for (;;) {
        apr_int64_t n;
        lenz_db_begin(jc->db);
        rv = lenz_db_select(jc->db, "lenz_delacct_user", &r, 1, args);
        if (rv == APR_SUCCESS && r.nrows != 1) {
            lenz_db_end(jc->db, 1);
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, jc->s, "delete account %s: gone already, or not to be deleted",
                         user);
            return APR_SUCCESS;
        }
        email = rv == APR_SUCCESS ? apr_pstrdup(jc->pool, r.rows[0][0]) : NULL;
        if (rv == APR_SUCCESS)
            rv = lenz_db_select(jc->db, "lenz_delacct_files", &r, 1, args);
        n = rv == APR_SUCCESS && r.nrows == 1 ? apr_atoi64(r.rows[0][0]) : 0;
        if (rv == APR_SUCCESS && r.nrows == 1 && apr_atoi64(r.rows[0][1]) > 0)
            rv = lenz_s3_garbage_enqueue(jc->db);
        if (rv == APR_SUCCESS && n == 0) {
            /* Nothing stored is left: the account itself. */
            rv = lenz_db_exec(jc->db, "lenz_delacct_user_gone", NULL, 1, args);
            if (rv == APR_SUCCESS) {
                ev = lenz_json_new_object(jc->pool);
                lenz_json_set_str(ev, "email", email);
                lenz_json_set_int(ev, "files", rows);
                rv = lenz_event_emit(jc->db, "account.deleted", NULL, user, ev);
            }
        }
        lenz_db_end(jc->db, rv != APR_SUCCESS);
        if (rv != APR_SUCCESS)
            return lenz_job_failed(jc, 0, "deleting account %s failed after %" APR_INT64_T_FMT " files", user, rows);
        if (n == 0)
            break;
        rows += n;
        objects += apr_atoi64(r.rows[0][1]);
        if (apr_time_now() - start > DELETE_BUDGET) {
            lenz_json *pl = lenz_json_new_object(jc->pool);
            lenz_json_set_str(pl, "user_id", user);
            if (lenz_job_enqueue(jc->db, LENZ_DELETE_ACCOUNT_KIND, pl, 0, NULL) != APR_SUCCESS)
                return lenz_job_failed(jc, 0, "queueing the rest of account %s failed", user);
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, jc->s, "delete account %s: %" APR_INT64_T_FMT
                         " files this run, more in the next", user, rows);
            return APR_SUCCESS;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, jc->s, "delete account %s: done, %" APR_INT64_T_FMT
                 " files (%" APR_INT64_T_FMT " objects queued for S3)", user, rows, objects);
    return APR_SUCCESS;
}
