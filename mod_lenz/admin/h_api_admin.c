/* h_api_admin.c - /api/v1/admin/...: what administrators manage: members
 * (find, read, status, roles, devices, two-factor reset: users.c); the
 * job queue is h_jobs.c's.  Every route needs the admin
 * role; the router's policy point enforces it. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/devices.h"
#include "users.h"
#include "httpd/outbox.h"

const lenz_stmt lenz_api_admin_stmts[] = {
    { NULL }
};

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2250), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "try again shortly");
}

/* GET /api/v1/admin/users?q=&page=: by name or address, prefix or typo
 * (users.c), 50 a page, best match first; "next_page" when there is more. */
static int users(request_rec *r, lenz_req *lr)
{
    const char *q = lenz_query(r, "q"), *pg = lenz_query(r, "page");
    lenz_json *out, *arr;
    lenz_rows rows;
    lenz_db *db;
    int i, page = 1;
    (void)lr;
    if (q && strlen(q) > 254)
        return lenz_field_bad(r, "q", "at most 254 bytes"), OK;
    if (pg && ((page = atoi(pg)) < 1 || page > 10000))
        return lenz_field_bad(r, "page", "1 to 10000"), OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (lenz_adm_search(r, db, q, (page - 1) * LENZ_ADM_PAGE, &rows) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "users");
    for (i = 0; i < rows.nrows && i < LENZ_ADM_PAGE; i++)
        lenz_adm_user_json(lenz_json_arr_add_object(arr), rows.rows[i]);
    if (rows.nrows > LENZ_ADM_PAGE)
        lenz_json_set_int(out, "next_page", page + 1);
    else
        lenz_json_set_null(out, "next_page");
    return lenz_send_json(r, HTTP_OK, out);
}

static int rc_fail(request_rec *r, const lenz_adm_rc *rc)
{
    return lenz_fail(r, rc->status >= 500 ? APLOG_ERR : APLOG_INFO, rc->status >= 500 ? LENZLOGNO(2261) : NULL,
                     rc->status, rc->slug, rc->status == HTTP_NOT_FOUND ? "Not found" : "Not done", rc->detail);
}

/* GET /api/v1/admin/users/{id}: the member and their devices. */
static int user_one(request_rec *r, lenz_req *lr)
{
    lenz_json *out, *arr;
    lenz_rows rows, devices;
    lenz_db *db;
    int i;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (lenz_adm_user(db, lenz_param(lr, "id"), &rows) != APR_SUCCESS
        || (rows.nrows == 1 && lenz_devices_list(r, db, rows.rows[0][0], "", "", &devices) != APR_SUCCESS)) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    if (rows.nrows != 1)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such user");
    out = lenz_json_new_object(r->pool);
    lenz_adm_user_json(out, rows.rows[0]);
    arr = lenz_json_obj_add_array(out, "devices");
    for (i = 0; i < devices.nrows; i++)
        lenz_device_json(lenz_json_arr_add_object(arr), devices.rows[i]);
    return lenz_send_json(r, HTTP_OK, out);
}

/* PATCH /api/v1/admin/users/{id} {"roles":["member","admin",...]} and/or
 * {"quota": bytes or null (the site's)} */
