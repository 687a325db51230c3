/* h_account.c - lenz-account: the browser pages for accounts, mounted at
 * /account.  Forms post and redirect (they work without JavaScript);
 * errors re-render the form with the reason and the right status. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "accounts.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/otp.h"

static lenz_json *page(request_rec *r, lenz_req *lr, const char *title)
{
    lenz_json *ctx = lenz_json_new_object(r->pool);
    lenz_json_set_str(ctx, "title", title);
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    if (lr->user) {
        lenz_json *u = lenz_json_obj_add_object(ctx, "user");
        lenz_json_set_str(u, "name", lr->user->name);
        lenz_json_set_str(u, "email", lr->user->email);
    }
    return ctx;
}

static void add_error(lenz_json *ctx, const lenz_acct_result *res)
{
    lenz_json *e = lenz_json_obj_add_object(ctx, "error");
    lenz_json_set_str(e, "title", res->title);
    lenz_json_set_str(e, "detail", res->detail);
}

static int redirect(request_rec *r, lenz_req *lr, const char *to)
{
    apr_table_setn(r->err_headers_out, "Location", apr_pstrcat(r->pool, lr->srv->public_url, to, NULL));
    r->status = HTTP_SEE_OTHER;
    return OK;
}

static int message(request_rec *r, lenz_req *lr, int status, const char *title, const char *text,
                   const char *link, const char *link_text)
{
    lenz_json *ctx = page(r, lr, title);
    lenz_json_set_str(ctx, "text", text);
    if (link) {
        lenz_json_set_str(ctx, "link", link);
        lenz_json_set_str(ctx, "link_text", link_text);
    }
    return lenz_render_page(r, status, "account/message", ctx);
}

/* The caller's identity for pages that show it (public pages too). */
static void who(request_rec *r, lenz_req *lr)
{
    int answered;
    lenz_auth_user(r, lr, &answered);
}

/* Sign-in ------------------------------------------------------------------- */

static int login_form(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx;
    who(r, lr);
    ctx = page(r, lr, "Sign in");
    lenz_json_set_str(ctx, "next", lenz_safe_next(r, lenz_query(r, "next")));
    return lenz_render_page(r, HTTP_OK, "account/login", ctx);
}

static int login_post(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *next, *email;
    lenz_acct_result res;
    lenz_db *db;
    if (!f)
        return OK;
    email = apr_table_get(f, "email");
    next = lenz_safe_next(r, apr_table_get(f, "next"));
    lenz_acct_login(r, lr, email, apr_table_get(f, "password"), apr_table_get(f, "totp"), &res);
    if (res.status >= 400) {
        lenz_json *ctx = page(r, lr, "Sign in");
        add_error(ctx, &res);
        lenz_json_set_str(ctx, "email", email);
        lenz_json_set_str(ctx, "next", next);
        lenz_json_set_bool(ctx, "totp_required", res.totp_required);
        if (res.retry_after > 0)
            apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, res.retry_after));
        return lenz_render_page(r, res.status, "account/login", ctx);
    }
    if (!(db = lenz_db_open(r)) || lenz_session_start(r, lr, db, res.user->id) != APR_SUCCESS) {
        if (db)
            lenz_db_close(db);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2230), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "signing in failed; try again shortly");
    }
    lenz_db_close(db);
    return redirect(r, lr, next ? next : "/account");
}

static int logout_post(request_rec *r, lenz_req *lr, int all)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_db *db;
    if (!f)
        return OK;
    if ((db = lenz_db_open(r))) {
        lenz_session_end(r, lr, db, all);
        lenz_db_close(db);
    }
    return redirect(r, lr, "/account/login");
}

static int logout_one(request_rec *r, lenz_req *lr)
{
    return logout_post(r, lr, 0);
}

static int logout_all(request_rec *r, lenz_req *lr)
{
    return logout_post(r, lr, 1);
}

/* Registration ---------------------------------------------------------------- */

static int register_form(request_rec *r, lenz_req *lr)
{
    who(r, lr);
    return lenz_render_page(r, HTTP_OK, "account/register", page(r, lr, "Create an account"));
}

static int register_post(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *email;
    lenz_acct_result res;
    lenz_json *ctx;
    if (!f)
        return OK;
    email = apr_table_get(f, "email");
    lenz_acct_register(r, lr, email, apr_table_get(f, "password"), apr_table_get(f, "name"), &res);
    if (res.status >= 400) {
        ctx = page(r, lr, "Create an account");
        add_error(ctx, &res);
        lenz_json_set_str(ctx, "email", email);
        lenz_json_set_str(ctx, "name", apr_table_get(f, "name"));
        return lenz_render_page(r, res.status, "account/register", ctx);
    }
    ctx = page(r, lr, "Check your mail");
    lenz_json_set_str(ctx, "email", email);
    lenz_json_set_bool(ctx, "sent", 1);
    return lenz_render_page(r, HTTP_OK, "account/verify", ctx);
}

