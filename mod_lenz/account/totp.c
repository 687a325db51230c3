/* totp.c - two-factor sign-in: setting up, enabling and disabling TOTP,
 * and the recovery codes.
 *
 * Set-up writes a new secret as pending; the active one (if any) keeps
 * guarding sign-in until a code from the new one is confirmed, which then
 * replaces it.  With two-factor on, starting a set-up needs the password
 * and a current code (or a recovery code), as disabling does; both are
 * counted as sign-in tries (login.c), so neither is an oracle. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "accounts.h"
#include "acct_int.h"
#include "httpd/config.h"
#include "httpd/problem.h"
#include "httpd/keystore.h"
#include "httpd/pwgate.h"
#include "passwd.h"
#include "totp.h"
#include "codec.h"
#include "crypto.h"
#include "keys.h"
#include "err.h"
#include "jobs/mailjob.h"
#include "settings.h"

/* Mails the member that their second factor changed (in db's transaction):
 * a session or token used by someone else cannot change it unseen. */
static apr_status_t notice(request_rec *r, lenz_db *db, const char **row, const char *what)
{
    lenz_json *d = lenz_acct_mail_data(r, row[C_NAME]);
    char when[APR_RFC822_DATE_LEN];
    apr_rfc822_date(when, apr_time_now());
    lenz_json_set_str(d, "what", what);
    lenz_json_set_str(d, "when", when);
    lenz_json_set_str(d, "ip", r->useragent_ip);
    return lenz_mail_enqueue(db, "security_notice", row[C_EMAIL], "Two-factor sign-in changed", d);
}

/* The member's row, locked for the transaction db is in; 0 when the
 * database failed (res set). */
static int own_row(request_rec *r, lenz_req *lr, lenz_db *db, lenz_rows *rows, lenz_acct_result *res)
{
    const char *args[1] = { lr->user->id };
    if (lenz_db_select(db, "lenz_acct_by_id", rows, 1, args) != APR_SUCCESS || rows->nrows != 1) {
        lenz_acct_unavailable(res);
        return 0;
    }
    return 1;
}

/* The password and a second factor of the member, as a sign-in try.  1
 * when both are right; else 0 with res set (403, 429 or 503). */
static int confirm(request_rec *r, lenz_db *db, const char **row, const char *password,
                   const char *code, lenz_acct_result *res)
{
    lenz_acct_attempt_t at;
    apr_status_t rv;

    if (!lenz_acct_attempt(r, row[C_EMAIL], &at, res))
        return 0;
    rv = password && row[C_HASH] ? lenz_pw_verify(r, password, row[C_HASH]) : LENZ_EAUTH;
    if (rv == LENZ_EUNAVAIL) {
        lenz_acct_attempt_undo(r, &at);
        lenz_acct_busy(res);
        return 0;
    }
    if (rv != APR_SUCCESS || !lenz_acct_second_factor_ok(r, db, row, code)) {
        lenz_acct_set(res, HTTP_FORBIDDEN, "invalid-credentials", "Not confirmed",
                      "the password or the code is wrong", NULL);
        return 0;
    }
    lenz_acct_attempt_ok(r, &at);
    return 1;
}

/* Ten new recovery codes for user (the old ones deleted), in db's
 * transaction; shown once in out's "recovery_codes" as XXXXXX-XXXXXX. */
static apr_status_t new_codes(request_rec *r, lenz_db *db, const char *user, lenz_json *out)
{
    unsigned char kek[LENZ_KEY_LEN];
    const char *args[3];
    lenz_json *codes;
    apr_status_t rv;
    int i, kv;

    args[0] = user;
    rv = lenz_db_exec(db, "lenz_acct_recovery_clear", NULL, 1, args);
    if (rv == APR_SUCCESS)
        rv = lenz_kek_current(r, db, user, kek, &kv);
    lenz_wipe(kek, sizeof(kek));
    codes = lenz_json_obj_add_array(out, "recovery_codes");
    for (i = 0; rv == APR_SUCCESS && i < RECOVERY_CODES; i++) {
        unsigned char rnd[7];
        const char *c;
        lenz_random(rnd, sizeof(rnd));
        c = lenz_b32(r->pool, rnd, sizeof(rnd));        /* 12 characters */
        lenz_json_arr_add_str(codes, apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, c, 6), "-", c + 6, NULL));
        args[1] = lenz_acct_recovery_hash(r, db, user, kv, c);
        args[2] = apr_itoa(r->pool, kv);
        rv = args[1] ? lenz_db_exec(db, "lenz_acct_recovery_add", NULL, 3, args) : APR_EGENERAL;
    }
    return rv;
}

