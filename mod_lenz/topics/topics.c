/* topics.c - topics and posts (topics.h; sql/027_topics.sql): what the
 * API (h_topics.c) and the pages (h_pages.c) share.  Every statement that
 * returns a topic or a post asks lenz_access(member, 'topic'|'post', id);
 * a topic the caller cannot see answers 404, one they may read but not
 * post in 403, a locked one 409. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "topics.h"
#include "httpd/config.h"
#include "httpd/problem.h"
#include "httpd/rate.h"
#include "httpd/auth.h"
#include "httpd/outbox.h"
#include "httpd/body.h"
#include "markdown.h"
#include "textfilter.h"
#include "codec.h"
#include "names.h"

#define TS(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* A topic's columns (lenz_topic_json); %s: the member (voted, joined, rank). */
#define TOPIC_COLS "t.id, t.title, t.body, t.body_html, array_to_json(t.tags)::text, t.folder_id, t.author_id, " \
    "coalesce(nullif(u.name, ''), u.email, 'a former member'), t.pinned, t.locked, t.votes, t.posts, " \
    TS("t.created_at") ", " TS("t.last_activity_at") ", " \
    "EXISTS (SELECT 1 FROM topic_votes v WHERE v.topic_id = t.id AND v.user_id = %s::uuid), " \
    "EXISTS (SELECT 1 FROM topic_members m WHERE m.topic_id = t.id AND m.user_id = %s::uuid), a.rk, " \
    "(t.removed_at IS NOT NULL)"
#define POST_COLS "p.id, p.reply_to, p.author_id, coalesce(nullif(u.name, ''), u.email, 'a former member'), " \
    "p.body, p.body_html, p.votes, " TS("p.created_at") ", " TS("p.edited_at") ", " \
    "EXISTS (SELECT 1 FROM post_votes v WHERE v.post_id = p.id AND v.user_id = %s::uuid), " \
    "(p.removed_at IS NOT NULL), a.rk"
/* Keyset pages: (pinned, key, id) below the cursor's. */
#define LIST(key, keytext, keytype) \
    "SELECT " TOPIC_COLS ", " keytext " FROM topics t LEFT JOIN users u ON u.id = t.author_id " \
    "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'topic', t.id) AS rk) a " \
    "WHERE a.rk > 0 AND t.removed_at IS NULL " \
    "AND (%s::text IS NULL OR %s = ANY (t.tags)) AND (%s::uuid IS NULL OR t.folder_id = %s::uuid) " \
    "AND (%s::text IS NULL OR (t.pinned::int, " key ", t.id) < (%s::int, %s::" keytype ", %s::uuid)) " \
    "ORDER BY t.pinned DESC, " key " DESC, t.id DESC LIMIT %s::int"

