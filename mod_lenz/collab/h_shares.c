/* h_shares.c - shared folders under /api/v1 (docs/api.md, "Shared
 * folders"; the logic is shares.c):
 *
 *   POST   /folders/{id}/shares {"email","role"} -> 201 {"id","email","role","status"}
 *   GET    /folders/{id}/shares                  -> 200 {"owner",...,"shares":[...]}
 *   PATCH  /shares/{id} {"role"}                 -> 200 the share
 *   DELETE /shares/{id}                          -> 204 (revoke, or leave/decline one's own)
 *   GET    /shares/incoming                      -> 200 {"shares":[{"id","folder_id",
 *                                                   "folder_name","role","status","owner"}]}
 *   POST   /shares/{id}/accept | /decline        -> 200 the incoming share
 *
 * Ownership (transfer.c):
 *   POST   /folders/{id}/transfer {"email"}      -> 201 {"folder_id","email","status","created_at"}
 *   GET    /folders/{id}/transfer                -> 200 the same (owner and the member offered)
 *   DELETE /folders/{id}/transfer                -> 204 (withdrawn, or declined)
 *   POST   /folders/{id}/transfer/accept         -> 200 {"folder_id","name","files","bytes",
 *                                                   "previous_owner"} */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "collab.h"
#include "shares.h"
#include "transfer.h"
#include "httpd/body.h"
#include "httpd/problem.h"

static int invite(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *email = NULL, *role = NULL, **row;
    if (!b || !lenz_field_str(r, b, "email", 1, 254, &email) || !lenz_field_str(r, b, "role", 1, 20, &role)
        || !lenz_share_invite(r, lr, lenz_param(lr, "id"), email, role, &row))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", row[0]);
    lenz_json_set_str(out, "email", row[1]);
    lenz_json_set_str(out, "role", row[2]);
    lenz_json_set_str(out, "status", row[3]);
    apr_table_setn(r->headers_out, "Location", apr_pstrcat(r->pool, "/api/v1/shares/", row[0], NULL));
    return lenz_send_json(r, HTTP_CREATED, out);
}

/* Everyone with access sees who else has it. */
static int list(request_rec *r, lenz_req *lr)
{
    const char **f;
    lenz_json *out, *arr, *owner, *offer;
    lenz_rows rows;
    int i;
    if (!lenz_share_list(r, lr, lenz_param(lr, "id"), &f, &rows))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "folder_id", f[0]);
    lenz_json_set_str(out, "folder_name", f[1]);
    lenz_json_set_str(out, "role", lenz_collab_role_name((int)apr_atoi64(f[3])));
    owner = lenz_json_obj_add_object(out, "owner");
    lenz_json_set_str(owner, "name", f[6]);
    lenz_json_set_str(owner, "email", f[5]);
    arr = lenz_json_obj_add_array(out, "shares");
    for (i = 0; i < rows.nrows; i++)
        lenz_share_json(lenz_json_arr_add_object(arr), rows.rows[i]);
    /* Added for ownership transfers: the pending offer, to the two
     * people it concerns. */
    if (lenz_transfer_get(r, lr, f[0], 1, &offer))
        lenz_json_set_copy(out, "transfer", offer);
    return lenz_send_json(r, HTTP_OK, out);
}

static int change(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *role = NULL, **row;
    if (!b || !lenz_field_str(r, b, "role", 1, 20, &role)
        || !lenz_share_change(r, lr, lenz_param(lr, "id"), role, &row))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_share_json(out, row);
    return lenz_send_json(r, HTTP_OK, out);
}

static int remove_share(request_rec *r, lenz_req *lr)
{
    if (!lenz_share_remove(r, lr, lenz_param(lr, "id"), NULL))
        return OK;
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int respond(request_rec *r, lenz_req *lr, int accept)
{
    const char **row;
    lenz_json *out;
    if (!lenz_share_respond(r, lr, lenz_param(lr, "id"), accept, &row))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_share_incoming_json(out, row);
    return lenz_send_json(r, HTTP_OK, out);
}

static int accept_share(request_rec *r, lenz_req *lr) { return respond(r, lr, 1); }
static int decline_share(request_rec *r, lenz_req *lr) { return respond(r, lr, 0); }

static int incoming(request_rec *r, lenz_req *lr)
{
    lenz_json *out, *arr;
    lenz_rows rows;
    int i;
    if (!lenz_share_incoming(r, lr, &rows))
        return OK;
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "shares");
    for (i = 0; i < rows.nrows; i++)
        lenz_share_incoming_json(lenz_json_arr_add_object(arr), rows.rows[i]);
    return lenz_send_json(r, HTTP_OK, out);
}

static int transfer_offer(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *email = NULL;
    if (!b || !lenz_field_str(r, b, "email", 1, 254, &email)
        || !lenz_transfer_offer(r, lr, lenz_param(lr, "id"), email, &out))
        return OK;
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, "/api/v1/folders/", lenz_param(lr, "id"), "/transfer", NULL));
    return lenz_send_json(r, HTTP_CREATED, out);
}

static int transfer_get(request_rec *r, lenz_req *lr)
{
    lenz_json *out;
    if (!lenz_transfer_get(r, lr, lenz_param(lr, "id"), 0, &out))
        return OK;
    return lenz_send_json(r, HTTP_OK, out);
}

static int transfer_cancel(request_rec *r, lenz_req *lr)
{
    if (!lenz_transfer_cancel(r, lr, lenz_param(lr, "id")))
        return OK;
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int transfer_accept(request_rec *r, lenz_req *lr)
{
    lenz_json *out;
    if (!lenz_transfer_accept(r, lr, lenz_param(lr, "id"), &out))
        return OK;
    return lenz_send_json(r, HTTP_OK, out);
}

const lenz_route lenz_api_share_routes[] = {
    { LENZ_POST, "/folders/{id}/shares", invite, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/folders/{id}/shares", list, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/shares/incoming", incoming, LENZ_ACCESS_MEMBER },
    { LENZ_PATCH, "/shares/{id}", change, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/shares/{id}", remove_share, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/shares/{id}/accept", accept_share, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/shares/{id}/decline", decline_share, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/folders/{id}/transfer", transfer_offer, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/folders/{id}/transfer", transfer_get, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/folders/{id}/transfer", transfer_cancel, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/folders/{id}/transfer/accept", transfer_accept, LENZ_ACCESS_MEMBER },
    { 0 }
};
