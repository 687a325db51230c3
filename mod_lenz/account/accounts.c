/* accounts.c - registration, sign-in, password reset and TOTP. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "accounts.h"
#include "httpd/config.h"
#include "httpd/problem.h"
#include "httpd/rate.h"
#include "httpd/otp.h"
#include "jobs/mailjob.h"
#include "httpd/keystore.h"
#include "passwd.h"
#include "mail.h"
#include "totp.h"
#include "codec.h"
#include "crypto.h"
#include "keys.h"
#include "err.h"
#include "jobs/events.h"

#define WINDOW        900        /* brute-force windows: 15 minutes */
#define FAIL_PAIR     5          /* failures per (account, address) */
#define FAIL_ACCOUNT  20         /* failures per account, all addresses */
#define FAIL_ADDRESS  50         /* failures per address, all accounts */
#define RESET_TTL     1800       /* reset links: 30 minutes */
#define RECOVERY_CODES 10

const lenz_stmt lenz_accounts_stmts[] = {
    { "lenz_acct_by_email",
      "SELECT id, status, password_hash, name, roles::text, totp_enabled, "
      "encode(totp_secret, 'hex'), totp_kek_version, totp_last_step, email "
      "FROM users WHERE email = %s" },
    { "lenz_acct_by_id",
      "SELECT id, status, password_hash, name, roles::text, totp_enabled, "
      "encode(totp_secret, 'hex'), totp_kek_version, totp_last_step, email "
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
    { "lenz_acct_totp_set",
      "UPDATE users SET totp_secret = decode(%s, 'hex'), totp_kek_version = %s::int, "
      "totp_enabled = false, totp_last_step = 0 WHERE id = %s::uuid" },
    { "lenz_acct_totp_on", "UPDATE users SET totp_enabled = true, totp_last_step = %s::bigint "
                           "WHERE id = %s::uuid AND totp_secret IS NOT NULL" },
    { "lenz_acct_totp_off",
      "UPDATE users SET totp_enabled = false, totp_secret = NULL, totp_kek_version = NULL "
      "WHERE id = %s::uuid" },
    { "lenz_acct_totp_step", "UPDATE users SET totp_last_step = %s::bigint WHERE id = %s::uuid" },
    { "lenz_acct_recovery_clear", "DELETE FROM recovery_codes WHERE user_id = %s::uuid" },
    { "lenz_acct_recovery_add",
      "INSERT INTO recovery_codes (user_id, code_hash) VALUES (%s::uuid, decode(%s, 'hex'))" },
    { "lenz_acct_recovery_use",
      "UPDATE recovery_codes SET used_at = now() WHERE user_id = %s::uuid "
      "AND code_hash = decode(%s, 'hex') AND used_at IS NULL" },
    { NULL }
};

enum { C_ID, C_STATUS, C_HASH, C_NAME, C_ROLES, C_TOTP_ON, C_TOTP_SECRET, C_TOTP_KEKV,
       C_TOTP_STEP, C_EMAIL };

static void set(lenz_acct_result *res, int status, const char *slug, const char *title,
                const char *detail, const char *field)
{
    res->status = status;
    res->slug = slug;
    res->title = title;
    res->detail = detail;
    res->field = field;
}

static void unavailable(lenz_acct_result *res)
{
    set(res, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "Service unavailable",
        "please try again shortly", NULL);
}

static void limited(lenz_acct_result *res, int after)
{
    set(res, HTTP_TOO_MANY_REQUESTS, "rate-limited", "Too many attempts",
        "too many attempts; wait a little and try again", NULL);
    res->retry_after = after;
}

/* Rate limit on an event; 0 (and res set) when over. */
static int allow(request_rec *r, lenz_acct_result *res, const char *scope, const char *who,
                 int limit, int period)
{
    int after = 1;
    if (lenz_rate_hit(r, scope, who, limit, period, &after))
        return 1;
    limited(res, after);
    return 0;
}

static const char *lower(apr_pool_t *p, const char *s)
{
    char *d = apr_pstrdup(p, s), *c;
    for (c = d; *c; c++)
        *c = (char)apr_tolower(*c);
    return d;
}

static int email_ok(request_rec *r, lenz_acct_result *res, const char *email)
{
    if (!email || strlen(email) > 254 || !lenz_mail_addr_ok(email)) {
        set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field",
            "email: not a valid e-mail address", "email");
        return 0;
    }
    return 1;
}