static int verify_form(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = page(r, lr, "Enter your code");
    lenz_json_set_str(ctx, "email", lenz_query(r, "email"));
    return lenz_render_page(r, HTTP_OK, "account/verify", ctx);
}

static int verify_post(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_verify(r, lr, apr_table_get(f, "email"), apr_table_get(f, "code"), &res);
    if (res.status >= 400) {
        lenz_json *ctx = page(r, lr, "Enter your code");
        add_error(ctx, &res);
        lenz_json_set_str(ctx, "email", apr_table_get(f, "email"));
        return lenz_render_page(r, res.status, "account/verify", ctx);
    }
    return message(r, lr, HTTP_OK, "Account ready", "Your address is confirmed. You can sign in now.",
                   "/account/login", "Sign in");
}

/* Password reset ---------------------------------------------------------------- */

static int reset_form(request_rec *r, lenz_req *lr)
{
    return lenz_render_page(r, HTTP_OK, "account/reset_request", page(r, lr, "Reset your password"));
}

static int reset_post(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_reset_request(r, lr, apr_table_get(f, "email"), &res);
    if (res.status >= 400) {
        lenz_json *ctx = page(r, lr, "Reset your password");
        add_error(ctx, &res);
        return lenz_render_page(r, res.status, "account/reset_request", ctx);
    }
    return message(r, lr, HTTP_OK, "Check your mail",
                   "If an account uses that address, we sent it a link to choose a new password. "
                   "The link works once, for 30 minutes.", NULL, NULL);
}

static int reset_token_form(request_rec *r, lenz_req *lr)
{
    const char *token = lenz_param(lr, "token");
    lenz_db *db = lenz_db_open(r);
    const char *user = db ? lenz_otp_link_take(r, db, "reset", token, 1) : NULL;
    lenz_json *ctx;
    if (db)
        lenz_db_close(db);
    if (!user)
        return message(r, lr, HTTP_GONE, "Link no longer valid",
                       "This reset link was used already or has expired.", "/account/reset",
                       "Ask for a new link");
    ctx = page(r, lr, "Choose a new password");
    lenz_json_set_str(ctx, "token", token);
    return lenz_render_page(r, HTTP_OK, "account/reset_form", ctx);
}

static int reset_token_post(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_reset(r, lr, lenz_param(lr, "token"), apr_table_get(f, "password"), &res);
    if (res.status == HTTP_GONE)
        return message(r, lr, res.status, res.title, res.detail, "/account/reset", "Ask for a new link");
    if (res.status >= 400) {
        lenz_json *ctx = page(r, lr, "Choose a new password");
        add_error(ctx, &res);
        lenz_json_set_str(ctx, "token", lenz_param(lr, "token"));
        return lenz_render_page(r, res.status, "account/reset_form", ctx);
    }
    return message(r, lr, HTTP_OK, "Password changed",
                   "Your password is changed and every device was signed out.", "/account/login",
                   "Sign in");
}

/* The account itself ------------------------------------------------------------ */

/* The latest notifications (the page's script keeps the list live). */
static void recent_notifications(request_rec *r, lenz_req *lr, lenz_json *ctx)
{
    const char *args[2] = { lr->user->id, "20" };
    lenz_rows rows, unread;
    lenz_json *arr;
    lenz_db *db = lenz_db_open(r);
    int i;

    if (!db)
        return;                 /* logged; the page shows without them */
    if (lenz_db_select(db, "lenz_notify_recent", &rows, 2, args) == APR_SUCCESS
        && lenz_db_select(db, "lenz_notify_unread", &unread, 1, args) == APR_SUCCESS) {
        lenz_json_set_int(ctx, "unread", apr_atoi64(unread.rows[0][0]));
        arr = lenz_json_obj_add_array(ctx, "notifications");
        for (i = 0; i < rows.nrows; i++) {
            lenz_json *o = lenz_json_arr_add_object(arr);
            lenz_json_set_str(o, "title", rows.rows[i][2]);
            lenz_json_set_str(o, "when", rows.rows[i][4]);
            lenz_json_set_bool(o, "unread", rows.rows[i][5][0] != 't');
            lenz_json_set_str(o, "object", rows.rows[i][6]);
        }
        lenz_json_set_bool(ctx, "has_notifications", rows.nrows > 0);
    }
    lenz_db_close(db);
}

static int overview(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = page(r, lr, "Your account");
    lenz_roles_json(lenz_json_obj_add_array(ctx, "roles"), lr->user->roles);
    recent_notifications(r, lr, ctx);
    return lenz_render_page(r, HTTP_OK, "account/overview", ctx);
}

