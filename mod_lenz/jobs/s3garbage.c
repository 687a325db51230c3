/* s3garbage.c - the "lenz-s3-garbage" job: deletes from S3 the objects
 * whose files rows are gone (table s3_garbage, filled by lenz_trash_empty()
 * when a member empties the trash or lenz-trash-purge purges it), in
 * batches of up to 1000 keys with DeleteObjects, and forgets a key only
 * once S3 has said it is gone.
 *
 * One batch is one transaction on the runner's connection:
 *   1. the oldest queued keys no other runner holds, locked (FOR UPDATE
 *      SKIP LOCKED, so runners in every process and host share the work);
 *   2. DeleteObjects;
 *   3. the keys S3 reported deleted, or reported as NoSuchKey, leave the
 *      queue; a key with any other error stays, moved to the back of the
 *      queue (logged, LENZ2340), and a key S3 did not mention stays as is;
 *   4. commit.
 * A crash, or a lost answer, anywhere before the commit rolls it all
 * back: the keys are still queued and the next run sends them again.
 * Deleting again is harmless: S3 answers "deleted" (or NoSuchKey) for an
 * object that is already gone.  A key still named by a files row is never
 * taken (so no object in use is ever deleted, whatever queued it).
 *
 * A run does at most MAX_BATCHES batches within BUDGET and then queues
 * another run at once when keys are left, so one job's memory stays
 * bounded however long the queue. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "jobkinds.h"
#include "s3garbage.h"
#include "httpd/config.h"
#include "s3.h"
#include "s3xml.h"
#include "err.h"

#define MAX_BATCHES  10
#define BUDGET       apr_time_from_sec(120)
#define MAX_EXAMPLES 3                  /* failed keys named in the log per run */

const lenz_stmt lenz_s3garbage_stmts[] = {
    { "lenz_garbage_batch",
      "SELECT g.s3_key FROM s3_garbage g "
      "WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.s3_key = g.s3_key AND f.state <> 'deleted') "
      "ORDER BY g.queued_at LIMIT " APR_STRINGIFY(LENZ_S3_MAX_DELETE) " FOR UPDATE OF g SKIP LOCKED" },
    { "lenz_garbage_gone",
      "DELETE FROM s3_garbage WHERE s3_key IN (SELECT jsonb_array_elements_text(%s::jsonb))" },
    { "lenz_garbage_later",
      "UPDATE s3_garbage SET queued_at = now() WHERE s3_key IN (SELECT jsonb_array_elements_text(%s::jsonb))" },
    { NULL }
};

apr_status_t lenz_s3_garbage_enqueue(lenz_db *db)
{
    return lenz_job_enqueue(db, LENZ_S3_GARBAGE_KIND, NULL, 0, NULL);
}

typedef struct {
    int gone, failed;
    int examples;
    const char *example[MAX_EXAMPLES];
} tally;

static void failed_key(apr_pool_t *p, tally *t, lenz_json *later, const char *key, const char *code,
                       const char *message)
{
    lenz_json_arr_add_str(later, key);
    if (t->examples < MAX_EXAMPLES)
        t->example[t->examples++] = apr_psprintf(p, "%s: %s%s%s", key, code, message && *message ? " " : "",
                                                 message ? message : "");
    t->failed++;
}

/* DeleteObjects for the keys an XML body can carry, DeleteObject for any
 * other (S3 keys are any UTF-8; ours never need it).  Fills gone and
 * later; an error that is not about one key fails the whole batch. */
static apr_status_t delete_batch(lenz_jobctx *jc, apr_pool_t *p, const lenz_rows *rows,
                                 lenz_json *gone, lenz_json *later, tally *t, const char **why)
{
    lenz_srv_cfg *c = lenz_srv(jc->s);
    const char **keys = apr_palloc(p, sizeof(char *) * (apr_size_t)rows->nrows);
    apr_array_header_t *res;
    lenz_s3_error err;
    apr_status_t rv;
    int i, n = 0;

    for (i = 0; i < rows->nrows; i++) {
        const char *key = rows->rows[i][0];
        if (lenz_s3xml_key_ok(key)) {
            keys[n++] = key;
            continue;
        }
        rv = lenz_s3_delete_object(c->s3, jc->http, p, key, &err);
        if (rv == APR_SUCCESS || rv == LENZ_ENOTFOUND) {
            lenz_json_arr_add_str(gone, key);
            t->gone++;
        }
        else
            failed_key(jc->pool, t, later, key, err.code ? err.code : lenz_strerror(rv), err.message);
    }
    if (n == 0)
        return APR_SUCCESS;
    rv = lenz_s3_delete_objects(c->s3, jc->http, p, keys, n, &res, &err);
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(jc->pool, "S3 DeleteObjects of %d keys: %s, %d %s%s%s", n, lenz_strerror(rv),
                            err.http_status, err.code ? err.code : "-", err.message && *err.message ? ": " : "",
                            err.message ? err.message : "");
        return rv;
    }
    for (i = 0; i < res->nelts; i++) {
        const lenz_s3_deleted *d = &APR_ARRAY_IDX(res, i, lenz_s3_deleted);
        if (!d->code || strcmp(d->code, "NoSuchKey") == 0) {
            lenz_json_arr_add_str(gone, d->key);
            t->gone++;
        }
        else
            failed_key(jc->pool, t, later, d->key, d->code, d->message);
    }
    /* Keys the answer does not name stay queued as they are. */
    return APR_SUCCESS;
}