static int password_ok(request_rec *r, lenz_acct_result *res, const char *pw)
{
    apr_size_t n = pw ? strlen(pw) : 0;
    if (n < LENZ_PASSWORD_MIN || n > LENZ_PASSWORD_MAX) {
        set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field",
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
        set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field", "name: at most 100 bytes", "name");
        return 0;
    }
    for (c = name; *c; c++)
        if (apr_iscntrl(*c)) {
            set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field",
                "name: no control characters", "name");
            return 0;
        }
    return 1;
}

static lenz_json *mail_data(request_rec *r, const char *name)
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
    d = mail_data(r, name);
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
    return allow(r, res, ip_scope, r->useragent_ip, 10, 3600)
           && allow(r, res, mail_scope, email, mail_limit, mail_period);
}

/* Opens a transaction on *db and reads the account with this address
 * into rows (none: nrows 0).  0 (res set) when the database is away. */
static int by_email_tx(request_rec *r, lenz_acct_result *res, const char *email,
                       lenz_db **db, lenz_rows *rows)
{
    const char *args[1] = { email };
    if (!(*db = lenz_db_open(r))) {
        unavailable(res);
        return 0;
    }
    lenz_db_begin(*db);
    if (lenz_db_select(*db, "lenz_acct_by_email", rows, 1, args) != APR_SUCCESS) {
        lenz_db_end(*db, 1);
        lenz_db_close(*db);
        unavailable(res);
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
        unavailable(res);
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
    if (!email_ok(r, res, email) || !password_ok(r, res, password) || !name_ok(r, res, name ? name : ""))
        return;
    email = lower(r->pool, email);
    if (!mail_limits(r, res, "register-ip", "register-mail", email, 3, 600))
        return;
    if (lenz_passwd_hash(r->pool, password, NULL, &hash) != APR_SUCCESS) {
        unavailable(res);
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
                               mail_data(r, rows.rows[0][C_NAME]));
    }
    end_accepted(db, rv, res);
}

void lenz_acct_resend(request_rec *r, lenz_req *lr, const char *email, lenz_acct_result *res)
{
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv = APR_SUCCESS;

    memset(res, 0, sizeof(*res));
    if (!email_ok(r, res, email))
        return;
    email = lower(r->pool, email);
    if (!mail_limits(r, res, "register-ip", "register-mail", email, 3, 600)
        || !by_email_tx(r, res, email, &db, &rows))
        return;
    if (rows.nrows == 1 && strcmp(rows.rows[0][C_STATUS], "pending") == 0)
        rv = send_code(r, db, rows.rows[0][C_ID], email, rows.rows[0][C_NAME]);
    end_accepted(db, rv, res);
}

void lenz_acct_verify(request_rec *r, lenz_req *lr, const char *email, const char *code,
                      lenz_acct_result *res)
{
    const char *args[1];
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!email_ok(r, res, email))
        return;
    email = lower(r->pool, email);
    if (!allow(r, res, "verify-ip", r->useragent_ip, 30, 600))
        return;
    if (!(db = lenz_db_open(r))) {
        unavailable(res);
        return;
    }
    args[0] = email;
    if (lenz_db_select(db, "lenz_acct_by_email", &rows, 1, args) != APR_SUCCESS) {
        lenz_db_close(db);
        unavailable(res);
        return;
    }
    if (rows.nrows != 1 || strcmp(rows.rows[0][C_STATUS], "pending") != 0) {
        lenz_db_close(db);
        set(res, HTTP_BAD_REQUEST, "invalid-code", "Invalid code",
            "the code is wrong or no sign-up is waiting for this address", "code");
        return;
    }
    args[0] = rows.rows[0][C_ID];
    rv = lenz_otp_check(r, db, "register", args[0], code);
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
    if (rv == LENZ_EAUTH)
        set(res, HTTP_BAD_REQUEST, "invalid-code", "Invalid code", "the code is wrong", "code");
    else if (rv == LENZ_EEXPIRED)
        set(res, HTTP_GONE, "code-expired", "Code no longer valid",
            "the code expired or was tried too often; ask for a new one", "code");
    else if (rv != APR_SUCCESS)
        unavailable(res);
    else
        res->status = HTTP_OK;
}

