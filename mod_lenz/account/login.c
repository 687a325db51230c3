/* login.c - signing in: the password, the second factor (TOTP or a
 * recovery code) and the brute-force limits.
 *
 * Limits (per 15 minutes): 5 tries per (account, address), 20 per account
 * from addresses it never signed in from, 50 per address.  Every try is
 * counted BEFORE its password is checked, atomically in the shared store,
 * so parallel requests get no more tries than sequential ones; a try that
 * succeeds is taken back.  An (account, address) pair that signed in
 * before is not held by the account-wide limit, so someone guessing from
 * elsewhere cannot lock the owner out.  IPv6 addresses count by their /64.
 * Password hashes go through the per-process gate (httpd/pwgate.c). */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "accounts.h"
#include "acct_int.h"
#include "httpd/config.h"
#include "httpd/problem.h"
#include "httpd/rate.h"
#include "httpd/shared.h"
#include "httpd/keystore.h"
#include "httpd/pwgate.h"
#include "passwd.h"
#include "totp.h"
#include "codec.h"
#include "crypto.h"
#include "keys.h"
#include "err.h"
#include "jobs/events.h"

#define KNOWN_DAYS 90           /* an (account, address) that signed in is known this long */

static const char *pair_of(request_rec *r, const char *email)
{
    return apr_pstrcat(r->pool, email, "|", lenz_rate_addr(r), NULL);
}

/* The shared store's key for "this account signed in from this address"
 * (hashed: the store need not hold addresses of accounts). */
static const char *known_key(request_rec *r, const char *email)
{
    const char *pair = pair_of(r, email);
    return apr_pstrcat(r->pool, "lenz:known:", lenz_sha256_hex(r->pool, pair, strlen(pair)), NULL);
}

static int known_pair(request_rec *r, const char *email)
{
    const lenz_kv *kv = lenz_shared_kv();
    unsigned char b[1];
    apr_size_t len = sizeof(b);
    return kv && kv->get(kv->baton, known_key(r, email), b, &len, r->pool) == APR_SUCCESS;
}

static void remember_pair(request_rec *r, const char *email)
{
    const lenz_kv *kv = lenz_shared_kv();
    unsigned char b[1] = { 1 };
    if (kv)
        kv->put(kv->baton, known_key(r, email), b, 1,
                apr_time_now() + apr_time_from_sec(KNOWN_DAYS * 86400), r->pool);
}

int lenz_acct_attempt(request_rec *r, const char *email, lenz_acct_attempt_t *at,
                      lenz_acct_result *res)
{
    int after = 1;
    at->email = email;
    at->acct = !known_pair(r, email);
    if (!lenz_rate_hit(r, "login-pair", pair_of(r, email), FAIL_PAIR, WINDOW, &after))
        goto over;
    if (at->acct && !lenz_rate_hit(r, "login-acct", email, FAIL_ACCOUNT, WINDOW, &after)) {
        lenz_rate_undo(r, "login-pair", pair_of(r, email), WINDOW);
        goto over;
    }
    if (!lenz_rate_hit(r, "login-ip", lenz_rate_addr(r), FAIL_ADDRESS, WINDOW, &after)) {
        lenz_rate_undo(r, "login-pair", pair_of(r, email), WINDOW);
        if (at->acct)
            lenz_rate_undo(r, "login-acct", email, WINDOW);
        goto over;
    }
    return 1;
over:
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LENZLOGNO(2210) "sign-in paused for %s from %s",
                  email, r->useragent_ip);
    lenz_acct_limited(res, after > 0 ? after : WINDOW);
    return 0;
}

void lenz_acct_attempt_undo(request_rec *r, const lenz_acct_attempt_t *at)
{
    lenz_rate_undo(r, "login-pair", pair_of(r, at->email), WINDOW);
    if (at->acct)
        lenz_rate_undo(r, "login-acct", at->email, WINDOW);
    lenz_rate_undo(r, "login-ip", lenz_rate_addr(r), WINDOW);
}

void lenz_acct_attempt_ok(request_rec *r, const lenz_acct_attempt_t *at)
{
    lenz_acct_attempt_undo(r, at);
    remember_pair(r, at->email);
}

int lenz_acct_totp_secret(request_rec *r, lenz_db *db, const char *user_id, const char *hex,
                          const char *kek_version, unsigned char secret[32])
{
    unsigned char kek[LENZ_KEY_LEN], blob[LENZ_WRAP_LEN];
    int ok;
    if (!hex || !kek_version || strlen(hex) != 2 * LENZ_WRAP_LEN
        || lenz_unhex(hex, strlen(hex), blob, sizeof(blob)) != APR_SUCCESS
        || lenz_kek_get(r, db, user_id, (int)apr_atoi64(kek_version), kek) != APR_SUCCESS)
        return 0;
    ok = lenz_key_unwrap(r->pool, kek, apr_pstrcat(r->pool, "lenz:totp:user=", user_id, NULL),
                         blob, sizeof(blob), secret) == APR_SUCCESS;
    lenz_wipe(kek, sizeof(kek));
    return ok;
}

