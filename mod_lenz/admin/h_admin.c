/* h_admin.c - lenz-admin: the admin console's pages, mounted at /admin
 * (role admin; the router's policy point refuses everyone else).  Pages
 * are drawn on the server and work without scripts; forms post and
 * redirect back.  What each change does: users.c, jobs_admin.c.
 *
 *   GET  /                              dashboard
 *   GET  /users?q=&page=                find members (prefix or typo)
 *   GET  /users/{id}                    one member: roles, devices, 2FA
 *   POST /users/{id}/roles              roles (a box per role)
 *   POST /users/{id}/devices/{dev}/end
 *   POST /users/{id}/totp-reset
 *   POST /users/{id}/status                 active or disabled
 *   POST /users/{id}/delete                 the account and its files (a job)
 *   POST /users/{id}/quota                  quota_mib, or empty for the site's
 *   POST /users/{id}/resend-verification    a new sign-up code (pending accounts)
 *   GET  /jobs?state=                   the queue, schedules
 *   POST /jobs/{id}/retry, /jobs/{id}/cancel, /schedules/{name}/run
 *   GET  /audit?..., /audit.csv?...         the audit log (h_audit.c)
 *   GET  /links?sort=, POST /links/{id}/revoke   live share links (h_links.c)
 *   GET  /system                            versions, keys, settings (h_system.c)
 */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "users.h"
#include "jobs_admin.h"
#include "audit_admin.h"
#include "links_admin.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/devices.h"
#include "httpd/config.h"
#include "httpd/health.h"
#include "httpd/s3glue.h"
#include "svgchart.h"
#include "breaker.h"

#define DAYS 30

const lenz_stmt lenz_admin_page_stmts[] = {
    { "lenz_adm_stats",
      "SELECT (SELECT count(*) FROM users WHERE NOT ('system' = ANY (roles))), "
      "(SELECT count(*) FROM users WHERE NOT ('system' = ANY (roles)) AND created_at > now() - interval '7 days'), "
      "(SELECT coalesce(sum(size), 0) FROM files WHERE state = 'ready' AND storage = 'plain' AND trashed_at IS NULL), "
      "(SELECT coalesce(sum(size), 0) FROM files WHERE state = 'ready' AND storage = 'enc' AND trashed_at IS NULL), "
      "(SELECT coalesce(sum(size), 0) FROM files WHERE state = 'ready' AND trashed_at IS NOT NULL), "
      "(SELECT count(*) FROM jobs WHERE state = 'dead'), "
      "(SELECT count(*) FROM jobs WHERE state = 'queued' AND attempts > 0)" },
    /* Uploads finished, downloads counted and bytes served per day (UTC)
     * for 30 days; downloads from the audit log, which keeps every event;
     * bytes from daily_traffic (jobs/traffic.c). */
    { "lenz_adm_daily",
      "SELECT to_char(d, 'MM-DD'), "
      "(SELECT count(*) FROM files f WHERE f.created_at >= d AND f.created_at < d + interval '1 day' "
      " AND f.state <> 'uploading'), "
      "(SELECT count(*) FROM audit_log a WHERE a.type = 'link.downloaded' AND a.created_at >= d "
      " AND a.created_at < d + interval '1 day'), "
      "coalesce((SELECT t.bytes_out FROM daily_traffic t WHERE t.day = (d AT TIME ZONE 'UTC')::date), 0) "
      "FROM generate_series(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '"
      APR_STRINGIFY(DAYS) " days' + interval '1 day', now(), interval '1 day') d ORDER BY d" },
    { NULL }
};

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2260), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

static lenz_json *page_ctx(request_rec *r, lenz_req *lr, const char *title)
{
    lenz_json *ctx = lenz_json_new_object(r->pool);
    lenz_json_set_str(ctx, "title", title);
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    return ctx;
}

static int back(request_rec *r, lenz_req *lr, const char *to)
{
    apr_table_setn(r->err_headers_out, "Location", apr_pstrcat(r->pool, lr->srv->public_url, to, NULL));
    r->status = HTTP_SEE_OTHER;
    return OK;
}

static int failed(request_rec *r, const lenz_adm_rc *rc)
{
    return lenz_fail(r, rc->status >= 500 ? APLOG_ERR : APLOG_INFO, rc->status >= 500 ? LENZLOGNO(2261) : NULL,
                     rc->status, rc->slug, rc->status == HTTP_NOT_FOUND ? "Not found" : "Not done", rc->detail);
}

