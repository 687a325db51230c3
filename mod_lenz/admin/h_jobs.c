/* h_jobs.c - the job queue in the admin console (/admin/jobs) and under
 * /api/v1/admin/jobs: jobs by state (queued, running, failed = queued
 * again after an error, dead), retry a dead job, cancel a queued one (it
 * becomes dead with "cancelled by an administrator"), schedules with their
 * last and next run, and a schedule run now.  The runners are woken with
 * NOTIFY lenz_jobs, as lenzctl does; each change is an admin.* event. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "jobs_admin.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/outbox.h"

#define ISO(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define LIST_MAX 100

const lenz_stmt lenz_admin_jobs_stmts[] = {
    { "lenz_adm_jobs",
      "SELECT id, kind, state, attempts, max_attempts, left(coalesce(last_error, ''), 300), "
      ISO("run_at") ", " ISO("updated_at") " FROM jobs "
      "WHERE CASE %s WHEN 'failed' THEN state = 'queued' AND attempts > 0 ELSE state = %s END "
      "ORDER BY updated_at DESC, id DESC LIMIT " APR_STRINGIFY(LIST_MAX) },
    { "lenz_adm_job_counts",
      "SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'running'), "
      "count(*) FILTER (WHERE state = 'queued' AND attempts > 0), count(*) FILTER (WHERE state = 'dead') "
      "FROM jobs WHERE state <> 'done'" },
    { "lenz_adm_schedules",
      "SELECT name, kind, period::text, enabled, " ISO("next_run_at") ", " ISO("last_run_at") ", last_job_id "
      "FROM job_schedules ORDER BY name" },
    { "lenz_adm_job_retry",
      "UPDATE jobs SET state = 'queued', attempts = 0, run_at = now(), finished_at = NULL, updated_at = now() "
      "WHERE id = %s::bigint AND state = 'dead' RETURNING kind" },
    { "lenz_adm_job_cancel",
      "UPDATE jobs SET state = 'dead', last_error = 'cancelled by an administrator', finished_at = now(), "
      "updated_at = now() WHERE id = %s::bigint AND state = 'queued' RETURNING kind" },
    { "lenz_adm_schedule_run",
      "UPDATE job_schedules SET next_run_at = now() WHERE name = %s RETURNING kind" },
    { "lenz_adm_jobs_wake", "SELECT pg_notify('lenz_jobs', 'jobs')" },
    { NULL }
};

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2262), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

static const char *const states[] = { "dead", "failed", "queued", "running" };

static const char *state_of(request_rec *r)
{
    const char *s = lenz_query(r, "state");
    apr_size_t i;
    if (!s)
        return "dead";
    for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(s, states[i]) == 0)
            return states[i];
    return NULL;
}

static void job_json(lenz_json *o, const char **row)
{
    lenz_json_set_int(o, "id", apr_atoi64(row[0]));
    lenz_json_set_str(o, "kind", row[1]);
    lenz_json_set_str(o, "state", row[2]);
    lenz_json_set_int(o, "attempts", apr_atoi64(row[3]));
    lenz_json_set_int(o, "max_attempts", apr_atoi64(row[4]));
    lenz_json_set_str(o, "last_error", *row[5] ? row[5] : NULL);
    lenz_json_set_str(o, "run_at", row[6]);
    lenz_json_set_str(o, "updated_at", row[7]);
}

static void schedule_json(lenz_json *o, const char **row)
{
    lenz_json_set_str(o, "name", row[0]);
    lenz_json_set_str(o, "kind", row[1]);
    lenz_json_set_str(o, "period", row[2]);
    lenz_json_set_bool(o, "enabled", row[3][0] == 't');
    lenz_json_set_str(o, "next_run_at", row[4]);
    lenz_json_set_str(o, "last_run_at", row[5]);
    if (row[6])
        lenz_json_set_int(o, "last_job_id", apr_atoi64(row[6]));
    else
        lenz_json_set_null(o, "last_job_id");
}

/* Jobs of a state, the counts and the schedules, into out. */
static int load(request_rec *r, const char *state, lenz_json *out)
{
    const char *args[2] = { state, state };
    lenz_rows jobs, counts, sched;
    lenz_json *arr, *c;
    lenz_db *db = lenz_db_open(r);
    int i;

    if (!db)
        return 0;
    if (lenz_db_select(db, "lenz_adm_jobs", &jobs, 2, args) != APR_SUCCESS
        || lenz_db_select(db, "lenz_adm_job_counts", &counts, 0, NULL) != APR_SUCCESS || counts.nrows != 1
        || lenz_db_select(db, "lenz_adm_schedules", &sched, 0, NULL) != APR_SUCCESS) {
        lenz_db_close(db);
        return 0;
    }
    lenz_db_close(db);
    lenz_json_set_str(out, "state", state);
    arr = lenz_json_obj_add_array(out, "jobs");
    for (i = 0; i < jobs.nrows; i++)
        job_json(lenz_json_arr_add_object(arr), jobs.rows[i]);
    c = lenz_json_obj_add_object(out, "counts");
    lenz_json_set_int(c, "queued", apr_atoi64(counts.rows[0][0]));
    lenz_json_set_int(c, "running", apr_atoi64(counts.rows[0][1]));
    lenz_json_set_int(c, "failed", apr_atoi64(counts.rows[0][2]));
    lenz_json_set_int(c, "dead", apr_atoi64(counts.rows[0][3]));
    arr = lenz_json_obj_add_array(out, "schedules");
    for (i = 0; i < sched.nrows; i++)
        schedule_json(lenz_json_arr_add_object(arr), sched.rows[i]);
    return 1;
}

