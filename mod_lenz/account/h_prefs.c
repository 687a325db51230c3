/* h_prefs.c - what a member is told, and how (sql/019): per kind of
 * notice in the app and/or by mail, and mails at once or as an hourly or
 * daily digest (jobs/digest.c).  The subscribers read the choices in SQL
 * (lenz_wants), so a change applies from the next event on.
 *
 *   GET   /api/v1/me/notification-preferences
 *   PATCH /api/v1/me/notification-preferences   {"digest", "kinds": {KIND: {"in_app","mail"}}}
 *   POST  /account/settings/notifications       (the settings page's form)
 *
 * Kinds: comments (on their items, and mentions), downloads (of the
 * member's links), requests (files received through their file requests),
 * shares (invitations, people joining), topics (posts in topics they
 * joined, replies to them).  Security notices (password, two-factor)
 * are always mailed and are listed as fixed. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "settings.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"

static const char *const kinds[] = { "comments", "downloads", "requests", "shares", "topics" };
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const lenz_stmt lenz_prefs_stmts[] = {
    { "lenz_prefs_get",
      "SELECT k.kind, coalesce(p.in_app, true), coalesce(p.mail, true), u.mail_digest "
      "FROM users u CROSS JOIN (VALUES ('comments'), ('downloads'), ('requests'), ('shares'), ('topics')) AS k(kind) "
      "LEFT JOIN notification_prefs p ON p.user_id = u.id AND p.kind = k.kind "
      "WHERE u.id = %s::uuid ORDER BY k.kind" },
    { "lenz_prefs_set",
      "INSERT INTO notification_prefs (user_id, kind, in_app, mail) "
      "VALUES (%s::uuid, %s, coalesce(%s::boolean, true), coalesce(%s::boolean, true)) "
      "ON CONFLICT (user_id, kind) DO UPDATE SET in_app = coalesce(%s::boolean, notification_prefs.in_app), "
      "mail = coalesce(%s::boolean, notification_prefs.mail)" },
    { "lenz_prefs_digest",
      "UPDATE users SET mail_digest = %s WHERE id = %s::uuid" },
    { NULL }
};

static int unavailable(request_rec *r, const char *tag)
{
    return lenz_fail(r, APLOG_ERR, tag, HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

apr_status_t lenz_prefs_json(request_rec *r, lenz_db *db, const char *user, lenz_json *out)
{
    const char *args[1] = { user };
    lenz_json *k, *o;
    lenz_rows rows;
    apr_status_t rv;
    int i;

    if ((rv = lenz_db_select(db, "lenz_prefs_get", &rows, 1, args)) != APR_SUCCESS)
        return rv;
    if (rows.nrows == 0)
        return APR_NOTFOUND;
    lenz_json_set_str(out, "digest", rows.rows[0][3]);
    k = lenz_json_obj_add_object(out, "kinds");
    for (i = 0; i < rows.nrows; i++) {
        o = lenz_json_obj_add_object(k, rows.rows[i][0]);
        lenz_json_set_bool(o, "in_app", rows.rows[i][1][0] == 't');
        lenz_json_set_bool(o, "mail", rows.rows[i][2][0] == 't');
    }
    o = lenz_json_obj_add_object(k, "security");
    lenz_json_set_bool(o, "in_app", 0);
    lenz_json_set_bool(o, "mail", 1);
    lenz_json_set_bool(o, "fixed", 1);
    (void)r;
    return APR_SUCCESS;
}

/* A change: for each kind, in_app and mail as "true"/"false" or NULL
 * (unchanged); digest or NULL. */
typedef struct {
    const char *in_app[NKINDS], *mail[NKINDS];
    const char *digest;
} prefs_change;

