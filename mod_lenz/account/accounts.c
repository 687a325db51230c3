/* accounts.c - the account statements, the helpers every account
 * operation shares (acct_int.h), registration and password reset; sign-in
 * is login.c, TOTP totp.c. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "accounts.h"
#include "acct_int.h"
#include "httpd/config.h"
#include "httpd/problem.h"
#include "httpd/rate.h"
#include "httpd/otp.h"
#include "jobs/mailjob.h"
#include "httpd/keystore.h"
#include "httpd/pwgate.h"
#include "passwd.h"
#include "mail.h"
#include "totp.h"
#include "codec.h"
#include "crypto.h"
#include "keys.h"
#include "err.h"
#include "jobs/events.h"


const lenz_stmt lenz_accounts_stmts[] = {
    { "lenz_acct_by_email",
      "SELECT id, status, password_hash, name, roles::text, totp_enabled, "
      "encode(totp_secret, 'hex'), totp_kek_version, totp_last_step, email, "
      "encode(totp_pending_secret, 'hex'), totp_pending_kek_version "
      "FROM users WHERE email = %s" },
    { "lenz_acct_by_id",
      "SELECT id, status, password_hash, name, roles::text, totp_enabled, "
      "encode(totp_secret, 'hex'), totp_kek_version, totp_last_step, email, "
      "encode(totp_pending_secret, 'hex'), totp_pending_kek_version "
      "FROM users WHERE id = %s::uuid FOR UPDATE" },
    { "lenz_acct_insert",
      "INSERT INTO users (email, name, password_hash, status) VALUES (%s, %s, %s, 'pending') "
      "ON CONFLICT (email) DO NOTHING RETURNING id" },
    { "lenz_acct_pending_update",
      "UPDATE users SET name = %s, password_hash = %s, updated_at = now() "
      "WHERE id = %s::uuid AND status = 'pending'" },
    { "lenz_acct_activate",
      "UPDATE users SET status = 'active', updated_at = now() WHERE id = %s::uuid AND status = 'pending'" },
    { "lenz_acct_rehash", "UPDATE users SET password_hash = %s WHERE id = %s::uuid" },
    { "lenz_acct_set_password",
      "UPDATE users SET password_hash = %s, password_changed_at = now(), updated_at = now() "
      "WHERE id = %s::uuid" },
    { "lenz_acct_revoke_families",
      "UPDATE token_families SET revoked_at = now(), revoke_reason = %s "
      "WHERE user_id = %s::uuid AND revoked_at IS NULL" },
    { "lenz_acct_end_sessions", "DELETE FROM sessions WHERE user_id = %s::uuid" },
    /* Set-up writes a pending secret; the active one stays until a code
     * from the new one is confirmed (lenz_acct_totp_on). */
    { "lenz_acct_totp_set",
      "UPDATE users SET totp_pending_secret = decode(%s, 'hex'), totp_pending_kek_version = %s::int "
      "WHERE id = %s::uuid" },
    { "lenz_acct_totp_on",
      "UPDATE users SET totp_secret = totp_pending_secret, totp_kek_version = totp_pending_kek_version, "
      "totp_pending_secret = NULL, totp_pending_kek_version = NULL, totp_enabled = true, "
      "totp_last_step = %s::bigint WHERE id = %s::uuid AND totp_pending_secret IS NOT NULL" },
    { "lenz_acct_totp_off",
      "UPDATE users SET totp_enabled = false, totp_secret = NULL, totp_kek_version = NULL, "
      "totp_pending_secret = NULL, totp_pending_kek_version = NULL WHERE id = %s::uuid" },
    /* Forward only, once: a code replayed in parallel updates no row. */
    { "lenz_acct_totp_step",
      "UPDATE users SET totp_last_step = %s::bigint WHERE id = %s::uuid AND totp_last_step < %s::bigint" },
    /* A sign-on's id, linked by the account's owner (/account/sso/link). */
    { "lenz_acct_link_external",
      "UPDATE users SET external_id = %s, updated_at = now() WHERE id = %s::uuid AND external_id IS NULL" },
    { "lenz_acct_recovery_clear", "DELETE FROM recovery_codes WHERE user_id = %s::uuid" },
    { "lenz_acct_recovery_add",
      "INSERT INTO recovery_codes (user_id, code_hash, kek_version) "
      "VALUES (%s::uuid, decode(%s, 'hex'), %s::int)" },
    { "lenz_acct_recovery_versions",
      "SELECT DISTINCT coalesce(kek_version, 0) FROM recovery_codes "
      "WHERE user_id = %s::uuid AND used_at IS NULL" },
    { "lenz_acct_recovery_use",
      "UPDATE recovery_codes SET used_at = now() WHERE user_id = %s::uuid "
      "AND code_hash = decode(%s, 'hex') AND used_at IS NULL AND coalesce(kek_version, 0) = %s::int" },
    { NULL }
};


