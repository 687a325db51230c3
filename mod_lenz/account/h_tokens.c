/* h_tokens.c - personal access tokens (httpd/pat.h) for their member:
 *   /api/v1/me/tokens            POST makes one (shown once), GET lists
 *   /api/v1/me/tokens/{id}       DELETE revokes
 *   /account/settings/tokens     POST (form) makes one
 *   /account/settings/tokens/{id}/revoke   POST (form) revokes
 * A personal access token cannot make another (a read token would mint a
 * write one): making needs a session or an app's sign-in. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/pat.h"
#include "settings.h"
#include "names.h"
#include "err.h"

static int unavailable(request_rec *r, const char *tag)
{
    return lenz_fail(r, APLOG_ERR, tag, HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

/* What a new token is: from the API's JSON or the page's form. */
typedef struct {
    const char *name;
    int can_read, can_write;
    apr_int64_t ttl;                /* 0: does not expire */
} token_spec;

/* A token's name: 1 to 100 characters of valid UTF-8, no control or
 * bidirectional characters ('/' and the like are fine: not a file). */
static const char *name_problem(const char *name)
{
    const unsigned char *s = (const unsigned char *)name;
    apr_size_t chars = 0;
    while (*s) {
        unsigned c = *s, n, i, cp;
        if (c < 0x80) { n = 0; cp = c; }
        else if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return "valid UTF-8";
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return "valid UTF-8";
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return "valid UTF-8";
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
            return "a name without control characters";
        s += n + 1;
        chars++;
    }
    if (chars < 1 || chars > LENZ_PAT_NAME_MAX)
        return "a name of 1 to 100 characters";
    if (lenz_name_has_bidi(name))
        return "a name without bidirectional controls";
    return NULL;
}

/* Makes the token and answers for either side: 201 with JSON or a page
 * showing the token once.  Errors as problems (pages for the form). */
static int make(request_rec *r, lenz_req *lr, const token_spec *ts, int page)
{
    const char **row, *text;
    lenz_json *out;
    lenz_db *db;
    apr_status_t rv;

    if (lr->user->via == LENZ_VIA_TOKEN)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2240), HTTP_FORBIDDEN, "token-cannot-make-tokens",
                         "Not with a personal access token",
                         "sign in (a session or the app's tokens) to make personal access tokens");
    if (!(db = lenz_db_open(r)))
        return unavailable(r, LENZLOGNO(2241));
    rv = lenz_pat_create(r, db, lr->user->id, ts->name, ts->can_read, ts->can_write, ts->ttl, &row, &text);
    lenz_db_close(db);
    if (rv == LENZ_ETOOBIG)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2242), HTTP_CONFLICT, "too-many-tokens",
                         "Too many tokens", apr_psprintf(r->pool, "at most %d live personal access tokens: "
                                                         "revoke one first", LENZ_PAT_MAX_LIVE));
    if (rv != APR_SUCCESS)
        return unavailable(r, LENZLOGNO(2241));
    out = lenz_json_new_object(r->pool);
    lenz_pat_json(out, row);
    lenz_json_set_str(out, "token", text);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (page) {
        lenz_json *ctx = lenz_json_new_object(r->pool);
        lenz_json_set_str(ctx, "title", "Your new personal access token");
        lenz_json_set_copy(ctx, "token", out);
        return lenz_render_page(r, HTTP_CREATED, "account/token_done", ctx);
    }
    apr_table_setn(r->headers_out, "Location", apr_pstrcat(r->pool, "/api/v1/me/tokens/", row[0], NULL));
    return lenz_send_json(r, HTTP_CREATED, out);
}

