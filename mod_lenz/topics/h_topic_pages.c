/* h_topic_pages.c - lenz-topics: the topic list and topic pages (/topics), drawn
 * on the server and working without script; forms post and redirect.
 *
 *   GET  /                    topics, pinned first, by recent activity or
 *                             votes (?sort=votes), a tag (?tag=); the form
 *                             to open one
 *   GET  /{id}                a topic with its posts; reply, up-vote, join
 *   POST /new, /{id}/post, /{id}/vote, /{id}/join, /{id}/leave,
 *        /{id}/moderate, /post/{id}/vote, /post/{id}/delete
 *
 * Posts are shown as the safe HTML libcmark made of them when they were
 * written (core/markdown.c); everything else is escaped by the templates. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "topics.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/auth.h"
#include "codec.h"

#define PAGE 50

static int redirect(request_rec *r, lenz_req *lr, const char *to)
{
    apr_table_setn(r->err_headers_out, "Location", apr_pstrcat(r->pool, lr->srv->public_url, to, NULL));
    r->status = HTTP_SEE_OTHER;
    return OK;
}

static int list_page(request_rec *r, lenz_req *lr)
{
    const char *sort = lenz_query(r, "sort"), *tag = lenz_query(r, "tag");
    lenz_json *ctx = lenz_json_new_object(r->pool), *arr;
    int by_votes = sort && !strcmp(sort, "votes"), i;
    lenz_rows rows;
    if (!lenz_topic_list(r, lr, by_votes, tag && *tag ? tag : NULL, NULL, lenz_query(r, "cursor"), PAGE, &rows))
        return OK;
    arr = lenz_json_obj_add_array(ctx, "topics");
    for (i = 0; i < rows.nrows; i++)
        lenz_topic_json(r->pool, lenz_json_arr_add_object(arr), rows.rows[i], 0);
    if (rows.nrows == PAGE)
        lenz_json_set_str(ctx, "next_url", apr_pstrcat(r->pool, "/topics/?sort=", by_votes ? "votes" : "activity",
                                                       "&cursor=", lenz_topic_cursor(r->pool, rows.rows[rows.nrows - 1]),
                                                       NULL));
    lenz_json_set_bool(ctx, "no_topics", rows.nrows == 0);
    lenz_json_set_bool(ctx, "by_votes", by_votes);
    lenz_json_set_str(ctx, "tag", tag);
    lenz_json_set_str(ctx, "title", "Topics");
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    return lenz_render_page(r, HTTP_OK, "topics/list", ctx);
}

static int topic_page(request_rec *r, lenz_req *lr)
{
    const char **t;
    lenz_json *ctx = lenz_json_new_object(r->pool), *arr;
    lenz_rows posts;
    int i;
    if (!lenz_topic_read(r, lr, lenz_param(lr, "id"), &t, &posts))
        return OK;
    lenz_topic_json(r->pool, ctx, t, 1);
    arr = lenz_json_obj_add_array(ctx, "posts");
    for (i = 0; i < posts.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_post_json(o, posts.rows[i], lr->user->id);
        lenz_json_set_bool(o, "can_delete", !lenz_json_bool(lenz_json_get(o, "removed"))
                           && (lenz_json_bool(lenz_json_get(o, "mine")) || apr_atoi64(t[16]) == 5));
    }
    lenz_json_set_str(ctx, "topic_id", t[0]);
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    return lenz_render_page(r, HTTP_OK, "topics/topic", ctx);
}

static int new_topic(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id, *tags = "{}", *t;
    if (!f)
        return OK;
    if ((t = apr_table_get(f, "tags")) && *t) {
        /* "a, b c" -> ["a","b","c"] */
        lenz_json *arr = lenz_json_new_array(r->pool);
        char *s = apr_pstrdup(r->pool, t), *last, *w;
        for (w = apr_strtok(s, " ,", &last); w; w = apr_strtok(NULL, " ,", &last))
            lenz_json_arr_add_str(arr, w);
        if (!lenz_topic_tags(r, arr, &tags))
            return OK;
    }
    if (!lenz_topic_create(r, lr, apr_table_get(f, "title"), apr_table_get(f, "body"), tags, NULL, &id))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/topics/", id, NULL));
}

