/* auth.c - identifying the caller; sessions, CSRF, API tokens. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "lenz.h"
#include "auth.h"
#include "config.h"
#include "problem.h"
#include "crypto.h"
#include "codec.h"
#include "token.h"
#include "jwt.h"
#include "keys.h"
#include "err.h"
#include "pat.h"

#define ACCESS_TTL   900                  /* 15 minutes */
#define REFRESH_TTL  (7 * 24 * 3600)      /* 7 days */
#define TOUCH_EVERY  60                   /* refresh last_seen_at at most once a minute */

const lenz_stmt lenz_auth_stmts[] = {
    { "lenz_auth_session",
      "SELECT u.id, u.email, u.name, u.roles::text, u.status, "
      "extract(epoch FROM now() - s.last_seen_at)::bigint "
      "FROM sessions s JOIN users u ON u.id = s.user_id "
      "WHERE s.id_hash = decode(%s, 'hex') AND s.expires_at > now() "
      "AND s.last_seen_at > now() - make_interval(secs => %s::int)" },
    { "lenz_auth_touch",
      "UPDATE sessions SET last_seen_at = now() WHERE id_hash = decode(%s, 'hex')" },
    { "lenz_auth_session_new",
      "INSERT INTO sessions (id_hash, user_id, expires_at, ip, user_agent) "
      "VALUES (decode(%s, 'hex'), %s::uuid, now() + make_interval(secs => %s::int), %s, %s)" },
    { "lenz_auth_session_del",
      "DELETE FROM sessions WHERE id_hash = decode(%s, 'hex')" },
    /* "Sign out on every device" ends API token families too. */
    { "lenz_auth_families_revoke",
      "UPDATE token_families SET revoked_at = now(), revoke_reason = 'signed out everywhere' "
      "WHERE user_id = %s::uuid AND revoked_at IS NULL" },
    { "lenz_auth_session_del_all",
      "DELETE FROM sessions WHERE user_id = %s::uuid" },
    { "lenz_auth_family_user",
      "SELECT u.id, u.email, u.name, u.roles::text, u.status FROM token_families f "
      "JOIN users u ON u.id = f.user_id WHERE f.id = %s::uuid AND f.revoked_at IS NULL" },
    { "lenz_auth_family_new",
      "INSERT INTO token_families (user_id, user_agent, ip) VALUES (%s::uuid, %s, %s) RETURNING id" },
    { "lenz_auth_family_revoke",
      "UPDATE token_families SET revoked_at = now(), revoke_reason = %s "
      "WHERE id = %s::uuid AND revoked_at IS NULL" },
    { "lenz_auth_refresh_new",
      "INSERT INTO refresh_tokens (hash, family_id, expires_at) "
      "VALUES (decode(%s, 'hex'), %s::uuid, now() + make_interval(secs => %s::int))" },
    { "lenz_auth_refresh_get",
      "SELECT r.family_id, (r.used_at IS NOT NULL), (r.expires_at <= now()), "
      "(f.revoked_at IS NOT NULL), f.user_id "
      "FROM refresh_tokens r JOIN token_families f ON f.id = r.family_id "
      "WHERE r.hash = decode(%s, 'hex')" },
    { "lenz_auth_refresh_use",
      "UPDATE refresh_tokens SET used_at = now() "
      "WHERE hash = decode(%s, 'hex') AND used_at IS NULL RETURNING family_id" },
    { "lenz_auth_family_touch",
      "UPDATE token_families SET last_used_at = now(), ip = %s WHERE id = %s::uuid" },
    { "lenz_auth_user_get",
      "SELECT id, email, name, roles::text, status FROM users WHERE id = %s::uuid" },
    /* By the sign-on's own id only: an e-mail address an identity
     * provider asserts links nothing by itself (lenz_remote_email). */
    { "lenz_auth_remote_get",
      "SELECT id, email, name, roles::text, status FROM users WHERE external_id = %s" },
    { "lenz_auth_remote_new",
      "INSERT INTO users (email, name, status, external_id) VALUES (%s, %s, 'active', %s) "
      "ON CONFLICT DO NOTHING" },
    { NULL }
};

