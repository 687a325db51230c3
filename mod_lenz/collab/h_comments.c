/* h_comments.c - comments under /api/v1 (docs/api.md, "Comments"; the
 * logic is comments.c):
 *
 *   POST   /comments {"file_id"|"folder_id","body","reply_to"} -> 201 {"id"}
 *   GET    /comments?file_id= | ?folder_id=                     -> 200 {"comments":[...]}
 *   PATCH  /comments/{id} {"body"}                              -> 200 the comment
 *   DELETE /comments/{id}                                       -> 204 */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "collab.h"
#include "comments.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/auth.h"

static int create(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *file = NULL, *folder = NULL, *body = NULL, *reply = NULL, *id;
    if (!b || !lenz_field_str(r, b, "file_id", 0, 64, &file) || !lenz_field_str(r, b, "folder_id", 0, 64, &folder)
        || !lenz_field_str(r, b, "body", 1, 10000, &body) || !lenz_field_str(r, b, "reply_to", 0, 64, &reply))
        return OK;
    if (!file == !folder)
        return lenz_field_bad(r, "file_id", "give file_id or folder_id (one of them)"), OK;
    if (!lenz_comment_add(r, lr, file ? "file" : "folder", file ? file : folder, body, reply, &id))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", id);
    apr_table_setn(r->headers_out, "Location", apr_pstrcat(r->pool, "/api/v1/comments/", id, NULL));
    return lenz_send_json(r, HTTP_CREATED, out);
}

static int list(request_rec *r, lenz_req *lr)
{
    const char *file = lenz_query(r, "file_id"), *folder = lenz_query(r, "folder_id"), **it;
    lenz_json *out, *arr;
    lenz_rows rows;
    int i;
    if (!file == !folder)
        return lenz_field_bad(r, "file_id", "give file_id or folder_id (one of them)"), OK;
    if (!lenz_comment_list(r, lr, file ? "file" : "folder", file ? file : folder, &it, &rows))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "role", lenz_collab_role_name((int)apr_atoi64(it[0])));
    arr = lenz_json_obj_add_array(out, "comments");
    for (i = 0; i < rows.nrows; i++)
        lenz_comment_json(lenz_json_arr_add_object(arr), rows.rows[i], lr->user->id);
    return lenz_send_json(r, HTTP_OK, out);
}

static int edit(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *body = NULL, **row;
    if (!b || !lenz_field_str(r, b, "body", 1, 10000, &body)
        || !lenz_comment_edit(r, lr, lenz_param(lr, "id"), body, &row))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_comment_json(out, row, lr->user->id);
    return lenz_send_json(r, HTTP_OK, out);
}

static int delete_comment(request_rec *r, lenz_req *lr)
{
    if (!lenz_comment_delete(r, lr, lenz_param(lr, "id")))
        return OK;
    r->status = HTTP_NO_CONTENT;
    return OK;
}

const lenz_route lenz_api_comment_routes[] = {
    { LENZ_POST, "/comments", create, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/comments", list, LENZ_ACCESS_MEMBER },
    { LENZ_PATCH, "/comments/{id}", edit, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/comments/{id}", delete_comment, LENZ_ACCESS_MEMBER },
    { 0 }
};
