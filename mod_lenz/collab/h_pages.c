/* h_pages.c - lenz-collab: the collaboration pages (/collab), drawn on the
 * server, working without script; forms post and redirect back.
 *
 *   GET  /shares                 Shared with me: invitations (accept,
 *                                decline) and the folders shared with me
 *   GET  /folder/{id}            a folder's people and roles (invite, change,
 *                                remove for owners and co-owners), its
 *                                comments and its recent activity
 *   GET  /file/{id}              a file's comments
 *   GET  /messages               conversations, and the form to start one
 *   GET  /messages/{id}          a conversation (seeing it marks it read)
 *   POST /folder/{id}/invite, /share/{id}/role|remove|accept|decline|leave,
 *        /folder/{id}/transfer, /folder/{id}/transfer/accept|cancel,
 *        /folder/{id}/comment, /file/{id}/comment, /comment/{id}/delete,
 *        /messages/new, /messages/{id}/send
 *
 * The logic is the API's (shares.c, comments.c): the same checks, the
 * same 404 for other people's things, answered as pages. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "collab.h"
#include "shares.h"
#include "transfer.h"
#include "comments.h"
#include "messages.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/auth.h"
#include "names.h"
#include "codec.h"

#define RECENT 30

static int redirect(request_rec *r, lenz_req *lr, const char *to)
{
    apr_table_setn(r->err_headers_out, "Location", apr_pstrcat(r->pool, lr->srv->public_url, to, NULL));
    r->status = HTTP_SEE_OTHER;
    return OK;
}

static void role_options(apr_pool_t *p, lenz_json *arr, const char *current)
{
    static const char *const roles[] = { "viewer", "commenter", "editor", "co-owner" };
    int i;
    for (i = 0; i < 4; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_str(o, "value", roles[i]);
        lenz_json_set_bool(o, "selected", current && !strcmp(current, roles[i]));
    }
    (void)p;
}

/* Comments as the page shows them: each with its replies below it.
 * page: the page's path (forms post to page/comment, come back to page). */
static void comments_ctx(request_rec *r, lenz_req *lr, lenz_json *ctx, const lenz_rows *rows, int rank,
                         const char *page)
{
    lenz_json *arr = lenz_json_obj_add_array(ctx, "comments"), *top = NULL;
    apr_size_t k;
    int i;
    for (i = 0; i < rows->nrows; i++) {
        const char **row = rows->rows[i];
        lenz_json *c = lenz_json_arr_add_object(row[1] ? (top ? lenz_json_get(top, "replies") : arr) : arr);
        lenz_comment_json(c, row, lr->user->id);
        lenz_json_set_bool(c, "can_delete", (row[2] && !strcmp(row[2], lr->user->id)) || rank >= LENZ_COLLAB_COOWNER);
        if (!row[1]) {
            top = c;
            lenz_json_obj_add_array(c, "replies");
        }
    }
    for (k = 0; k < lenz_json_array_len(arr); k++) {
        lenz_json *c = lenz_json_array_get(arr, k);
        lenz_json_set_bool(c, "has_replies", lenz_json_array_len(lenz_json_get(c, "replies")) > 0);
    }
    lenz_json_set_bool(ctx, "no_comments", rows->nrows == 0);
    lenz_json_set_str(ctx, "back", page);
    lenz_json_set_str(ctx, "post_url", apr_pstrcat(r->pool, page, "/comment", NULL));
    lenz_json_set_bool(ctx, "can_comment", rank >= LENZ_COLLAB_COMMENTER);
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
}

/* GET /collab/shares */
static int shares_page(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = lenz_json_new_object(r->pool), *inv, *held;
    lenz_rows rows;
    int i;
    if (!lenz_share_incoming(r, lr, &rows))
        return OK;
    inv = lenz_json_obj_add_array(ctx, "invitations");
    held = lenz_json_obj_add_array(ctx, "shares");
    for (i = 0; i < rows.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(strcmp(rows.rows[i][4], "active") ? inv : held);
        lenz_share_incoming_json(o, rows.rows[i]);
        lenz_json_set_str(o, "folder_name", lenz_name_neutral(r->pool, rows.rows[i][2]));
    }
    lenz_json_set_bool(ctx, "no_invitations", lenz_json_array_len(inv) == 0);
    lenz_json_set_bool(ctx, "no_shares", lenz_json_array_len(held) == 0);
    lenz_json_set_str(ctx, "title", "Shared with me");
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    return lenz_render_page(r, HTTP_OK, "collab/shares", ctx);
}

