/* users.h - what administrators do to members' accounts (users.c), behind
 * both /admin's pages and /api/v1/admin: find them (name or address, by
 * prefix or with a typo), read one, set their roles (exact names; never
 * the last active admin's, never one's own admin role), end one of their
 * devices, reset their two-factor sign-in.  Every change is an admin.*
 * event naming the administrator (the audit log). */
#ifndef LENZ_ADMIN_USERS_H
#define LENZ_ADMIN_USERS_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"
#include "json.h"

#define LENZ_ADM_PAGE 50

extern const lenz_stmt lenz_admin_users_stmts[];

/* The outcome of a change: 0 done, else an HTTP status with a problem
 * slug and detail for the answer. */
typedef struct {
    int status;
    const char *slug, *detail;
} lenz_adm_rc;

/* Members matching q (NULL: all), best match first, LENZ_ADM_PAGE + 1
 * rows from offset (one more tells there is a next page). */
apr_status_t lenz_adm_search(request_rec *r, lenz_db *db, const char *q, int offset, lenz_rows *rows);
void lenz_adm_user_json(lenz_json *o, const char **row);
/* One member (not a system account): 1 row or none. */
apr_status_t lenz_adm_user(lenz_db *db, const char *id, lenz_rows *rows);

/* roles: a comma-separated list of names from admin, lab, moderator,
 * member. */
void lenz_adm_set_roles(request_rec *r, lenz_db *db, const char *admin, const char *id, const char *roles,
                        lenz_adm_rc *rc);
void lenz_adm_end_device(request_rec *r, lenz_db *db, const char *admin, const char *id, const char *device,
                         lenz_adm_rc *rc);
/* status: active or disabled (disabling ends every session and token at
 * once); never one's own, never a pending account's. */
void lenz_adm_set_status(request_rec *r, lenz_db *db, const char *admin, const char *id, const char *status,
                         lenz_adm_rc *rc);
/* Disables the account at once and queues lenz-delete-account, which
 * deletes its files (and their S3 objects) in batches, then the account.
 * Never one's own, never an admin's (409: take the role first). */
void lenz_adm_delete(request_rec *r, lenz_db *db, const char *admin, const char *id, lenz_adm_rc *rc);
/* quota: bytes as text, or NULL for the site's LenzMemberQuota. */
void lenz_adm_set_quota(request_rec *r, lenz_db *db, const char *admin, const char *id, const char *quota,
                        lenz_adm_rc *rc);
/* A new sign-up code mailed to an account still waiting for it (409
 * not-pending otherwise). */
void lenz_adm_resend(request_rec *r, lenz_db *db, const char *admin, const char *id, lenz_adm_rc *rc);
void lenz_adm_reset_totp(request_rec *r, lenz_db *db, const char *admin, const char *id, lenz_adm_rc *rc);

#endif