void lenz_acct_set(lenz_acct_result *res, int status, const char *slug, const char *title,
                const char *detail, const char *field)
{
    res->status = status;
    res->slug = slug;
    res->title = title;
    res->detail = detail;
    res->field = field;
}

void lenz_acct_unavailable(lenz_acct_result *res)
{
    lenz_acct_set(res, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "Service unavailable",
        "please try again shortly", NULL);
}

void lenz_acct_busy(lenz_acct_result *res)
{
    lenz_acct_set(res, HTTP_SERVICE_UNAVAILABLE, "busy", "Busy",
                  "too many sign-ins at once; try again in a moment", NULL);
    res->retry_after = 2;
}

void lenz_acct_limited(lenz_acct_result *res, int after)
{
    lenz_acct_set(res, HTTP_TOO_MANY_REQUESTS, "rate-limited", "Too many attempts",
        "too many attempts; wait a little and try again", NULL);
    res->retry_after = after;
}

/* Rate limit on an event; 0 (and res set) when over. */
int lenz_acct_allow(request_rec *r, lenz_acct_result *res, const char *scope, const char *who,
                 int limit, int period)
{
    int after = 1;
    if (lenz_rate_hit(r, scope, who, limit, period, &after))
        return 1;
    lenz_acct_limited(res, after);
    return 0;
}

const char *lenz_acct_lower(apr_pool_t *p, const char *s)
{
    return lenz_ascii_lower(p, s);
}

int lenz_acct_email_ok(request_rec *r, lenz_acct_result *res, const char *email)
{
    if (!email || strlen(email) > 254 || !lenz_mail_addr_ok(email)) {
        lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field",
            "email: not a valid e-mail address", "email");
        return 0;
    }
    return 1;
}

int lenz_acct_password_ok(request_rec *r, lenz_acct_result *res, const char *pw)
{
    apr_size_t n = pw ? strlen(pw) : 0;
    if (n < LENZ_PASSWORD_MIN || n > LENZ_PASSWORD_MAX) {
        lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field",
            apr_psprintf(r->pool, "password: %d to %d characters", LENZ_PASSWORD_MIN,
                         LENZ_PASSWORD_MAX), "password");
        return 0;
    }
    return 1;
}

static int name_ok(request_rec *r, lenz_acct_result *res, const char *name)
{
    const char *c;
    if (strlen(name) > 100) {
        lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field", "name: at most 100 bytes", "name");
        return 0;
    }
    for (c = name; *c; c++)
        if (apr_iscntrl(*c)) {
            lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field",
                "name: no control characters", "name");
            return 0;
        }
    return 1;
}

lenz_json *lenz_acct_mail_data(request_rec *r, const char *name)
{
    lenz_json *d = lenz_json_new_object(r->pool);
    lenz_srv_cfg *c = lenz_srv(r->server);
    lenz_json_set_str(d, "name", name && *name ? name : "there");
    lenz_json_set_str(d, "site_url", c->public_url);
    return d;
}

/* Registration --------------------------------------------------------------- */