void lenz_roles_json(lenz_json *arr, unsigned roles)
{
    if (roles & LENZ_ROLE_MEMBER)
        lenz_json_arr_add_str(arr, "member");
    if (roles & LENZ_ROLE_LAB)
        lenz_json_arr_add_str(arr, "lab");
    if (roles & LENZ_ROLE_ADMIN)
        lenz_json_arr_add_str(arr, "admin");
    if (roles & LENZ_ROLE_MODERATOR)
        lenz_json_arr_add_str(arr, "moderator");
}

static lenz_user *user_from_row(request_rec *r, const char **row, lenz_via via)
{
    lenz_user *u = apr_pcalloc(r->pool, sizeof(*u));
    u->id = row[0];
    u->email = row[1];
    u->name = row[2];
    u->roles = lenz_roles_parse(row[3]);
    u->via = via;
    return u;
}

lenz_user *lenz_user_load(request_rec *r, lenz_db *db, const char *id, const char **status)
{
    lenz_rows rows;
    const char *args[1] = { id };
    if (lenz_db_select(db, "lenz_auth_user_get", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1)
        return NULL;
    if (status)
        *status = rows.rows[0][4];
    return user_from_row(r, rows.rows[0], 0);
}

/* Cookies ----------------------------------------------------------------- */

static int secure_site(const request_rec *r)
{
    const char *u = lenz_srv(r->server)->public_url;
    return u && strncasecmp(u, "https:", 6) == 0;
}

/* "__Host-" binds the cookie to this exact host over HTTPS (no Domain,
 * Path=/, Secure); a plain-http dev site cannot use it. */
static const char *cookie_name(const request_rec *r)
{
    return secure_site(r) ? "__Host-lenz" : "lenz";
}

static const char *cookie_value(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Cookie"), *name = cookie_name(r);
    apr_size_t nl = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        if (strncmp(h, name, nl) == 0 && h[nl] == '=') {
            const char *v = h + nl + 1, *e = strchr(v, ';');
            return apr_pstrmemdup(r->pool, v, e ? (apr_size_t)(e - v) : strlen(v));
        }
        h = strchr(h, ';');
    }
    return NULL;
}

static void set_cookie(request_rec *r, const char *value, int max_age)
{
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_psprintf(r->pool, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s; Max-Age=%d",
                                cookie_name(r), value, secure_site(r) ? "; Secure" : "", max_age));
}

/* Resolution ---------------------------------------------------------------- */

static lenz_user *from_session(request_rec *r, lenz_req *lr, lenz_db *db)
{
    const char *tok = cookie_value(r), *args[2];
    unsigned char h[32];
    lenz_rows rows;
    lenz_user *u;

    if (!tok || lenz_token_hash(tok, strlen(tok), h) != APR_SUCCESS)
        return NULL;
    args[0] = lenz_hex(r->pool, h, sizeof(h));
    args[1] = apr_itoa(r->pool, lenz_cfg_session_idle(lr->srv));
    if (lenz_db_select(db, "lenz_auth_session", &rows, 2, args) != APR_SUCCESS || rows.nrows != 1)
        return NULL;
    if (strcmp(rows.rows[0][4], "active") != 0)
        return NULL;
    if (apr_atoi64(rows.rows[0][5]) >= TOUCH_EVERY)
        lenz_db_exec(db, "lenz_auth_touch", NULL, 1, args);
    u = user_from_row(r, rows.rows[0], LENZ_VIA_SESSION);
    u->session_token = tok;
    return u;
}

static int bearer_refused(request_rec *r, const char *why)
{
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "Bearer error=\"invalid_token\", error_description=\"%s\"", why));
    lenz_fail(r, APLOG_INFO, LENZLOGNO(2201), HTTP_UNAUTHORIZED, "invalid-token",
              "Invalid access token", why);
    return 1;
}

