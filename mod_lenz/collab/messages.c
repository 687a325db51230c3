/* messages.c - messages between members (messages.h; sql/029): one-to-one
 * (one conversation per pair) and group conversations, read markers,
 * delivery as "event: message" on the other members' streams
 * (message.created -> a live row each: subscriber.c).  The API
 * (h_messages.c) and the pages (h_pages.c) call these functions; each
 * answers an error itself and returns 0.  Who may read a conversation is
 * lenz_access(member, 'conversation', id) inside the statements: anyone
 * else gets 404. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "collab.h"
#include "messages.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/dbd.h"
#include "httpd/auth.h"
#include "httpd/outbox.h"
#include "codec.h"
#include "mail.h"

#define GROUP_MAX 20
#define BODY_MAX LENZ_MSG_BODY_MAX
#define PAGE_DEFAULT 100
#define PAGE_MAX 500

#define MEMBERS_JSON "(SELECT json_agg(json_build_object('id', u.id, 'name', coalesce(nullif(u.name, ''), u.email), " \
    "'last_read', m.last_read) ORDER BY u.id)::text FROM conversation_members m JOIN users u ON u.id = m.user_id " \
    "WHERE m.conversation_id = c.id)"
#define UNREAD(me) "(SELECT count(*) FROM messages x WHERE x.conversation_id = c.id AND x.id > " \
    "(SELECT last_read FROM conversation_members WHERE conversation_id = c.id AND user_id = " me ") " \
    "AND x.author_id IS DISTINCT FROM " me ")"

const lenz_stmt lenz_messages_stmts[] = {
    { "lenz_msg_users",
      "SELECT id FROM users WHERE email = ANY (%s::citext[]) AND status = 'active' ORDER BY id" },
    /* A pair's conversation, made once (one_to_one is unique). */
    { "lenz_msg_pair",
      "WITH n AS (INSERT INTO conversations (created_by, one_to_one) VALUES (%s::uuid, %s) "
      "ON CONFLICT (one_to_one) DO NOTHING RETURNING id) "
      "SELECT id, true FROM n UNION ALL SELECT id, false FROM conversations WHERE one_to_one = %s LIMIT 1" },
    { "lenz_msg_group", "INSERT INTO conversations (created_by) VALUES (%s::uuid) RETURNING id" },
    { "lenz_msg_member",
      "INSERT INTO conversation_members (conversation_id, user_id) VALUES (%s::uuid, %s::uuid) ON CONFLICT DO NOTHING" },
    { "lenz_msg_visible",
      "SELECT c.id FROM conversations c WHERE c.id = %s::uuid AND lenz_access(%s::uuid, 'conversation', c.id) > 0" },
    { "lenz_msg_add",
      "WITH m AS (INSERT INTO messages (conversation_id, author_id, body) VALUES (%s::uuid, %s::uuid, %s) "
      "RETURNING id, created_at), "
      "c AS (UPDATE conversations SET last_message_at = now() WHERE id = %s::uuid), "
      "r AS (UPDATE conversation_members SET last_read = (SELECT id FROM m) "
      "      WHERE conversation_id = %s::uuid AND user_id = %s::uuid) "
      "SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM m" },
    { "lenz_msg_others",
      "SELECT user_id FROM conversation_members WHERE conversation_id = %s::uuid AND user_id <> %s::uuid" },
    { "lenz_msg_list",
      "SELECT c.id, " MEMBERS_JSON ", "
      "(SELECT json_build_object('id', x.id, 'body', left(x.body, 200), 'author_id', x.author_id, 'created_at', "
      "  to_char(x.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))::text FROM messages x "
      "  WHERE x.conversation_id = c.id ORDER BY x.id DESC LIMIT 1), " UNREAD("%s::uuid") " "
      "FROM conversations c JOIN conversation_members me ON me.conversation_id = c.id AND me.user_id = %s::uuid "
      "WHERE lenz_access(%s::uuid, 'conversation', c.id) > 0 "
      "ORDER BY c.last_message_at DESC LIMIT 200" },
    { "lenz_msg_one",
      "SELECT c.id, " MEMBERS_JSON ", " UNREAD("%s::uuid") " FROM conversations c "
      "WHERE c.id = %s::uuid AND lenz_access(%s::uuid, 'conversation', c.id) > 0" },
    { "lenz_msg_page",
      "SELECT x.id, x.author_id, coalesce(nullif(u.name, ''), u.email, 'a former member'), x.body, "
      "to_char(x.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM messages x LEFT JOIN users u ON u.id = x.author_id "
      "WHERE x.conversation_id = %s::uuid AND x.id > %s::bigint "
      "AND (SELECT lenz_access(%s::uuid, 'conversation', %s::uuid)) > 0 ORDER BY x.id LIMIT %s::int" },
    { "lenz_msg_read",
      "UPDATE conversation_members SET last_read = greatest(last_read, least(%s::bigint, "
      "  (SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = %s::uuid))) "
      "WHERE conversation_id = %s::uuid AND user_id = %s::uuid RETURNING last_read" },
    { NULL }
};