/* Mails a fresh code to a pending account (inside the caller's transaction). */
static apr_status_t send_code(request_rec *r, lenz_db *db, const char *user_id,
                              const char *email, const char *name)
{
    const char *code;
    lenz_json *d, *secret;
    apr_status_t rv = lenz_otp_issue(r, db, "register", user_id, LENZ_OTP_TTL, &code);
    if (rv != APR_SUCCESS)
        return rv;
    secret = lenz_json_new_object(r->pool);
    d = lenz_acct_mail_data(r, name);
    lenz_json_set_str(secret, "code", code);        /* sealed in the queue */
    lenz_json_set_int(d, "minutes", LENZ_OTP_TTL / 60);
    return lenz_mail_enqueue_sealed(db, "register_code", email, "Your Lenzeye sign-up code", d,
                                    secret, NULL);
}

/* The rate limits of a mailed request: 10 an hour per client address,
 * mail_limit per mail_period per address. */
static int mail_limits(request_rec *r, lenz_acct_result *res, const char *ip_scope,
                       const char *mail_scope, const char *email, int mail_limit, int mail_period)
{
    return lenz_acct_allow(r, res, ip_scope, lenz_rate_addr(r), 10, 3600)
           && lenz_acct_allow(r, res, mail_scope, email, mail_limit, mail_period);
}

/* Opens a transaction on *db and reads the account with this address
 * into rows (none: nrows 0).  0 (res set) when the database is away. */