static const char *activity_text(apr_pool_t *p, const char **row)
{
    const char *who = row[5] ? row[6] : "The system", *what = row[4] ? row[4] : "an item";
    lenz_json *d = lenz_json_parse(p, row[7], strlen(row[7]), 0, NULL);
    const char *email = NULL, *role = NULL;
    if (d) {
        lenz_json_get_str(d, "email", &email);
        lenz_json_get_str(d, "role", &role);
    }
    what = lenz_name_neutral(p, what);
    if (!strcmp(row[1], "invited"))
        return apr_psprintf(p, "%s invited %s as %s", who, email ? email : "someone", role ? role : "member");
    if (!strcmp(row[1], "role changed"))
        return apr_psprintf(p, "%s made %s %s", who, email ? email : "someone", role ? role : "a member");
    if (!strcmp(row[1], "joined") || !strcmp(row[1], "left") || !strcmp(row[1], "declined"))
        return apr_psprintf(p, "%s %s", who, row[1]);
    if (!strcmp(row[1], "removed"))
        return apr_psprintf(p, "%s removed %s", who, email ? email : "someone");
    if (!strcmp(row[1], "offered ownership"))
        return apr_psprintf(p, "%s offered ownership to %s", who, email ? email : "someone");
    if (!strcmp(row[1], "took ownership"))
        return apr_psprintf(p, "%s became the owner; %s is a co-owner now", who, email ? email : "the former owner");
    if (!strcmp(row[1], "declined ownership") || !strcmp(row[1], "withdrew ownership"))
        return apr_psprintf(p, "%s %s", who, !strcmp(row[1], "withdrew ownership") ? "withdrew the ownership offer"
                                                                              : "declined ownership");
    if (!strcmp(row[1], "commented"))
        return apr_psprintf(p, "%s commented on %s", who, what);
    return apr_psprintf(p, "%s %s %s", who, row[1], what);
}

/* GET /collab/folder/{id} */
static int folder_page(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id"), **f, **it;
    lenz_json *ctx = lenz_json_new_object(r->pool), *people, *acts, *owner, *offer, *members;
    lenz_rows shares, comments, recent;
    int rank, i;

    if (!lenz_share_list(r, lr, id, &f, &shares) || !lenz_comment_list(r, lr, "folder", id, &it, &comments)
        || !lenz_activity_recent(r, lr, id, RECENT, &recent))
        return OK;
    rank = (int)apr_atoi64(f[3]);
    lenz_json_set_str(ctx, "title", apr_pstrcat(r->pool, lenz_name_neutral(r->pool, f[1]), ": people and activity",
                                                NULL));
    lenz_json_set_str(ctx, "folder_name", lenz_name_neutral(r->pool, f[1]));
    lenz_json_set_str(ctx, "folder_id", f[0]);
    lenz_json_set_str(ctx, "role", lenz_collab_role_name(rank));
    lenz_json_set_bool(ctx, "is_root", f[4][0] == 't');
    lenz_json_set_bool(ctx, "can_manage", rank >= LENZ_COLLAB_COOWNER && f[4][0] != 't');
    owner = lenz_json_obj_add_object(ctx, "owner");
    lenz_json_set_str(owner, "name", f[6]);
    lenz_json_set_str(owner, "email", f[5]);
    people = lenz_json_obj_add_array(ctx, "people");
    for (i = 0; i < shares.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(people);
        lenz_share_json(o, shares.rows[i]);
        role_options(r->pool, lenz_json_obj_add_array(o, "roles"), shares.rows[i][2]);
    }
    lenz_json_set_bool(ctx, "no_people", shares.nrows == 0);
    /* Ownership: the offer pending, to the two it concerns; else, for the
     * owner, the members who could take it. */
    if (lenz_transfer_get(r, lr, f[0], 1, &offer)) {
        lenz_json_set_copy(ctx, "offer", offer);
        lenz_json_set_bool(ctx, "offer_to_me", rank < LENZ_COLLAB_OWNER);
        lenz_json_set_bool(ctx, "offer_by_me", rank == LENZ_COLLAB_OWNER);
    }
    else if (rank == LENZ_COLLAB_OWNER) {
        members = lenz_json_obj_add_array(ctx, "members");
        for (i = 0; i < shares.nrows; i++)
            if (!strcmp(shares.rows[i][3], "active"))
                lenz_json_arr_add_str(members, shares.rows[i][1]);
        lenz_json_set_bool(ctx, "can_transfer", lenz_json_array_len(members) > 0);
    }
    role_options(r->pool, lenz_json_obj_add_array(ctx, "roles"), "viewer");
    comments_ctx(r, lr, ctx, &comments, rank, apr_pstrcat(r->pool, "/collab/folder/", f[0], NULL));
    acts = lenz_json_obj_add_array(ctx, "activity");
    for (i = 0; i < recent.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(acts);
        lenz_json_set_str(o, "text", activity_text(r->pool, recent.rows[i]));
        lenz_json_set_str(o, "at", recent.rows[i][9]);
    }
    lenz_json_set_bool(ctx, "no_activity", recent.nrows == 0);
    return lenz_render_page(r, HTTP_OK, "collab/folder", ctx);
}

