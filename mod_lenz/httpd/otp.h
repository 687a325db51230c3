/* otp.h - one-time codes (6 digits, mailed) and single-use links (256-bit
 * tokens), stored only as keyed hashes, with expiry and a try budget. */
#ifndef LENZ_OTP_H
#define LENZ_OTP_H

#include "lenz.h"
#include "router.h"
#include "dbd.h"

extern const lenz_stmt lenz_otp_stmts[];

#define LENZ_OTP_TTL   600       /* codes: 10 minutes */
#define LENZ_OTP_TRIES 5

/* A new 6-digit code for purpose+subject (older unused ones die). */
apr_status_t lenz_otp_issue(request_rec *r, lenz_db *db, const char *purpose,
                            const char *subject, int ttl, const char **code);
/* APR_SUCCESS (code spent), LENZ_EAUTH (wrong: one try used),
 * LENZ_EEXPIRED (no live code: expired, spent or out of tries). */
apr_status_t lenz_otp_check(request_rec *r, lenz_db *db, const char *purpose,
                            const char *subject, const char *code);
/* The same with a cap across resends: each new code brings its own
 * LENZ_OTP_TRIES, so wrong codes are also counted over every code issued
 * for purpose+subject within the last window seconds.  Once cap of them
 * were wrong, a live code is not looked at (right or wrong, no try is
 * used): LENZ_ETOOBIG, *retry_after the seconds until the oldest counted
 * code leaves the window. */
apr_status_t lenz_otp_check_capped(request_rec *r, lenz_db *db, const char *purpose,
                                   const char *subject, const char *code, int cap,
                                   int window, int *retry_after);

/* Single-use link tokens (password reset): 43 base64url characters. */
apr_status_t lenz_otp_link_issue(request_rec *r, lenz_db *db, const char *purpose,
                                 const char *subject, int ttl, const char **token);
/* The subject the token was issued for, spending the token; NULL when it
 * is unknown, spent or expired.  peek: do not spend (to show a form). */
const char *lenz_otp_link_take(request_rec *r, lenz_db *db, const char *purpose,
                               const char *token, int peek);

#endif
