/* h_api_auth.c - /api/v1/auth/... and /api/v1/me: accounts for mobile and
 * script clients (JSON in, JSON out, bearer tokens). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "accounts.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "err.h"

static int answer(request_rec *r, const lenz_acct_result *res, const char *status_word)
{
    lenz_json *j;
    if (res->status >= 400)
        return lenz_acct_fail(r, res);
    j = lenz_json_new_object(r->pool);
    lenz_json_set_str(j, "status", status_word);
    return lenz_send_json(r, res->status, j);
}

static int api_register(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *email, *password, *name;
    lenz_acct_result res;
    if (!b || !lenz_field_str(r, b, "email", 1, 254, &email)
        || !lenz_field_str(r, b, "password", 1, LENZ_PASSWORD_MAX, &password)
        || !lenz_field_str(r, b, "name", 0, 100, &name))
        return OK;
    lenz_acct_register(r, lr, email, password, name, &res);
    return answer(r, &res, "verification_sent");
}

/* A request whose body is just {"email"}, answered 202 with status. */
typedef void email_request_fn(request_rec *r, lenz_req *lr, const char *email, lenz_acct_result *res);

static int email_only(request_rec *r, lenz_req *lr, email_request_fn *fn, const char *status)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *email;
    lenz_acct_result res;
    if (!b || !lenz_field_str(r, b, "email", 1, 254, &email))
        return OK;
    fn(r, lr, email, &res);
    return answer(r, &res, status);
}

static int api_resend(request_rec *r, lenz_req *lr)
{
    return email_only(r, lr, lenz_acct_resend, "verification_sent");
}

static int api_verify(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *email, *code;
    lenz_acct_result res;
    if (!b || !lenz_field_str(r, b, "email", 1, 254, &email)
        || !lenz_field_str(r, b, "code", 1, 16, &code))
        return OK;
    lenz_acct_verify(r, lr, email, code, &res);
    return answer(r, &res, "active");
}

static int tokens(request_rec *r, lenz_db *db, const lenz_user *u, const char *family)
{
    lenz_json *j = lenz_json_new_object(r->pool);
    if (lenz_tokens_issue(r, db, u, family, j) != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2220), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "tokens could not be issued; try again");
    return lenz_send_json(r, HTTP_OK, j);
}

static int api_login(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *email, *password, *totp;
    lenz_acct_result res;
    lenz_db *db;
    int rc;
    if (!b || !lenz_field_str(r, b, "email", 1, 254, &email)
        || !lenz_field_str(r, b, "password", 1, LENZ_PASSWORD_MAX, &password)
        || !lenz_field_str(r, b, "totp", 0, 32, &totp))
        return OK;
    lenz_acct_login(r, lr, email, password, totp, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    if (!(db = lenz_db_open(r)))
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2221), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    rc = tokens(r, db, res.user, NULL);
    lenz_db_close(db);
    return rc;
}

static int api_refresh(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *j;
    const char *refresh;
    lenz_db *db;
    apr_status_t rv;
    if (!b || !lenz_field_str(r, b, "refresh_token", 1, 128, &refresh))
        return OK;
    if (!(db = lenz_db_open(r)))
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2222), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    j = lenz_json_new_object(r->pool);
    rv = lenz_tokens_refresh(r, db, refresh, j);
    lenz_db_close(db);
    if (rv == LENZ_EAUTH)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2223), HTTP_UNAUTHORIZED, "invalid-token",
                         "Invalid refresh token", "sign in again");
    if (rv != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2222), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    return lenz_send_json(r, HTTP_OK, j);
}

static int api_logout(request_rec *r, lenz_req *lr)
{
    lenz_db *db = lenz_db_open(r);
    if (!db)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2224), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    if (lr->user->via == LENZ_VIA_BEARER)
        lenz_family_revoke(r, db, lr->user->family, "logout");
    else if (lr->user->via == LENZ_VIA_SESSION)
        lenz_session_end(r, lr, db, 0);
    lenz_db_close(db);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int api_reset_request(request_rec *r, lenz_req *lr)
{
    return email_only(r, lr, lenz_acct_reset_request, "reset_sent");
}