/* GET /collab/file/{id} */
static int file_page(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id"), **it;
    lenz_json *ctx = lenz_json_new_object(r->pool);
    lenz_rows comments;
    if (!lenz_comment_list(r, lr, "file", id, &it, &comments))
        return OK;
    lenz_json_set_str(ctx, "title", apr_pstrcat(r->pool, "Comments on ", lenz_name_neutral(r->pool, it[2]), NULL));
    lenz_json_set_str(ctx, "file_name", lenz_name_neutral(r->pool, it[2]));
    lenz_json_set_str(ctx, "file_id", id);
    lenz_json_set_str(ctx, "folder_id", it[4]);
    comments_ctx(r, lr, ctx, &comments, (int)apr_atoi64(it[0]), apr_pstrcat(r->pool, "/collab/file/", id, NULL));
    return lenz_render_page(r, HTTP_OK, "collab/file", ctx);
}

/* Forms ----------------------------------------------------------------------- */

static int invite(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id = lenz_param(lr, "id"), **row;
    const char *email = f ? apr_table_get(f, "email") : NULL, *role = f ? apr_table_get(f, "role") : NULL;
    if (!f)
        return OK;
    if (!email || !role)
        return lenz_field_bad(r, "email", "give an e-mail address and a role"), OK;
    if (!lenz_share_invite(r, lr, id, email, role, &row))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/collab/folder/", id, NULL));
}

static int change_role(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *role = f ? apr_table_get(f, "role") : NULL, *back = f ? apr_table_get(f, "folder") : NULL, **row;
    if (!f)
        return OK;
    if (!role || !lenz_share_change(r, lr, lenz_param(lr, "id"), role, &row))
        return role ? OK : (lenz_field_bad(r, "role", "choose a role"), OK);
    return redirect(r, lr, back && lenz_uuid_ok(back) ? apr_pstrcat(r->pool, "/collab/folder/", back, NULL)
                                                      : "/collab/shares");
}

static int remove_share(request_rec *r, lenz_req *lr)
{
    const char *folder;
    if (!lenz_body_form(r, lr) || !lenz_share_remove(r, lr, lenz_param(lr, "id"), &folder))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/collab/folder/", folder, NULL));
}

static int leave(request_rec *r, lenz_req *lr)
{
    if (!lenz_body_form(r, lr) || !lenz_share_remove(r, lr, lenz_param(lr, "id"), NULL))
        return OK;
    return redirect(r, lr, "/collab/shares");
}

static int respond(request_rec *r, lenz_req *lr, int accept)
{
    const char **row;
    if (!lenz_body_form(r, lr) || !lenz_share_respond(r, lr, lenz_param(lr, "id"), accept, &row))
        return OK;
    return redirect(r, lr, accept ? apr_pstrcat(r->pool, "/files/folder/", row[1], NULL) : "/collab/shares");
}

