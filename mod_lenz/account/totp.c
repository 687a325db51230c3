/* totp.c - two-factor sign-in: setting up, enabling and disabling TOTP,
 * and the recovery codes. */
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
        lenz_acct_unavailable(res);
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
        lenz_acct_unavailable(res);
        return;
    }
    lenz_db_begin(db);
    args[0] = lr->user->id;
    if (lenz_db_select(db, "lenz_acct_by_id", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1
        || !lenz_acct_totp_secret(r, db, rows.rows[0], secret)) {
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
        args[1] = lenz_acct_recovery_hash(r, c);
        rv = lenz_db_exec(db, "lenz_acct_recovery_add", NULL, 2, args);
    }
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
    ok = lenz_db_select(db, "lenz_acct_by_id", &rows, 1, args) == APR_SUCCESS && rows.nrows == 1
         && password && rows.rows[0][C_HASH]
         && lenz_passwd_verify(r->pool, password, rows.rows[0][C_HASH]) == APR_SUCCESS
         && lenz_acct_second_factor_ok(r, db, rows.rows[0], code);
    if (ok)
        ok = lenz_db_exec(db, "lenz_acct_totp_off", NULL, 1, args) == APR_SUCCESS
             && lenz_db_exec(db, "lenz_acct_recovery_clear", NULL, 1, args) == APR_SUCCESS;
    lenz_db_end(db, !ok);
    lenz_db_close(db);
    if (!ok)
        lenz_acct_set(res, HTTP_FORBIDDEN, "invalid-credentials", "Not confirmed",
            "the password or the code is wrong", NULL);
    else
        res->status = HTTP_OK;
}
