/* s3abort.c - the "lenz-s3-abort-abandoned" job: aborts multipart uploads
 * under files/ that were started longer ago than LenzUploadAbandonAfter
 * (S3 ListMultipartUploads + AbortMultipartUpload), so their parts stop
 * costing storage, and marks a file row still 'uploading' under that key
 * as deleted.  Payload (optional): "older_than_seconds" overrides the age
 * for one run, for an operator who wants them gone now.
 *
 * Two passes: first the database's own record of open uploads (table
 * uploads; works with every store), then S3's list (catches uploads the
 * database never heard of: a crash between S3's answer and the insert).
 * A store without ListMultipartUploads (501 NotImplemented) gets only the
 * first. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "jobkinds.h"
#include "httpd/config.h"
#include "s3.h"
#include "err.h"

#define PREFIX    "files/"
#define MAX_ABORT 1000                          /* per run; the next run goes on */
#define BUDGET    apr_time_from_sec(120)

const lenz_stmt lenz_s3abort_stmts[] = {
    { "lenz_s3abort_file",
      "UPDATE files SET state = 'deleted', updated_at = now() "
      "WHERE s3_key = %s AND state = 'uploading'" },
    { "lenz_s3abort_db_open",
      "SELECT f.s3_key, u.s3_upload_id FROM uploads u JOIN files f ON f.id = u.file_id "
      "WHERE u.completed_at IS NULL AND f.state = 'uploading' "
      "AND u.created_at < now() - make_interval(secs => %s::int) "
      "ORDER BY u.created_at LIMIT " APR_STRINGIFY(MAX_ABORT) },
    { NULL }
};

static const char *s3_text(apr_pool_t *p, apr_status_t rv, const lenz_s3_error *e)
{
    return apr_psprintf(p, "%s, %d %s: %s", lenz_strerror(rv), e->http_status,
                        e->code ? e->code : "-", e->message ? e->message : "");
}

apr_status_t lenz_s3_abort_job(lenz_jobctx *jc)
{
    lenz_srv_cfg *c = lenz_srv(jc->s);
    apr_int64_t age = lenz_cfg_upload_abandon(c);
    apr_time_t start = apr_time_now(), cutoff;
    apr_array_header_t *ups = NULL;
    const char *last_error = NULL;
    lenz_s3_error err;
    apr_status_t rv;
    int i, aborted = 0, failed = 0;

    if (lenz_json_get_int(jc->job->payload, "older_than_seconds", &age) == APR_EINVAL || age < 1)
        return lenz_job_failed(jc, 1, "older_than_seconds must be a positive number");
    if (!c->s3 || !jc->http)
        return lenz_job_failed(jc, 1, "no S3 client");
    /* Pass 1: the database's record. */
    {
        const char *args[1];
        lenz_rows rows;
        args[0] = apr_psprintf(jc->pool, "%" APR_INT64_T_FMT, age);
        if (lenz_db_select(jc->db, "lenz_s3abort_db_open", &rows, 1, args) != APR_SUCCESS)
            return lenz_job_failed(jc, 0, "reading the open uploads failed");
        for (i = 0; i < rows.nrows && apr_time_now() - start < BUDGET; i++) {
            memset(&err, 0, sizeof(err));
            rv = lenz_s3_abort_multipart(c->s3, jc->http, jc->pool, rows.rows[i][0], rows.rows[i][1], &err);
            if (rv != APR_SUCCESS && rv != LENZ_ENOTFOUND) {
                failed++;
                last_error = s3_text(jc->pool, rv, &err);
                continue;
            }
            aborted++;
            args[0] = rows.rows[i][0];
            if (lenz_db_exec(jc->db, "lenz_s3abort_file", NULL, 1, args) != APR_SUCCESS)
                return lenz_job_failed(jc, 0, "marking the file of %s deleted failed", rows.rows[i][0]);
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, jc->s,
                         "aborted the abandoned upload of %s (from the database's record)", rows.rows[i][0]);
        }
    }
    /* Pass 2: S3's list. */
    memset(&err, 0, sizeof(err));
    rv = lenz_s3_list_multipart_uploads(c->s3, jc->http, jc->pool, PREFIX, &ups, &err);
    if (rv != APR_SUCCESS && err.http_status == 501) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, jc->s,
                     "abandoned uploads: the store cannot list them; the database's record only");
        ups = apr_array_make(jc->pool, 1, sizeof(lenz_s3_upload));
    }
    else if (rv != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "S3 ListMultipartUploads: %s", s3_text(jc->pool, rv, &err));
    cutoff = start - apr_time_from_sec(age);
    for (i = 0; i < ups->nelts && aborted + failed < MAX_ABORT; i++) {
        const lenz_s3_upload *u = &APR_ARRAY_IDX(ups, i, lenz_s3_upload);
        const char *args[1];
        if (!u->initiated || u->initiated >= cutoff)
            continue;
        if (apr_time_now() - start > BUDGET)
            break;
        memset(&err, 0, sizeof(err));
        rv = lenz_s3_abort_multipart(c->s3, jc->http, jc->pool, u->key, u->upload_id, &err);
        if (rv != APR_SUCCESS && rv != LENZ_ENOTFOUND) {
            failed++;
            last_error = s3_text(jc->pool, rv, &err);
            continue;
        }
        aborted++;
        args[0] = u->key;
        if (lenz_db_exec(jc->db, "lenz_s3abort_file", NULL, 1, args) != APR_SUCCESS)
            return lenz_job_failed(jc, 0, "marking the file of %s deleted failed", u->key);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, jc->s,
                     "aborted the multipart upload of %s started %" APR_TIME_T_FMT " s ago",
                     u->key, apr_time_sec(start - u->initiated));
    }
    ap_log_error(APLOG_MARK, aborted ? APLOG_INFO : APLOG_DEBUG, 0, jc->s,
                 "abandoned uploads: %d open, %d aborted, %d failed", ups->nelts, aborted, failed);
    if (failed)
        return lenz_job_failed(jc, 0, "%d abort(s) failed; last: %s", failed, last_error);
    return APR_SUCCESS;
}
