/* h_settings.c - a member's settings (issue 19), as pages and as API:
 *
 *   /account/settings                       the page: profile, password,
 *                                           two-factor, devices, tokens
 *   POST /account/settings/name             (form) name
 *   POST /account/settings/password         current_password, password, end_others
 *   POST /account/settings/email            email, password: a page asking for the code
 *   POST /account/settings/email/confirm    email, code
 *   POST /account/settings/totp             start a set-up: a page with the QR code
 *   POST /account/settings/totp/enable      code: a page with the recovery codes
 *   POST /account/settings/totp/disable     password, code
 *   POST /account/settings/recovery-codes   password, code: a page with new codes
 *   POST /account/settings/devices/{id}/end
 *   POST /account/settings/devices/end-others
 *   POST /account/settings/notifications   (h_prefs.c)
 *
 *   PATCH  /api/v1/me                       {"name"}
 *   POST   /api/v1/me/password              {"current_password","password","sign_out_others"}
 *   POST   /api/v1/me/email                 {"email","password"}: 202, a code to the new address
 *   POST   /api/v1/me/email/confirm         {"email","code"}
 *   POST   /api/v1/me/totp/recovery-codes   {"password","code"}
 *   GET    /api/v1/me/devices
 *   DELETE /api/v1/me/devices/{id}
 *   POST   /api/v1/me/devices/sign-out-others
 *
 * Forms post and redirect back with ?saved=...; what must be shown once
 * (a QR code's secret, recovery codes) is the answer to the POST itself,
 * with Cache-Control: no-store.  A personal access token may do none of
 * the security changes here (password, two-factor, devices). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "accounts.h"
#include "settings.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/pat.h"
#include "httpd/devices.h"
#include "qr.h"

static int unavailable(request_rec *r, const char *tag)
{
    return lenz_fail(r, APLOG_ERR, tag, HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

static int back(request_rec *r, lenz_req *lr, const char *saved, const char *anchor)
{
    apr_table_setn(r->err_headers_out, "Location",
                   apr_pstrcat(r->pool, lr->srv->public_url, "/account/settings?saved=", saved, "#", anchor, NULL));
    r->status = HTTP_SEE_OTHER;
    return OK;
}

static lenz_json *page_ctx(request_rec *r, lenz_req *lr, const char *title)
{
    lenz_json *ctx = lenz_json_new_object(r->pool);
    lenz_json_set_str(ctx, "title", title);
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    return ctx;
}

/* The settings page ------------------------------------------------------- */

static const struct { const char *key, *text; } saved_texts[] = {
    { "name", "Your name was saved." },
    { "password", "Your password was changed." },
    { "password-others", "Your password was changed and your other devices were signed out." },
    { "totp-off", "Two-factor sign-in is off." },
    { "device", "That device was signed out." },
    { "others", "Every other device was signed out." },
    { "notifications", "Your notification choices were saved." },
    { "email", "Your e-mail address was changed." },
};

