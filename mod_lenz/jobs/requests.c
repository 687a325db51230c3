/* requests.c - the "lenz-request-batch" job: one notice to a file
 * request's owner per uploader's batch (requests.h). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "requests.h"
#include "events.h"

#define NAMES_SHOWN 5

const lenz_stmt lenz_requests_stmts[] = {
    /* The files of the batch the owner has not heard of, counted and
     * marked in one statement (the row's lock makes two runs tell once). */
    { "lenz_request_batch_mark",
      "WITH o AS (SELECT id, notified_files AS old FROM transfers "
      "WHERE id = %s::uuid AND request_id IS NOT NULL FOR UPDATE), "
      "c AS (SELECT count(*) AS n, sum(f.size) AS bytes FROM files f, o "
      "WHERE f.transfer_id = o.id AND f.state = 'ready') "
      "UPDATE transfers t SET notified_files = c.n FROM o, c WHERE t.id = o.id AND c.n > o.old "
      "RETURNING t.owner_id, t.request_id, c.n - o.old, c.n, coalesce(c.bytes, 0), "
      "t.uploader_name, t.uploader_message, o.old" },
    { "lenz_request_batch_names",
      "SELECT f.name FROM files f WHERE f.transfer_id = %s::uuid AND f.state = 'ready' "
      "ORDER BY f.updated_at, f.id OFFSET %s::int LIMIT " APR_STRINGIFY(NAMES_SHOWN) },
    { "lenz_request_batch_request",
      "SELECT r.title, d.name FROM file_requests r JOIN folders d ON d.id = r.folder_id WHERE r.id = %s::uuid" },
    { NULL }
};

apr_status_t lenz_request_batch_queue(lenz_db *db, const char *transfer_id, int delay_secs)
{
    apr_pool_t *p = lenz_db_pool(db);
    lenz_json *pl = lenz_json_new_object(p);
    lenz_json_set_str(pl, "transfer_id", transfer_id);
    return lenz_job_enqueue(db, LENZ_REQUEST_BATCH_KIND, pl,
                            apr_time_now() + apr_time_from_sec(delay_secs),
                            apr_pstrcat(p, "request-batch:", transfer_id, NULL));
}

apr_status_t lenz_request_batch_job(lenz_jobctx *jc)
{
    const char *t = NULL, *args[2], **row;
    lenz_rows rows, names, req;
    lenz_json *ev, *arr;
    apr_status_t rv;
    int i;

    if (lenz_json_get_str(jc->job->payload, "transfer_id", &t) != APR_SUCCESS || !t)
        return lenz_job_failed(jc, 1, "the payload names no transfer_id");
    args[0] = t;
    lenz_db_begin(jc->db);
    if (lenz_db_select(jc->db, "lenz_request_batch_mark", &rows, 1, args) != APR_SUCCESS) {
        lenz_db_end(jc->db, 1);
        return lenz_job_failed(jc, 0, "reading the batch failed");
    }
    if (rows.nrows != 1) {
        lenz_db_end(jc->db, 0);     /* nothing new (told already, or gone) */
        return APR_SUCCESS;
    }
    row = rows.rows[0];
    ev = lenz_json_new_object(jc->pool);
    lenz_json_set_str(ev, "owner_id", row[0]);
    lenz_json_set_str(ev, "request_id", row[1]);
    lenz_json_set_str(ev, "transfer_id", t);
    lenz_json_set_int(ev, "files", apr_atoi64(row[2]));
    lenz_json_set_int(ev, "batch_files", apr_atoi64(row[3]));
    lenz_json_set_int(ev, "batch_bytes", apr_atoi64(row[4]));
    lenz_json_set_str(ev, "uploader_name", row[5]);
    lenz_json_set_str(ev, "message", row[6]);
    args[0] = row[1];
    if (lenz_db_select(jc->db, "lenz_request_batch_request", &req, 1, args) == APR_SUCCESS && req.nrows == 1) {
        lenz_json_set_str(ev, "title", req.rows[0][0]);
        lenz_json_set_str(ev, "folder", req.rows[0][1]);
    }
    args[0] = t;
    args[1] = row[7];
    arr = lenz_json_obj_add_array(ev, "names");
    if (lenz_db_select(jc->db, "lenz_request_batch_names", &names, 2, args) == APR_SUCCESS)
        for (i = 0; i < names.nrows; i++)
            lenz_json_arr_add_str(arr, names.rows[i][0]);
    rv = lenz_event_emit(jc->db, "file_request.received", NULL, t, ev);
    lenz_db_end(jc->db, rv != APR_SUCCESS);
    if (rv != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "writing the event failed");
    return APR_SUCCESS;
}
