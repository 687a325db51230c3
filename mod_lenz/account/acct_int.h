/* acct_int.h - what the account operations (accounts.c, login.c,
 * totp.c) share.  Private to the account area. */
#ifndef LENZ_ACCT_INT_H
#define LENZ_ACCT_INT_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"
#include "accounts.h"

#define WINDOW        900        /* brute-force windows: 15 minutes */
#define FAIL_PAIR     5          /* failures per (account, address) */
#define FAIL_ACCOUNT  20         /* failures per account, all addresses */
#define FAIL_ADDRESS  50         /* failures per address, all accounts */
#define RESET_TTL     1800       /* reset links: 30 minutes */
#define RECOVERY_CODES 10

/* Columns of lenz_acct_by_email / lenz_acct_by_id. */
enum { C_ID, C_STATUS, C_HASH, C_NAME, C_ROLES, C_TOTP_ON, C_TOTP_SECRET, C_TOTP_KEKV,
       C_TOTP_STEP, C_EMAIL, C_PENDING_SECRET, C_PENDING_KEKV };

void lenz_acct_set(lenz_acct_result *res, int status, const char *slug, const char *title,
                   const char *detail, const char *field);
void lenz_acct_unavailable(lenz_acct_result *res);
void lenz_acct_limited(lenz_acct_result *res, int after);
/* Rate limit on an event; 0 (and res set) when over. */
int lenz_acct_allow(request_rec *r, lenz_acct_result *res, const char *scope, const char *who,
                    int limit, int period);
const char *lenz_acct_lower(apr_pool_t *p, const char *s);
int lenz_acct_password_ok(request_rec *r, lenz_acct_result *res, const char *pw);
/* A deliverable-looking address of at most 254 bytes; else 400 in res. */
int lenz_acct_email_ok(request_rec *r, lenz_acct_result *res, const char *email);
lenz_json *lenz_acct_mail_data(request_rec *r, const char *name);

/* 503 when the password-hash gate stayed full (httpd/pwgate.c). */
void lenz_acct_busy(lenz_acct_result *res);

/* login.c */
/* A sign-in try (or a check of the password and second factor elsewhere:
 * TOTP set-up, disabling it), counted before the password is checked:
 * 0 (res set to 429) when a limit is reached.  lenz_acct_attempt_ok()
 * takes a try that succeeded back and remembers the (account, address). */
typedef struct {
    const char *email;
    int acct;                     /* counted against the account-wide limit */
} lenz_acct_attempt_t;
int lenz_acct_attempt(request_rec *r, const char *email, lenz_acct_attempt_t *at,
                      lenz_acct_result *res);
void lenz_acct_attempt_ok(request_rec *r, const lenz_acct_attempt_t *at);
/* Takes a try back that could not be checked (the database away, the
 * password gate full). */
void lenz_acct_attempt_undo(request_rec *r, const lenz_acct_attempt_t *at);
/* Unwraps a TOTP secret (hex of the wrapped blob, and its KEK version). */
int lenz_acct_totp_secret(request_rec *r, lenz_db *db, const char *user_id, const char *hex,
                          const char *kek_version, unsigned char secret[32]);
/* A recovery code's stored hash: HMAC under a key derived from the
 * member's KEK of kek_version (0: the plain SHA-256 of codes stored before
 * migration 008).  NULL when the KEK cannot be had. */
const char *lenz_acct_recovery_hash(request_rec *r, lenz_db *db, const char *user_id,
                                    int kek_version, const char *code);
/* TOTP or a recovery code, for an account with 2FA on. */
int lenz_acct_second_factor_ok(request_rec *r, lenz_db *db, const char **row, const char *code);

#endif