static int settings(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = page_ctx(r, lr, "Settings"), *arr, *prefs = lenz_json_obj_add_object(ctx, "prefs");
    const char *digest = "off";
    const char *saved = lenz_query(r, "saved"), *args[1] = { lr->user->id };
    lenz_rows me, devices, tokens;
    lenz_db *db = lenz_db_open(r);
    apr_size_t k;
    int i;

    if (!db)
        return unavailable(r, LENZLOGNO(2246));
    if (lenz_db_select(db, "lenz_set_me", &me, 1, args) != APR_SUCCESS || me.nrows != 1
        || lenz_acct_devices(r, lr, db, &devices) != APR_SUCCESS
        || lenz_pat_list(db, lr->user->id, &tokens) != APR_SUCCESS
        || lenz_prefs_json(r, db, lr->user->id, prefs) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r, LENZLOGNO(2246));
    }
    lenz_db_close(db);
    lenz_json_set_str(ctx, "name", me.rows[0][0]);
    lenz_json_set_str(ctx, "email", me.rows[0][1]);
    lenz_json_set_bool(ctx, "totp_on", me.rows[0][2][0] == 't');
    lenz_json_set_int(ctx, "recovery_left", apr_atoi64(me.rows[0][3]));
    lenz_json_get_str(prefs, "digest", &digest);
    lenz_json_set_bool(ctx, apr_pstrcat(r->pool, "digest_", digest, NULL), 1);
    for (k = 0; saved && k < sizeof(saved_texts) / sizeof(saved_texts[0]); k++)
        if (strcmp(saved, saved_texts[k].key) == 0)
            lenz_json_set_str(ctx, "saved", saved_texts[k].text);

    arr = lenz_json_obj_add_array(ctx, "devices");
    for (i = 0; i < devices.nrows; i++) {
        lenz_json *d = lenz_json_arr_add_object(arr);
        const char *ua = devices.rows[i][2];
        lenz_device_json(d, devices.rows[i]);
        lenz_json_set_bool(d, "is_app", strcmp(devices.rows[i][0], "app") == 0);
        /* The page shows a client's first 80 bytes (cut at a character). */
        if (ua && strlen(ua) > 80) {
            apr_size_t n = 80;
            while (n > 0 && (ua[n] & 0xC0) == 0x80)
                n--;
            lenz_json_set_str(d, "client_short", apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, ua, n), "…", NULL));
        }
        else {
            lenz_json_set_str(d, "client_short", ua && *ua ? ua : "an unnamed client");
        }
    }
    lenz_json_set_bool(ctx, "other_devices", devices.nrows > 1);

    arr = lenz_json_obj_add_array(ctx, "tokens");
    for (i = 0; i < tokens.nrows; i++) {
        lenz_json *t = lenz_json_arr_add_object(arr);
        lenz_pat_json(t, tokens.rows[i]);
        lenz_json_set_str(t, "scope_text", tokens.rows[i][2][0] == 't'
                          ? (tokens.rows[i][3][0] == 't' ? "read, write" : "read") : "write");
    }
    lenz_json_set_bool(ctx, "has_tokens", tokens.nrows > 0);
    lenz_json_set_int(ctx, "max_tokens", LENZ_PAT_MAX_LIVE);
    return lenz_render_page(r, HTTP_OK, "account/settings", ctx);
}

static int form_name(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_set_name(r, lr, apr_table_get(f, "name"), &res);
    return res.status >= 400 ? lenz_acct_fail(r, &res) : back(r, lr, "name", "profile");
}

static int form_password(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *cur, *pw, *again;
    int others;
    lenz_acct_result res;
    if (!f)
        return OK;
    cur = apr_table_get(f, "current_password");
    pw = apr_table_get(f, "password");
    again = apr_table_get(f, "password_again");
    others = apr_table_get(f, "end_others") != NULL;
    if (!cur || !pw || !again || strcmp(pw, again) != 0)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "Check the new password",
                         "type the new password twice, the same both times");
    lenz_acct_change_password(r, lr, cur, pw, others, &res);
    return res.status >= 400 ? lenz_acct_fail(r, &res) : back(r, lr, others ? "password-others" : "password", "password");
}

