/* otp.c - one-time codes and single-use links. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "lenz.h"
#include "otp.h"
#include "config.h"
#include "crypto.h"
#include "codec.h"
#include "token.h"
#include "keys.h"
#include "err.h"

const lenz_stmt lenz_otp_stmts[] = {
    { "lenz_otp_kill",
      "UPDATE otps SET used_at = now() WHERE purpose = %s AND subject = %s AND used_at IS NULL" },
    { "lenz_otp_new",
      "INSERT INTO otps (purpose, subject, code_hash, max_tries, expires_at) "
      "VALUES (%s, %s, decode(%s, 'hex'), %s::int, now() + make_interval(secs => %s::int))" },
    { "lenz_otp_live",
      "SELECT id, encode(code_hash, 'hex') FROM otps WHERE purpose = %s AND subject = %s "
      "AND used_at IS NULL AND expires_at > now() AND tries < max_tries "
      "ORDER BY created_at DESC LIMIT 1 FOR UPDATE" },
    /* Wrong codes given for purpose+subject over every code issued within
     * the window, and when the oldest code that had one leaves it.  Rows
     * stay a day past their expiry (jobs/expire.c), longer than any window
     * used. */
    { "lenz_otp_wrong",
      "SELECT coalesce(sum(tries), 0), ceil(extract(epoch FROM min(created_at) FILTER (WHERE tries > 0) "
      "+ make_interval(secs => %s::int) - now())) FROM otps WHERE purpose = %s AND subject = %s "
      "AND created_at > now() - make_interval(secs => %s::int)" },
    { "lenz_otp_spend", "UPDATE otps SET used_at = now() WHERE id = %s::bigint" },
    { "lenz_otp_try", "UPDATE otps SET tries = tries + 1 WHERE id = %s::bigint" },
    { "lenz_otp_link",
      "SELECT id, subject FROM otps WHERE purpose = %s AND code_hash = decode(%s, 'hex') "
      "AND used_at IS NULL AND expires_at > now() FOR UPDATE" },
    { NULL }
};

/* Six digits are guessable offline from a plain hash: key the hash with
 * a key derived from the master key, and bind purpose and subject. */
static const char *code_hash(request_rec *r, const char *purpose, const char *subject,
                             const char *code)
{
    lenz_srv_cfg *c = lenz_srv(r->server);
    const lenz_keyring *kr = c->keyring;
    unsigned char key[32], mac[32];
    const char *msg = apr_pstrcat(r->pool, purpose, "\n", subject, "\n", code, NULL);
    apr_uint32_t v = lenz_keyring_current_version(kr);
    lenz_hkdf_sha256(lenz_keyring_get(kr, v), LENZ_KEY_LEN, "lenz-otp-v1", 11, "code", 4, key, 32);
    lenz_hmac_sha256(key, 32, msg, strlen(msg), mac);
    lenz_wipe(key, sizeof(key));
    return lenz_hex(r->pool, mac, 32);
}

apr_status_t lenz_otp_issue(request_rec *r, lenz_db *db, const char *purpose,
                            const char *subject, int ttl, const char **code)
{
    const char *args[5];
    apr_uint32_t v;
    unsigned char rnd[4];

    /* Uniform over 000000..999999: reject the top sliver of 2^32. */
    do {
        if (lenz_random(rnd, 4) != APR_SUCCESS)
            return APR_EGENERAL;
        v = (apr_uint32_t)rnd[0] << 24 | (apr_uint32_t)rnd[1] << 16 | (apr_uint32_t)rnd[2] << 8 | rnd[3];
    } while (v >= 4294000000u);
    *code = apr_psprintf(r->pool, "%06u", v % 1000000u);
    args[0] = purpose;
    args[1] = subject;
    if (lenz_db_exec(db, "lenz_otp_kill", NULL, 2, args) != APR_SUCCESS)
        return APR_EGENERAL;
    args[2] = code_hash(r, purpose, subject, *code);
    args[3] = apr_itoa(r->pool, LENZ_OTP_TRIES);
    args[4] = apr_itoa(r->pool, ttl);
    return lenz_db_exec(db, "lenz_otp_new", NULL, 5, args);
}

/* 1 when cap wrong codes were given within window (then *retry_after),
 * 0 when not, -1 on a database error. */