static int transfer(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id = lenz_param(lr, "id"), *email = f ? apr_table_get(f, "email") : NULL;
    lenz_json *out;
    if (!f)
        return OK;
    if (!email)
        return lenz_field_bad(r, "email", "choose the member who takes the folder"), OK;
    if (!lenz_transfer_offer(r, lr, id, email, &out))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/collab/folder/", id, NULL));
}

static int transfer_accept(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id");
    lenz_json *out;
    if (!lenz_body_form(r, lr) || !lenz_transfer_accept(r, lr, id, &out))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/files/folder/", id, NULL));
}

static int transfer_cancel(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id");
    if (!lenz_body_form(r, lr) || !lenz_transfer_cancel(r, lr, id))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/collab/folder/", id, NULL));
}

static int accept_share(request_rec *r, lenz_req *lr) { return respond(r, lr, 1); }
static int decline_share(request_rec *r, lenz_req *lr) { return respond(r, lr, 0); }

static int comment(request_rec *r, lenz_req *lr, const char *kind)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *item = lenz_param(lr, "id"), *body = f ? apr_table_get(f, "body") : NULL, *reply, *cid;
    if (!f)
        return OK;
    reply = apr_table_get(f, "reply_to");
    if (!body)
        return lenz_field_bad(r, "body", "write something"), OK;
    if (!lenz_comment_add(r, lr, kind, item, body, reply && *reply ? reply : NULL, &cid))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/collab/", kind, "/", item, "#c-", cid, NULL));
}

static int folder_comment(request_rec *r, lenz_req *lr) { return comment(r, lr, "folder"); }
static int file_comment(request_rec *r, lenz_req *lr) { return comment(r, lr, "file"); }

static int delete_comment(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *back = f ? apr_table_get(f, "back") : NULL;
    if (!f || !lenz_comment_delete(r, lr, lenz_param(lr, "id")))
        return OK;
    /* Back to the page it was on: /collab/file/ID or /collab/folder/ID. */
    if (!back || !((!strncmp(back, "/collab/file/", 13) && lenz_uuid_ok(back + 13))
                   || (!strncmp(back, "/collab/folder/", 15) && lenz_uuid_ok(back + 15))))
        back = "/collab/shares";
    return redirect(r, lr, back);
}

/* GET /collab/messages */
static int messages_page(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = lenz_json_new_object(r->pool), *arr;
    apr_int64_t unread = 0;
    lenz_rows rows;
    int i;
    if (!lenz_msg_conversations(r, lr, &rows))
        return OK;
    arr = lenz_json_obj_add_array(ctx, "conversations");
    for (i = 0; i < rows.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr), *m, *last;
        const char *names = "";
        apr_size_t k;
        lenz_json_set_str(o, "id", rows.rows[i][0]);
        lenz_msg_members_json(r->pool, o, rows.rows[i][1]);
        m = lenz_json_get(o, "members");
        for (k = 0; m && k < lenz_json_array_len(m); k++) {
            lenz_json *one = lenz_json_array_get(m, k);
            const char *id = lenz_json_string(lenz_json_get(one, "id"));
            if (id && strcmp(id, lr->user->id))
                names = apr_pstrcat(r->pool, names, *names ? ", " : "",
                                    lenz_json_string(lenz_json_get(one, "name")), NULL);
        }
        lenz_json_set_str(o, "names", names);
        if (rows.rows[i][2] && (last = lenz_json_parse(r->pool, rows.rows[i][2], strlen(rows.rows[i][2]), 0, NULL)))
            lenz_json_set_copy(o, "last", last);
        lenz_json_set_int(o, "unread", apr_atoi64(rows.rows[i][3]));
        lenz_json_set_bool(o, "has_unread", apr_atoi64(rows.rows[i][3]) > 0);
        unread += apr_atoi64(rows.rows[i][3]);
    }
    lenz_json_set_bool(ctx, "no_conversations", rows.nrows == 0);
    lenz_json_set_int(ctx, "unread", unread);
    lenz_json_set_str(ctx, "title", "Messages");
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    return lenz_render_page(r, HTTP_OK, "collab/messages", ctx);
}

