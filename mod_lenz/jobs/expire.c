/* expire.c - what outlives its use, as scheduled jobs:
 *
 *   lenz-purge-expired  (database only, hourly) one-time codes a day past
 *       their expiry; sessions past their expiry or idle time; refresh
 *       tokens a day past theirs; token families revoked a day ago or
 *       idle with no live refresh token; personal access tokens 30
 *       days past revocation or expiry; share links 30 days past expiry
 *       or revocation (until then their page says "expired", not "no such
 *       link"); read notifications after 90 days, any after a year; file
 *       rows deleted 30 days ago; transfers 30 days past expiry once no
 *       file row is left.
 *   lenz-expire-files   (S3, every 10 minutes) files past expires_at
 *       (guests' uploads): the object is deleted from S3 (an unfinished
 *       multipart upload aborted), then the row is marked deleted and a
 *       file.expired event written.
 *
 * Every delete goes in batches of LENZ_PURGE_BATCH rows, within a time budget; what
 * is left waits for the next run.  The S3 side comes first so a failure
 * leaves the row to try again, never an object nothing points to. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "jobkinds.h"
#include "httpd/config.h"
#include "events.h"
#include "s3.h"
#include "err.h"

#define S3_BATCH   200
#define S3_BUDGET  apr_time_from_sec(120)

#define IN_BATCH(table, where) \
    "DELETE FROM " table " WHERE ctid IN (SELECT ctid FROM " table " x WHERE " where \
    " LIMIT " APR_STRINGIFY(LENZ_PURGE_BATCH) ")"

const lenz_stmt lenz_expire_stmts[] = {
    { "lenz_expire_otps", IN_BATCH("otps", "expires_at < now() - interval '1 day'") },
    { "lenz_expire_idem", IN_BATCH("idempotency_keys", "created_at < now() - interval '1 day'") },
    { "lenz_expire_sessions",
      IN_BATCH("sessions", "expires_at < now() OR last_seen_at < now() - make_interval(secs => %s::int)") },
    { "lenz_expire_refresh", IN_BATCH("refresh_tokens", "expires_at < now() - interval '1 day'") },
    { "lenz_expire_families",
      IN_BATCH("token_families",
               "revoked_at < now() - interval '1 day' OR (revoked_at IS NULL "
               "AND last_used_at < now() - interval '1 day' AND NOT EXISTS "
               "(SELECT 1 FROM refresh_tokens r WHERE r.family_id = x.id AND r.expires_at > now()))") },
    { "lenz_expire_pats",
      IN_BATCH("personal_tokens", "revoked_at < now() - interval '30 days' "
                                  "OR expires_at < now() - interval '30 days'") },
    { "lenz_expire_links",
      IN_BATCH("links", "expires_at < now() - interval '30 days' "
                        "OR revoked_at < now() - interval '30 days'") },
    { "lenz_expire_notifications",
      IN_BATCH("notifications", "(live AND created_at < now() - interval '1 day') "
               "OR read_at < now() - interval '90 days' "
                                "OR created_at < now() - interval '365 days'") },
    { "lenz_expire_room_events", IN_BATCH("room_events", "created_at < now() - interval '1 day'") },
    { "lenz_expire_file_rows",
      IN_BATCH("files", "state = 'deleted' AND updated_at < now() - interval '30 days'") },
    { "lenz_expire_transfers",
      IN_BATCH("transfers", "coalesce(expires_at, created_at) < now() - interval '30 days' "
                            "AND NOT EXISTS (SELECT 1 FROM files f WHERE f.transfer_id = x.id)") },
    { "lenz_expire_due_files",
      "SELECT f.id, f.s3_key, f.state, f.name, f.owner_id, f.transfer_id, "
      "(SELECT u.s3_upload_id FROM uploads u WHERE u.file_id = f.id AND u.completed_at IS NULL) "
      "FROM files f WHERE f.state <> 'deleted' AND f.expires_at < now() "
      "ORDER BY f.expires_at LIMIT " APR_STRINGIFY(S3_BATCH) },
    { "lenz_expire_file_gone",
      "UPDATE files SET state = 'deleted', updated_at = now() WHERE id = %s::uuid AND state <> 'deleted'" },
    { NULL }
};

apr_status_t lenz_purge_expired_job(lenz_jobctx *jc)
{
    static const struct { const char *label, *what; int idle; } steps[] = {
        { "lenz_expire_otps", "expired one-time codes", 0 },
        { "lenz_expire_idem", "day-old Idempotency-Keys", 0 },
        { "lenz_expire_sessions", "expired or idle sessions", 1 },
        { "lenz_expire_refresh", "expired refresh tokens", 0 },
        { "lenz_expire_families", "ended API token families", 0 },
        { "lenz_expire_pats", "long-ended personal access tokens", 0 },
        { "lenz_expire_links", "long-expired share links", 0 },
        { "lenz_expire_notifications", "old notifications", 0 },
        { "lenz_expire_room_events", "day-old room events", 0 },
        { "lenz_expire_file_rows", "rows of deleted files", 0 },
        { "lenz_expire_transfers", "empty expired transfers", 0 },
    };
    const char *idle = apr_itoa(jc->pool, lenz_cfg_session_idle(lenz_srv(jc->s)));
    apr_time_t start = apr_time_now();
    apr_size_t i;
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        const char *args[1] = { idle };
        apr_status_t rv = lenz_purge_batched(jc, start, steps[i].label, steps[i].idle, args, steps[i].what);
        if (rv != APR_SUCCESS)
            return rv;
    }
    return APR_SUCCESS;
}

static const char *s3_text(apr_pool_t *p, apr_status_t rv, const lenz_s3_error *e)
{
    return apr_psprintf(p, "%s, %d %s", lenz_strerror(rv), e->http_status, e->code ? e->code : "-");
}

apr_status_t lenz_expire_files_job(lenz_jobctx *jc)
{
    lenz_srv_cfg *c = lenz_srv(jc->s);
    apr_time_t start = apr_time_now();
    const char *last_error = NULL;
    lenz_rows rows;
    int i, gone = 0, failed = 0;

    if (!c->s3 || !jc->http)
        return lenz_job_failed(jc, 1, "no S3 client");
    if (lenz_db_select(jc->db, "lenz_expire_due_files", &rows, 0, NULL) != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "listing expired files failed");
    for (i = 0; i < rows.nrows && apr_time_now() - start < S3_BUDGET; i++) {
        const char **row = rows.rows[i], *args[1];
        lenz_s3_error err;
        lenz_json *ev;
        apr_status_t rv = APR_SUCCESS;

        memset(&err, 0, sizeof(err));
        if (row[6])
            rv = lenz_s3_abort_multipart(c->s3, jc->http, jc->pool, row[1], row[6], &err);
        if (rv == APR_SUCCESS || rv == LENZ_ENOTFOUND) {
            memset(&err, 0, sizeof(err));
            rv = lenz_s3_delete_object(c->s3, jc->http, jc->pool, row[1], &err);
        }
        if (rv != APR_SUCCESS && rv != LENZ_ENOTFOUND) {
            failed++;
            last_error = apr_psprintf(jc->pool, "%s: %s", row[1], s3_text(jc->pool, rv, &err));
            continue;
        }
        ev = lenz_json_new_object(jc->pool);
        lenz_json_set_str(ev, "name", row[3]);
        lenz_json_set_str(ev, "owner_id", row[4]);
        lenz_json_set_str(ev, "transfer_id", row[5]);
        lenz_json_set_str(ev, "state", row[2]);
        args[0] = row[0];
        lenz_db_begin(jc->db);
        rv = lenz_db_exec(jc->db, "lenz_expire_file_gone", NULL, 1, args);
        if (rv == APR_SUCCESS)
            rv = lenz_event_emit(jc->db, "file.expired", NULL, row[0], ev);
        lenz_db_end(jc->db, rv != APR_SUCCESS);
        if (rv != APR_SUCCESS)
            return lenz_job_failed(jc, 0, "marking file %s deleted failed", row[0]);
        gone++;
    }
    ap_log_error(APLOG_MARK, gone || failed ? APLOG_INFO : APLOG_DEBUG, 0, jc->s,
                 "expired files: %d deleted from S3, %d failed%s", gone, failed,
                 i < rows.nrows || rows.nrows == S3_BATCH ? " (more next time)" : "");
    if (failed)
        return lenz_job_failed(jc, 0, "%d S3 delete(s) failed; last: %s", failed, last_error);
    return APR_SUCCESS;
}