/* POST /api/v1/me/tokens {"name","scopes":["read","write"],"expires_in"} */
static int api_create(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *scopes, *exp;
    const char *why;
    token_spec ts = { NULL, 0, 0, 0 };
    apr_size_t i, n;

    if (!b || !lenz_field_str(r, b, "name", 1, LENZ_PAT_NAME_MAX * 4, &ts.name))
        return OK;
    if ((why = name_problem(ts.name)))
        return lenz_field_bad(r, "name", why), OK;
    scopes = lenz_json_get(b, "scopes");
    if (!scopes || lenz_json_typeof(scopes) != LENZ_JSON_ARRAY || !(n = lenz_json_array_len(scopes)) || n > 2)
        return lenz_field_bad(r, "scopes", "a list of \"read\" and/or \"write\""), OK;
    for (i = 0; i < n; i++) {
        const char *s = lenz_json_string(lenz_json_array_get(scopes, i));
        if (s && strcmp(s, "read") == 0)
            ts.can_read = 1;
        else if (s && strcmp(s, "write") == 0)
            ts.can_write = 1;
        else
            return lenz_field_bad(r, "scopes", "a list of \"read\" and/or \"write\""), OK;
    }
    exp = lenz_json_get(b, "expires_in");
    if (exp && lenz_json_typeof(exp) != LENZ_JSON_NULL
        && !lenz_field_int(r, b, "expires_in", 1, LENZ_PAT_MIN_TTL, LENZ_PAT_MAX_TTL, &ts.ttl))
        return OK;
    return make(r, lr, &ts, 0);
}

static int api_list(request_rec *r, lenz_req *lr)
{
    lenz_json *out, *arr;
    lenz_rows rows;
    lenz_db *db = lenz_db_open(r);
    int i;
    if (!db)
        return unavailable(r, LENZLOGNO(2243));
    if (lenz_pat_list(db, lr->user->id, &rows) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r, LENZLOGNO(2243));
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "tokens");
    for (i = 0; i < rows.nrows; i++)
        lenz_pat_json(lenz_json_arr_add_object(arr), rows.rows[i]);
    return lenz_send_json(r, HTTP_OK, out);
}

/* Revokes; 0 when answered already (not found, no database). */
static int revoke_token(request_rec *r, lenz_req *lr)
{
    lenz_db *db = lenz_db_open(r);
    apr_status_t rv;
    if (!db)
        return unavailable(r, LENZLOGNO(2244)), 0;
    rv = lenz_pat_revoke(r, db, lr->user->id, lenz_param(lr, "id"));
    lenz_db_close(db);
    if (rv == LENZ_ENOTFOUND)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found",
                         "no such token of yours"), 0;
    if (rv != APR_SUCCESS)
        return unavailable(r, LENZLOGNO(2244)), 0;
    return 1;
}

static int api_revoke(request_rec *r, lenz_req *lr)
{
    if (revoke_token(r, lr))
        r->status = HTTP_NO_CONTENT;
    return OK;
}

const lenz_route lenz_api_token_routes[] = {
    { LENZ_POST, "/me/tokens", api_create, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/me/tokens", api_list, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/me/tokens/{id}", api_revoke, LENZ_ACCESS_MEMBER },
    { 0 }
};

/* The settings page's forms (the page itself: h_settings.c) ------------- */

/* The form's choices of expiry, in days ("never" is the other). */
static int form_days(const char *v, apr_int64_t *ttl)
{
    static const char *const days[] = { "7", "30", "90", "365" };
    apr_size_t i;
    for (i = 0; i < sizeof(days) / sizeof(days[0]); i++)
        if (strcmp(v, days[i]) == 0) {
            *ttl = apr_atoi64(v) * 86400;
            return 1;
        }
    return 0;
}

int lenz_tokens_form_create(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *why, *exp;
    token_spec ts = { NULL, 0, 0, 0 };
    if (!f)
        return OK;
    ts.name = apr_table_get(f, "name");
    ts.can_read = apr_table_get(f, "read") != NULL;
    ts.can_write = apr_table_get(f, "write") != NULL;
    exp = apr_table_get(f, "expires");
    if (!ts.name || (why = name_problem(ts.name)))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "Check the name",
                         "give the token a name of 1 to 100 characters");
    if (!ts.can_read && !ts.can_write)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "Choose a scope",
                         "a token may read, write, or both: tick at least one");
    if (!exp || (strcmp(exp, "never") != 0 && !form_days(exp, &ts.ttl)))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "Choose an expiry",
                         "choose when the token stops working");
    return make(r, lr, &ts, 1);
}

int lenz_tokens_form_revoke(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    if (!f)
        return OK;
    if (!revoke_token(r, lr))
        return OK;
    apr_table_setn(r->err_headers_out, "Location",
                   apr_pstrcat(r->pool, lr->srv->public_url, "/account/settings#tokens", NULL));
    r->status = HTTP_SEE_OTHER;
    return OK;
}
