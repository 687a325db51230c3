/* login.c - signing in: the password, the second factor (TOTP or a
 * recovery code) and the brute-force limits. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "accounts.h"
#include "acct_int.h"
#include "httpd/config.h"
#include "httpd/problem.h"
#include "httpd/rate.h"
#include "httpd/keystore.h"
#include "passwd.h"
#include "totp.h"
#include "codec.h"
#include "crypto.h"
#include "keys.h"
#include "err.h"
#include "jobs/events.h"

/* Sign-in ------------------------------------------------------------------- */

void lenz_acct_fail_count(request_rec *r, const char *email)
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
int lenz_acct_login_blocked(request_rec *r, const char *email)
{
    const char *ip = r->useragent_ip;
    return lenz_rate_count(r, "login-pair", apr_pstrcat(r->pool, email, "|", ip, NULL), WINDOW) >= FAIL_PAIR
           || lenz_rate_count(r, "login-acct", email, WINDOW) >= FAIL_ACCOUNT
           || lenz_rate_count(r, "login-ip", ip, WINDOW) >= FAIL_ADDRESS;
}

int lenz_acct_totp_secret(request_rec *r, lenz_db *db, const char **row, unsigned char secret[32])
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

const char *lenz_acct_recovery_hash(request_rec *r, const char *code)
{
    char *c = apr_pstrdup(r->pool, code), *s, *d;
    for (s = d = c; *s; s++)
        if (*s != '-' && *s != ' ')
            *d++ = (char)apr_toupper(*s);
    *d = '\0';
    return lenz_sha256_hex(r->pool, c, strlen(c));
}

/* TOTP or a recovery code, for an account with 2FA on. */
int lenz_acct_second_factor_ok(request_rec *r, lenz_db *db, const char **row, const char *code)
{
    unsigned char secret[32];
    apr_uint64_t last = (apr_uint64_t)apr_atoi64(row[C_TOTP_STEP]);
    const char *args[2];
    int n = 0;

    if (!code || !*code)
        return 0;
    if (strlen(code) == 6 && lenz_acct_totp_secret(r, db, row, secret)) {
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
    args[1] = lenz_acct_recovery_hash(r, code);
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
        lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field", "email and password are required",
            !email || !*email ? "email" : "password");
        return;
    }
    email = lenz_acct_lower(r->pool, email);
    if (lenz_acct_login_blocked(r, email)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LENZLOGNO(2210) "sign-in paused for %s from %s",
                      email, r->useragent_ip);
        lenz_acct_limited(res, WINDOW);
        return;
    }
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
    if (rows.nrows != 1 || !rows.rows[0][C_HASH]) {
        /* The same work as a real check, so timing tells nothing. */
        lenz_passwd_dummy_verify(password, &cur);
        lenz_db_close(db);
        lenz_acct_fail_count(r, email);
        lenz_acct_set(res, HTTP_UNAUTHORIZED, "invalid-credentials", "Sign-in failed",
            "wrong e-mail address or password", NULL);
        return;
    }
    row = rows.rows[0];
    if (lenz_passwd_verify(r->pool, password, row[C_HASH]) != APR_SUCCESS) {
        lenz_db_close(db);
        lenz_acct_fail_count(r, email);
        lenz_acct_set(res, HTTP_UNAUTHORIZED, "invalid-credentials", "Sign-in failed",
            "wrong e-mail address or password", NULL);
        return;
    }
    if (strcmp(row[C_STATUS], "pending") == 0) {
        lenz_db_close(db);
        lenz_acct_set(res, HTTP_FORBIDDEN, "not-verified", "Address not verified",
            "enter the code we mailed you first", NULL);
        return;
    }
    if (strcmp(row[C_STATUS], "active") != 0) {
        lenz_db_close(db);
        lenz_acct_set(res, HTTP_FORBIDDEN, "account-disabled", "Account disabled",
            "this account is disabled", NULL);
        return;
    }
    if (strcmp(row[C_TOTP_ON], "t") == 0) {
        if (!totp || !*totp) {
            lenz_db_close(db);
            lenz_acct_set(res, HTTP_UNAUTHORIZED, "totp-required", "Second factor required",
                "enter the code from your authenticator app (or a recovery code)", "totp");
            res->totp_required = 1;
            return;
        }
        if (!lenz_acct_second_factor_ok(r, db, row, totp)) {
            lenz_db_close(db);
            lenz_acct_fail_count(r, email);
            lenz_acct_set(res, HTTP_UNAUTHORIZED, "invalid-totp", "Sign-in failed",
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
