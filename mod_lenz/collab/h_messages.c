/* h_messages.c - messages between members under /api/v1 (docs/api.md,
 * "Messages"; the logic is messages.c):
 *
 *   POST /conversations {"members":[emails],"body"}  -> 201 {"id"}
 *   GET  /conversations                              -> 200 {"unread","conversations":[...]}
 *   GET  /conversations/{id}?after=&limit=           -> 200 the members with their
 *        read markers and the messages after `after`, oldest first
 *   POST /conversations/{id}/messages {"body"}       -> 201 {"id"}
 *   POST /conversations/{id}/read {"last_id"}        -> 200 {"last_read","unread"} */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "messages.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/auth.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 500

static int create(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *body = NULL, *conv;
    if (!b || !lenz_field_str(r, b, "body", 1, LENZ_MSG_BODY_MAX, &body)
        || !lenz_msg_start(r, lr, lenz_json_get(b, "members"), body, &conv))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", conv);
    apr_table_setn(r->headers_out, "Location", apr_pstrcat(r->pool, "/api/v1/conversations/", conv, NULL));
    return lenz_send_json(r, HTTP_CREATED, out);
}

static int post(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *body = NULL, *id;
    if (!b || !lenz_field_str(r, b, "body", 1, LENZ_MSG_BODY_MAX, &body)
        || !lenz_msg_send(r, lr, lenz_param(lr, "id"), body, &id))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_int(out, "id", apr_atoi64(id));
    return lenz_send_json(r, HTTP_CREATED, out);
}

static int list(request_rec *r, lenz_req *lr)
{
    lenz_json *out, *arr;
    apr_int64_t unread = 0;
    lenz_rows rows;
    int i;
    if (!lenz_msg_conversations(r, lr, &rows))
        return OK;
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "conversations");
    for (i = 0; i < rows.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr), *last;
        lenz_json_set_str(o, "id", rows.rows[i][0]);
        lenz_msg_members_json(r->pool, o, rows.rows[i][1]);
        if (rows.rows[i][2] && (last = lenz_json_parse(r->pool, rows.rows[i][2], strlen(rows.rows[i][2]), 0, NULL)))
            lenz_json_set_copy(o, "last_message", last);
        lenz_json_set_int(o, "unread", apr_atoi64(rows.rows[i][3]));
        unread += apr_atoi64(rows.rows[i][3]);
    }
    lenz_json_set_int(out, "unread", unread);
    return lenz_send_json(r, HTTP_OK, out);
}

static int show(request_rec *r, lenz_req *lr)
{
    const char *conv = lenz_param(lr, "id"), *after = lenz_query(r, "after"), *limit_s = lenz_query(r, "limit"), **one;
    lenz_json *out, *arr;
    lenz_rows rows;
    long limit = PAGE_DEFAULT;
    int i;
    if (after) {
        char *end;
        apr_int64_t v = apr_strtoi64(after, &end, 10);
        if (!*after || *end || v < 0)
            return lenz_field_bad(r, "after", "a message id"), OK;
    }
    if (limit_s) {
        char *end;
        limit = strtol(limit_s, &end, 10);
        if (!*limit_s || *end || limit < 1 || limit > PAGE_MAX)
            return lenz_field_bad(r, "limit", apr_psprintf(r->pool, "1 to %d", PAGE_MAX)), OK;
    }
    if (!lenz_msg_thread(r, lr, conv, after, limit, &one, &rows))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", conv);
    lenz_msg_members_json(r->pool, out, one[1]);
    lenz_json_set_int(out, "unread", apr_atoi64(one[2]));
    arr = lenz_json_obj_add_array(out, "messages");
    for (i = 0; i < rows.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr), *a;
        lenz_json_set_int(o, "id", apr_atoi64(rows.rows[i][0]));
        a = lenz_json_obj_add_object(o, "author");
        lenz_json_set_str(a, "id", rows.rows[i][1]);
        lenz_json_set_str(a, "name", rows.rows[i][2]);
        lenz_json_set_str(o, "body", rows.rows[i][3]);
        lenz_json_set_str(o, "created_at", rows.rows[i][4]);
    }
    if (rows.nrows == limit)
        lenz_json_set_str(out, "next_cursor", rows.rows[rows.nrows - 1][0]);
    else
        lenz_json_set_null(out, "next_cursor");
    return lenz_send_json(r, HTTP_OK, out);
}

static int mark_read(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    apr_int64_t last = 0, last_read, unread;
    if (!b || !lenz_field_int(r, b, "last_id", 1, 0, APR_INT64_MAX, &last)
        || !lenz_msg_mark(r, lr, lenz_param(lr, "id"), last, &last_read, &unread))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_int(out, "last_read", last_read);
    lenz_json_set_int(out, "unread", unread);
    return lenz_send_json(r, HTTP_OK, out);
}

const lenz_route lenz_api_message_routes[] = {
    { LENZ_POST, "/conversations", create, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/conversations", list, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/conversations/{id}", show, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/conversations/{id}/messages", post, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/conversations/{id}/read", mark_read, LENZ_ACCESS_MEMBER },
    { 0 }
};