const lenz_stmt lenz_topics_stmts[] = {
    { "lenz_tp_folder_rank", "SELECT lenz_access(%s::uuid, 'folder', %s::uuid)" },
    { "lenz_tp_new",
      "INSERT INTO topics (author_id, title, body, body_html, tags, folder_id) "
      "VALUES (%s::uuid, %s, %s, %s, %s::text[], %s::uuid) RETURNING id" },
    { "lenz_tp_join", "INSERT INTO topic_members (topic_id, user_id) VALUES (%s::uuid, %s::uuid) ON CONFLICT DO NOTHING" },
    { "lenz_tp_leave", "DELETE FROM topic_members WHERE topic_id = %s::uuid AND user_id = %s::uuid" },
    { "lenz_tp_get",
      "SELECT " TOPIC_COLS " FROM topics t LEFT JOIN users u ON u.id = t.author_id "
      "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'topic', t.id) AS rk) a WHERE t.id = %s::uuid AND a.rk > 0" },
    { "lenz_tp_lock", "SELECT id FROM topics WHERE id = %s::uuid FOR UPDATE" },
    /* A topic's posts the member sees, oldest first, at most 500. */
    { "lenz_tp_posts",
      "SELECT " POST_COLS " FROM posts p LEFT JOIN users u ON u.id = p.author_id "
      "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'post', p.id) AS rk) a "
      "WHERE p.topic_id = %s::uuid AND a.rk > 0 ORDER BY p.created_at, p.id LIMIT 500" },
    { "lenz_tp_activity", LIST("t.last_activity_at", "(extract(epoch FROM t.last_activity_at) * 1000000)::bigint::text",
                               "timestamptz") },
    { "lenz_tp_votes", LIST("t.votes", "t.votes::text", "int") },
    { "lenz_tp_reply_to",
      "SELECT author_id FROM posts WHERE id = %s::uuid AND topic_id = %s::uuid AND removed_at IS NULL" },
    { "lenz_tp_post_new",
      "WITH p AS (INSERT INTO posts (topic_id, author_id, reply_to, body, body_html) "
      "VALUES (%s::uuid, %s::uuid, %s::uuid, %s, %s) RETURNING id), "
      "t AS (UPDATE topics SET posts = posts + 1, last_activity_at = now() WHERE id = %s::uuid RETURNING title) "
      "SELECT p.id, t.title FROM p, t" },
    { "lenz_tp_post_get",
      "SELECT " POST_COLS ", p.topic_id FROM posts p LEFT JOIN users u ON u.id = p.author_id "
      "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'post', p.id) AS rk) a "
      "WHERE p.id = %s::uuid AND a.rk > 0 AND p.removed_at IS NULL FOR UPDATE OF p" },
    { "lenz_tp_post_edit", "UPDATE posts SET body = %s, body_html = %s, edited_at = now() WHERE id = %s::uuid" },
    { "lenz_tp_post_remove",
      "WITH p AS (UPDATE posts SET removed_at = now() WHERE id = %s::uuid RETURNING topic_id) "
      "UPDATE topics SET posts = posts - 1 WHERE id = (SELECT topic_id FROM p)" },
    { "lenz_tp_edit",
      "UPDATE topics SET title = coalesce(%s, title), body = coalesce(%s, body), body_html = coalesce(%s, body_html), "
      "tags = coalesce(%s::text[], tags), pinned = coalesce(%s::boolean, pinned), locked = coalesce(%s::boolean, locked) "
      "WHERE id = %s::uuid" },
    { "lenz_tp_remove", "UPDATE topics SET removed_at = now() WHERE id = %s::uuid" },
    /* Votes: the count kept beside the rows, in the vote's statement. */
    { "lenz_tp_vote_topic",
      "WITH v AS (INSERT INTO topic_votes (topic_id, user_id) VALUES (%s::uuid, %s::uuid) ON CONFLICT DO NOTHING "
      "RETURNING 1) UPDATE topics SET votes = votes + (SELECT count(*) FROM v) WHERE id = %s::uuid RETURNING votes" },
    { "lenz_tp_unvote_topic",
      "WITH v AS (DELETE FROM topic_votes WHERE topic_id = %s::uuid AND user_id = %s::uuid RETURNING 1) "
      "UPDATE topics SET votes = votes - (SELECT count(*) FROM v) WHERE id = %s::uuid RETURNING votes" },
    { "lenz_tp_vote_post",
      "WITH v AS (INSERT INTO post_votes (post_id, user_id) VALUES (%s::uuid, %s::uuid) ON CONFLICT DO NOTHING "
      "RETURNING 1) UPDATE posts SET votes = votes + (SELECT count(*) FROM v) WHERE id = %s::uuid RETURNING votes" },
    { "lenz_tp_unvote_post",
      "WITH v AS (DELETE FROM post_votes WHERE post_id = %s::uuid AND user_id = %s::uuid RETURNING 1) "
      "UPDATE posts SET votes = votes - (SELECT count(*) FROM v) WHERE id = %s::uuid RETURNING votes" },
    { NULL }
};

static int forbidden(request_rec *r, const char *detail)
{
    return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "role-forbids", "Not allowed", detail);
}