/* A change: 0 done, else the HTTP status (404 when nothing matched). */
static int change(request_rec *r, lenz_req *lr, const char *label, const char *what, const char *key)
{
    const char *args[1] = { key };
    lenz_rows rows, wake;
    lenz_json *ev;
    lenz_db *db;
    apr_status_t rv;

    if (!(db = lenz_db_open(r)))
        return HTTP_SERVICE_UNAVAILABLE;
    lenz_db_begin(db);
    rv = lenz_db_select(db, label, &rows, 1, args);
    if (rv == APR_SUCCESS && rows.nrows == 1) {
        ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "kind", rows.rows[0][0]);
        lenz_json_set_str(ev, "ip", r->useragent_ip);
        rv = lenz_event_emit(db, what, lr->user->id, key, ev);
        if (rv == APR_SUCCESS)
            rv = lenz_db_select(db, "lenz_adm_jobs_wake", &wake, 0, NULL);
    }
    lenz_db_end(db, rv != APR_SUCCESS || rows.nrows != 1);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        return HTTP_SERVICE_UNAVAILABLE;
    return rows.nrows == 1 ? 0 : HTTP_NOT_FOUND;
}

static int id_ok(const char *id)
{
    const char *c;
    if (!id || !*id || strlen(id) > 18)
        return 0;
    for (c = id; *c; c++)
        if (*c < '0' || *c > '9')
            return 0;
    return 1;
}

static int act(request_rec *r, lenz_req *lr, int page, const char *label, const char *what, const char *key,
               const char *none)
{
    int rc;
    if (page && !lenz_body_form(r, lr))
        return OK;
    rc = change(r, lr, label, what, key);
    if (rc == HTTP_SERVICE_UNAVAILABLE)
        return unavailable(r);
    if (rc == HTTP_NOT_FOUND)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", none);
    if (page) {
        apr_table_setn(r->err_headers_out, "Location",
                       apr_pstrcat(r->pool, lr->srv->public_url, "/admin/jobs?state=",
                                   ap_escape_uri(r->pool, lenz_query(r, "back") ? lenz_query(r, "back") : "dead"),
                                   "&done=", what + 6, NULL));
        r->status = HTTP_SEE_OTHER;
        return OK;
    }
    r->status = HTTP_NO_CONTENT;
    return OK;
}

/* Pages --------------------------------------------------------------------- */

static int jobs_page(request_rec *r, lenz_req *lr)
{
    const char *state = state_of(r), *done = lenz_query(r, "done");
    lenz_json *ctx = lenz_json_new_object(r->pool);
    if (!state)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "No such state",
                         "state: queued, running, failed or dead");
    if (!load(r, state, ctx))
        return unavailable(r);
    lenz_json_set_str(ctx, "title", "Jobs");
    lenz_json_set_bool(ctx, "nav_jobs", 1);
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    lenz_json_set_bool(ctx, apr_pstrcat(r->pool, "is_", state, NULL), 1);
    if (done && (!strcmp(done, "job_retried") || !strcmp(done, "job_cancelled") || !strcmp(done, "schedule_run")))
        lenz_json_set_str(ctx, "saved", !strcmp(done, "job_retried") ? "The job is queued again."
                                        : !strcmp(done, "job_cancelled") ? "The job was cancelled."
                                        : "The schedule runs now.");
    return lenz_render_page(r, HTTP_OK, "admin/jobs", ctx);
}

static int page_retry(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id");
    if (!id_ok(id))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such dead job");
    return act(r, lr, 1, "lenz_adm_job_retry", "admin.job_retried", id, "no such dead job");
}

static int page_cancel(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id");
    if (!id_ok(id))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such queued job");
    return act(r, lr, 1, "lenz_adm_job_cancel", "admin.job_cancelled", id, "no such queued job");
}

static int page_run(request_rec *r, lenz_req *lr)
{
    return act(r, lr, 1, "lenz_adm_schedule_run", "admin.schedule_run", lenz_param(lr, "name"), "no such schedule");
}

const lenz_route lenz_admin_jobs_routes[] = {
    { LENZ_GET, "/jobs", jobs_page, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/jobs/{id}/retry", page_retry, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/jobs/{id}/cancel", page_cancel, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/schedules/{name}/run", page_run, LENZ_ACCESS_ADMIN },
    { 0 }
};

/* API ------------------------------------------------------------------------- */

static int api_jobs(request_rec *r, lenz_req *lr)
{
    const char *state = state_of(r);
    lenz_json *out = lenz_json_new_object(r->pool);
    (void)lr;
    if (!state)
        return lenz_field_bad(r, "state", "queued, running, failed or dead");
    if (!load(r, state, out))
        return unavailable(r);
    return lenz_send_json(r, HTTP_OK, out);
}

static int api_retry(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id");
    if (!id_ok(id))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such dead job");
    return act(r, lr, 0, "lenz_adm_job_retry", "admin.job_retried", id, "no such dead job");
}

static int api_cancel(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id");
    if (!id_ok(id))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such queued job");
    return act(r, lr, 0, "lenz_adm_job_cancel", "admin.job_cancelled", id, "no such queued job");
}

static int api_run(request_rec *r, lenz_req *lr)
{
    return act(r, lr, 0, "lenz_adm_schedule_run", "admin.schedule_run", lenz_param(lr, "name"), "no such schedule");
}

const lenz_route lenz_api_admin_jobs_routes[] = {
    { LENZ_GET, "/admin/jobs", api_jobs, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/admin/jobs/{id}/retry", api_retry, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/admin/jobs/{id}/cancel", api_cancel, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/admin/schedules/{name}/run", api_run, LENZ_ACCESS_ADMIN },
    { 0 }
};