static int by_email_tx(request_rec *r, lenz_acct_result *res, const char *email,
                       lenz_db **db, lenz_rows *rows)
{
    const char *args[1] = { email };
    if (!(*db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return 0;
    }
    lenz_db_begin(*db);
    if (lenz_db_select(*db, "lenz_acct_by_email", rows, 1, args) != APR_SUCCESS) {
        lenz_db_end(*db, 1);
        lenz_db_close(*db);
        lenz_acct_unavailable(res);
        return 0;
    }
    return 1;
}

/* Commits (or, after a failure, rolls back) and answers 202: the same
 * answer whatever the address, so it tells nothing. */
static void end_accepted(lenz_db *db, apr_status_t rv, lenz_acct_result *res)
{
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        lenz_acct_unavailable(res);
    else
        res->status = HTTP_ACCEPTED;
}

void lenz_acct_register(request_rec *r, lenz_req *lr, const char *email, const char *password,
                        const char *name, lenz_acct_result *res)
{
    const char *hash, *args[3];
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv = APR_SUCCESS;

    memset(res, 0, sizeof(*res));
    if (!lenz_acct_email_ok(r, res, email) || !lenz_acct_password_ok(r, res, password) || !name_ok(r, res, name ? name : ""))
        return;
    email = lenz_acct_lower(r->pool, email);
    if (!mail_limits(r, res, "register-ip", "register-mail", email, 3, 600))
        return;
    if ((rv = lenz_pw_hash(r, password, NULL, &hash)) != APR_SUCCESS) {
        if (rv == LENZ_EUNAVAIL)
            lenz_acct_busy(res);
        else
            lenz_acct_unavailable(res);
        return;
    }
    if (!by_email_tx(r, res, email, &db, &rows))
        return;
    args[0] = email;
    if (rows.nrows == 0) {
        args[1] = name ? name : "";
        args[2] = hash;
        if (lenz_db_select(db, "lenz_acct_insert", &rows, 3, args) != APR_SUCCESS || rows.nrows != 1)
            rv = APR_EGENERAL;
        else
            rv = send_code(r, db, rows.rows[0][0], email, name);
    }
    else if (strcmp(rows.rows[0][C_STATUS], "pending") == 0) {
        /* Signed up again before verifying: the newest password counts. */
        const char *id = rows.rows[0][C_ID];
        args[0] = name ? name : "";
        args[1] = hash;
        args[2] = id;
        rv = lenz_db_exec(db, "lenz_acct_pending_update", NULL, 3, args);
        if (rv == APR_SUCCESS)
            rv = send_code(r, db, id, email, name);
    }
    else {
        /* Taken: tell the owner, answer the caller exactly as for a new one. */
        rv = lenz_mail_enqueue(db, "account_exists", email, "Someone tried to sign up with your address",
                               lenz_acct_mail_data(r, rows.rows[0][C_NAME]));
    }
    end_accepted(db, rv, res);
}

void lenz_acct_resend(request_rec *r, lenz_req *lr, const char *email, lenz_acct_result *res)
{
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv = APR_SUCCESS;

    memset(res, 0, sizeof(*res));
    if (!lenz_acct_email_ok(r, res, email))
        return;
    email = lenz_acct_lower(r->pool, email);
    if (!mail_limits(r, res, "register-ip", "register-mail", email, 3, 600)
        || !by_email_tx(r, res, email, &db, &rows))
        return;
    if (rows.nrows == 1 && strcmp(rows.rows[0][C_STATUS], "pending") == 0)
        rv = send_code(r, db, rows.rows[0][C_ID], email, rows.rows[0][C_NAME]);
    else
        lenz_rate_clear(r, "verify-none", email, LENZ_OTP_TTL);    /* "a new code", as verify sees it */
    end_accepted(db, rv, res);
}

/* No sign-up waits for this address (none, or an active account): the
 * same answers a wrong code for a waiting one gets (400 until as many
 * tries as a code allows, then 410, per LENZ_OTP_TTL), after about the
 * same work (a code looked up and tried), so verify tells nothing of who
 * has signed up. */
#define VERIFY_CAP        10     /* wrong sign-up codes per address, across resends */
#define VERIFY_CAP_WINDOW 86400

static apr_status_t no_signup(request_rec *r, lenz_db *db, const char *email, const char *code,
                              int *retry_after)
{
    int after;
    lenz_otp_check(r, db, "register", "00000000-0000-0000-0000-000000000000", code);
    if (lenz_rate_count(r, "verify-none-day", email, VERIFY_CAP_WINDOW) >= VERIFY_CAP) {
        *retry_after = 3600;
        return LENZ_ETOOBIG;
    }
    if (!lenz_rate_hit(r, "verify-none", email, LENZ_OTP_TRIES, LENZ_OTP_TTL, &after))
        return LENZ_EEXPIRED;           /* as a code whose tries are spent */
    lenz_rate_hit(r, "verify-none-day", email, 1 << 30, VERIFY_CAP_WINDOW, &after);
    return LENZ_EAUTH;
}

void lenz_acct_verify(request_rec *r, lenz_req *lr, const char *email, const char *code,
                      lenz_acct_result *res)
{
    const char *args[1];
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv;
    int after = 1;

    memset(res, 0, sizeof(*res));
    if (!lenz_acct_email_ok(r, res, email))
        return;
    email = lenz_acct_lower(r->pool, email);
    if (!lenz_acct_allow(r, res, "verify-ip", lenz_rate_addr(r), 30, 600))
        return;
    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    args[0] = email;
    if (lenz_db_select(db, "lenz_acct_by_email", &rows, 1, args) != APR_SUCCESS) {
        lenz_db_close(db);
        lenz_acct_unavailable(res);
        return;
    }
    if (rows.nrows != 1 || strcmp(rows.rows[0][C_STATUS], "pending") != 0) {
        rv = no_signup(r, db, email, code, &after);
    }
    else {
        /* Each resend brings a code with its own tries: wrong ones are
         * also capped across them (as share-link codes are). */
        args[0] = rows.rows[0][C_ID];
        rv = lenz_otp_check_capped(r, db, "register", args[0], code, VERIFY_CAP, VERIFY_CAP_WINDOW, &after);
    }
    if (rv == APR_SUCCESS) {
        lenz_json *ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "email", email);
        lenz_db_begin(db);
        rv = lenz_db_exec(db, "lenz_acct_activate", NULL, 1, args);
        if (rv == APR_SUCCESS)
            rv = lenz_event_emit(db, "user.registered", args[0], args[0], ev);
        lenz_db_end(db, rv != APR_SUCCESS);
    }
    lenz_db_close(db);
    if (rv == LENZ_ETOOBIG)
        lenz_acct_limited(res, after);
    else if (rv == LENZ_EAUTH)
        lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-code", "Invalid code",
                      "the code is wrong or no sign-up is waiting for this address", "code");
    else if (rv == LENZ_EEXPIRED)
        lenz_acct_set(res, HTTP_GONE, "code-expired", "Code no longer valid",
            "the code expired or was tried too often; ask for a new one", "code");
    else if (rv != APR_SUCCESS)
        lenz_acct_unavailable(res);
    else
        res->status = HTTP_OK;
}