apr_status_t lenz_s3_garbage_job(lenz_jobctx *jc)
{
    lenz_srv_cfg *c = lenz_srv(jc->s);
    apr_time_t start = apr_time_now();
    const char *failed = NULL;
    apr_pool_t *bp;
    tally t;
    int batches = 0, full = 0, progress = 0;

    if (!c->s3 || !jc->http)
        return lenz_job_failed(jc, 1, "no S3 client");
    memset(&t, 0, sizeof(t));
    apr_pool_create(&bp, jc->pool);
    while (batches < MAX_BATCHES && apr_time_now() - start < BUDGET) {
        lenz_json *gone = lenz_json_new_array(bp), *later = lenz_json_new_array(bp);
        const char *args[1];
        int gone_before = t.gone;
        lenz_rows rows;
        apr_status_t rv;

        if (lenz_db_begin(jc->db) != APR_SUCCESS) {
            failed = "cannot begin a transaction";
            break;
        }
        if (lenz_db_select(jc->db, "lenz_garbage_batch", &rows, 0, NULL) != APR_SUCCESS) {
            lenz_db_end(jc->db, 1);
            failed = "reading the queue failed";
            break;
        }
        if (rows.nrows == 0) {
            lenz_db_end(jc->db, 0);
            full = 0;
            break;
        }
        batches++;
        full = rows.nrows == LENZ_S3_MAX_DELETE;
        rv = delete_batch(jc, bp, &rows, gone, later, &t, &failed);
        if (rv != APR_SUCCESS) {
            lenz_db_end(jc->db, 1);
            break;
        }
        args[0] = lenz_json_dump(bp, gone);
        if (t.gone > gone_before)
            rv = lenz_db_exec(jc->db, "lenz_garbage_gone", NULL, 1, args);
        args[0] = lenz_json_dump(bp, later);
        if (rv == APR_SUCCESS && strcmp(args[0], "[]") != 0)
            rv = lenz_db_exec(jc->db, "lenz_garbage_later", NULL, 1, args);
        if (lenz_db_end(jc->db, rv != APR_SUCCESS) != APR_SUCCESS || rv != APR_SUCCESS) {
            failed = apr_psprintf(jc->pool, "recording the deleted keys failed (%d deleted from S3 "
                                  "stay queued; the next run deletes them again)", t.gone - gone_before);
            t.gone = gone_before;
            break;
        }
        /* Another batch only after a full one that got somewhere: keys
         * that failed are at the back now, and come round again only
         * after every other key (or in the next run). */
        progress = t.gone > gone_before;
        apr_pool_clear(bp);
        if (!full || !progress)
            break;
    }
    if (t.failed) {
        int i;
        const char *ex = "";
        for (i = 0; i < t.examples; i++)
            ex = apr_pstrcat(jc->pool, ex, i ? "; " : "", t.example[i], NULL);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, jc->s,
                     LENZLOGNO(2340) "S3 garbage: %d object(s) could not be deleted and stay queued "
                     "for the next run, e.g. %s", t.failed, ex);
    }
    ap_log_error(APLOG_MARK, t.gone || t.failed ? APLOG_INFO : APLOG_DEBUG, 0, jc->s,
                 "S3 garbage: %d object(s) deleted and forgotten, %d failed, in %d batch(es)%s", t.gone,
                 t.failed, batches, !failed && full && progress ? " (more: another run queued)" : "");
    if (failed)
        return lenz_job_failed(jc, 0, "%s", failed);
    if (full && progress && lenz_s3_garbage_enqueue(jc->db) != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "queueing the next run failed");
    return APR_SUCCESS;
}