static int notifications_read(request_rec *r, lenz_req *lr)
{
    const char *args[1] = { lr->user->id };
    lenz_db *db = lenz_db_open(r);
    if (!db || lenz_db_exec(db, "lenz_notify_read_all", NULL, 1, args) != APR_SUCCESS) {
        if (db)
            lenz_db_close(db);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2234), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    }
    lenz_db_close(db);
    return redirect(r, lr, "/account");
}

/* Single sign-on: mount this path behind another auth module (with
 * LenzTrustRemoteUser On); the account linked to REMOTE_USER gets a
 * session.  A REMOTE_USER seen for the first time gets an account of its
 * own, unless one with its address exists: that one is linked only by its
 * owner, with its password (sso_link). */
static int sso_link_page(request_rec *r, lenz_req *lr, int status, const lenz_acct_result *res,
                         const char *next)
{
    lenz_json *ctx = page(r, lr, "Link your sign-on");
    if (res)
        add_error(ctx, res);
    lenz_json_set_str(ctx, "email", lenz_remote_email(r, r->user));
    lenz_json_set_str(ctx, "next", next);
    if (lenz_wants_json(r))
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2235), status, "link-required", "Link your sign-on",
                         "an account with this address exists: link it with its password "
                         "(POST /account/sso/link)");
    return lenz_render_page(r, status, "account/sso_link", ctx);
}

static int sso_sign_in(request_rec *r, lenz_req *lr, const char *user_id, const char *next)
{
    lenz_db *db;
    if (!(db = lenz_db_open(r)) || lenz_session_start(r, lr, db, user_id) != APR_SUCCESS) {
        if (db)
            lenz_db_close(db);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2233), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "signing in failed; try again shortly");
    }
    lenz_db_close(db);
    return redirect(r, lr, next ? next : "/account");
}

static int sso(request_rec *r, lenz_req *lr)
{
    int answered;
    lenz_user *u;
    const char *next = lenz_safe_next(r, lenz_query(r, "next"));
    if (lr->dir->trust_remote_user != 1 || !r->user)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2231), HTTP_FORBIDDEN, "sso-off",
                         "Single sign-on unavailable", "this address is not behind a trusted sign-on");
    u = lenz_auth_user(r, lr, &answered);
    if (answered)
        return OK;
    if (!u && lr->remote_link)
        return sso_link_page(r, lr, HTTP_CONFLICT, NULL, next);
    if (!u)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2232), HTTP_FORBIDDEN, "no-account",
                         "No account", "there is no active account for this sign-on");
    return sso_sign_in(r, lr, u->id, next);
}

/* Links REMOTE_USER to the account of its address: that account's
 * password (and second factor), checked and counted as a sign-in. */
static int sso_link(request_rec *r, lenz_req *lr)
{
    apr_table_t *f;
    const char *next, *args[2];
    lenz_acct_result res;
    lenz_db *db;
    int n = 0;

    if (lr->dir->trust_remote_user != 1 || !r->user)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2231), HTTP_FORBIDDEN, "sso-off",
                         "Single sign-on unavailable", "this address is not behind a trusted sign-on");
    if (!(f = lenz_body_form(r, lr)))
        return OK;
    next = lenz_safe_next(r, apr_table_get(f, "next"));
    lenz_acct_login(r, lr, lenz_remote_email(r, r->user), apr_table_get(f, "password"),
                    apr_table_get(f, "totp"), &res);
    if (res.status >= 400) {
        if (res.retry_after > 0)
            apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, res.retry_after));
        /* 401 would send the browser back to the sign-on's own prompt */
        return sso_link_page(r, lr, res.status == HTTP_UNAUTHORIZED ? HTTP_FORBIDDEN : res.status, &res, next);
    }
    if (!(db = lenz_db_open(r)))
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2233), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "signing in failed; try again shortly");
    args[0] = r->user;
    args[1] = res.user->id;
    if (lenz_db_exec(db, "lenz_acct_link_external", &n, 2, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2233), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "linking failed; try again shortly");
    }
    lenz_db_close(db);
    if (n != 1)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2236), HTTP_CONFLICT, "linked-elsewhere",
                         "Linked to another sign-on", "this account is linked to another sign-on already");
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "REMOTE_USER %s linked to account %s by its password",
                  r->user, res.user->id);
    return sso_sign_in(r, lr, res.user->id, next);
}

static const lenz_route routes[] = {
    { LENZ_GET, "/", overview, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/login", login_form, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/login", login_post, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/logout", logout_one, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/logout-all", logout_all, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/notifications/read-all", notifications_read, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/register", register_form, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/register", register_post, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/verify", verify_form, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/verify", verify_post, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/reset", reset_form, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/reset", reset_post, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/reset/{token}", reset_token_form, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/reset/{token}", reset_token_post, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/sso", sso, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/sso/link", sso_link, LENZ_ACCESS_PUBLIC },
    { 0 }
};

static const lenz_route *const tables[] = { routes, lenz_account_settings_routes, NULL };

const lenz_area lenz_area_account = { "lenz-account", "account", tables, NULL, 0 };
