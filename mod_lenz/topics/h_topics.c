/* h_topics.c - topics and posts under /api/v1 (docs/api.md, "Topics";
 * the logic is topics.c):
 *
 *   POST   /topics {"title","body","tags","folder_id"}   -> 201 {"id"}
 *   GET    /topics?sort=activity|votes&tag=&folder_id=&cursor=&limit=
 *   GET    /topics/{id}                                  -> the topic and its posts
 *   PATCH  /topics/{id} {"title","body","tags"} (author), {"pinned","locked"} (moderators)
 *   DELETE /topics/{id}                                  -> 204 (author, moderators)
 *   POST   /topics/{id}/posts {"body","reply_to"}        -> 201 {"id"}
 *   PATCH  /posts/{id} {"body"}, DELETE /posts/{id}
 *   POST|DELETE /topics/{id}/vote, /posts/{id}/vote     -> 200 {"votes"}
 *   POST|DELETE /topics/{id}/join                        -> 204 */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "topics.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/auth.h"
#include "codec.h"

#define LIST_DEFAULT 50
#define LIST_MAX 200

static int create(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *title = NULL, *body = NULL, *folder = NULL, *tags = NULL, *id;
    if (!b || !lenz_field_str(r, b, "title", 1, 200, &title) || !lenz_field_str(r, b, "body", 1, LENZ_POST_MAX, &body)
        || !lenz_field_str(r, b, "folder_id", 0, 64, &folder) || !lenz_topic_tags(r, lenz_json_get(b, "tags"), &tags)
        || !lenz_topic_create(r, lr, title, body, tags, folder, &id))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", id);
    apr_table_setn(r->headers_out, "Location", apr_pstrcat(r->pool, "/api/v1/topics/", id, NULL));
    return lenz_send_json(r, HTTP_CREATED, out);
}

static int list(request_rec *r, lenz_req *lr)
{
    const char *sort = lenz_query(r, "sort"), *limit_s = lenz_query(r, "limit");
    lenz_json *out, *arr;
    lenz_rows rows;
    int limit = LIST_DEFAULT, i;
    if (sort && strcmp(sort, "activity") && strcmp(sort, "votes"))
        return lenz_field_bad(r, "sort", "activity or votes"), OK;
    if (limit_s) {
        char *end;
        long v = strtol(limit_s, &end, 10);
        if (!*limit_s || *end || v < 1 || v > LIST_MAX)
            return lenz_field_bad(r, "limit", apr_psprintf(r->pool, "1 to %d", LIST_MAX)), OK;
        limit = (int)v;
    }
    if (!lenz_topic_list(r, lr, sort && !strcmp(sort, "votes"), lenz_query(r, "tag"), lenz_query(r, "folder_id"),
                         lenz_query(r, "cursor"), limit, &rows))
        return OK;
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "topics");
    for (i = 0; i < rows.nrows; i++)
        lenz_topic_json(r->pool, lenz_json_arr_add_object(arr), rows.rows[i], 0);
    if (rows.nrows == limit)
        lenz_json_set_str(out, "next_cursor", lenz_topic_cursor(r->pool, rows.rows[rows.nrows - 1]));
    else
        lenz_json_set_null(out, "next_cursor");
    return lenz_send_json(r, HTTP_OK, out);
}

static int show(request_rec *r, lenz_req *lr)
{
    const char **t;
    lenz_json *out, *arr;
    lenz_rows posts;
    int i;
    if (!lenz_topic_read(r, lr, lenz_param(lr, "id"), &t, &posts))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_topic_json(r->pool, out, t, 1);
    arr = lenz_json_obj_add_array(out, "posts");
    for (i = 0; i < posts.nrows; i++)
        lenz_post_json(lenz_json_arr_add_object(arr), posts.rows[i], lr->user->id);
    return lenz_send_json(r, HTTP_OK, out);
}