/* What a member writes: the content filter, then Markdown (422 with the
 * reason); *html the safe HTML.  0 after answering. */
static int render(request_rec *r, lenz_req *lr, const char *field, const char *text, const char **html)
{
    const apr_array_header_t *words = lenz_cfg_content_words(lr->srv);
    const char *why = lenz_text_refused(r->pool, text, words ? (const char *const *)words->elts : NULL,
                                        words ? words->nelts : 0, lenz_cfg_content_links(lr->srv));
    if (!why && lenz_md_render(r->pool, text, strlen(text), html, &why) == APR_SUCCESS)
        return 1;
    {
        lenz_json *ext = lenz_json_new_object(r->pool);
        lenz_json_set_str(ext, "field", field);
        lenz_json_set_str(ext, "reason", why);
        lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(2740), HTTP_UNPROCESSABLE_ENTITY, "content-refused", "Not accepted",
                      apr_pstrcat(r->pool, field, ": ", why, NULL), ext);
    }
    return 0;
}

static int body_ok(request_rec *r, const char *body)
{
    if (!body || !*body || strspn(body, " \t\r\n") == strlen(body) || strlen(body) > LENZ_POST_MAX)
        return lenz_field_bad(r, "body", apr_psprintf(r->pool, "1 to %d characters, not only spaces",
                                                      LENZ_POST_MAX)), 0;
    return 1;
}

/* tags: a JSON array of up to 10 words (letters, digits, '-', 1-32),
 * kept in lower case, as a PostgreSQL array literal. */
int lenz_topic_tags(request_rec *r, const lenz_json *arr, const char **out)
{
    apr_size_t i, n = arr ? lenz_json_array_len(arr) : 0;
    const char *lit = "{";
    if (arr && lenz_json_typeof(arr) != LENZ_JSON_ARRAY)
        return lenz_field_bad(r, "tags", "a list of words"), 0;
    if (n > 10)
        return lenz_field_bad(r, "tags", "at most 10"), 0;
    for (i = 0; i < n; i++) {
        const char *t = lenz_json_string(lenz_json_array_get(arr, i)), *c;
        if (!t || !*t || strlen(t) > 32)
            return lenz_field_bad(r, "tags", "each 1 to 32 letters, digits or '-'"), 0;
        for (c = t; *c; c++)
            if (!apr_isalnum((unsigned char)*c) && *c != '-')
                return lenz_field_bad(r, "tags", "each 1 to 32 letters, digits or '-'"), 0;
        lit = apr_pstrcat(r->pool, lit, i ? "," : "", lenz_ascii_lower(r->pool, t), NULL);
    }
    *out = apr_pstrcat(r->pool, lit, "}", NULL);
    return 1;
}

static int title_ok(request_rec *r, const char *title)
{
    if (!title || !*title || strlen(title) > 200 || lenz_name_has_bidi(title) || strspn(title, " \t") == strlen(title))
        return lenz_field_bad(r, "title", "1 to 200 characters, without bidirectional controls"), 0;
    return 1;
}

