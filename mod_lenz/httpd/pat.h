/* pat.h - personal access tokens: named, scoped credentials a member
 * makes for scripts and WebDAV clients (sql/017_personal_tokens.sql,
 * docs/api.md "Personal access tokens").
 *
 *   text  = "lenz_pat_" || 43 base64url characters (32 random bytes)
 *   kept  = SHA-256 of the 43 characters (core/token.h), never the text
 *
 * A token works as "Authorization: Bearer <text>", and as the password of
 * Basic auth ("<e-mail>:<text>") where a protocol has no other way
 * (WebDAV).  Scope "read" allows GET, HEAD and OPTIONS; "write" every
 * other method.  Checked by auth.c for every request that carries one.
 */
#ifndef LENZ_PAT_H
#define LENZ_PAT_H

#include "lenz.h"
#include "dbd.h"
#include "json.h"

#define LENZ_PAT_PREFIX      "lenz_pat_"
#define LENZ_PAT_PREFIX_LEN  9
#define LENZ_PAT_MAX_LIVE    50                         /* per member */
#define LENZ_PAT_MIN_TTL     3600                       /* 1 hour */
#define LENZ_PAT_MAX_TTL     (5 * 366 * 24 * 3600)      /* 5 years */
#define LENZ_PAT_NAME_MAX    100

extern const lenz_stmt lenz_pat_stmts[];

/* A presented token that checked out: the token and its member's row
 * (id, email, name, roles, status: as lenz_auth_user's rows). */
typedef struct lenz_pat {
    const char *id;
    int can_read, can_write;
    const char **user_row;
} lenz_pat;

/* 1 when text looks like a personal access token (the prefix). */
int lenz_pat_is(const char *text);

/* Checks a presented token: APR_SUCCESS and *pat; LENZ_EAUTH for one that
 * is malformed, unknown, revoked or expired; another error when the
 * database failed.  Records the last use (at most once a minute). */
apr_status_t lenz_pat_check(request_rec *r, lenz_db *db, const char *text, lenz_pat *pat);

/* Makes a token for user: ttl 0 for none.  *row as lenz_pat_json takes it,
 * *text the token (shown once).  LENZ_ETOOBIG when the member has
 * LENZ_PAT_MAX_LIVE live tokens already. */
apr_status_t lenz_pat_create(request_rec *r, lenz_db *db, const char *user, const char *name,
                             int can_read, int can_write, apr_int64_t ttl,
                             const char ***row, const char **text);

/* The member's live and expired tokens, newest first (revoked ones are
 * gone from the list). */
apr_status_t lenz_pat_list(lenz_db *db, const char *user, lenz_rows *rows);

/* Revokes the member's token id: APR_SUCCESS, LENZ_ENOTFOUND (not theirs,
 * not there, revoked already) or a database error. */
apr_status_t lenz_pat_revoke(request_rec *r, lenz_db *db, const char *user, const char *id);

/* One token as JSON: id, name, scopes, created_at, expires_at,
 * last_used_at, last_used_ip, expired. */
void lenz_pat_json(lenz_json *o, const char **row);

#endif
