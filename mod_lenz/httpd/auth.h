/* auth.h - who is calling: a browser session (cookie), an API access
 * token (Authorization: Bearer, a JWT naming its token family), or a user
 * another Apache auth module authenticated (REMOTE_USER, when trusted).
 * Also sessions, CSRF tokens, and API token issue/refresh/revoke.
 */
#ifndef LENZ_AUTH_H
#define LENZ_AUTH_H

#include "lenz.h"
#include "router.h"
#include "dbd.h"
#include "json.h"

#include "roles.h"             /* LENZ_ROLE_*, lenz_roles_parse() */

/* VIA_TOKEN: a personal access token (pat.h), as Bearer or as the
 * password of Basic auth. */
typedef enum { LENZ_VIA_SESSION = 1, LENZ_VIA_BEARER, LENZ_VIA_REMOTE, LENZ_VIA_TOKEN } lenz_via;

typedef struct lenz_user {
    const char *id;
    const char *email;
    const char *name;
    unsigned roles;
    lenz_via via;
    const char *session_token;   /* VIA_SESSION: the cookie value */
    const char *family;          /* VIA_BEARER: the token family */
    const char *token_id;        /* VIA_TOKEN: the personal access token */
} lenz_user;

extern const lenz_stmt lenz_auth_stmts[];

/* The caller, or NULL for a guest.  Resolved once per request.  A bearer
 * token that is present but invalid answers 401 itself, and a personal
 * access token without the scope for the method 403: then *answered is
 * set and the route must return OK. */
lenz_user *lenz_auth_user(request_rec *r, lenz_req *lr, int *answered);

/* The e-mail address a REMOTE_USER maps to (itself when it has an @,
 * else REMOTE_USER@sso.invalid). */
const char *lenz_remote_email(request_rec *r, const char *remote_user);

/* Roles as a JSON array (parsing them: core/roles.h). */
void lenz_roles_json(lenz_json *arr, unsigned roles);

/* Security changes (password, two-factor, devices, making tokens) need
 * the member, not a personal access token they gave a script: 1 when the
 * caller came with one (then answered 403 token-not-allowed). */
int lenz_refuse_token(request_rec *r, lenz_req *lr);

/* Browser sessions. */
apr_status_t lenz_session_start(request_rec *r, lenz_req *lr, lenz_db *db, const char *user_id);
apr_status_t lenz_session_end(request_rec *r, lenz_req *lr, lenz_db *db, int all_devices);

/* CSRF token for the current session (hidden form field "csrf" or header
 * X-CSRF-Token), derived from the session secret: nothing to store. */
const char *lenz_csrf_token(request_rec *r, lenz_req *lr);
int lenz_csrf_ok(request_rec *r, lenz_req *lr, const char *supplied);

/* API tokens: a new family (family NULL) or a rotation within one.  Fills
 * out with access_token, refresh_token, token_type, expires_in. */
apr_status_t lenz_tokens_issue(request_rec *r, lenz_db *db, const lenz_user *u,
                               const char *family, lenz_json *out);
/* Checks and rotates a refresh token.  LENZ_EAUTH for unknown, expired or
 * revoked ones; reuse of a spent one revokes its whole family (LENZ_EAUTH
 * too).  On success fills out like lenz_tokens_issue. */
apr_status_t lenz_tokens_refresh(request_rec *r, lenz_db *db, const char *refresh, lenz_json *out);
apr_status_t lenz_family_revoke(request_rec *r, lenz_db *db, const char *family, const char *why);

/* Loads a user by id (active or not); NULL if absent. */
lenz_user *lenz_user_load(request_rec *r, lenz_db *db, const char *id, const char **status);

/* A safe local redirect target from a "next" parameter ("/..." only). */
const char *lenz_safe_next(request_rec *r, const char *next);

#endif