static int reply(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *topic = lenz_param(lr, "id"), *id, *to;
    if (!f)
        return OK;
    to = apr_table_get(f, "reply_to");
    if (!lenz_post_create(r, lr, topic, apr_table_get(f, "body"), to && *to ? to : NULL, &id))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/topics/", topic, "#p-", id, NULL));
}

static int topic_vote(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *up = f ? apr_table_get(f, "up") : NULL;
    apr_int64_t votes;
    if (!f || !lenz_topic_vote(r, lr, 0, lenz_param(lr, "id"), !up || strcmp(up, "0"), &votes))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/topics/", lenz_param(lr, "id"), NULL));
}

static int membership(request_rec *r, lenz_req *lr, int join)
{
    if (!lenz_body_form(r, lr) || !lenz_topic_membership(r, lr, lenz_param(lr, "id"), join))
        return OK;
    return redirect(r, lr, apr_pstrcat(r->pool, "/topics/", lenz_param(lr, "id"), NULL));
}

static int join(request_rec *r, lenz_req *lr) { return membership(r, lr, 1); }
static int leave(request_rec *r, lenz_req *lr) { return membership(r, lr, 0); }

static int moderate(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *what = f ? apr_table_get(f, "do") : NULL;
    lenz_topic_edit e;
    if (!f)
        return OK;
    memset(&e, 0, sizeof(e));
    if (what && !strcmp(what, "pin")) e.pinned = "true";
    else if (what && !strcmp(what, "unpin")) e.pinned = "false";
    else if (what && !strcmp(what, "lock")) e.locked = "true";
    else if (what && !strcmp(what, "unlock")) e.locked = "false";
    else if (what && !strcmp(what, "remove")) e.remove = 1;
    else
        return lenz_field_bad(r, "do", "pin, unpin, lock, unlock or remove"), OK;
    if (!lenz_topic_change(r, lr, lenz_param(lr, "id"), &e))
        return OK;
    return redirect(r, lr, e.remove ? "/topics/" : apr_pstrcat(r->pool, "/topics/", lenz_param(lr, "id"), NULL));
}

static int post_vote(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *up = f ? apr_table_get(f, "up") : NULL, *back = f ? apr_table_get(f, "topic") : NULL;
    apr_int64_t votes;
    if (!f || !lenz_topic_vote(r, lr, 1, lenz_param(lr, "id"), !up || strcmp(up, "0"), &votes))
        return OK;
    return redirect(r, lr, back && lenz_uuid_ok(back) ? apr_pstrcat(r->pool, "/topics/", back, NULL) : "/topics/");
}

static int post_delete(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *back = f ? apr_table_get(f, "topic") : NULL;
    if (!f || !lenz_post_change(r, lr, lenz_param(lr, "id"), NULL, 1))
        return OK;
    return redirect(r, lr, back && lenz_uuid_ok(back) ? apr_pstrcat(r->pool, "/topics/", back, NULL) : "/topics/");
}

static const lenz_route routes[] = {
    { LENZ_GET, "/", list_page, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/new", new_topic, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/{id}", topic_page, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/{id}/post", reply, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/{id}/vote", topic_vote, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/{id}/join", join, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/{id}/leave", leave, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/{id}/moderate", moderate, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/post/{id}/vote", post_vote, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/post/{id}/delete", post_delete, LENZ_ACCESS_MEMBER },
    { 0 }
};

static const lenz_route *const tables[] = { routes, NULL };
const lenz_area lenz_area_topics = { "lenz-topics", "topics", tables, NULL, 0 };