int lenz_topic_create(request_rec *r, lenz_req *lr, const char *title, const char *body, const char *tags,
                      const char *folder, const char **id)
{
    const char *html, *args[6];
    lenz_json *ev;
    lenz_rows rows;
    lenz_db *db;

    if (!title_ok(r, title) || !body_ok(r, body))
        return 0;
    if (folder && !lenz_uuid_ok(folder))
        return lenz_fail_not_found(r, "folder"), 0;
    if (!render(r, lr, "title", title, &html) || !render(r, lr, "body", body, &html))
        return 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2741)), 0;
    if (folder) {
        /* A topic for a shared folder's members: commenters and up open one. */
        int rank;
        args[0] = lr->user->id;
        args[1] = folder;
        if (lenz_db_select(db, "lenz_tp_folder_rank", &rows, 2, args) != APR_SUCCESS || rows.nrows != 1)
            return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2741)), 0;
        rank = (int)apr_atoi64(rows.rows[0][0]);
        if (rank == 0)
            return lenz_db_close(db), lenz_fail_not_found(r, "folder"), 0;
        if (rank < 2)
            return lenz_db_close(db), forbidden(r, "viewers of a folder read its topics; commenters and up open them"), 0;
    }
    if (!lenz_rate_check(r, "collab-posts", lr->user->id, lenz_cfg_collab_limit(lr->srv, LENZ_COLLAB_POSTS), 3600))
        return lenz_db_close(db), 0;
    if (lenz_db_begin(db) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2742)), 0;
    args[0] = lr->user->id;
    args[1] = title;
    args[2] = body;
    args[3] = html;
    args[4] = tags ? tags : "{}";
    args[5] = folder;
    if (lenz_db_select(db, "lenz_tp_new", &rows, 6, args) != APR_SUCCESS || rows.nrows != 1)
        goto failed;
    *id = rows.rows[0][0];
    args[0] = *id;
    args[1] = lr->user->id;
    ev = lenz_json_new_object(r->pool);
    lenz_json_set_str(ev, "topic_id", *id);
    lenz_json_set_str(ev, "title", title);
    if (folder)
        lenz_json_set_str(ev, "folder_id", folder);
    if (lenz_db_exec(db, "lenz_tp_join", NULL, 2, args) != APR_SUCCESS
        || lenz_event_emit(db, "topic.created", lr->user->id, *id, ev) != APR_SUCCESS
        || lenz_db_end(db, 0) != APR_SUCCESS)
        goto failed;
    lenz_db_close(db);
    return 1;
failed:
    lenz_db_end(db, 1);
    lenz_db_close(db);
    return lenz_fail_db(r, LENZLOGNO(2742)), 0;
}

int lenz_topic_get(request_rec *r, lenz_req *lr, lenz_db *db, const char *id, const char ***row)
{
    const char *args[4] = { lr->user->id, lr->user->id, lr->user->id, id };
    lenz_rows rows;
    if (!lenz_uuid_ok(id))
        return lenz_fail_not_found(r, "topic"), 0;
    if (lenz_db_select(db, "lenz_tp_get", &rows, 4, args) != APR_SUCCESS)
        return lenz_fail_db(r, LENZLOGNO(2743)), 0;
    if (rows.nrows != 1)
        return lenz_fail_not_found(r, "topic"), 0;
    *row = rows.rows[0];
    return 1;
}

int lenz_topic_read(request_rec *r, lenz_req *lr, const char *id, const char ***topic, lenz_rows *posts)
{
    const char *args[3];
    lenz_db *db = lenz_db_open(r);
    if (!db)
        return lenz_fail_db(r, LENZLOGNO(2743)), 0;
    if (!lenz_topic_get(r, lr, db, id, topic))
        return lenz_db_close(db), 0;
    args[0] = lr->user->id;
    args[1] = lr->user->id;
    args[2] = id;
    if (lenz_db_select(db, "lenz_tp_posts", posts, 3, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2743)), 0;
    lenz_db_close(db);
    return 1;
}

int lenz_topic_list(request_rec *r, lenz_req *lr, int by_votes, const char *tag, const char *folder,
                    const char *cursor, int limit, lenz_rows *rows)
{
    const char *args[13], *c1 = NULL, *c2 = NULL, *c3 = NULL;
    lenz_db *db;
    if (cursor) {
        /* "pinned.key.id" */
        const char *d1 = strchr(cursor, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        char *end;
        if (!d1 || !d2 || (cursor[0] != '0' && cursor[0] != '1') || d1 != cursor + 1 || !lenz_uuid_ok(d2 + 1))
            return lenz_field_bad(r, "cursor", "a next_cursor this list gave"), 0;
        c1 = apr_pstrmemdup(r->pool, cursor, 1);
        c2 = apr_pstrmemdup(r->pool, d1 + 1, d2 - d1 - 1);
        apr_strtoi64(c2, &end, 10);
        if (!*c2 || *end)
            return lenz_field_bad(r, "cursor", "a next_cursor this list gave"), 0;
        c3 = d2 + 1;
    }
    if (folder && !lenz_uuid_ok(folder))
        return lenz_fail_not_found(r, "folder"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2744)), 0;
    args[0] = args[1] = args[2] = lr->user->id;
    args[3] = args[4] = tag;
    args[5] = args[6] = folder;
    args[7] = cursor;
    args[8] = c1;
    args[9] = c2;
    args[10] = c3;
    args[11] = apr_itoa(r->pool, limit);
    if (c2 && !by_votes) {
        /* the activity key: microseconds since the epoch, as a time */
        apr_time_exp_t tm;
        apr_time_exp_gmt(&tm, (apr_time_t)apr_atoi64(c2));
        args[9] = apr_psprintf(r->pool, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_usec);
    }
    if (lenz_db_select(db, by_votes ? "lenz_tp_votes" : "lenz_tp_activity", rows, 12, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2744)), 0;
    lenz_db_close(db);
    return 1;
}