static lenz_user *from_bearer(request_rec *r, lenz_req *lr, lenz_db *db, const char *tok,
                              int *answered)
{
    lenz_json *claims;
    const char *fam, *typ, *args[1];
    lenz_rows rows;
    lenz_user *u;
    apr_status_t rv = lenz_jwt_verify(r->pool, lr->srv->keyring, tok, apr_time_now(),
                                      lr->srv->public_url, &claims);
    if (rv != APR_SUCCESS) {
        *answered = bearer_refused(r, rv == LENZ_EEXPIRED ? "the access token expired"
                                                          : "the access token is not valid");
        return NULL;
    }
    if (lenz_json_get_str(claims, "typ", &typ) != APR_SUCCESS || strcmp(typ, "access") != 0
        || lenz_json_get_str(claims, "fam", &fam) != APR_SUCCESS) {
        *answered = bearer_refused(r, "not an access token");
        return NULL;
    }
    args[0] = fam;
    if (lenz_db_select(db, "lenz_auth_family_user", &rows, 1, args) != APR_SUCCESS
        || rows.nrows != 1 || strcmp(rows.rows[0][4], "active") != 0) {
        *answered = bearer_refused(r, "the access token was revoked");
        return NULL;
    }
    u = user_from_row(r, rows.rows[0], LENZ_VIA_BEARER);
    u->family = fam;
    return u;
}

/* A personal access token, from "Bearer <token>" or as the password of
 * "Basic base64(<e-mail>:<token>)" (then the e-mail must be its member's).
 * Scope read: GET, HEAD, OPTIONS; write: the other methods. */
static lenz_user *from_pat(request_rec *r, lenz_db *db, const char *tok, const char *email,
                           int *answered)
{
    lenz_pat pat;
    lenz_user *u;
    int reading = r->method_number == M_GET || r->method_number == M_OPTIONS || r->header_only;
    apr_status_t rv = lenz_pat_check(r, db, tok, &pat);

    if (rv != APR_SUCCESS && rv != LENZ_EAUTH) {
        lenz_fail(r, APLOG_ERR, LENZLOGNO(2203), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                  "Service unavailable", "the database is unavailable; try again shortly");
        *answered = 1;
        return NULL;
    }
    if (rv == LENZ_EAUTH || strcmp(pat.user_row[4], "active") != 0
        || (email && strcasecmp(email, pat.user_row[1]) != 0)) {
        *answered = bearer_refused(r, "the personal access token is not valid, expired or was revoked");
        return NULL;
    }
    if (reading ? !pat.can_read : !pat.can_write) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       apr_psprintf(r->pool, "Bearer error=\"insufficient_scope\", scope=\"%s\"",
                                    reading ? "read" : "write"));
        lenz_fail(r, APLOG_INFO, LENZLOGNO(2204), HTTP_FORBIDDEN, "insufficient-scope",
                  "Insufficient scope", reading ? "this token may not read (scope read)"
                                                : "this token may not change anything (scope write)");
        *answered = 1;
        return NULL;
    }
    u = user_from_row(r, pat.user_row, LENZ_VIA_TOKEN);
    u->token_id = pat.id;
    return u;
}

/* Basic credentials whose password is a personal access token: the
 * token (and *email) or NULL.  Other Basic credentials are not ours (an
 * auth module in front may use them). */
static const char *basic_pat(request_rec *r, const char *authz, const char **email)
{
    char *dec, *colon;
    const char *b64 = authz + 6;
    while (*b64 == ' ')
        b64++;
    if (strlen(b64) > 1024)
        return NULL;
    dec = ap_pbase64decode(r->pool, b64);
    if (!dec || !(colon = strchr(dec, ':')) || !lenz_pat_is(colon + 1))
        return NULL;
    *colon = '\0';
    *email = dec;
    return colon + 1;
}

const char *lenz_remote_email(request_rec *r, const char *remote_user)
{
    return strchr(remote_user, '@') ? remote_user : apr_pstrcat(r->pool, remote_user, "@sso.invalid", NULL);
}