static apr_status_t apply(request_rec *r, lenz_req *lr, const prefs_change *c)
{
    const char *args[6];
    lenz_db *db = lenz_db_open(r);
    apr_status_t rv = APR_SUCCESS;
    apr_size_t i;

    if (!db)
        return APR_EGENERAL;
    lenz_db_begin(db);
    for (i = 0; rv == APR_SUCCESS && i < NKINDS; i++) {
        if (!c->in_app[i] && !c->mail[i])
            continue;
        args[0] = lr->user->id;
        args[1] = kinds[i];
        args[2] = args[4] = c->in_app[i];
        args[3] = args[5] = c->mail[i];
        rv = lenz_db_exec(db, "lenz_prefs_set", NULL, 6, args);
    }
    if (rv == APR_SUCCESS && c->digest) {
        args[0] = c->digest;
        args[1] = lr->user->id;
        rv = lenz_db_exec(db, "lenz_prefs_digest", NULL, 2, args);
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    return rv;
}

static int digest_ok(const char *d)
{
    return strcmp(d, "off") == 0 || strcmp(d, "hourly") == 0 || strcmp(d, "daily") == 0;
}

static int api_get(request_rec *r, lenz_req *lr)
{
    lenz_json *out = lenz_json_new_object(r->pool);
    lenz_db *db = lenz_db_open(r);
    apr_status_t rv;
    if (!db)
        return unavailable(r, LENZLOGNO(2254));
    rv = lenz_prefs_json(r, db, lr->user->id, out);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        return unavailable(r, LENZLOGNO(2254));
    return lenz_send_json(r, HTTP_OK, out);
}

/* One kind's {"in_app","mail"}: 0 after answering 400. */
static int read_kind(request_rec *r, const char *kind, lenz_json *o, const char **in_app, const char **mail)
{
    static const char *const ch[] = { "in_app", "mail" };
    const char **out[2] = { in_app, mail };
    int i;
    if (lenz_json_typeof(o) != LENZ_JSON_OBJECT)
        return lenz_field_bad(r, apr_pstrcat(r->pool, "kinds.", kind, NULL), "an object with in_app and/or mail");
    for (i = 0; i < 2; i++) {
        lenz_json *v = lenz_json_get(o, ch[i]);
        if (!v)
            continue;
        if (lenz_json_typeof(v) != LENZ_JSON_BOOL)
            return lenz_field_bad(r, apr_pstrcat(r->pool, "kinds.", kind, ".", ch[i], NULL), "true or false");
        *out[i] = lenz_json_bool(v) ? "true" : "false";
    }
    return 1;
}

typedef struct {
    request_rec *r;
    prefs_change *c;
    int bad;
} kinds_walk;

static int each_kind(void *baton, const char *key, lenz_json *val)
{
    kinds_walk *w = baton;
    apr_size_t i;
    if (strcmp(key, "security") == 0) {
        w->bad = !lenz_field_bad(w->r, "kinds.security", "security notices are always mailed: not a choice");
        return 0;
    }
    for (i = 0; i < NKINDS; i++)
        if (strcmp(key, kinds[i]) == 0) {
            if (!read_kind(w->r, key, val, &w->c->in_app[i], &w->c->mail[i])) {
                w->bad = 1;
                return 0;
            }
            return 1;
        }
    w->bad = !lenz_field_bad(w->r, apr_pstrcat(w->r->pool, "kinds.", key, NULL),
                             "not a kind: comments, downloads, requests, shares, topics");
    return 0;
}

static int api_patch(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *k;
    prefs_change c;
    kinds_walk w;

    memset(&c, 0, sizeof(c));
    if (!b || !lenz_field_str(r, b, "digest", 0, 16, &c.digest))
        return OK;
    if (c.digest && !digest_ok(c.digest))
        return lenz_field_bad(r, "digest", "off, hourly or daily");
    if ((k = lenz_json_get(b, "kinds"))) {
        if (lenz_json_typeof(k) != LENZ_JSON_OBJECT)
            return lenz_field_bad(r, "kinds", "an object keyed by kind");
        w.r = r;
        w.c = &c;
        w.bad = 0;
        lenz_json_object_each(k, each_kind, &w);
        if (w.bad)
            return OK;
    }
    if (apply(r, lr, &c) != APR_SUCCESS)
        return unavailable(r, LENZLOGNO(2255));
    return api_get(r, lr);
}

const lenz_route lenz_api_prefs_routes[] = {
    { LENZ_GET, "/me/notification-preferences", api_get, LENZ_ACCESS_MEMBER },
    { LENZ_PATCH, "/me/notification-preferences", api_patch, LENZ_ACCESS_MEMBER },
    { 0 }
};

/* The page's form: every box is sent when ticked, so each kind's two
 * channels are set from it; digest from the radio buttons. */
int lenz_prefs_form(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    prefs_change c;
    apr_size_t i;

    if (!f)
        return OK;
    memset(&c, 0, sizeof(c));
    for (i = 0; i < NKINDS; i++) {
        c.in_app[i] = apr_table_get(f, apr_pstrcat(r->pool, kinds[i], "_in_app", NULL)) ? "true" : "false";
        c.mail[i] = apr_table_get(f, apr_pstrcat(r->pool, kinds[i], "_mail", NULL)) ? "true" : "false";
    }
    c.digest = apr_table_get(f, "digest");
    if (!c.digest || !digest_ok(c.digest))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "Choose when mails come",
                         "at once, hourly or daily");
    if (apply(r, lr, &c) != APR_SUCCESS)
        return unavailable(r, LENZLOGNO(2255));
    apr_table_setn(r->err_headers_out, "Location",
                   apr_pstrcat(r->pool, lr->srv->public_url, "/account/settings?saved=notifications#notifications", NULL));
    r->status = HTTP_SEE_OTHER;
    return OK;
}