static int body_ok(request_rec *r, lenz_req *lr, const char *body)
{
    if (!body || !*body || strspn(body, " \t\r\n") == strlen(body) || strlen(body) > BODY_MAX)
        return lenz_field_bad(r, "body", apr_psprintf(r->pool, "1 to %d characters, not only spaces", BODY_MAX)), 0;
    return lenz_collab_text_ok(r, lr, "body", body, LENZ_COLLAB_MESSAGES);
}

/* The message and its event, in the caller's transaction; *id. */
static apr_status_t add(request_rec *r, lenz_req *lr, lenz_db *db, const char *conv, const char *body,
                        const char **id)
{
    const char *args[6] = { conv, lr->user->id, body, conv, conv, lr->user->id };
    lenz_json *ev, *to;
    lenz_rows rows, others;
    int i;
    if (lenz_db_select(db, "lenz_msg_add", &rows, 6, args) != APR_SUCCESS || rows.nrows != 1)
        return APR_EGENERAL;
    *id = rows.rows[0][0];
    args[1] = lr->user->id;
    if (lenz_db_select(db, "lenz_msg_others", &others, 2, args) != APR_SUCCESS)
        return APR_EGENERAL;
    ev = lenz_json_new_object(r->pool);
    lenz_json_set_str(ev, "conversation_id", conv);
    lenz_json_set_int(ev, "id", apr_atoi64(*id));
    lenz_json_set_str(ev, "author_id", lr->user->id);
    lenz_json_set_str(ev, "author", lr->user->name && *lr->user->name ? lr->user->name : lr->user->email);
    lenz_json_set_str(ev, "body", body);
    lenz_json_set_str(ev, "created_at", rows.rows[0][1]);
    to = lenz_json_obj_add_array(ev, "to");
    for (i = 0; i < others.nrows; i++)
        lenz_json_arr_add_str(to, others.rows[i][0]);
    return lenz_event_emit(db, "message.created", lr->user->id, conv, ev);
}

int lenz_msg_start(request_rec *r, lenz_req *lr, const lenz_json *members, const char *body, const char **out)
{
    const char *lit = "{", *args[3], *conv, *id;
    apr_size_t i, n;
    lenz_rows users, rows;
    lenz_db *db;
    int k, self = 0;

    n = members && lenz_json_typeof(members) == LENZ_JSON_ARRAY ? lenz_json_array_len(members) : 0;
    if (n < 1 || n > GROUP_MAX - 1)
        return lenz_field_bad(r, "members", apr_psprintf(r->pool, "1 to %d e-mail addresses", GROUP_MAX - 1)), 0;
    for (i = 0; i < n; i++) {
        const char *e = lenz_json_string(lenz_json_array_get(members, i));
        if (!e || !lenz_mail_addr_ok(e) || strchr(e, '"') || strchr(e, '\\'))
            return lenz_field_bad(r, "members", "e-mail addresses"), 0;
        if (!strcasecmp(e, lr->user->email)) {
            self = 1;
            continue;
        }
        lit = apr_pstrcat(r->pool, lit, strlen(lit) > 1 ? "," : "", "\"", e, "\"", NULL);
    }
    if (self && n == 1)
        return lenz_field_bad(r, "members", "someone other than yourself"), 0;
    if (!body_ok(r, lr, body))
        return 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2770)), 0;
    args[0] = apr_pstrcat(r->pool, lit, "}", NULL);
    if (lenz_db_select(db, "lenz_msg_users", &users, 1, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2770)), 0;
    if ((apr_size_t)users.nrows != n - (apr_size_t)self) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "no-such-member", "No such member",
                         "members: every address must be a member's"), 0;
    }
    if (lenz_db_begin(db) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2771)), 0;
    if (users.nrows == 1) {
        /* A pair has one conversation: "smaller:larger" of the two ids. */
        const char *a = lr->user->id, *o = users.rows[0][0];
        args[0] = lr->user->id;
        args[1] = args[2] = strcmp(a, o) < 0 ? apr_pstrcat(r->pool, a, ":", o, NULL) : apr_pstrcat(r->pool, o, ":", a, NULL);
        if (lenz_db_select(db, "lenz_msg_pair", &rows, 3, args) != APR_SUCCESS || rows.nrows != 1)
            goto failed;
    }
    else if (lenz_db_select(db, "lenz_msg_group", &rows, 1, (const char **)&lr->user->id) != APR_SUCCESS
             || rows.nrows != 1)
        goto failed;
    conv = rows.rows[0][0];
    args[0] = conv;
    args[1] = lr->user->id;
    if (lenz_db_exec(db, "lenz_msg_member", NULL, 2, args) != APR_SUCCESS)
        goto failed;
    for (k = 0; k < users.nrows; k++) {
        args[1] = users.rows[k][0];
        if (lenz_db_exec(db, "lenz_msg_member", NULL, 2, args) != APR_SUCCESS)
            goto failed;
    }
    if (add(r, lr, db, conv, body, &id) != APR_SUCCESS || lenz_db_end(db, 0) != APR_SUCCESS)
        goto failed;
    lenz_db_close(db);
    *out = conv;
    return 1;