const char *lenz_topic_cursor(apr_pool_t *p, const char **row)
{
    return apr_psprintf(p, "%c.%s.%s", row[8][0] == 't' ? '1' : '0', row[LENZ_TOPIC_NCOLS], row[0]);
}

int lenz_post_create(request_rec *r, lenz_req *lr, const char *topic, const char *body, const char *reply_to,
                     const char **id)
{
    const char *html, *args[6], **t, *reply_author = NULL;
    lenz_json *ev;
    lenz_rows rows;
    lenz_db *db;
    int rank;

    if (!body_ok(r, body))
        return 0;
    if (reply_to && !lenz_uuid_ok(reply_to))
        return lenz_fail_not_found(r, "post to reply to"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2745)), 0;
    if (!lenz_topic_get(r, lr, db, topic, &t))
        return lenz_db_close(db), 0;
    rank = (int)apr_atoi64(t[16]);
    if (t[9][0] == 't' && rank < 5)
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_CONFLICT, "topic-locked", "Locked",
                                           "a moderator locked this topic"), 0;
    if (rank < 2)
        return lenz_db_close(db), forbidden(r, "you may read this topic but not post in it"), 0;
    if (!render(r, lr, "body", body, &html))
        return lenz_db_close(db), 0;
    if (reply_to) {
        args[0] = reply_to;
        args[1] = topic;
        if (lenz_db_select(db, "lenz_tp_reply_to", &rows, 2, args) != APR_SUCCESS)
            return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2745)), 0;
        if (rows.nrows != 1)
            return lenz_db_close(db), lenz_fail_not_found(r, "post to reply to"), 0;
        reply_author = rows.rows[0][0];
    }
    if (!lenz_rate_check(r, "collab-posts", lr->user->id, lenz_cfg_collab_limit(lr->srv, LENZ_COLLAB_POSTS), 3600))
        return lenz_db_close(db), 0;
    if (lenz_db_begin(db) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2746)), 0;
    args[0] = topic;
    args[1] = lr->user->id;
    args[2] = reply_to;
    args[3] = body;
    args[4] = html;
    args[5] = topic;
    if (lenz_db_select(db, "lenz_tp_post_new", &rows, 6, args) != APR_SUCCESS || rows.nrows != 1)
        goto failed;
    *id = rows.rows[0][0];
    ev = lenz_json_new_object(r->pool);
    lenz_json_set_str(ev, "topic_id", topic);
    lenz_json_set_str(ev, "post_id", *id);
    lenz_json_set_str(ev, "title", rows.rows[0][1]);
    lenz_json_set_str(ev, "by", lr->user->name && *lr->user->name ? lr->user->name : lr->user->email);
    lenz_json_set_str(ev, "excerpt", apr_pstrndup(r->pool, body, 200));
    if (reply_author)
        lenz_json_set_str(ev, "reply_to_author", reply_author);
    if (lenz_event_emit(db, "post.created", lr->user->id, *id, ev) != APR_SUCCESS || lenz_db_end(db, 0) != APR_SUCCESS)
        goto failed;
    lenz_db_close(db);
    return 1;
