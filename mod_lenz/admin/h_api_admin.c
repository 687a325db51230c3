/* h_api_admin.c - /api/v1/admin/...: what administrators manage (users'
 * status; more areas add their tables here).  Every route needs the admin
 * role; the router's policy point enforces it. */
#include <apr_strings.h>
#include <apr_uuid.h>

#include "httpd/lenz.h"
#include "area.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"

const lenz_stmt lenz_api_admin_stmts[] = {
    { "lenz_admin_users",
      "SELECT id, email, name, status, roles::text, "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM users "
      "WHERE NOT ('system' = ANY (roles)) AND (%s::text IS NULL OR strpos(lower(email::text), lower(%s)) > 0) "
      "ORDER BY created_at DESC LIMIT 200" },
    { "lenz_admin_status",
      "UPDATE users SET status = %s, updated_at = now() WHERE id = %s::uuid "
      "AND NOT ('system' = ANY (roles)) AND status <> 'pending'" },
    { "lenz_admin_end_sessions", "DELETE FROM sessions WHERE user_id = %s::uuid" },
    { "lenz_admin_revoke",
      "UPDATE token_families SET revoked_at = now(), revoke_reason = 'disabled by an administrator' "
      "WHERE user_id = %s::uuid AND revoked_at IS NULL" },
    { NULL }
};

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2250), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "try again shortly");
}

static int users(request_rec *r, lenz_req *lr)
{
    const char *q = lenz_query(r, "q"), *args[2];
    lenz_json *out, *arr;
    lenz_rows rows;
    lenz_db *db = lenz_db_open(r);
    int i;
    if (q && strlen(q) > 254)
        return lenz_field_bad(r, "q", "at most 254 bytes"), OK;
    args[0] = args[1] = q && *q ? q : NULL;
    if (!db || lenz_db_select(db, "lenz_admin_users", &rows, 2, args) != APR_SUCCESS) {
        if (db)
            lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "users");
    for (i = 0; i < rows.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_str(o, "id", rows.rows[i][0]);
        lenz_json_set_str(o, "email", rows.rows[i][1]);
        lenz_json_set_str(o, "name", rows.rows[i][2]);
        lenz_json_set_str(o, "status", rows.rows[i][3]);
        lenz_roles_json(lenz_json_obj_add_array(o, "roles"), lenz_roles_parse(rows.rows[i][4]));
        lenz_json_set_str(o, "created_at", rows.rows[i][5]);
    }
    return lenz_send_json(r, HTTP_OK, out);
}

static int set_status(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *id = lenz_param(lr, "id"), *status, *args[2];
    apr_uuid_t u;
    lenz_db *db;
    int n = 0;
    apr_status_t rv;

    if (!b || !lenz_field_str(r, b, "status", 1, 16, &status))
        return OK;
    if (strcmp(status, "active") != 0 && strcmp(status, "disabled") != 0)
        return lenz_field_bad(r, "status", "active or disabled"), OK;
    if (apr_uuid_parse(&u, id) != APR_SUCCESS)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2251), HTTP_NOT_FOUND, "not-found", "Not found",
                         "no such user");
    if (strcmp(id, lr->user->id) == 0)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2252), HTTP_CONFLICT, "self", "Not on yourself",
                         "administrators cannot change their own status");
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_db_begin(db);
    args[0] = status;
    args[1] = id;
    rv = lenz_db_exec(db, "lenz_admin_status", &n, 2, args);
    /* A disabled account is out at once: its sessions and tokens end. */
    if (rv == APR_SUCCESS && n == 1 && strcmp(status, "disabled") == 0) {
        args[0] = id;
        rv = lenz_db_exec(db, "lenz_admin_end_sessions", NULL, 1, args);
        if (rv == APR_SUCCESS)
            rv = lenz_db_exec(db, "lenz_admin_revoke", NULL, 1, args);
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        return unavailable(r);
    if (n != 1)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2251), HTTP_NOT_FOUND, "not-found", "Not found",
                         "no such user (or one whose address is not verified yet)");
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "administrator %s set user %s to %s",
                  lr->user->id, id, status);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", id);
    lenz_json_set_str(out, "status", status);
    return lenz_send_json(r, HTTP_OK, out);
}

const lenz_route lenz_api_admin_routes[] = {
    { LENZ_GET, "/admin/users", users, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/admin/users/{id}/status", set_status, LENZ_ACCESS_ADMIN },
    { 0 }
};