void lenz_acct_totp_setup(request_rec *r, lenz_req *lr, const char *password, const char *code,
                          lenz_json *out, lenz_acct_result *res)
{
    unsigned char secret[32], kek[LENZ_KEY_LEN], blob[LENZ_WRAP_LEN];
    const char *args[3];
    lenz_rows rows;
    lenz_db *db;
    int kv;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    lenz_db_begin(db);
    if (!own_row(r, lr, db, &rows, res)) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        return;
    }
    if (strcmp(rows.rows[0][C_TOTP_ON], "t") == 0 && !confirm(r, db, rows.rows[0], password, code, res)) {
        /* a recovery code spent on a wrong password is not spent */
        lenz_db_end(db, 1);
        lenz_db_close(db);
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
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS) {
        lenz_wipe(secret, sizeof(secret));
        lenz_acct_unavailable(res);
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
    const char *args[3];
    lenz_rows rows;
    lenz_db *db;
    unsigned char secret[32];
    apr_uint64_t last = 0;
    apr_status_t rv = APR_SUCCESS;

    memset(res, 0, sizeof(*res));
    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    lenz_db_begin(db);
    if (!own_row(r, lr, db, &rows, res)) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        return;
    }
    if (!lenz_acct_totp_secret(r, db, lr->user->id, rows.rows[0][C_PENDING_SECRET],
                               rows.rows[0][C_PENDING_KEKV], secret)) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        lenz_acct_set(res, HTTP_CONFLICT, "totp-not-set-up", "Set up first", "start the TOTP set-up first", NULL);
        return;
    }
    if (lenz_totp_verify(secret, LENZ_TOTP_SECRET_LEN, code, apr_time_now(), &last) != APR_SUCCESS) {
        lenz_wipe(secret, sizeof(secret));
        lenz_db_end(db, 1);
        lenz_db_close(db);
        lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-totp", "Wrong code", "the authenticator code is wrong", "code");
        return;
    }
    lenz_wipe(secret, sizeof(secret));
    args[0] = apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, last);
    args[1] = lr->user->id;
    rv = lenz_db_exec(db, "lenz_acct_totp_on", NULL, 2, args);
    if (rv == APR_SUCCESS)
        rv = notice(r, db, rows.rows[0], strcmp(rows.rows[0][C_TOTP_ON], "t") == 0
                    ? "A new authenticator app was set up" : "Two-factor sign-in was switched on");
    if (rv == APR_SUCCESS)
        rv = new_codes(r, db, lr->user->id, out);
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        lenz_acct_unavailable(res);
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
        lenz_acct_unavailable(res);
        return;
    }
    lenz_db_begin(db);
    args[0] = lr->user->id;
    ok = own_row(r, lr, db, &rows, res) && confirm(r, db, rows.rows[0], password, code, res);
    if (ok)
        ok = lenz_db_exec(db, "lenz_acct_totp_off", NULL, 1, args) == APR_SUCCESS
             && lenz_db_exec(db, "lenz_acct_recovery_clear", NULL, 1, args) == APR_SUCCESS
             && notice(r, db, rows.rows[0], "Two-factor sign-in was switched off") == APR_SUCCESS;
    lenz_db_end(db, !ok);
    lenz_db_close(db);
    if (ok)
        res->status = HTTP_OK;
    else if (!res->status)
        lenz_acct_unavailable(res);
}

void lenz_acct_recovery_regen(request_rec *r, lenz_req *lr, const char *password, const char *code,
                              lenz_json *out, lenz_acct_result *res)
{
    lenz_rows rows;
    lenz_db *db;
    int ok;

    memset(res, 0, sizeof(*res));
    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    lenz_db_begin(db);
    ok = own_row(r, lr, db, &rows, res);
    if (ok && strcmp(rows.rows[0][C_TOTP_ON], "t") != 0) {
        lenz_acct_set(res, HTTP_CONFLICT, "totp-not-enabled", "Two-factor sign-in is off",
                      "recovery codes come with two-factor sign-in: switch it on first", NULL);
        ok = 0;
    }
    ok = ok && confirm(r, db, rows.rows[0], password, code, res)
         && new_codes(r, db, lr->user->id, out) == APR_SUCCESS
         && notice(r, db, rows.rows[0], "New recovery codes were made (the old ones no longer work)") == APR_SUCCESS;
    lenz_db_end(db, !ok);
    lenz_db_close(db);
    if (ok)
        res->status = HTTP_OK;
    else if (!res->status)
        lenz_acct_unavailable(res);
}
