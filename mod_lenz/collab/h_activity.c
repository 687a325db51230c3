/* h_activity.c - the activity feeds under /api/v1 (docs/api.md,
 * "Activity"; rows from activity.c's subscriber):
 *
 *   GET  /folders/{id}/activity   the folder's and everything below it
 *   GET  /activity                the member's: changes by others in what
 *                                 they share or is shared with them, after
 *                                 what they last marked seen
 *   POST /activity/seen {"last_id"}
 *
 * Both feeds resume like an event stream: `after` (or a Last-Event-ID
 * header) gives the rows after that id, oldest first; without it the
 * folder feed pages back from the newest with `before`.  Access is
 * lenz_access() inside the statements: a folder the caller cannot see
 * answers 404, and rows of folders they lost access to are not shown. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "collab.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/dbd.h"
#include "httpd/auth.h"
#include "codec.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

/* A row id from the client: 0 when absent, -1 when not one. */
static apr_int64_t id_arg(const char *s)
{
    char *end;
    apr_int64_t v;
    if (!s || !*s)
        return 0;
    v = apr_strtoi64(s, &end, 10);
    return (*end || v < 0) ? -1 : v;
}

static int limit_arg(request_rec *r, int *limit)
{
    const char *s = lenz_query(r, "limit");
    apr_int64_t v = s ? id_arg(s) : PAGE_DEFAULT;
    if (v < 1 || v > PAGE_MAX)
        return lenz_field_bad(r, "limit", apr_psprintf(r->pool, "1 to %d", PAGE_MAX)), 0;
    *limit = (int)v;
    return 1;
}

/* after: ?after= or Last-Event-ID (-1: bad, 0: none). */
static apr_int64_t after_arg(request_rec *r)
{
    const char *s = lenz_query(r, "after");
    if (!s)
        s = apr_table_get(r->headers_in, "Last-Event-ID");
    return s ? (id_arg(s) == 0 && strcmp(s, "0") ? -1 : id_arg(s)) : 0;
}

static void rows_json(lenz_json *arr, const lenz_rows *rows, apr_pool_t *p)
{
    int i;
    for (i = 0; i < rows->nrows; i++) {
        const char **row = rows->rows[i];
        lenz_json *o = lenz_json_arr_add_object(arr), *a, *d;
        lenz_json_set_int(o, "id", apr_atoi64(row[0]));
        lenz_json_set_str(o, "verb", row[1]);
        lenz_json_set_str(o, "item_type", row[2]);
        lenz_json_set_str(o, "item_id", row[3]);
        lenz_json_set_str(o, "item_name", row[4]);
        a = lenz_json_obj_add_object(o, "actor");
        lenz_json_set_str(a, "id", row[5]);
        lenz_json_set_str(a, "name", row[5] ? row[6] : "the system");
        if ((d = lenz_json_parse(p, row[7], strlen(row[7]), 0, NULL)))
            lenz_json_set_copy(o, "detail", d);
        lenz_json_set_str(o, "folder_id", row[8]);
        lenz_json_set_str(o, "created_at", row[9]);
    }
}