/* Dashboard ----------------------------------------------------------------- */

static int dashboard(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = page_ctx(r, lr, "Administration"), *days;
    apr_int64_t served = 0;
    lenz_json_set_bool(ctx, "nav_dash", 1);
    lenz_rows st, daily;
    lenz_db *db = lenz_db_open(r);
    lenz_breaker *b = lenz_s3_breaker(lr->srv->s3);
    const char **labels;
    long *up, *down;
    const char *svg;
    int i;

    if (!db)
        return unavailable(r);
    if (lenz_db_select(db, "lenz_adm_stats", &st, 0, NULL) != APR_SUCCESS || st.nrows != 1
        || lenz_db_select(db, "lenz_adm_daily", &daily, 0, NULL) != APR_SUCCESS || daily.nrows < 1) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    lenz_json_set_str(ctx, "users", st.rows[0][0]);
    lenz_json_set_str(ctx, "users_week", st.rows[0][1]);
    lenz_json_set_str(ctx, "plain", lenz_human_size(r->pool, apr_atoi64(st.rows[0][2])));
    lenz_json_set_str(ctx, "encrypted", lenz_human_size(r->pool, apr_atoi64(st.rows[0][3])));
    lenz_json_set_str(ctx, "trash", lenz_human_size(r->pool, apr_atoi64(st.rows[0][4])));
    lenz_json_set_str(ctx, "dead_jobs", st.rows[0][5]);
    lenz_json_set_str(ctx, "retrying_jobs", st.rows[0][6]);
    {
        /* The host's last /health probe (httpd/health.c): not made here,
         * so a dashboard costs no SMTP session or S3 request. */
        lenz_health_result hr;
        if (lenz_health_last(r, &hr)) {
            lenz_json_set_str(ctx, "health", apr_psprintf(r->pool, "database %s, S3 %s, mail %s (checked %"
                                                          APR_TIME_T_FMT " s ago)", hr.db ? "ok" : "down",
                                                          hr.s3 ? "ok" : "down", hr.smtp ? "ok" : "down",
                                                          apr_time_sec(apr_time_now() - hr.at)));
            lenz_json_set_bool(ctx, "health_down", !(hr.db && hr.s3 && hr.smtp));
        }
    }
    lenz_json_set_str(ctx, "s3_breaker", !b ? "not configured"
                      : lenz_breaker_state_of(b, apr_time_now(), r->pool) == LENZ_BREAKER_CLOSED ? "closed (S3 answering)"
                      : lenz_breaker_state_of(b, apr_time_now(), r->pool) == LENZ_BREAKER_OPEN ? "open (S3 failing)"
                      : "half-open (trying S3 again)");
    labels = apr_pcalloc(r->pool, sizeof(*labels) * daily.nrows);
    up = apr_pcalloc(r->pool, sizeof(*up) * daily.nrows);
    down = apr_pcalloc(r->pool, sizeof(*down) * daily.nrows);
    days = lenz_json_obj_add_array(ctx, "days");
    for (i = 0; i < daily.nrows; i++) {
        lenz_json *d = lenz_json_arr_add_object(days);
        labels[i] = daily.rows[i][0];
        up[i] = (long)apr_atoi64(daily.rows[i][1]);
        down[i] = (long)apr_atoi64(daily.rows[i][2]);
        lenz_json_set_str(d, "day", labels[i]);
        lenz_json_set_int(d, "uploads", up[i]);
        lenz_json_set_int(d, "downloads", down[i]);
        lenz_json_set_str(d, "served", lenz_human_size(r->pool, apr_atoi64(daily.rows[i][3])));
        lenz_json_set_int(d, "served_bytes", apr_atoi64(daily.rows[i][3]));
        served += apr_atoi64(daily.rows[i][3]);
    }
    lenz_json_set_str(ctx, "served_30", lenz_human_size(r->pool, served));
    svg = lenz_svg_bars(r->pool, "Uploads and downloads per day, last 30 days", labels, up, "Uploads",
                        down, "Downloads", daily.nrows);
    lenz_json_set_str(ctx, "chart", svg);
    return lenz_render_page(r, HTTP_OK, "admin/dashboard", ctx);
}

/* Users -------------------------------------------------------------------------- */

