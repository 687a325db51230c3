/* trash.c - the "lenz-trash-purge" job: what members put in the trash
 * more than LenzTrashDays ago (default 30) goes for good, as if they had
 * emptied it then.  For every member with such items, one statement (one
 * transaction) each: lenz_trash_empty(member, days) (sql/013, the function
 * DELETE /api/v1/trash runs with 0): the files trashed that long ago and
 * the folders with everything in them, their S3 keys queued in s3_garbage.
 * Then one run of lenz-s3-garbage is queued to delete the objects (should
 * that fail, the garbage job's own schedule comes).  At most MAX_OWNERS
 * members per run, within BUDGET; the rest waits for the next run.
 * Payload (optional): "older_than_days" overrides LenzTrashDays for one
 * run. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "jobkinds.h"
#include "s3garbage.h"
#include "httpd/config.h"

#define MAX_OWNERS 1000
#define BUDGET     apr_time_from_sec(60)

const lenz_stmt lenz_trash_stmts[] = {
    /* Both through the partial indexes on trashed_at. */
    { "lenz_trash_owners",
      "SELECT owner_id FROM ("
      " SELECT owner_id FROM folders WHERE trashed_at < now() - make_interval(days => %s::int)"
      " UNION"
      " SELECT owner_id FROM files WHERE trashed_at < now() - make_interval(days => %s::int)"
      "  AND state = 'ready' AND owner_id IS NOT NULL) o "
      "LIMIT " APR_STRINGIFY(MAX_OWNERS) },
    { "lenz_trash_purge", "SELECT lenz_trash_empty(%s::uuid, %s::int)" },
    { NULL }
};

apr_status_t lenz_trash_purge_job(lenz_jobctx *jc)
{
    apr_int64_t days = lenz_cfg_trash_days(lenz_srv(jc->s));
    apr_time_t start = apr_time_now();
    const char *args[2], *d, *failed = NULL;
    lenz_rows owners;
    long files = 0;
    int i, members = 0;

    if (lenz_json_get_int(jc->job->payload, "older_than_days", &days) == APR_EINVAL || days < 1
        || days > 3650)
        return lenz_job_failed(jc, 1, "older_than_days must be a number of days (1-3650)");
    args[0] = args[1] = d = apr_psprintf(jc->pool, "%" APR_INT64_T_FMT, days);
    if (lenz_db_select(jc->db, "lenz_trash_owners", &owners, 2, args) != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "listing the members with old trash failed");
    for (i = 0; i < owners.nrows && apr_time_now() - start < BUDGET; i++) {
        lenz_rows rows;
        args[0] = owners.rows[i][0];
        if (lenz_db_select(jc->db, "lenz_trash_purge", &rows, 2, args) != APR_SUCCESS || rows.nrows != 1) {
            failed = owners.rows[i][0];
            break;
        }
        files += (long)apr_atoi64(rows.rows[0][0]);
        members++;
    }
    ap_log_error(APLOG_MARK, members ? APLOG_INFO : APLOG_DEBUG, 0, jc->s,
                 "trash purge: %ld file(s) of %d member(s) trashed more than %s days ago%s",
                 files, members, d, i < owners.nrows || owners.nrows == MAX_OWNERS
                 ? " (more next time)" : "");
    if (files > 0 && lenz_s3_garbage_enqueue(jc->db) != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "queueing lenz-s3-garbage failed");
    if (failed)
        return lenz_job_failed(jc, 0, "purging the trash of member %s failed (after %d member(s))",
                               failed, members);
    return APR_SUCCESS;
}