static int user_patch(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *roles, *q;
    const char *list = NULL, *id = lenz_param(lr, "id"), *quota = NULL;
    int has_q;
    lenz_adm_rc rc;
    lenz_db *db;
    apr_size_t i, n;
    if (!b)
        return OK;
    roles = lenz_json_get(b, "roles");
    q = lenz_json_get(b, "quota");                  /* NULL for a JSON null too */
    has_q = lenz_json_has(b, "quota");
    if (!roles && !has_q)
        return lenz_field_bad(r, "roles", "give roles and/or quota"), OK;
    if (roles) {
        if (lenz_json_typeof(roles) != LENZ_JSON_ARRAY || (n = lenz_json_array_len(roles)) > 8)
            return lenz_field_bad(r, "roles", "a list of names from admin, lab, moderator, member"), OK;
        list = "";
        for (i = 0; i < n; i++) {
            const char *s = lenz_json_string(lenz_json_array_get(roles, i));
            if (!s || !*s || strchr(s, ',') || strchr(s, ' '))
                return lenz_field_bad(r, "roles", "a list of names from admin, lab, moderator, member"), OK;
            list = *list ? apr_pstrcat(r->pool, list, ",", s, NULL) : s;
        }
    }
    if (q) {
        apr_int64_t v;
        if (lenz_json_typeof(q) != LENZ_JSON_INT || (v = lenz_json_int(q)) < 0 || v > (APR_INT64_C(1) << 50))
            return lenz_field_bad(r, "quota", "bytes (0 to 2^50), or null for the site's"), OK;
        quota = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, v);
    }
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (list) {
        lenz_adm_set_roles(r, db, lr->user->id, id, list, &rc);
        if (rc.status == HTTP_BAD_REQUEST) {
            lenz_db_close(db);
            return lenz_field_bad(r, "roles", rc.detail), OK;
        }
        if (rc.status) {
            lenz_db_close(db);
            return rc_fail(r, &rc);
        }
    }
    if (has_q) {
        lenz_adm_set_quota(r, db, lr->user->id, id, quota, &rc);
        if (rc.status) {
            lenz_db_close(db);
            return rc_fail(r, &rc);
        }
    }
    lenz_db_close(db);
    return user_one(r, lr);
}

static int user_device_end(request_rec *r, lenz_req *lr)
{
    lenz_adm_rc rc;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_end_device(r, db, lr->user->id, lenz_param(lr, "id"), lenz_param(lr, "dev"), &rc);
    lenz_db_close(db);
    if (rc.status)
        return rc_fail(r, &rc);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

/* DELETE /api/v1/admin/users/{id}: 202, the account disabled now and
 * deleted with its files by a job. */
static int user_delete(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id");
    lenz_json *out;
    lenz_adm_rc rc;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_delete(r, db, lr->user->id, id, &rc);
    lenz_db_close(db);
    if (rc.status)
        return rc_fail(r, &rc);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", id);
    lenz_json_set_str(out, "status", "deleting");
    return lenz_send_json(r, HTTP_ACCEPTED, out);
}

static int user_resend(request_rec *r, lenz_req *lr)
{
    lenz_json *out;
    lenz_adm_rc rc;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_resend(r, db, lr->user->id, lenz_param(lr, "id"), &rc);
    lenz_db_close(db);
    if (rc.status)
        return rc_fail(r, &rc);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "status", "verification_sent");
    return lenz_send_json(r, HTTP_ACCEPTED, out);
}

static int user_totp_reset(request_rec *r, lenz_req *lr)
{
    lenz_adm_rc rc;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_reset_totp(r, db, lr->user->id, lenz_param(lr, "id"), &rc);
    lenz_db_close(db);
    if (rc.status)
        return rc_fail(r, &rc);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int set_status(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *id = lenz_param(lr, "id"), *status;
    lenz_adm_rc rc;
    lenz_db *db;

    if (!b || !lenz_field_str(r, b, "status", 1, 16, &status))
        return OK;
    if (strcmp(status, "active") != 0 && strcmp(status, "disabled") != 0)
        return lenz_field_bad(r, "status", "active or disabled"), OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_adm_set_status(r, db, lr->user->id, id, status, &rc);
    lenz_db_close(db);
    if (rc.status)
        return rc_fail(r, &rc);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", id);
    lenz_json_set_str(out, "status", status);
    return lenz_send_json(r, HTTP_OK, out);
}

const lenz_route lenz_api_admin_routes[] = {
    { LENZ_GET, "/admin/users", users, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/admin/users/{id}/status", set_status, LENZ_ACCESS_ADMIN },
    { LENZ_GET, "/admin/users/{id}", user_one, LENZ_ACCESS_ADMIN },
    { LENZ_PATCH, "/admin/users/{id}", user_patch, LENZ_ACCESS_ADMIN },
    { LENZ_DELETE, "/admin/users/{id}/devices/{dev}", user_device_end, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/admin/users/{id}/totp-reset", user_totp_reset, LENZ_ACCESS_ADMIN },
    { LENZ_DELETE, "/admin/users/{id}", user_delete, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/admin/users/{id}/resend-verification", user_resend, LENZ_ACCESS_ADMIN },
    { 0 }
};