failed:
    lenz_db_end(db, 1);
    lenz_db_close(db);
    return lenz_fail_db(r, LENZLOGNO(2746)), 0;
}

/* A post the caller sees, locked in a transaction begun here. */
static int post_get(request_rec *r, lenz_req *lr, lenz_db *db, const char *id, const char ***row)
{
    const char *args[3] = { lr->user->id, lr->user->id, id };
    lenz_rows rows;
    if (!lenz_uuid_ok(id))
        return lenz_fail_not_found(r, "post"), 0;
    if (lenz_db_begin(db) != APR_SUCCESS || lenz_db_select(db, "lenz_tp_post_get", &rows, 3, args) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_fail_db(r, LENZLOGNO(2747)), 0;
    }
    if (rows.nrows != 1) {
        lenz_db_end(db, 1);
        return lenz_fail_not_found(r, "post"), 0;
    }
    *row = rows.rows[0];
    return 1;
}

int lenz_post_change(request_rec *r, lenz_req *lr, const char *id, const char *body, int remove)
{
    const char **row, *html = NULL, *args[3];
    lenz_db *db;
    int rank;
    if (!remove && !body_ok(r, body))
        return 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2747)), 0;
    if (!post_get(r, lr, db, id, &row))
        return lenz_db_close(db), 0;
    rank = (int)apr_atoi64(row[11]);
    /* Authors edit and delete their own; moderators delete any. */
    if (remove ? rank < 4 : (!row[2] || strcmp(row[2], lr->user->id))) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "not-yours", "Not your post",
                                           remove ? "a post is deleted by its author or a moderator"
                                                  : "only its author edits a post"), 0;
    }
    if (!remove && !render(r, lr, "body", body, &html)) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), 0;
    }
    args[0] = remove ? row[0] : body;
    args[1] = html;
    args[2] = row[0];
    if (lenz_db_exec(db, remove ? "lenz_tp_post_remove" : "lenz_tp_post_edit", NULL, remove ? 1 : 3, args)
        != APR_SUCCESS || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2747)), 0;
    }
    lenz_db_close(db);
    return 1;
}

int lenz_topic_change(request_rec *r, lenz_req *lr, const char *id, const lenz_topic_edit *e)
{
    const char **t, *html = NULL, *args[7];
    lenz_db *db;
    int rank;
    if ((e->title && !title_ok(r, e->title)) || (e->body && !body_ok(r, e->body)))
        return 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2748)), 0;
    if (!lenz_topic_get(r, lr, db, id, &t))
        return lenz_db_close(db), 0;
    rank = (int)apr_atoi64(t[16]);
    if ((e->pinned || e->locked) && rank < 5)
        return lenz_db_close(db), forbidden(r, "moderators pin and lock topics"), 0;
    if ((e->title || e->body || e->tags || e->remove) && rank < 4)
        return lenz_db_close(db), forbidden(r, "a topic is changed by its author or a moderator"), 0;
    if ((e->title && !render(r, lr, "title", e->title, &html)) || (e->body && !render(r, lr, "body", e->body, &html)))
        return lenz_db_close(db), 0;
    args[0] = e->title;
    args[1] = e->body;
    args[2] = e->body ? html : NULL;
    args[3] = e->tags;
    args[4] = e->pinned;
    args[5] = e->locked;
    args[6] = id;
    if (lenz_db_exec(db, e->remove ? "lenz_tp_remove" : "lenz_tp_edit", NULL, e->remove ? 1 : 7,
                     e->remove ? args + 6 : args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2748)), 0;
    lenz_db_close(db);
    return 1;
}