/* Sign-in ------------------------------------------------------------------- */

static void fail_count(request_rec *r, const char *email)
{
    int after;
    const char *ip = r->useragent_ip;
    lenz_rate_hit(r, "login-pair", apr_pstrcat(r->pool, email, "|", ip, NULL), 1 << 30, WINDOW, &after);
    lenz_rate_hit(r, "login-acct", email, 1 << 30, WINDOW, &after);
    lenz_rate_hit(r, "login-ip", ip, 1 << 30, WINDOW, &after);
}

/* Per (account, address), per account and per address: an attacker who
 * shares a user's address but not their account does not lock them out,
 * and one who guesses at one account from many addresses is slowed too. */
static int login_blocked(request_rec *r, const char *email)
{
    const char *ip = r->useragent_ip;
    return lenz_rate_count(r, "login-pair", apr_pstrcat(r->pool, email, "|", ip, NULL), WINDOW) >= FAIL_PAIR
           || lenz_rate_count(r, "login-acct", email, WINDOW) >= FAIL_ACCOUNT
           || lenz_rate_count(r, "login-ip", ip, WINDOW) >= FAIL_ADDRESS;
}

static int totp_secret(request_rec *r, lenz_db *db, const char **row, unsigned char secret[32])
{
    unsigned char kek[LENZ_KEY_LEN], blob[LENZ_WRAP_LEN];
    const char *hex = row[C_TOTP_SECRET];
    int ok;
    if (!hex || strlen(hex) != 2 * LENZ_WRAP_LEN
        || lenz_unhex(hex, strlen(hex), blob, sizeof(blob)) != APR_SUCCESS
        || lenz_kek_get(r, db, row[C_ID], (int)apr_atoi64(row[C_TOTP_KEKV]), kek) != APR_SUCCESS)
        return 0;
    ok = lenz_key_unwrap(r->pool, kek, apr_pstrcat(r->pool, "lenz:totp:user=", row[C_ID], NULL),
                         blob, sizeof(blob), secret) == APR_SUCCESS;
    lenz_wipe(kek, sizeof(kek));
    return ok;
}

static const char *recovery_hash(request_rec *r, const char *code)
{
    char *c = apr_pstrdup(r->pool, code), *s, *d;
    for (s = d = c; *s; s++)
        if (*s != '-' && *s != ' ')
            *d++ = (char)apr_toupper(*s);
    *d = '\0';
    return lenz_sha256_hex(r->pool, c, strlen(c));
}

/* TOTP or a recovery code, for an account with 2FA on. */
static int second_factor_ok(request_rec *r, lenz_db *db, const char **row, const char *code)
{
    unsigned char secret[32];
    apr_uint64_t last = (apr_uint64_t)apr_atoi64(row[C_TOTP_STEP]);
    const char *args[2];
    int n = 0;

    if (!code || !*code)
        return 0;
    if (strlen(code) == 6 && totp_secret(r, db, row, secret)) {
        apr_status_t rv = lenz_totp_verify(secret, LENZ_TOTP_SECRET_LEN, code, apr_time_now(), &last);
        lenz_wipe(secret, sizeof(secret));
        if (rv == APR_SUCCESS) {
            args[0] = apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, last);
            args[1] = row[C_ID];
            lenz_db_exec(db, "lenz_acct_totp_step", NULL, 2, args);
            return 1;
        }
        return 0;
    }
    args[0] = row[C_ID];
    args[1] = recovery_hash(r, code);
    return lenz_db_exec(db, "lenz_acct_recovery_use", &n, 2, args) == APR_SUCCESS && n == 1;
}