static int capped(request_rec *r, lenz_db *db, const char *purpose, const char *subject,
                  int cap, int window, int *retry_after)
{
    const char *w = apr_itoa(r->pool, window);
    const char *args[4] = { w, purpose, subject, w };
    lenz_rows rows;
    if (lenz_db_select(db, "lenz_otp_wrong", &rows, 4, args) != APR_SUCCESS || rows.nrows != 1)
        return -1;
    if (atoi(rows.rows[0][0]) < cap)
        return 0;
    *retry_after = rows.rows[0][1] ? atoi(rows.rows[0][1]) : window;
    if (*retry_after < 1)
        *retry_after = 1;
    return 1;
}

apr_status_t lenz_otp_check(request_rec *r, lenz_db *db, const char *purpose,
                            const char *subject, const char *code)
{
    int after;
    return lenz_otp_check_capped(r, db, purpose, subject, code, 0, 0, &after);
}

apr_status_t lenz_otp_check_capped(request_rec *r, lenz_db *db, const char *purpose,
                                   const char *subject, const char *code, int cap,
                                   int window, int *retry_after)
{
    const char *args[2] = { purpose, subject }, *want, *got;
    lenz_rows rows;
    apr_status_t rv;
    int i, over;

    for (i = 0; code && code[i]; i++)
        if (!apr_isdigit(code[i]))
            break;
    if (lenz_db_begin(db) != APR_SUCCESS)
        return APR_EGENERAL;
    if (lenz_db_select(db, "lenz_otp_live", &rows, 2, args) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return APR_EGENERAL;
    }
    if (rows.nrows != 1) {
        lenz_db_end(db, 1);
        return LENZ_EEXPIRED;
    }
    /* Counted with the live code locked (FOR UPDATE above): every try on
     * purpose+subject goes through that row, so two requests at once
     * cannot both pass the cap. */
    if (cap > 0 && (over = capped(r, db, purpose, subject, cap, window, retry_after)) != 0) {
        lenz_db_end(db, 1);
        return over < 0 ? APR_EGENERAL : LENZ_ETOOBIG;
    }
    args[0] = rows.rows[0][0];
    want = rows.rows[0][1];
    got = code_hash(r, purpose, subject, code && i == 6 && !code[i] ? code : "-");
    if (strlen(want) == strlen(got) && lenz_ct_equal(want, got, strlen(got))) {
        rv = lenz_db_exec(db, "lenz_otp_spend", NULL, 1, args) == APR_SUCCESS ? APR_SUCCESS : APR_EGENERAL;
    }
    else {
        rv = lenz_db_exec(db, "lenz_otp_try", NULL, 1, args) == APR_SUCCESS ? LENZ_EAUTH : APR_EGENERAL;
    }
    lenz_db_end(db, rv == APR_EGENERAL);
    return rv;
}

apr_status_t lenz_otp_link_issue(request_rec *r, lenz_db *db, const char *purpose,
                                 const char *subject, int ttl, const char **token)
{
    const char *args[5];
    unsigned char h[32];
    apr_status_t rv = lenz_token_new(r->pool, token, h);
    if (rv != APR_SUCCESS)
        return rv;
    args[0] = purpose;
    args[1] = subject;
    if (lenz_db_exec(db, "lenz_otp_kill", NULL, 2, args) != APR_SUCCESS)
        return APR_EGENERAL;
    args[2] = lenz_hex(r->pool, h, 32);
    args[3] = "1";
    args[4] = apr_itoa(r->pool, ttl);
    return lenz_db_exec(db, "lenz_otp_new", NULL, 5, args);
}

const char *lenz_otp_link_take(request_rec *r, lenz_db *db, const char *purpose,
                               const char *token, int peek)
{
    unsigned char h[32];
    const char *args[2], *subject = NULL;
    lenz_rows rows;

    if (!token || lenz_token_hash(token, strlen(token), h) != APR_SUCCESS)
        return NULL;
    args[0] = purpose;
    args[1] = lenz_hex(r->pool, h, 32);
    if (lenz_db_begin(db) != APR_SUCCESS)
        return NULL;
    if (lenz_db_select(db, "lenz_otp_link", &rows, 2, args) == APR_SUCCESS && rows.nrows == 1) {
        subject = rows.rows[0][1];
        args[0] = rows.rows[0][0];
        if (!peek && lenz_db_exec(db, "lenz_otp_spend", NULL, 1, args) != APR_SUCCESS)
            subject = NULL;
    }
    lenz_db_end(db, subject == NULL);
    return subject;
}