static lenz_user *from_remote(request_rec *r, lenz_req *lr, lenz_db *db)
{
    const char *args[3];
    lenz_rows rows;
    const char *ru = r->user;
    int attempt, n;

    if (!ru || !*ru || strlen(ru) > 254)
        return NULL;
    for (attempt = 0; attempt < 2; attempt++) {
        args[0] = ru;
        if (lenz_db_select(db, "lenz_auth_remote_get", &rows, 1, args) != APR_SUCCESS)
            return NULL;
        if (rows.nrows == 1)
            return strcmp(rows.rows[0][4], "active") == 0
                   ? user_from_row(r, rows.rows[0], LENZ_VIA_REMOTE) : NULL;
        if (attempt || lr->dir->remote_create == 0)
            return NULL;
        /* First sight: an account named after REMOTE_USER, unless one with
         * that address exists: then its owner links it with its password
         * (/account/sso/link), never this request by itself. */
        args[0] = lenz_remote_email(r, ru);
        args[1] = ru;
        args[2] = ru;
        n = 0;
        if (lenz_db_exec(db, "lenz_auth_remote_new", &n, 3, args) != APR_SUCCESS)
            return NULL;
        if (n == 0) {
            lr->remote_link = 1;
            return NULL;
        }
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      "account created for REMOTE_USER %s", ru);
    }
    return NULL;
}

lenz_user *lenz_auth_user(request_rec *r, lenz_req *lr, int *answered)
{
    const char *authz, *pat = NULL, *email = NULL;
    lenz_db *db;

    *answered = 0;
    if (lr->auth_done)
        return lr->user;
    lr->auth_done = 1;
    authz = apr_table_get(r->headers_in, "Authorization");
    if (authz && strncasecmp(authz, "Basic ", 6) == 0)
        pat = basic_pat(r, authz, &email);
    /* Nothing that could identify anyone: a guest, without asking the DB. */
    if (!(authz && strncasecmp(authz, "Bearer ", 7) == 0) && !pat && !cookie_value(r)
        && !(lr->dir->trust_remote_user == 1 && r->user))
        return NULL;
    if (!(db = lenz_db_open(r))) {
        lenz_fail(r, APLOG_ERR, LENZLOGNO(2200), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                  "Service unavailable", "the database is unavailable; try again shortly");
        *answered = 1;
        return NULL;
    }
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
        const char *t = authz + 7;
        while (*t == ' ')
            t++;
        lr->user = lenz_pat_is(t) ? from_pat(r, db, t, NULL, answered)
                                  : from_bearer(r, lr, db, t, answered);
    }
    else if (pat) {
        lr->user = from_pat(r, db, pat, email, answered);
    }
    else if (lr->dir->trust_remote_user == 1 && r->user) {
        lr->user = from_remote(r, lr, db);
    }
    else {
        lr->user = from_session(r, lr, db);
    }
    lenz_db_close(db);
    return lr->user;
}

int lenz_refuse_token(request_rec *r, lenz_req *lr)
{
    if (!lr->user || lr->user->via != LENZ_VIA_TOKEN)
        return 0;
    lenz_fail(r, APLOG_INFO, LENZLOGNO(2248), HTTP_FORBIDDEN, "token-not-allowed",
              "Not with a personal access token",
              "sign in (a session or the app's tokens) to change passwords, two-factor sign-in, "
              "devices or tokens");
    return 1;
}

/* Sessions ------------------------------------------------------------------ */

apr_status_t lenz_session_start(request_rec *r, lenz_req *lr, lenz_db *db, const char *user_id)
{
    const char *tok, *args[5];
    unsigned char h[32];
    apr_status_t rv;
    const char *old = cookie_value(r);

    /* A new id on every sign-in: a planted cookie never becomes a session. */
    if (old && lenz_token_hash(old, strlen(old), h) == APR_SUCCESS) {
        args[0] = lenz_hex(r->pool, h, 32);
        lenz_db_exec(db, "lenz_auth_session_del", NULL, 1, args);
    }
    if ((rv = lenz_token_new(r->pool, &tok, h)) != APR_SUCCESS)
        return rv;
    args[0] = lenz_hex(r->pool, h, 32);
    args[1] = user_id;
    args[2] = apr_itoa(r->pool, lenz_cfg_session_max(lr->srv));
    args[3] = r->useragent_ip;
    args[4] = apr_table_get(r->headers_in, "User-Agent");
    if (args[4] && strlen(args[4]) > 300)
        args[4] = apr_pstrmemdup(r->pool, args[4], 300);
    if ((rv = lenz_db_exec(db, "lenz_auth_session_new", NULL, 5, args)) != APR_SUCCESS)
        return rv;
    set_cookie(r, tok, lenz_cfg_session_max(lr->srv));
    lr->user = NULL;
    lr->auth_done = 0;
    return APR_SUCCESS;
}