static int users(request_rec *r, lenz_req *lr)
{
    const char *q = lenz_query(r, "q"), *pg = lenz_query(r, "page");
    int page = pg ? atoi(pg) : 1, i;
    lenz_json *ctx = page_ctx(r, lr, "Members"), *arr;
    lenz_rows rows;
    lenz_db *db;

    lenz_json_set_bool(ctx, "nav_users", 1);
    if (q && strlen(q) > 254)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "Search too long",
                         "search with at most 254 characters");
    if (page < 1 || page > 10000)
        page = 1;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (lenz_adm_search(r, db, q, (page - 1) * LENZ_ADM_PAGE, &rows) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    arr = lenz_json_obj_add_array(ctx, "users");
    for (i = 0; i < rows.nrows && i < LENZ_ADM_PAGE; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_adm_user_json(o, rows.rows[i]);
        lenz_json_set_str(o, "used_text", lenz_human_size(r->pool, apr_atoi64(rows.rows[i][7])));
    }
    lenz_json_set_str(ctx, "q", q ? q : "");
    if (lenz_query(r, "deleted"))
        lenz_json_set_str(ctx, "saved", "The account is disabled; its files and then the account are being deleted.");
    lenz_json_set_bool(ctx, "none", rows.nrows == 0);
    if (rows.nrows > LENZ_ADM_PAGE)
        lenz_json_set_str(ctx, "next", apr_psprintf(r->pool, "?q=%s&page=%d", ap_escape_uri(r->pool, q ? q : ""),
                                                    page + 1));
    if (page > 1)
        lenz_json_set_str(ctx, "prev", apr_psprintf(r->pool, "?q=%s&page=%d", ap_escape_uri(r->pool, q ? q : ""),
                                                    page - 1));
    return lenz_render_page(r, HTTP_OK, "admin/users", ctx);
}

static int user(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id");
    lenz_json *ctx, *u, *arr;
    lenz_rows rows, devices;
    lenz_db *db;
    unsigned bits;
    int i;

    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (lenz_adm_user(db, id, &rows) != APR_SUCCESS
        || (rows.nrows == 1 && lenz_devices_list(r, db, rows.rows[0][0], "", "", &devices) != APR_SUCCESS)) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    if (rows.nrows != 1)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such member");
    ctx = page_ctx(r, lr, "Member");
    lenz_json_set_bool(ctx, "nav_users", 1);
    u = lenz_json_obj_add_object(ctx, "u");
    lenz_adm_user_json(u, rows.rows[0]);
    lenz_json_set_str(u, "used_text", lenz_human_size(r->pool, apr_atoi64(rows.rows[0][7])));
    if (rows.rows[0][9])
        lenz_json_set_str(ctx, "quota_mib", apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                                         apr_atoi64(rows.rows[0][9]) / 1048576));
    lenz_json_set_str(ctx, "site_quota", lenz_human_size(r->pool, lenz_cfg_member_quota(lr->srv)));
    bits = lenz_roles_parse(rows.rows[0][4]);
    lenz_json_set_bool(ctx, "is_member", (bits & LENZ_ROLE_MEMBER) != 0);
    lenz_json_set_bool(ctx, "is_lab", (bits & LENZ_ROLE_LAB) != 0);
    lenz_json_set_bool(ctx, "is_moderator", (bits & LENZ_ROLE_MODERATOR) != 0);
    lenz_json_set_bool(ctx, "is_admin", (bits & LENZ_ROLE_ADMIN) != 0);
    lenz_json_set_bool(ctx, "is_self", strcmp(rows.rows[0][0], lr->user->id) == 0);
    lenz_json_set_bool(ctx, "is_active", strcmp(rows.rows[0][3], "active") == 0);
    lenz_json_set_bool(ctx, "is_pending", strcmp(rows.rows[0][3], "pending") == 0);
    arr = lenz_json_obj_add_array(ctx, "devices");
    for (i = 0; i < devices.nrows; i++)
        lenz_device_json(lenz_json_arr_add_object(arr), devices.rows[i]);
    lenz_json_set_bool(ctx, "no_devices", devices.nrows == 0);
    if (lenz_query(r, "saved"))
        lenz_json_set_str(ctx, "saved", "Saved.");
    return lenz_render_page(r, HTTP_OK, "admin/user", ctx);
}

/* The forms (a box per role: the ticked ones are the member's roles). */
static int form_roles(request_rec *r, lenz_req *lr)
{
    static const char *const names[] = { "member", "lab", "moderator", "admin" };
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id = lenz_param(lr, "id"), *list = "";
    lenz_adm_rc rc;
    lenz_db *db;
    apr_size_t i;

    if (!f)
        return OK;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (apr_table_get(f, apr_pstrcat(r->pool, "role_", names[i], NULL)))
            list = *list ? apr_pstrcat(r->pool, list, ",", names[i], NULL) : names[i];
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_set_roles(r, db, lr->user->id, id, list, &rc);
    lenz_db_close(db);
    return rc.status ? failed(r, &rc) : back(r, lr, apr_pstrcat(r->pool, "/admin/users/", id, "?saved=roles", NULL));
}