/* E-mail address: the new one and the password, then the code sent there. */
static int form_email(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *email;
    lenz_json *ctx;
    lenz_acct_result res;
    if (!f)
        return OK;
    email = apr_table_get(f, "email");
    lenz_acct_email_start(r, lr, email, apr_table_get(f, "password"), &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    ctx = page_ctx(r, lr, "Confirm your new address");
    lenz_json_set_str(ctx, "email", email);
    return lenz_render_page(r, HTTP_OK, "account/email_code", ctx);
}

static int form_email_confirm(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_email_confirm(r, lr, apr_table_get(f, "email"), apr_table_get(f, "code"), &res);
    return res.status >= 400 ? lenz_acct_fail(r, &res) : back(r, lr, "email", "profile");
}

/* Two-factor on the page ---------------------------------------------------- */

/* The secret in groups of four, as people type it. */
static const char *grouped(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s), i, o = 0;
    char *out = apr_palloc(p, n + n / 4 + 1);
    for (i = 0; i < n; i++) {
        if (i && i % 4 == 0)
            out[o++] = ' ';
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

static int form_totp_setup(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_json *out = lenz_json_new_object(r->pool), *ctx;
    const char *secret, *uri, *svg;
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_totp_setup(r, lr, apr_table_get(f, "password"), apr_table_get(f, "code"), out, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    lenz_json_get_str(out, "secret", &secret);
    lenz_json_get_str(out, "otpauth_uri", &uri);
    svg = lenz_qr_svg(r->pool, uri, 4, "QR code to scan with your authenticator app");
    if (!svg)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2247), HTTP_INTERNAL_SERVER_ERROR, "internal",
                         "Internal error", "the QR code could not be drawn");
    ctx = page_ctx(r, lr, "Set up two-factor sign-in");
    lenz_json_set_str(ctx, "qr_svg", svg);
    lenz_json_set_str(ctx, "secret", grouped(r->pool, secret));
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return lenz_render_page(r, HTTP_OK, "account/totp_setup", ctx);
}

static int codes_page(request_rec *r, lenz_req *lr, lenz_json *out, const char *title)
{
    lenz_json *ctx = page_ctx(r, lr, title);
    lenz_json_set_copy(ctx, "recovery_codes", lenz_json_get(out, "recovery_codes"));
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return lenz_render_page(r, HTTP_OK, "account/recovery_codes", ctx);
}

static int form_totp_enable(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_json *out = lenz_json_new_object(r->pool);
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_totp_enable(r, lr, apr_table_get(f, "code"), out, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    return codes_page(r, lr, out, "Two-factor sign-in is on");
}

static int form_totp_disable(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_totp_disable(r, lr, apr_table_get(f, "password"), apr_table_get(f, "code"), &res);
    return res.status >= 400 ? lenz_acct_fail(r, &res) : back(r, lr, "totp-off", "two-factor");
}

static int form_recovery(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_json *out = lenz_json_new_object(r->pool);
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_recovery_regen(r, lr, apr_table_get(f, "password"), apr_table_get(f, "code"), out, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    return codes_page(r, lr, out, "Your new recovery codes");
}

/* Devices on the page ---------------------------------------------------------- */

static int form_device_end(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_device_end(r, lr, lenz_param(lr, "id"), &res);
    return res.status >= 400 ? lenz_acct_fail(r, &res) : back(r, lr, "device", "devices");
}

static int form_end_others(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_acct_result res;
    if (!f)
        return OK;
    lenz_acct_devices_end_others(r, lr, &res);
    return res.status >= 400 ? lenz_acct_fail(r, &res) : back(r, lr, "others", "devices");
}

const lenz_route lenz_account_settings_routes[] = {
    { LENZ_GET, "/settings", settings, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/name", form_name, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/password", form_password, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/email", form_email, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/email/confirm", form_email_confirm, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/totp", form_totp_setup, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/totp/enable", form_totp_enable, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/totp/disable", form_totp_disable, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/recovery-codes", form_recovery, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/devices/end-others", form_end_others, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/notifications", lenz_prefs_form, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/devices/{id}/end", form_device_end, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/tokens", lenz_tokens_form_create, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings/tokens/{id}/revoke", lenz_tokens_form_revoke, LENZ_ACCESS_MEMBER },
    { 0 }
};

/* The API ---------------------------------------------------------------------------- */

static int api_patch_me(request_rec *r, lenz_req *lr)
{
    lenz_json *b = lenz_body_json(r, lr), *j;
    const char *name;
    lenz_acct_result res;
    if (!b || !lenz_field_str(r, b, "name", 1, 100, &name))
        return OK;
    lenz_acct_set_name(r, lr, name, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    j = lenz_json_new_object(r->pool);
    lenz_json_set_str(j, "id", lr->user->id);
    lenz_json_set_str(j, "email", lr->user->email);
    lenz_json_set_str(j, "name", lr->user->name);
    lenz_roles_json(lenz_json_obj_add_array(j, "roles"), lr->user->roles);
    return lenz_send_json(r, HTTP_OK, j);
}

static int api_password(request_rec *r, lenz_req *lr)
{
    lenz_json *b;
    const char *cur, *pw;
    int others = 0;
    lenz_acct_result res;
    if (lenz_refuse_token(r, lr))
        return OK;
    b = lenz_body_json(r, lr);
    if (!b || !lenz_field_str(r, b, "current_password", 1, LENZ_PASSWORD_MAX, &cur)
        || !lenz_field_str(r, b, "password", 1, LENZ_PASSWORD_MAX, &pw))
        return OK;
    if (lenz_json_has(b, "sign_out_others") && lenz_json_get_bool(b, "sign_out_others", &others) != APR_SUCCESS)
        return lenz_field_bad(r, "sign_out_others", "true or false");
    lenz_acct_change_password(r, lr, cur, pw, others, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int api_email(request_rec *r, lenz_req *lr)
{
    lenz_json *b, *out;
    const char *email, *pw;
    lenz_acct_result res;
    if (lenz_refuse_token(r, lr))
        return OK;
    b = lenz_body_json(r, lr);
    if (!b || !lenz_field_str(r, b, "email", 1, 254, &email)
        || !lenz_field_str(r, b, "password", 1, LENZ_PASSWORD_MAX, &pw))
        return OK;
    lenz_acct_email_start(r, lr, email, pw, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "status", "code_sent");
    return lenz_send_json(r, HTTP_ACCEPTED, out);
}

static int api_email_confirm(request_rec *r, lenz_req *lr)
{
    lenz_json *b, *j;
    const char *email, *code;
    lenz_acct_result res;
    if (lenz_refuse_token(r, lr))
        return OK;
    b = lenz_body_json(r, lr);
    if (!b || !lenz_field_str(r, b, "email", 1, 254, &email) || !lenz_field_str(r, b, "code", 1, 16, &code))
        return OK;
    lenz_acct_email_confirm(r, lr, email, code, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    j = lenz_json_new_object(r->pool);
    lenz_json_set_str(j, "id", lr->user->id);
    lenz_json_set_str(j, "email", lr->user->email);
    lenz_json_set_str(j, "name", lr->user->name);
    lenz_roles_json(lenz_json_obj_add_array(j, "roles"), lr->user->roles);
    return lenz_send_json(r, HTTP_OK, j);
}

static int api_recovery(request_rec *r, lenz_req *lr)
{
    lenz_json *b, *out = lenz_json_new_object(r->pool);
    const char *pw, *code;
    lenz_acct_result res;
    if (lenz_refuse_token(r, lr))
        return OK;
    b = lenz_body_json(r, lr);
    if (!b || !lenz_field_str(r, b, "password", 1, LENZ_PASSWORD_MAX, &pw)
        || !lenz_field_str(r, b, "code", 1, 32, &code))
        return OK;
    lenz_acct_recovery_regen(r, lr, pw, code, out, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return lenz_send_json(r, HTTP_OK, out);
}

static int api_devices(request_rec *r, lenz_req *lr)
{
    lenz_json *out, *arr;
    lenz_rows rows;
    lenz_db *db = lenz_db_open(r);
    int i;
    if (!db)
        return unavailable(r, LENZLOGNO(2249));
    if (lenz_acct_devices(r, lr, db, &rows) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r, LENZLOGNO(2249));
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "devices");
    for (i = 0; i < rows.nrows; i++)
        lenz_device_json(lenz_json_arr_add_object(arr), rows.rows[i]);
    return lenz_send_json(r, HTTP_OK, out);
}

static int api_device_end(request_rec *r, lenz_req *lr)
{
    lenz_acct_result res;
    if (lenz_refuse_token(r, lr))
        return OK;
    lenz_acct_device_end(r, lr, lenz_param(lr, "id"), &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int api_end_others(request_rec *r, lenz_req *lr)
{
    lenz_acct_result res;
    if (lenz_refuse_token(r, lr))
        return OK;
    lenz_acct_devices_end_others(r, lr, &res);
    if (res.status >= 400)
        return lenz_acct_fail(r, &res);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

const lenz_route lenz_api_settings_routes[] = {
    { LENZ_PATCH, "/me", api_patch_me, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/me/password", api_password, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/me/email", api_email, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/me/email/confirm", api_email_confirm, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/me/totp/recovery-codes", api_recovery, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/me/devices", api_devices, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/me/devices/sign-out-others", api_end_others, LENZ_ACCESS_MEMBER },
    { LENZ_DELETE, "/me/devices/{id}", api_device_end, LENZ_ACCESS_MEMBER },
    { 0 }
};