void lenz_acct_login(request_rec *r, lenz_req *lr, const char *email, const char *password,
                     const char *totp, lenz_acct_result *res)
{
    lenz_passwd_params cur;
    const char *args[2], **row;
    lenz_rows rows;
    lenz_db *db;

    memset(res, 0, sizeof(*res));
    lenz_passwd_params_default(&cur);
    if (!email || !*email || strlen(email) > 254 || !password || strlen(password) > LENZ_PASSWORD_MAX) {
        set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field", "email and password are required",
            !email || !*email ? "email" : "password");
        return;
    }
    email = lower(r->pool, email);
    if (login_blocked(r, email)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LENZLOGNO(2210) "sign-in paused for %s from %s",
                      email, r->useragent_ip);
        limited(res, WINDOW);
        return;
    }
    if (!(db = lenz_db_open(r))) {
        unavailable(res);
        return;
    }
    args[0] = email;
    if (lenz_db_select(db, "lenz_acct_by_email", &rows, 1, args) != APR_SUCCESS) {
        lenz_db_close(db);
        unavailable(res);
        return;
    }
    if (rows.nrows != 1 || !rows.rows[0][C_HASH]) {
        /* The same work as a real check, so timing tells nothing. */
        lenz_passwd_dummy_verify(password, &cur);
        lenz_db_close(db);
        fail_count(r, email);
        set(res, HTTP_UNAUTHORIZED, "invalid-credentials", "Sign-in failed",
            "wrong e-mail address or password", NULL);
        return;
    }
    row = rows.rows[0];
    if (lenz_passwd_verify(r->pool, password, row[C_HASH]) != APR_SUCCESS) {
        lenz_db_close(db);
        fail_count(r, email);
        set(res, HTTP_UNAUTHORIZED, "invalid-credentials", "Sign-in failed",
            "wrong e-mail address or password", NULL);
        return;
    }
    if (strcmp(row[C_STATUS], "pending") == 0) {
        lenz_db_close(db);
        set(res, HTTP_FORBIDDEN, "not-verified", "Address not verified",
            "enter the code we mailed you first", NULL);
        return;
    }
    if (strcmp(row[C_STATUS], "active") != 0) {
        lenz_db_close(db);
        set(res, HTTP_FORBIDDEN, "account-disabled", "Account disabled",
            "this account is disabled", NULL);
        return;
    }
    if (strcmp(row[C_TOTP_ON], "t") == 0) {
        if (!totp || !*totp) {
            lenz_db_close(db);
            set(res, HTTP_UNAUTHORIZED, "totp-required", "Second factor required",
                "enter the code from your authenticator app (or a recovery code)", "totp");
            res->totp_required = 1;
            return;
        }
        if (!second_factor_ok(r, db, row, totp)) {
            lenz_db_close(db);
            fail_count(r, email);
            set(res, HTTP_UNAUTHORIZED, "invalid-totp", "Sign-in failed",
                "the authenticator code is wrong", "totp");
            res->totp_required = 1;
            return;
        }
    }
    if (lenz_passwd_needs_rehash(r->pool, row[C_HASH], &cur)) {
        const char *nh;
        if (lenz_passwd_hash(r->pool, password, &cur, &nh) == APR_SUCCESS) {
            args[0] = nh;
            args[1] = row[C_ID];
            lenz_db_exec(db, "lenz_acct_rehash", NULL, 2, args);
        }
    }
    {
        lenz_json *ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "ip", r->useragent_ip);
        lenz_json_set_bool(ev, "second_factor", strcmp(row[C_TOTP_ON], "t") == 0);
        /* The sign-in stands even when its audit event cannot be written. */
        if (lenz_event_emit(db, "user.login", row[C_ID], row[C_ID], ev) != APR_SUCCESS)
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, LENZLOGNO(2211)
                          "could not record the sign-in of %s", row[C_ID]);
    }
    lenz_db_close(db);
    res->status = HTTP_OK;
    res->user = apr_pcalloc(r->pool, sizeof(lenz_user));
    res->user->id = row[C_ID];
    res->user->email = row[C_EMAIL];
    res->user->name = row[C_NAME];
    res->user->roles = lenz_roles_parse(row[C_ROLES]);
}