failed:
    lenz_db_end(db, 1);
    lenz_db_close(db);
    return lenz_fail_db(r, LENZLOGNO(2771)), 0;
}

int lenz_msg_send(request_rec *r, lenz_req *lr, const char *conv, const char *body, const char **id)
{
    const char *args[2];
    lenz_rows rows;
    lenz_db *db;
    if (!lenz_uuid_ok(conv))
        return lenz_fail_not_found(r, "conversation"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2772)), 0;
    args[0] = conv;
    args[1] = lr->user->id;
    if (lenz_db_select(db, "lenz_msg_visible", &rows, 2, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2772)), 0;
    if (rows.nrows != 1)
        return lenz_db_close(db), lenz_fail_not_found(r, "conversation"), 0;
    if (!body_ok(r, lr, body))
        return lenz_db_close(db), 0;
    if (lenz_db_begin(db) != APR_SUCCESS || add(r, lr, db, conv, body, id) != APR_SUCCESS
        || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2772)), 0;
    }
    lenz_db_close(db);
    return 1;
}

void lenz_msg_members_json(apr_pool_t *p, lenz_json *o, const char *text)
{
    lenz_json *m = text ? lenz_json_parse(p, text, strlen(text), 0, NULL) : NULL;
    if (m)
        lenz_json_set_copy(o, "members", m);
}

int lenz_msg_conversations(request_rec *r, lenz_req *lr, lenz_rows *rows)
{
    const char *args[4] = { lr->user->id, lr->user->id, lr->user->id, lr->user->id };
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2773)), 0;
    if (lenz_db_select(db, "lenz_msg_list", rows, 4, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2773)), 0;
    lenz_db_close(db);
    return 1;
}

int lenz_msg_thread(request_rec *r, lenz_req *lr, const char *conv, const char *after, long limit,
                    const char ***one, lenz_rows *rows)
{
    const char *args[5];
    lenz_rows o;
    lenz_db *db;
    if (!lenz_uuid_ok(conv))
        return lenz_fail_not_found(r, "conversation"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2774)), 0;
    args[0] = args[1] = lr->user->id;
    args[2] = conv;
    args[3] = lr->user->id;
    if (lenz_db_select(db, "lenz_msg_one", &o, 4, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2774)), 0;
    if (o.nrows != 1)
        return lenz_db_close(db), lenz_fail_not_found(r, "conversation"), 0;
    args[0] = conv;
    args[1] = after ? after : "0";
    args[2] = lr->user->id;
    args[3] = conv;
    args[4] = apr_ltoa(r->pool, limit);
    if (lenz_db_select(db, "lenz_msg_page", rows, 5, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2774)), 0;
    lenz_db_close(db);
    *one = o.rows[0];
    return 1;
}

int lenz_msg_mark(request_rec *r, lenz_req *lr, const char *conv, apr_int64_t last, apr_int64_t *last_read,
                  apr_int64_t *unread)
{
    const char *args[4];
    lenz_rows rows;
    lenz_db *db;
    if (!lenz_uuid_ok(conv))
        return lenz_fail_not_found(r, "conversation"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2775)), 0;
    args[0] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, last);
    args[1] = args[2] = conv;
    args[3] = lr->user->id;
    if (lenz_db_select(db, "lenz_msg_read", &rows, 4, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2775)), 0;
    if (rows.nrows != 1)
        return lenz_db_close(db), lenz_fail_not_found(r, "conversation"), 0;
    {
        const char *oa[4] = { lr->user->id, lr->user->id, conv, lr->user->id };
        lenz_rows one;
        if (lenz_db_select(db, "lenz_msg_one", &one, 4, oa) != APR_SUCCESS || one.nrows != 1)
            return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2775)), 0;
        lenz_db_close(db);
        *last_read = apr_atoi64(rows.rows[0][0]);
        *unread = apr_atoi64(one.rows[0][2]);
    }
    return 1;
}