apr_status_t lenz_session_end(request_rec *r, lenz_req *lr, lenz_db *db, int all_devices)
{
    const char *tok = cookie_value(r), *args[1];
    unsigned char h[32];
    apr_status_t rv = APR_SUCCESS;

    if (all_devices && lr->user) {
        args[0] = lr->user->id;
        lenz_db_begin(db);
        rv = lenz_db_exec(db, "lenz_auth_session_del_all", NULL, 1, args);
        if (rv == APR_SUCCESS)
            rv = lenz_db_exec(db, "lenz_auth_families_revoke", NULL, 1, args);
        lenz_db_end(db, rv != APR_SUCCESS);
    }
    else if (tok && lenz_token_hash(tok, strlen(tok), h) == APR_SUCCESS) {
        args[0] = lenz_hex(r->pool, h, 32);
        rv = lenz_db_exec(db, "lenz_auth_session_del", NULL, 1, args);
    }
    set_cookie(r, "", 0);
    return rv;
}

/* CSRF: HMAC(session token, "lenz-csrf-v1"), so it changes with the
 * session and needs no storage. */
const char *lenz_csrf_token(request_rec *r, lenz_req *lr)
{
    unsigned char mac[32];
    if (lr->user && lr->user->via == LENZ_VIA_REMOTE && r->user) {
        /* No session to bind to: HMAC of who the sign-on says and who that
         * is here, under a key derived from the master key. */
        const lenz_keyring *kr = lenz_srv(r->server)->keyring;
        unsigned char key[32];
        const char *msg = apr_pstrcat(r->pool, r->user, "\n", lr->user->id, NULL);
        if (!kr)
            return "";
        lenz_hkdf_sha256(lenz_keyring_get(kr, lenz_keyring_current_version(kr)), LENZ_KEY_LEN,
                         "lenz-csrf-remote-v1", 19, "csrf", 4, key, sizeof(key));
        lenz_hmac_sha256(key, sizeof(key), msg, strlen(msg), mac);
        lenz_wipe(key, sizeof(key));
        return lenz_b64url(r->pool, mac, sizeof(mac));
    }
    if (!lr->user || !lr->user->session_token)
        return "";
    lenz_hmac_sha256(lr->user->session_token, strlen(lr->user->session_token),
                     "lenz-csrf-v1", 12, mac);
    return lenz_b64url(r->pool, mac, sizeof(mac));
}

int lenz_csrf_ok(request_rec *r, lenz_req *lr, const char *supplied)
{
    const char *want = lenz_csrf_token(r, lr);
    apr_size_t n = strlen(want);
    return supplied && *want && strlen(supplied) == n && lenz_ct_equal(supplied, want, n);
}

/* API tokens ------------------------------------------------------------------ */

