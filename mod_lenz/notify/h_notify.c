/* h_notify.c - a member's notifications: /api/v1/notifications (list,
 * mark read) and lenz-events, the live stream of them as Server-Sent
 * Events (mounted at /events: GET /events/stream; the stream itself is
 * stream.c, which says when a stream holds a thread and when not).
 */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "notify.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/dbd.h"
#include "httpd/problem.h"

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2400), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "try again shortly");
}

static int list(request_rec *r, lenz_req *lr)
{
    apr_int64_t after = lenz_notify_id_arg(lenz_query(r, "after"));
    const char *args[5];
    lenz_json *out, *arr;
    lenz_rows rows, unread;
    lenz_db *db;
    int i;

    if (after < 0)
        return lenz_field_bad(r, "after", "a notification id"), OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    args[0] = lr->user->id;
    args[1] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, after);
    args[2] = lenz_query(r, "unread") ? "1" : NULL;
    args[3] = NULL;             /* no live changes in the list */
    args[4] = "100";
    if (lenz_db_select(db, "lenz_notify_after", &rows, 5, args) != APR_SUCCESS
        || lenz_db_select(db, "lenz_notify_unread", &unread, 1, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_int(out, "unread", apr_atoi64(unread.rows[0][0]));
    arr = lenz_json_obj_add_array(out, "notifications");
    for (i = 0; i < rows.nrows; i++)
    {
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_notify_row_json(o, rows.rows[i], r->pool);
        lenz_notify_row_count(o, rows.rows[i]);
    }
    return lenz_send_json(r, HTTP_OK, out);
}

static int mark(request_rec *r, lenz_req *lr, const char *label, int nargs, const char *id)
{
    const char *args[2] = { lr->user->id, id };
    lenz_db *db = lenz_db_open(r);
    int n = 0;
    if (!db)
        return unavailable(r);
    if (lenz_db_exec(db, label, &n, nargs, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    if (nargs == 2 && n != 1)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2401), HTTP_NOT_FOUND, "not-found", "Not found",
                         "no such unread notification of yours");
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int read_one(request_rec *r, lenz_req *lr)
{
    if (lenz_notify_id_arg(lenz_param(lr, "id")) <= 0)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2401), HTTP_NOT_FOUND, "not-found", "Not found",
                         "no such notification");
    return mark(r, lr, "lenz_notify_read", 2, lenz_param(lr, "id"));
}

static int read_all(request_rec *r, lenz_req *lr)
{
    return mark(r, lr, "lenz_notify_read_all", 1, NULL);
}

const lenz_route lenz_api_notify_routes[] = {
    { LENZ_GET, "/notifications", list, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/notifications/read-all", read_all, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/notifications/{id}/read", read_one, LENZ_ACCESS_MEMBER },
    { 0 }
};

static const lenz_route routes[] = {
    { LENZ_GET, "/stream", lenz_notify_stream, LENZ_ACCESS_MEMBER },
    { 0 }
};

static const lenz_route *const tables[] = { routes, NULL };

/* A stream is no page: a sign-in is asked with 401, not a redirect. */
const lenz_area lenz_area_events = { "lenz-events", "events", tables, NULL, 1 };
