/* settings.h - a member's own settings (settings.c): name, password,
 * devices.  Results as the other account operations' (accounts.h). */
#ifndef LENZ_ACCT_SETTINGS_H
#define LENZ_ACCT_SETTINGS_H

#include "accounts.h"
#include "httpd/dbd.h"

extern const lenz_stmt lenz_settings_stmts[];

/* 1 when name is not a display name: empty, over 100 bytes, control or
 * bidirectional characters. */
int lenz_acct_name_problem(const char *name);
/* The caller's row locked in a transaction on a new connection, and
 * password checked against it as a sign-in try (counted, 429 past the
 * limits).  APR_SUCCESS, LENZ_EAUTH (wrong) or LENZ_EUNAVAIL (hashing
 * busy), each with *db in the transaction (the caller ends and closes it)
 * and *row (lenz_acct_by_id's columns); APR_EGENERAL when it answered
 * itself: res set, no connection left open. */
apr_status_t lenz_acct_own_password(request_rec *r, lenz_req *lr, const char *password, lenz_db **db,
                                    const char ***row, lenz_acct_result *res);
void lenz_acct_set_name(request_rec *r, lenz_req *lr, const char *name, lenz_acct_result *res);
/* Checks current (a sign-in try), sets password, mails a notice; with
 * end_others, every other session and app sign-in ends. */
void lenz_acct_change_password(request_rec *r, lenz_req *lr, const char *current, const char *password,
                               int end_others, lenz_acct_result *res);

/* The caller's live sessions and app sign-ins, their own marked current:
 * rows for lenz_device_json (httpd/devices.h). */
apr_status_t lenz_acct_devices(request_rec *r, lenz_req *lr, lenz_db *db, lenz_rows *rows);
/* Ends one (404 for another member's or an unknown id), or all but the
 * caller's own. */
void lenz_acct_device_end(request_rec *r, lenz_req *lr, const char *id, lenz_acct_result *res);
void lenz_acct_devices_end_others(request_rec *r, lenz_req *lr, lenz_acct_result *res);

/* email_change.c: a code to the new address (202), then the code and the
 * address again switch the account to it (200; 400 wrong code, 410
 * expired, 409 taken); the old address is told. */
extern const lenz_stmt lenz_email_change_stmts[];
void lenz_acct_email_start(request_rec *r, lenz_req *lr, const char *email, const char *password,
                           lenz_acct_result *res);
void lenz_acct_email_confirm(request_rec *r, lenz_req *lr, const char *email, const char *code,
                             lenz_acct_result *res);

/* totp.c: ten new recovery codes (the old ones end), with the password
 * and a current code, as a sign-in try.  out gets "recovery_codes". */
void lenz_acct_recovery_regen(request_rec *r, lenz_req *lr, const char *password, const char *code,
                              lenz_json *out, lenz_acct_result *res);

/* h_prefs.c: notification preferences as JSON ({"digest","kinds"}), and
 * the settings page's form for them. */
extern const lenz_stmt lenz_prefs_stmts[];
apr_status_t lenz_prefs_json(request_rec *r, lenz_db *db, const char *user, lenz_json *out);
int lenz_prefs_form(request_rec *r, lenz_req *lr);

/* h_tokens.c: the settings page's forms for personal access tokens. */
int lenz_tokens_form_create(request_rec *r, lenz_req *lr);
int lenz_tokens_form_revoke(request_rec *r, lenz_req *lr);

#endif