int lenz_topic_vote(request_rec *r, lenz_req *lr, int post, const char *id, int up, apr_int64_t *votes)
{
    const char *args[3], **row;
    lenz_rows rows;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2749)), 0;
    if (post) {
        if (!post_get(r, lr, db, id, &row))
            return lenz_db_close(db), 0;
    }
    else if (!lenz_topic_get(r, lr, db, id, &row) || lenz_db_begin(db) != APR_SUCCESS)
        return lenz_db_close(db), 0;
    args[0] = id;
    args[1] = lr->user->id;
    args[2] = id;
    if (lenz_db_select(db, post ? (up ? "lenz_tp_vote_post" : "lenz_tp_unvote_post")
                                : (up ? "lenz_tp_vote_topic" : "lenz_tp_unvote_topic"), &rows, 3, args) != APR_SUCCESS
        || rows.nrows != 1 || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2749)), 0;
    }
    lenz_db_close(db);
    *votes = apr_atoi64(rows.rows[0][0]);
    return 1;
}

int lenz_topic_membership(request_rec *r, lenz_req *lr, const char *id, int join)
{
    const char *args[2] = { id, lr->user->id }, **t;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2750)), 0;
    if (!lenz_topic_get(r, lr, db, id, &t))
        return lenz_db_close(db), 0;
    if (lenz_db_exec(db, join ? "lenz_tp_join" : "lenz_tp_leave", NULL, 2, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2750)), 0;
    lenz_db_close(db);
    return 1;
}

void lenz_topic_json(apr_pool_t *p, lenz_json *o, const char **row, int full)
{
    lenz_json *a = NULL, *tags = lenz_json_parse(p, row[4], strlen(row[4]), 0, NULL);
    int rank = (int)apr_atoi64(row[16]);
    lenz_json_set_str(o, "id", row[0]);
    lenz_json_set_str(o, "title", row[1]);
    if (full) {
        lenz_json_set_str(o, "body", row[2]);
        lenz_json_set_str(o, "body_html", row[3]);
    }
    if (tags)
        lenz_json_set_copy(o, "tags", tags);
    lenz_json_set_str(o, "visibility", row[5] ? "folder" : "site");
    lenz_json_set_str(o, "folder_id", row[5]);
    a = lenz_json_obj_add_object(o, "author");
    lenz_json_set_str(a, "id", row[6]);
    lenz_json_set_str(a, "name", row[7]);
    lenz_json_set_bool(o, "pinned", row[8][0] == 't');
    lenz_json_set_bool(o, "locked", row[9][0] == 't');
    lenz_json_set_int(o, "votes", apr_atoi64(row[10]));
    lenz_json_set_int(o, "posts", apr_atoi64(row[11]));
    lenz_json_set_str(o, "created_at", row[12]);
    lenz_json_set_str(o, "last_activity_at", row[13]);
    lenz_json_set_bool(o, "voted", row[14][0] == 't');
    lenz_json_set_bool(o, "joined", row[15][0] == 't');
    lenz_json_set_bool(o, "can_post", rank >= 2 && (row[9][0] != 't' || rank == 5));
    lenz_json_set_bool(o, "can_moderate", rank == 5);
    if (row[17][0] == 't')
        lenz_json_set_bool(o, "removed", 1);
}

void lenz_post_json(lenz_json *o, const char **row, const char *me)
{
    lenz_json *a;
    int removed = row[10][0] == 't';
    lenz_json_set_str(o, "id", row[0]);
    lenz_json_set_str(o, "reply_to", row[1]);
    a = lenz_json_obj_add_object(o, "author");
    lenz_json_set_str(a, "id", row[2]);
    lenz_json_set_str(a, "name", row[3]);
    lenz_json_set_str(o, "body", removed ? "" : row[4]);
    lenz_json_set_str(o, "body_html", removed ? "" : row[5]);
    lenz_json_set_int(o, "votes", apr_atoi64(row[6]));
    lenz_json_set_str(o, "created_at", row[7]);
    lenz_json_set_str(o, "edited_at", row[8]);
    lenz_json_set_bool(o, "voted", row[9][0] == 't');
    lenz_json_set_bool(o, "mine", row[2] && !strcmp(row[2], me));
    if (removed)
        lenz_json_set_bool(o, "removed", 1);
}