/* Password reset -------------------------------------------------------------- */

void lenz_acct_reset_request(request_rec *r, lenz_req *lr, const char *email, lenz_acct_result *res)
{
    const char *token;
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv = APR_SUCCESS;

    memset(res, 0, sizeof(*res));
    if (!email_ok(r, res, email))
        return;
    email = lower(r->pool, email);
    if (!mail_limits(r, res, "reset-ip", "reset-mail", email, 3, 3600)
        || !by_email_tx(r, res, email, &db, &rows))
        return;
    if (rows.nrows == 1 && strcmp(rows.rows[0][C_STATUS], "active") == 0) {
        rv = lenz_otp_link_issue(r, db, "reset", rows.rows[0][C_ID], RESET_TTL, &token);
        if (rv == APR_SUCCESS) {
            lenz_json *d = mail_data(r, rows.rows[0][C_NAME]), *secret = lenz_json_new_object(r->pool);
            /* The link opens the account: sealed in the queue (mailjob.h). */
            lenz_json_set_str(secret, "url", apr_pstrcat(r->pool, lr->srv->public_url,
                                                         "/account/reset/", token, NULL));
            lenz_json_set_int(d, "minutes", RESET_TTL / 60);
            rv = lenz_mail_enqueue_sealed(db, "reset_link", email, "Reset your Lenzeye password", d,
                                          secret, NULL);
        }
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
    if (!password_ok(r, res, password))
        return;
    if (!allow(r, res, "reset-ip", r->useragent_ip, 30, 3600))
        return;
    if (lenz_passwd_hash(r->pool, password, NULL, &hash) != APR_SUCCESS || !(db = lenz_db_open(r))) {
        unavailable(res);
        return;
    }
    user = lenz_otp_link_take(r, db, "reset", token, 0);
    if (!user) {
        lenz_db_close(db);
        set(res, HTTP_GONE, "link-expired", "Link no longer valid",
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
        unavailable(res);
    else
        res->status = HTTP_OK;
}

/* TOTP ------------------------------------------------------------------------ */

void lenz_acct_totp_setup(request_rec *r, lenz_req *lr, lenz_json *out, lenz_acct_result *res)
{
    unsigned char secret[32], kek[LENZ_KEY_LEN], blob[LENZ_WRAP_LEN];
    const char *args[3];
    lenz_db *db;
    int kv;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!(db = lenz_db_open(r))) {
        unavailable(res);
        return;
    }
    rv = lenz_random(secret, sizeof(secret));
    if (rv == APR_SUCCESS)
        rv = lenz_kek_current(r, db, lr->user->id, kek, &kv);
    if (rv == APR_SUCCESS)
        rv = lenz_key_wrap(r->pool, kek, apr_pstrcat(r->pool, "lenz:totp:user=", lr->user->id, NULL),
                           secret, blob);
    lenz_wipe(kek, sizeof(kek));
    if (rv == APR_SUCCESS) {
        args[0] = lenz_hex(r->pool, blob, sizeof(blob));
        args[1] = apr_itoa(r->pool, kv);
        args[2] = lr->user->id;
        rv = lenz_db_exec(db, "lenz_acct_totp_set", NULL, 3, args);
    }
    lenz_db_close(db);
    if (rv != APR_SUCCESS) {
        lenz_wipe(secret, sizeof(secret));
        unavailable(res);
        return;
    }
    lenz_json_set_str(out, "secret", lenz_b32(r->pool, secret, LENZ_TOTP_SECRET_LEN));
    lenz_json_set_str(out, "otpauth_uri", lenz_totp_uri(r->pool, "Lenzeye", lr->user->email,
                                                        secret, LENZ_TOTP_SECRET_LEN));
    lenz_wipe(secret, sizeof(secret));
    res->status = HTTP_OK;
}

void lenz_acct_totp_enable(request_rec *r, lenz_req *lr, const char *code, lenz_json *out,
                           lenz_acct_result *res)
{
    const char *args[2];
    lenz_rows rows;
    lenz_db *db;
    unsigned char secret[32];
    apr_uint64_t last = 0;
    apr_status_t rv = APR_SUCCESS;
    lenz_json *codes;
    int i;

    memset(res, 0, sizeof(*res));
    if (!(db = lenz_db_open(r))) {
        unavailable(res);
        return;
    }
    lenz_db_begin(db);
    args[0] = lr->user->id;
    if (lenz_db_select(db, "lenz_acct_by_id", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1
        || !totp_secret(r, db, rows.rows[0], secret)) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        set(res, HTTP_CONFLICT, "totp-not-set-up", "Set up first", "start the TOTP set-up first", NULL);
        return;
    }
    if (lenz_totp_verify(secret, LENZ_TOTP_SECRET_LEN, code, apr_time_now(), &last) != APR_SUCCESS) {
        lenz_wipe(secret, sizeof(secret));
        lenz_db_end(db, 1);
        lenz_db_close(db);
        set(res, HTTP_BAD_REQUEST, "invalid-totp", "Wrong code", "the authenticator code is wrong", "code");
        return;
    }
    lenz_wipe(secret, sizeof(secret));
    args[0] = apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, last);
    args[1] = lr->user->id;
    rv = lenz_db_exec(db, "lenz_acct_totp_on", NULL, 2, args);
    args[0] = lr->user->id;
    if (rv == APR_SUCCESS)
        rv = lenz_db_exec(db, "lenz_acct_recovery_clear", NULL, 1, args);
    codes = lenz_json_obj_add_array(out, "recovery_codes");
    for (i = 0; rv == APR_SUCCESS && i < RECOVERY_CODES; i++) {
        unsigned char rnd[7];
        const char *c;
        lenz_random(rnd, sizeof(rnd));
        c = lenz_b32(r->pool, rnd, sizeof(rnd));        /* 12 characters */
        lenz_json_arr_add_str(codes, apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, c, 6), "-", c + 6, NULL));
        args[1] = recovery_hash(r, c);
        rv = lenz_db_exec(db, "lenz_acct_recovery_add", NULL, 2, args);
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        unavailable(res);
    else
        res->status = HTTP_OK;
}