static int form_device_end(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id = lenz_param(lr, "id");
    lenz_adm_rc rc;
    lenz_db *db;
    if (!f)
        return OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_end_device(r, db, lr->user->id, id, lenz_param(lr, "dev"), &rc);
    lenz_db_close(db);
    return rc.status ? failed(r, &rc) : back(r, lr, apr_pstrcat(r->pool, "/admin/users/", id, "?saved=device", NULL));
}

static int form_totp_reset(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id = lenz_param(lr, "id");
    lenz_adm_rc rc;
    lenz_db *db;
    if (!f)
        return OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_reset_totp(r, db, lr->user->id, id, &rc);
    lenz_db_close(db);
    return rc.status ? failed(r, &rc) : back(r, lr, apr_pstrcat(r->pool, "/admin/users/", id, "?saved=totp", NULL));
}

static int form_status(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id = lenz_param(lr, "id"), *status;
    lenz_adm_rc rc;
    lenz_db *db;
    if (!f)
        return OK;
    status = apr_table_get(f, "status");
    if (!status || (strcmp(status, "active") && strcmp(status, "disabled")))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "Choose a status",
                         "active or disabled");
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_set_status(r, db, lr->user->id, id, status, &rc);
    lenz_db_close(db);
    return rc.status ? failed(r, &rc) : back(r, lr, apr_pstrcat(r->pool, "/admin/users/", id, "?saved=status", NULL));
}

static int form_delete(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_adm_rc rc;
    lenz_db *db;
    if (!f)
        return OK;
    if (!apr_table_get(f, "confirm"))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "Confirm first",
                         "tick the box saying the account and its files are to be deleted");
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_delete(r, db, lr->user->id, lenz_param(lr, "id"), &rc);
    lenz_db_close(db);
    return rc.status ? failed(r, &rc) : back(r, lr, "/admin/users?deleted=1");
}

/* quota_mib: a whole number of MiB, or empty for the site's quota. */
static int form_quota(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id = lenz_param(lr, "id"), *v, *c, *quota = NULL;
    lenz_adm_rc rc;
    lenz_db *db;
    if (!f)
        return OK;
    v = apr_table_get(f, "quota_mib");
    if (v && *v) {
        for (c = v; *c; c++)
            if (*c < '0' || *c > '9' || c - v > 9)
                return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "Check the quota",
                                 "a whole number of MiB, or empty for the site's quota");
        quota = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, apr_atoi64(v) * 1048576);
    }
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_set_quota(r, db, lr->user->id, id, quota, &rc);
    lenz_db_close(db);
    return rc.status ? failed(r, &rc) : back(r, lr, apr_pstrcat(r->pool, "/admin/users/", id, "?saved=quota", NULL));
}

static int form_resend(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id = lenz_param(lr, "id");
    lenz_adm_rc rc;
    lenz_db *db;
    if (!f)
        return OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_resend(r, db, lr->user->id, id, &rc);
    lenz_db_close(db);
    return rc.status ? failed(r, &rc) : back(r, lr, apr_pstrcat(r->pool, "/admin/users/", id, "?saved=resent", NULL));
}

static const lenz_route routes[] = {
    { LENZ_GET, "/", dashboard, LENZ_ACCESS_ADMIN },
    { LENZ_GET, "/users", users, LENZ_ACCESS_ADMIN },
    { LENZ_GET, "/users/{id}", user, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/users/{id}/roles", form_roles, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/users/{id}/devices/{dev}/end", form_device_end, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/users/{id}/totp-reset", form_totp_reset, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/users/{id}/status", form_status, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/users/{id}/delete", form_delete, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/users/{id}/quota", form_quota, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/users/{id}/resend-verification", form_resend, LENZ_ACCESS_ADMIN },
    { 0 }
};

static const lenz_route *const tables[] = {
    routes, lenz_admin_jobs_routes, lenz_admin_audit_routes, lenz_admin_links_routes, lenz_admin_system_routes, NULL
};

const lenz_area lenz_area_admin = { "lenz-admin", "admin", tables, NULL, 0 };