/* Password reset -------------------------------------------------------------- */

void lenz_acct_reset_request(request_rec *r, lenz_req *lr, const char *email, lenz_acct_result *res)
{
    const char *token;
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv;
    int real;

    memset(res, 0, sizeof(*res));
    if (!lenz_acct_email_ok(r, res, email))
        return;
    email = lenz_acct_lower(r->pool, email);
    if (!mail_limits(r, res, "reset-ip", "reset-mail", email, 3, 3600)
        || !by_email_tx(r, res, email, &db, &rows))
        return;
    /* The same work whether or not the address has an active account (a
     * link made and its mail queued), kept only when it has: the answer's
     * timing tells nothing either. */
    real = rows.nrows == 1 && strcmp(rows.rows[0][C_STATUS], "active") == 0;
    rv = lenz_otp_link_issue(r, db, "reset", real ? rows.rows[0][C_ID] : "00000000-0000-0000-0000-000000000000",
                             RESET_TTL, &token);
    if (rv == APR_SUCCESS) {
        lenz_json *d = lenz_acct_mail_data(r, real ? rows.rows[0][C_NAME] : NULL);
        lenz_json *secret = lenz_json_new_object(r->pool);
        /* The link opens the account: sealed in the queue (mailjob.h). */
        lenz_json_set_str(secret, "url", apr_pstrcat(r->pool, lr->srv->public_url,
                                                     "/account/reset/", token, NULL));
        lenz_json_set_int(d, "minutes", RESET_TTL / 60);
        rv = lenz_mail_enqueue_sealed(db, "reset_link", email, "Reset your Lenzeye password", d,
                                      secret, NULL);
    }
    if (!real) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        res->status = HTTP_ACCEPTED;
        return;
    }
    end_accepted(db, rv, res);
}

void lenz_acct_reset(request_rec *r, lenz_req *lr, const char *token, const char *password,
                     lenz_acct_result *res)
{
    const char *user, *hash, *args[2];
    lenz_db *db;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!lenz_acct_password_ok(r, res, password))
        return;
    if (!lenz_acct_allow(r, res, "reset-ip", lenz_rate_addr(r), 30, 3600))
        return;
    if ((rv = lenz_pw_hash(r, password, NULL, &hash)) == LENZ_EUNAVAIL) {
        lenz_acct_busy(res);
        return;
    }
    if (rv != APR_SUCCESS || !(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    user = lenz_otp_link_take(r, db, "reset", token, 0);
    if (!user) {
        lenz_db_close(db);
        lenz_acct_set(res, HTTP_GONE, "link-expired", "Link no longer valid",
            "this reset link was used already or has expired; ask for a new one", NULL);
        return;
    }
    lenz_db_begin(db);
    args[0] = hash;
    args[1] = user;
    rv = lenz_db_exec(db, "lenz_acct_set_password", NULL, 2, args);
    /* A reset ends every other way in: sessions and API token families. */
    args[0] = user;
    if (rv == APR_SUCCESS)
        rv = lenz_db_exec(db, "lenz_acct_end_sessions", NULL, 1, args);
    args[0] = "password reset";
    args[1] = user;
    if (rv == APR_SUCCESS)
        rv = lenz_db_exec(db, "lenz_acct_revoke_families", NULL, 2, args);
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        lenz_acct_unavailable(res);
    else
        res->status = HTTP_OK;
}

int lenz_acct_fail(request_rec *r, const lenz_acct_result *res)
{
    lenz_json *ext = lenz_json_new_object(r->pool);
    /* A full password-hash gate is logged there (LENZ0041), once a minute. */
    int quiet = res->status < 500 || (res->slug && strcmp(res->slug, "busy") == 0);
    if (res->field)
        lenz_json_set_str(ext, "field", res->field);
    if (res->totp_required)
        lenz_json_set_bool(ext, "totp_required", 1);
    if (res->retry_after > 0)
        apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, res->retry_after));
    return lenz_fail_ext(r, quiet ? APLOG_INFO : APLOG_ERR,
                         quiet ? LENZLOGNO(2291) : LENZLOGNO(2290), res->status,
                         res->slug, res->title, res->detail, ext);
}