/* GET /collab/messages/{id}: its messages; seeing them marks them read. */
static int thread_page(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id"), **one;
    lenz_json *ctx = lenz_json_new_object(r->pool), *arr, *m;
    const char *names = "";
    apr_int64_t last_read, unread;
    lenz_rows rows;
    apr_size_t k;
    int i;
    if (!lenz_msg_thread(r, lr, id, NULL, 500, &one, &rows))
        return OK;
    lenz_msg_members_json(r->pool, ctx, one[1]);
    m = lenz_json_get(ctx, "members");
    for (k = 0; m && k < lenz_json_array_len(m); k++) {
        lenz_json *o = lenz_json_array_get(m, k);
        const char *uid = lenz_json_string(lenz_json_get(o, "id"));
        if (uid && strcmp(uid, lr->user->id))
            names = apr_pstrcat(r->pool, names, *names ? ", " : "", lenz_json_string(lenz_json_get(o, "name")), NULL);
    }
    arr = lenz_json_obj_add_array(ctx, "messages");
    for (i = 0; i < rows.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_str(o, "id", rows.rows[i][0]);
        lenz_json_set_str(o, "author", rows.rows[i][2]);
        lenz_json_set_bool(o, "mine", rows.rows[i][1] && !strcmp(rows.rows[i][1], lr->user->id));
        lenz_json_set_str(o, "body", rows.rows[i][3]);
        lenz_json_set_str(o, "at", rows.rows[i][4]);
    }
    if (rows.nrows && !lenz_msg_mark(r, lr, id, apr_atoi64(rows.rows[rows.nrows - 1][0]), &last_read, &unread))
        return OK;
    lenz_json_set_str(ctx, "title", apr_pstrcat(r->pool, "Messages with ", names, NULL));
    lenz_json_set_str(ctx, "conversation_id", id);
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    return lenz_render_page(r, HTTP_OK, "collab/thread", ctx);
}

static int start_conversation(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *to = f ? apr_table_get(f, "to") : NULL, *conv;
    lenz_json *arr = lenz_json_new_array(r->pool);
    char *s, *last, *w;
    if (!f)
        return OK;
    if (!to || !*to)
        return lenz_field_bad(r, "to", "one or more e-mail addresses"), OK;
    s = apr_pstrdup(r->pool, to);
    for (w = apr_strtok(s, " ,;", &last); w; w = apr_strtok(NULL, " ,;", &last))
        lenz_json_arr_add_str(arr, w);
    if (!lenz_msg_start(r, lr, arr, apr_table_get(f, "body") ? apr_table_get(f, "body") : "", &conv))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/collab/messages/", conv, NULL));
}

static int send_message(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id;
    if (!f || !lenz_msg_send(r, lr, lenz_param(lr, "id"), apr_table_get(f, "body") ? apr_table_get(f, "body") : "",
                             &id))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/collab/messages/", lenz_param(lr, "id"), "#m-", id, NULL));
}

static const lenz_route routes[] = {
    { LENZ_GET, "/messages", messages_page, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/messages/{id}", thread_page, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/messages/new", start_conversation, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/messages/{id}/send", send_message, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/shares", shares_page, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/folder/{id}", folder_page, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/file/{id}", file_page, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/folder/{id}/invite", invite, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/folder/{id}/transfer", transfer, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/folder/{id}/transfer/accept", transfer_accept, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/folder/{id}/transfer/cancel", transfer_cancel, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/folder/{id}/comment", folder_comment, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/file/{id}/comment", file_comment, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/share/{id}/role", change_role, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/share/{id}/remove", remove_share, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/share/{id}/leave", leave, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/share/{id}/accept", accept_share, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/share/{id}/decline", decline_share, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/comment/{id}/delete", delete_comment, LENZ_ACCESS_MEMBER },
    { 0 }
};

static const lenz_route *const tables[] = { routes, NULL };
const lenz_area lenz_area_collab = { "lenz-collab", "collab", tables, NULL, 0 };