/* GET /api/v1/folders/{id}/activity?after=|before=&limit= */
static int folder_feed(request_rec *r, lenz_req *lr)
{
    const char *folder = lenz_param(lr, "id"), *args[6];
    apr_int64_t after = after_arg(r), before = id_arg(lenz_query(r, "before"));
    lenz_json *out;
    lenz_rows rows;
    lenz_db *db;
    int limit, back = after == 0 && !lenz_query(r, "after") && !apr_table_get(r->headers_in, "Last-Event-ID");

    if (after < 0)
        return lenz_field_bad(r, "after", "an activity id (or Last-Event-ID)"), OK;
    if (before < 0)
        return lenz_field_bad(r, "before", "an activity id"), OK;
    if (!limit_arg(r, &limit))
        return OK;
    if (!lenz_uuid_ok(folder))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such folder");
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2730));
    args[0] = folder;
    args[1] = lr->user->id;
    if (lenz_db_select(db, "lenz_act_visible", &rows, 2, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2730));
    if (rows.nrows != 1)
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found",
                                           "no such folder");
    args[0] = folder;
    args[1] = lr->user->id;
    args[2] = folder;
    args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, back ? (before ? before : APR_INT64_MAX) : after);
    args[4] = apr_itoa(r->pool, limit);
    if (lenz_db_select(db, back ? "lenz_act_folder_before" : "lenz_act_folder_after", &rows, 5, args)
        != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2730));
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    rows_json(lenz_json_obj_add_array(out, "activity"), &rows, r->pool);
    /* Oldest first: the cursor is the last id, to resume after; newest
     * first: the last (oldest) id, to page back before. */
    if (rows.nrows == limit || (!back && rows.nrows))
        lenz_json_set_str(out, "next_cursor", rows.rows[rows.nrows - 1][0]);
    else if (!back)
        lenz_json_set_str(out, "next_cursor", apr_psprintf(r->pool, "%" APR_INT64_T_FMT, after));
    else
        lenz_json_set_null(out, "next_cursor");
    return lenz_send_json(r, HTTP_OK, out);
}

/* GET /api/v1/activity?after=&limit=: after what the member marked seen
 * unless after (or Last-Event-ID) says otherwise. */
static int my_feed(request_rec *r, lenz_req *lr)
{
    const char *args[6];
    apr_int64_t after = after_arg(r), seen;
    lenz_json *out;
    lenz_rows rows;
    lenz_db *db;
    int limit, given = lenz_query(r, "after") || apr_table_get(r->headers_in, "Last-Event-ID");

    if (after < 0)
        return lenz_field_bad(r, "after", "an activity id (or Last-Event-ID)"), OK;
    if (!limit_arg(r, &limit))
        return OK;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2731));
    args[0] = lr->user->id;
    if (lenz_db_select(db, "lenz_act_seen_get", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2731));
    seen = apr_atoi64(rows.rows[0][0]);
    args[0] = args[1] = args[2] = args[4] = lr->user->id;
    args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, given ? after : seen);
    args[5] = apr_itoa(r->pool, limit);
    if (lenz_db_select(db, "lenz_act_mine", &rows, 6, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2731));
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_int(out, "seen", seen);
    rows_json(lenz_json_obj_add_array(out, "activity"), &rows, r->pool);
    lenz_json_set_str(out, "next_cursor", rows.nrows ? rows.rows[rows.nrows - 1][0] : args[3]);
    return lenz_send_json(r, HTTP_OK, out);
}

/* POST /api/v1/activity/seen {"last_id"}: never moves back. */
static int mark_seen(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    apr_int64_t last = 0;
    const char *args[2];
    lenz_rows rows;
    lenz_db *db;
    if (!b || !lenz_field_int(r, b, "last_id", 1, 0, APR_INT64_MAX, &last))
        return OK;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2732));
    args[0] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, last);
    args[1] = lr->user->id;
    if (lenz_db_select(db, "lenz_act_seen_set", &rows, 2, args) != APR_SUCCESS || rows.nrows != 1)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2732));
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_int(out, "seen", apr_atoi64(rows.rows[0][0]));
    return lenz_send_json(r, HTTP_OK, out);
}

const lenz_route lenz_api_activity_routes[] = {
    { LENZ_GET, "/folders/{id}/activity", folder_feed, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/activity", my_feed, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/activity/seen", mark_seen, LENZ_ACCESS_MEMBER },
    { 0 }
};

/* The folder's newest rows, for its page (h_pages.c). */
int lenz_activity_recent(request_rec *r, lenz_req *lr, const char *folder, int limit, lenz_rows *rows)
{
    const char *args[5];
    lenz_db *db;
    if (!lenz_uuid_ok(folder))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such folder"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2733)), 0;
    args[0] = folder;
    args[1] = lr->user->id;
    args[2] = folder;
    args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, APR_INT64_MAX);
    args[4] = apr_itoa(r->pool, limit);
    if (lenz_db_select(db, "lenz_act_folder_before", rows, 5, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2733)), 0;
    lenz_db_close(db);
    return 1;
}