void lenz_acct_totp_disable(request_rec *r, lenz_req *lr, const char *password, const char *code,
                            lenz_acct_result *res)
{
    const char *args[1];
    lenz_rows rows;
    lenz_db *db;
    int ok;

    memset(res, 0, sizeof(*res));
    if (!(db = lenz_db_open(r))) {
        unavailable(res);
        return;
    }
    lenz_db_begin(db);
    args[0] = lr->user->id;
    ok = lenz_db_select(db, "lenz_acct_by_id", &rows, 1, args) == APR_SUCCESS && rows.nrows == 1
         && password && rows.rows[0][C_HASH]
         && lenz_passwd_verify(r->pool, password, rows.rows[0][C_HASH]) == APR_SUCCESS
         && second_factor_ok(r, db, rows.rows[0], code);
    if (ok)
        ok = lenz_db_exec(db, "lenz_acct_totp_off", NULL, 1, args) == APR_SUCCESS
             && lenz_db_exec(db, "lenz_acct_recovery_clear", NULL, 1, args) == APR_SUCCESS;
    lenz_db_end(db, !ok);
    lenz_db_close(db);
    if (!ok)
        set(res, HTTP_FORBIDDEN, "invalid-credentials", "Not confirmed",
            "the password or the code is wrong", NULL);
    else
        res->status = HTTP_OK;
}

int lenz_acct_fail(request_rec *r, const lenz_acct_result *res)
{
    lenz_json *ext = lenz_json_new_object(r->pool);
    if (res->field)
        lenz_json_set_str(ext, "field", res->field);
    if (res->totp_required)
        lenz_json_set_bool(ext, "totp_required", 1);
    if (res->retry_after > 0)
        apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, res->retry_after));
    return lenz_fail_ext(r, res->status >= 500 ? APLOG_ERR : APLOG_INFO,
                         res->status >= 500 ? LENZLOGNO(2290) : LENZLOGNO(2291), res->status,
                         res->slug, res->title, res->detail, ext);
}
