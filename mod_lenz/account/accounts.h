/* accounts.h - the account operations behind both the pages (/account)
 * and the REST API (/api/v1/auth): registration with a mailed code,
 * sign-in with brute-force limits, password reset, TOTP.
 *
 * Each operation returns a lenz_acct_result; the callers turn it into a
 * problem document or a page.  No answer ever tells whether an e-mail
 * address has an account.
 */
#ifndef LENZ_ACCOUNTS_H
#define LENZ_ACCOUNTS_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "httpd/auth.h"
#include "json.h"

typedef struct lenz_acct_result {
    int status;                   /* HTTP status for the outcome */
    const char *slug;             /* problem type when status >= 400 */
    const char *title;
    const char *detail;
    const char *field;            /* the input at fault, if one is */
    int retry_after;              /* seconds, for 429 */
    int totp_required;
    lenz_user *user;              /* signed-in user on success */
} lenz_acct_result;

extern const lenz_stmt lenz_accounts_stmts[];

#define LENZ_PASSWORD_MIN 10
#define LENZ_PASSWORD_MAX 1024

void lenz_acct_register(request_rec *r, lenz_req *lr, const char *email, const char *password,
                        const char *name, lenz_acct_result *res);
void lenz_acct_resend(request_rec *r, lenz_req *lr, const char *email, lenz_acct_result *res);
void lenz_acct_verify(request_rec *r, lenz_req *lr, const char *email, const char *code,
                      lenz_acct_result *res);
/* Checks the password (and TOTP or a recovery code when 2FA is on). */
void lenz_acct_login(request_rec *r, lenz_req *lr, const char *email, const char *password,
                     const char *totp, lenz_acct_result *res);
void lenz_acct_reset_request(request_rec *r, lenz_req *lr, const char *email, lenz_acct_result *res);
/* Sets a new password with a reset token; ends every session and token. */
void lenz_acct_reset(request_rec *r, lenz_req *lr, const char *token, const char *password,
                     lenz_acct_result *res);
/* TOTP: a new secret, pending until enabled with a code from it (which
 * returns ten recovery codes once); while two-factor is on, starting a
 * set-up needs the password and a current code (or a recovery code), as
 * disabling does.  Both count as sign-in tries. */
void lenz_acct_totp_setup(request_rec *r, lenz_req *lr, const char *password, const char *code,
                          lenz_json *out, lenz_acct_result *res);
void lenz_acct_totp_enable(request_rec *r, lenz_req *lr, const char *code, lenz_json *out,
                           lenz_acct_result *res);
void lenz_acct_totp_disable(request_rec *r, lenz_req *lr, const char *password, const char *code,
                            lenz_acct_result *res);

/* Answers res as problem+json (API) or lets the caller render a page. */
int lenz_acct_fail(request_rec *r, const lenz_acct_result *res);

#endif