const char *lenz_acct_recovery_hash(request_rec *r, lenz_db *db, const char *user_id,
                                    int kek_version, const char *code)
{
    unsigned char kek[LENZ_KEY_LEN], key[32], mac[32];
    char *c = apr_pstrdup(r->pool, code), *s, *d;
    const char *msg;
    for (s = d = c; *s; s++)
        if (*s != '-' && *s != ' ')
            *d++ = (char)apr_toupper(*s);
    *d = '\0';
    if (kek_version <= 0)                       /* stored before 008: plain SHA-256 */
        return lenz_sha256_hex(r->pool, c, strlen(c));
    /* Keyed by the member's own KEK (which only the master key unwraps)
     * and bound to the member: a dump alone tests nothing. */
    if (lenz_kek_get(r, db, user_id, kek_version, kek) != APR_SUCCESS)
        return NULL;
    lenz_hkdf_sha256(kek, sizeof(kek), "lenz-recovery-v1", 16, user_id, strlen(user_id), key, sizeof(key));
    lenz_wipe(kek, sizeof(kek));
    msg = apr_pstrcat(r->pool, user_id, "\n", c, NULL);
    lenz_hmac_sha256(key, sizeof(key), msg, strlen(msg), mac);
    lenz_wipe(key, sizeof(key));
    return lenz_hex(r->pool, mac, sizeof(mac));
}

/* A TOTP code, taken once: the step moves forward in one conditional
 * UPDATE, so two requests with the same code never both pass. */
static int totp_ok(request_rec *r, lenz_db *db, const char **row, const char *code)
{
    unsigned char secret[32];
    apr_uint64_t last = (apr_uint64_t)apr_atoi64(row[C_TOTP_STEP]);
    const char *args[3];
    apr_status_t rv;
    int n = 0;

    if (!lenz_acct_totp_secret(r, db, row[C_ID], row[C_TOTP_SECRET], row[C_TOTP_KEKV], secret))
        return 0;
    rv = lenz_totp_verify(secret, LENZ_TOTP_SECRET_LEN, code, apr_time_now(), &last);
    lenz_wipe(secret, sizeof(secret));
    if (rv != APR_SUCCESS)
        return 0;
    args[0] = apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, last);
    args[1] = row[C_ID];
    args[2] = args[0];
    return lenz_db_exec(db, "lenz_acct_totp_step", &n, 3, args) == APR_SUCCESS && n == 1;
}

static int recovery_ok(request_rec *r, lenz_db *db, const char *user_id, const char *code)
{
    lenz_rows rows;
    const char *args[3];
    int i, n = 0;

    args[0] = user_id;
    if (lenz_db_select(db, "lenz_acct_recovery_versions", &rows, 1, args) != APR_SUCCESS)
        return 0;
    for (i = 0; i < rows.nrows && n == 0; i++) {
        const char *h = lenz_acct_recovery_hash(r, db, user_id, (int)apr_atoi64(rows.rows[i][0]), code);
        if (!h)
            continue;
        args[1] = h;
        args[2] = rows.rows[i][0];
        if (lenz_db_exec(db, "lenz_acct_recovery_use", &n, 3, args) != APR_SUCCESS)
            return 0;
    }
    return n == 1;
}

int lenz_acct_second_factor_ok(request_rec *r, lenz_db *db, const char **row, const char *code)
{
    if (!code || !*code)
        return 0;
    if (strlen(code) == 6)
        return totp_ok(r, db, row, code);
    return recovery_ok(r, db, row[C_ID], code);
}

void lenz_acct_login(request_rec *r, lenz_req *lr, const char *email, const char *password,
                     const char *totp, lenz_acct_result *res)
{
    lenz_passwd_params cur;
    lenz_acct_attempt_t at;
    const char *args[2], **row;
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    lenz_passwd_params_default(&cur);
    if (!email || !*email || strlen(email) > 254 || !password || strlen(password) > LENZ_PASSWORD_MAX) {
        lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-field", "Invalid field", "email and password are required",
            !email || !*email ? "email" : "password");
        return;
    }
    email = lenz_acct_lower(r->pool, email);
    if (!lenz_acct_attempt(r, email, &at, res))
        return;
    /* A try the server could not check is not held against anyone. */
    if (!(db = lenz_db_open(r))) {
        lenz_acct_attempt_undo(r, &at);
        lenz_acct_unavailable(res);
        return;
    }
    args[0] = email;
    if (lenz_db_select(db, "lenz_acct_by_email", &rows, 1, args) != APR_SUCCESS) {
        lenz_db_close(db);
        lenz_acct_attempt_undo(r, &at);
        lenz_acct_unavailable(res);
        return;
    }
    /* No such account: the same work as a real check, so timing tells
     * nothing, and the same answer. */
    row = rows.nrows == 1 && rows.rows[0][C_HASH] ? rows.rows[0] : NULL;
    rv = row ? lenz_pw_verify(r, password, row[C_HASH]) : lenz_pw_dummy(r, password);
    if (!row || rv != APR_SUCCESS) {
        lenz_db_close(db);
        if (rv == LENZ_EUNAVAIL) {
            lenz_acct_attempt_undo(r, &at);
            lenz_acct_busy(res);
        }
        else
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
            /* The password was right: this try is not held against anyone. */
            lenz_acct_attempt_undo(r, &at);
            lenz_acct_set(res, HTTP_UNAUTHORIZED, "totp-required", "Second factor required",
                "enter the code from your authenticator app (or a recovery code)", "totp");
            res->totp_required = 1;
            return;
        }
        if (!lenz_acct_second_factor_ok(r, db, row, totp)) {
            lenz_db_close(db);
            lenz_acct_set(res, HTTP_UNAUTHORIZED, "invalid-totp", "Sign-in failed",
                "the authenticator code is wrong", "totp");
            res->totp_required = 1;
            return;
        }
    }
    lenz_acct_attempt_ok(r, &at);
    if (lenz_passwd_needs_rehash(r->pool, row[C_HASH], &cur)) {
        const char *nh;
        if (lenz_pw_hash(r, password, &cur, &nh) == APR_SUCCESS) {
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