static int change(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr);
    lenz_topic_edit e;
    int v;
    memset(&e, 0, sizeof(e));
    if (!b || !lenz_field_str(r, b, "title", 0, 200, &e.title) || !lenz_field_str(r, b, "body", 0, LENZ_POST_MAX, &e.body))
        return OK;
    if (lenz_json_get(b, "tags") && !lenz_topic_tags(r, lenz_json_get(b, "tags"), &e.tags))
        return OK;
    if (lenz_json_has(b, "pinned")) {
        if (lenz_json_get_bool(b, "pinned", &v) != APR_SUCCESS)
            return lenz_field_bad(r, "pinned", "true or false"), OK;
        e.pinned = v ? "true" : "false";
    }
    if (lenz_json_has(b, "locked")) {
        if (lenz_json_get_bool(b, "locked", &v) != APR_SUCCESS)
            return lenz_field_bad(r, "locked", "true or false"), OK;
        e.locked = v ? "true" : "false";
    }
    if (!lenz_topic_change(r, lr, lenz_param(lr, "id"), &e))
        return OK;
    return show(r, lr);
}

static int remove_topic(request_rec *r, lenz_req *lr)
{
    lenz_topic_edit e;
    memset(&e, 0, sizeof(e));
    e.remove = 1;
    if (!lenz_topic_change(r, lr, lenz_param(lr, "id"), &e))
        return OK;
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int post(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *body = NULL, *reply = NULL, *id;
    if (!b || !lenz_field_str(r, b, "body", 1, LENZ_POST_MAX, &body) || !lenz_field_str(r, b, "reply_to", 0, 64, &reply)
        || !lenz_post_create(r, lr, lenz_param(lr, "id"), body, reply, &id))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", id);
    return lenz_send_json(r, HTTP_CREATED, out);
}

static int edit_post(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *out;
    const char *body = NULL;
    if (!b || !lenz_field_str(r, b, "body", 1, LENZ_POST_MAX, &body)
        || !lenz_post_change(r, lr, lenz_param(lr, "id"), body, 0))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "id", lenz_param(lr, "id"));
    return lenz_send_json(r, HTTP_OK, out);
}

static int remove_post(request_rec *r, lenz_req *lr)
{
    if (!lenz_post_change(r, lr, lenz_param(lr, "id"), NULL, 1))
        return OK;
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int vote(request_rec *r, lenz_req *lr, int post, int up)
{
    apr_int64_t votes;
    lenz_json *out;
    if (!lenz_topic_vote(r, lr, post, lenz_param(lr, "id"), up, &votes))
        return OK;
    out = lenz_json_new_object(r->pool);
    lenz_json_set_int(out, "votes", votes);
    return lenz_send_json(r, HTTP_OK, out);
}

static int vote_topic(request_rec *r, lenz_req *lr) { return vote(r, lr, 0, 1); }
static int unvote_topic(request_rec *r, lenz_req *lr) { return vote(r, lr, 0, 0); }
static int vote_post(request_rec *r, lenz_req *lr) { return vote(r, lr, 1, 1); }
static int unvote_post(request_rec *r, lenz_req *lr) { return vote(r, lr, 1, 0); }

static int membership(request_rec *r, lenz_req *lr, int join)
{
    if (!lenz_topic_membership(r, lr, lenz_param(lr, "id"), join))
        return OK;
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int join(request_rec *r, lenz_req *lr) { return membership(r, lr, 1); }
static int leave(request_rec *r, lenz_req *lr) { return membership(r, lr, 0); }

const lenz_route lenz_api_topic_routes[] = {
    { LENZ_POST, "/topics", create, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/topics", list, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/topics/{id}", show, LENZ_ACCESS_MEMBER },
    { LENZ_PATCH, "/topics/{id}", change, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/topics/{id}", remove_topic, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/topics/{id}/posts", post, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/topics/{id}/vote", vote_topic, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/topics/{id}/vote", unvote_topic, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/topics/{id}/join", join, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/topics/{id}/join", leave, LENZ_ACCESS_MEMBER },
    { LENZ_PATCH, "/posts/{id}", edit_post, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/posts/{id}", remove_post, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/posts/{id}/vote", vote_post, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/posts/{id}/vote", unvote_post, LENZ_ACCESS_MEMBER },
    { 0 }
};