static int api_reset_confirm(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *token, *password;
    lenz_acct_result res;
    if (!b || !lenz_field_str(r, b, "token", 1, 64, &token)
        || !lenz_field_str(r, b, "password", 1, LENZ_PASSWORD_MAX, &password))
        return OK;
    lenz_acct_reset(r, lr, token, password, &res);
    return answer(r, &res, "password_changed");
}

static int api_me(request_rec *r, lenz_req *lr)
{
    lenz_json *j = lenz_json_new_object(r->pool);
    lenz_json_set_str(j, "id", lr->user->id);
    lenz_json_set_str(j, "email", lr->user->email);
    lenz_json_set_str(j, "name", lr->user->name);
    lenz_roles_json(lenz_json_obj_add_array(j, "roles"), lr->user->roles);
    /* For scripts on our pages: what unsafe requests must send as
     * X-CSRF-Token (cookie sessions and sign-ons; bearer tokens need none). */
    if (lr->user->via == LENZ_VIA_SESSION || lr->user->via == LENZ_VIA_REMOTE)
        lenz_json_set_str(j, "csrf_token", lenz_csrf_token(r, lr));
    return lenz_send_json(r, HTTP_OK, j);
}

/* No body while two-factor is off (as before); with it on, the password
 * and a current code (or a recovery code). */
static int api_totp_setup(request_rec *r, lenz_req *lr)
{
    lenz_json *j = lenz_json_new_object(r->pool), *b = NULL;
    const char *password = NULL, *code = NULL, *cl = apr_table_get(r->headers_in, "Content-Length");
    lenz_acct_result res;
    if (lenz_refuse_token(r, lr))
        return OK;
    /* Clients that post nothing (or an empty body) keep working. */
    if ((cl && strcmp(cl, "0") != 0) || apr_table_get(r->headers_in, "Transfer-Encoding")) {
        if (!(b = lenz_body_json(r, lr)) || !lenz_field_str(r, b, "password", 0, LENZ_PASSWORD_MAX, &password)
            || !lenz_field_str(r, b, "code", 0, 32, &code))
            return OK;
    }
    lenz_acct_totp_setup(r, lr, password, code, j, &res);
    return res.status >= 400 ? lenz_acct_fail(r, &res) : lenz_send_json(r, HTTP_OK, j);
}

static int api_totp_enable(request_rec *r, lenz_req *lr)
{
    lenz_json *b, *j;
    const char *code;
    lenz_acct_result res;
    if (lenz_refuse_token(r, lr))
        return OK;
    b = lenz_body_json(r, lr);
    if (!b || !lenz_field_str(r, b, "code", 1, 16, &code))
        return OK;
    j = lenz_json_new_object(r->pool);
    lenz_acct_totp_enable(r, lr, code, j, &res);
    return res.status >= 400 ? lenz_acct_fail(r, &res) : lenz_send_json(r, HTTP_OK, j);
}

static int api_totp_disable(request_rec *r, lenz_req *lr)
{
    lenz_json *b;
    const char *password, *code;
    lenz_acct_result res;
    if (lenz_refuse_token(r, lr))
        return OK;
    b = lenz_body_json(r, lr);
    if (!b || !lenz_field_str(r, b, "password", 1, LENZ_PASSWORD_MAX, &password)
        || !lenz_field_str(r, b, "code", 1, 32, &code))
        return OK;
    lenz_acct_totp_disable(r, lr, password, code, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

const lenz_route lenz_api_auth_routes[] = {
    { LENZ_POST, "/auth/register", api_register, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/auth/resend", api_resend, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/auth/verify", api_verify, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/auth/login", api_login, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/auth/refresh", api_refresh, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/auth/logout", api_logout, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/auth/reset", api_reset_request, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/auth/reset/confirm", api_reset_confirm, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/me", api_me, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/me/totp", api_totp_setup, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/me/totp/enable", api_totp_enable, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/me/totp/disable", api_totp_disable, LENZ_ACCESS_MEMBER },
    { 0 }
};