apr_status_t lenz_tokens_issue(request_rec *r, lenz_db *db, const lenz_user *u,
                               const char *family, lenz_json *out)
{
    lenz_srv_cfg *c = lenz_srv(r->server);
    lenz_json *claims = lenz_json_new_object(r->pool);
    const char *access, *refresh, *args[3];
    unsigned char h[32], jti[12];
    apr_int64_t now = apr_time_sec(apr_time_now());
    lenz_rows rows;
    apr_status_t rv;

    if (!family) {
        args[0] = u->id;
        args[1] = apr_table_get(r->headers_in, "User-Agent");
        if (args[1] && strlen(args[1]) > 300)
            args[1] = apr_pstrmemdup(r->pool, args[1], 300);
        args[2] = r->useragent_ip;
        if (lenz_db_select(db, "lenz_auth_family_new", &rows, 3, args) != APR_SUCCESS || rows.nrows != 1)
            return APR_EGENERAL;
        family = rows.rows[0][0];
    }
    if ((rv = lenz_token_new(r->pool, &refresh, h)) != APR_SUCCESS)
        return rv;
    args[0] = lenz_hex(r->pool, h, 32);
    args[1] = family;
    args[2] = apr_itoa(r->pool, REFRESH_TTL);
    if ((rv = lenz_db_exec(db, "lenz_auth_refresh_new", NULL, 3, args)) != APR_SUCCESS)
        return rv;

    lenz_random(jti, sizeof(jti));
    lenz_json_set_str(claims, "iss", c->public_url);
    lenz_json_set_str(claims, "sub", u->id);
    lenz_json_set_str(claims, "fam", family);
    lenz_json_set_str(claims, "typ", "access");
    lenz_json_set_str(claims, "jti", lenz_b64url(r->pool, jti, sizeof(jti)));
    lenz_json_set_int(claims, "iat", now);
    lenz_json_set_int(claims, "exp", now + ACCESS_TTL);
    lenz_roles_json(lenz_json_obj_add_array(claims, "roles"), u->roles);
    if ((rv = lenz_jwt_sign(r->pool, c->keyring, claims, &access)) != APR_SUCCESS)
        return rv;

    lenz_json_set_str(out, "access_token", access);
    lenz_json_set_str(out, "refresh_token", refresh);
    lenz_json_set_str(out, "token_type", "Bearer");
    lenz_json_set_int(out, "expires_in", ACCESS_TTL);
    return APR_SUCCESS;
}

apr_status_t lenz_family_revoke(request_rec *r, lenz_db *db, const char *family, const char *why)
{
    const char *args[2] = { why, family };
    return lenz_db_exec(db, "lenz_auth_family_revoke", NULL, 2, args);
}

apr_status_t lenz_tokens_refresh(request_rec *r, lenz_db *db, const char *refresh, lenz_json *out)
{
    unsigned char h[32];
    const char *args[1], *family, *status;
    lenz_rows rows;
    lenz_user *u;

    if (lenz_token_hash(refresh, strlen(refresh), h) != APR_SUCCESS)
        return LENZ_EAUTH;
    args[0] = lenz_hex(r->pool, h, 32);
    if (lenz_db_select(db, "lenz_auth_refresh_get", &rows, 1, args) != APR_SUCCESS)
        return APR_EGENERAL;
    if (rows.nrows != 1)
        return LENZ_EAUTH;
    family = rows.rows[0][0];
    if (strcmp(rows.rows[0][3], "t") == 0 || strcmp(rows.rows[0][2], "t") == 0)
        return LENZ_EAUTH;
    if (strcmp(rows.rows[0][1], "t") == 0) {
        /* A spent refresh token came back: someone holds a copy.  End the
         * whole family, the thief's and the owner's tokens alike. */
        lenz_family_revoke(r, db, family, "refresh token reuse");
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      LENZLOGNO(2202) "refresh token reuse: token family %s revoked", family);
        return LENZ_EAUTH;
    }
    /* Spend it; a concurrent spender makes this update find nothing. */
    if (lenz_db_select(db, "lenz_auth_refresh_use", &rows, 1, args) != APR_SUCCESS)
        return APR_EGENERAL;
    if (rows.nrows != 1) {
        lenz_family_revoke(r, db, family, "refresh token reuse");
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      LENZLOGNO(2202) "refresh token reuse: token family %s revoked", family);
        return LENZ_EAUTH;
    }
    args[0] = family;
    if (lenz_db_select(db, "lenz_auth_family_user", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1)
        return LENZ_EAUTH;
    status = rows.rows[0][4];
    if (strcmp(status, "active") != 0)
        return LENZ_EAUTH;
    u = user_from_row(r, rows.rows[0], LENZ_VIA_BEARER);
    {
        const char *touch[2] = { r->useragent_ip, family };
        lenz_db_exec(db, "lenz_auth_family_touch", NULL, 2, touch);
    }
    return lenz_tokens_issue(r, db, u, family, out);
}

const char *lenz_safe_next(request_rec *r, const char *next)
{
    const char *c;
    /* Only paths on this site: "/x", never "//host" or "/\host". */
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 1000)
        return NULL;
    for (c = next; *c; c++)
        if (apr_iscntrl(*c) || *c == '\\')
            return NULL;
    return next;
}
