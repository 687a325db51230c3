/* h_request.c - file requests as an uploader meets them, under
 * /upload/request/{token}: a page naming the owner and the folder (never
 * what is in it), a password gate when the owner set one, and the
 * encrypted upload routes, which run uploads.c's calls as LENZ_UP_REQUEST:
 * the file is the owner's, in the request's folder, sealed under the
 * owner's key, counted against their quota and the request's limits.
 * Members create, list and close requests through /api/v1/file-requests
 * (files/h_requests.c). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "uploads.h"
#include "upload_common.h"
#include "httpd/config.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/rate.h"
#include "httpd/pwgate.h"
#include "token.h"
#include "codec.h"
#include "names.h"
#include "err.h"

#define GRANT_TTL    (24 * 3600)
#define GRANT_COOKIE "lenz_rgrant"

const lenz_stmt lenz_request_stmts[] = {
    { "lenz_fr_open",
      "SELECT r.id, r.owner_id, r.folder_id, r.title, r.message, "
      "coalesce(nullif(u.name, ''), u.email::text), d.name, "
      "to_char(r.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), r.password_hash, "
      "coalesce(r.max_bytes, 0), coalesce(r.max_files, 0), r.bytes_received, r.files_received, "
      /* open: not closed, not expired, its folder live, its owner active */
      "(r.revoked_at IS NULL AND r.expires_at > now() AND d.trashed_at IS NULL "
      "AND left(d.path, 2) <> '//' AND u.status = 'active') "
      "FROM file_requests r JOIN users u ON u.id = r.owner_id JOIN folders d ON d.id = r.folder_id "
      "WHERE r.token_hash = decode(%s, 'hex')" },
    { NULL }
};

static int is_form(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    return ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* Browsers asking for a page get one for errors too (this area answers
 * JSON otherwise). */
static int page_wanted(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    return (r->method_number == M_GET && accept && ap_strstr_c(accept, "text/html")) || is_form(r);
}

static int refuse(request_rec *r, int status, const char *tag, const char *slug, const char *title,
                  const char *detail)
{
    if (page_wanted(r)) {
        lenz_json *ctx = lenz_json_new_object(r->pool);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s%s", tag, detail);
        lenz_json_set_str(ctx, "title", title);
        lenz_json_set_int(ctx, "status", status);
        lenz_json_set_str(ctx, "detail", detail);
        return lenz_render_page(r, status, "error", ctx);
    }
    return lenz_fail(r, APLOG_INFO, tag, status, slug, title, detail);
}

/* The request behind {token} into lr->ctx; 0 after answering 404/410. */
static int open_request(request_rec *r, lenz_req *lr)
{
    const char *token = lenz_param(lr, "token"), *args[1], **row;
    unsigned char h[32];
    lenz_up_fr *fr;
    lenz_rows rows;
    lenz_db *db;

    if (!token || lenz_token_hash(token, strlen(token), h) != APR_SUCCESS)
        return refuse(r, HTTP_NOT_FOUND, LENZLOGNO(2040), "no-request", "Request not found",
                      "this upload link does not exist"), 0;
    if (!(db = lenz_up_db(r)))
        return 0;
    args[0] = lenz_hex(r->pool, h, 32);
    if (lenz_db_select(db, "lenz_fr_open", &rows, 1, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2041), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly"), 0;
    }
    lenz_db_close(db);
    if (rows.nrows != 1)
        return refuse(r, HTTP_NOT_FOUND, LENZLOGNO(2040), "no-request", "Request not found",
                      "this upload link does not exist"), 0;
    row = rows.rows[0];
    if (row[13][0] != 't')
        return refuse(r, HTTP_GONE, LENZLOGNO(2042), "request-gone", "This request is closed",
                      "this upload link was closed by its owner or has expired"), 0;
    fr = apr_pcalloc(r->pool, sizeof(*fr));
    fr->id = row[0];
    fr->owner_id = row[1];
    fr->folder_id = row[2];
    fr->title = row[3];
    fr->message = row[4];
    fr->owner_name = lenz_name_neutral(r->pool, row[5]);
    fr->folder_name = lenz_name_neutral(r->pool, row[6]);
    fr->expires_at = row[7];
    fr->password_hash = row[8];
    fr->max_bytes = apr_atoi64(row[9]);
    fr->max_files = apr_atoi64(row[10]);
    fr->bytes_received = apr_atoi64(row[11]);
    fr->files_received = apr_atoi64(row[12]);
    fr->token = token;
    lr->ctx = fr;
    return 1;
}

static const char *read_cookie(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Cookie");
    apr_size_t nl = strlen(GRANT_COOKIE);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        if (strncmp(h, GRANT_COOKIE, nl) == 0 && h[nl] == '=') {
            const char *v = h + nl + 1, *e = strchr(v, ';');
            return apr_pstrmemdup(r->pool, v, e ? (apr_size_t)(e - v) : strlen(v));
        }
        h = strchr(h, ';');
    }
    return NULL;
}

/* Has the caller passed the request's password (a grant in the cookie or
 * in Authorization: Grant)? */
static int unlocked(request_rec *r, lenz_req *lr)
{
    const lenz_up_fr *fr = lr->ctx;
    const char *authz = apr_table_get(r->headers_in, "Authorization"), *g;
    lenz_json *c;
    if (!fr->password_hash)
        return 1;
    g = authz && strncasecmp(authz, "Grant ", 6) == 0 ? authz + 6 : read_cookie(r);
    return g && lenz_token_open(r->pool, lr->srv->keyring, "request-grant", fr->id,
                                apr_time_sec(apr_time_now()), g, &c) == APR_SUCCESS;
}

static apr_int64_t left_of(apr_int64_t max, apr_int64_t used)
{
    return max <= 0 ? -1 : max > used ? max - used : 0;
}

static void describe(request_rec *r, const lenz_up_fr *fr, lenz_json *j)
{
    lenz_json_set_str(j, "title", fr->title);
    lenz_json_set_str(j, "message", fr->message);
    lenz_json_set_str(j, "owner", fr->owner_name);
    lenz_json_set_str(j, "folder", fr->folder_name);
    lenz_json_set_str(j, "expires_at", fr->expires_at);
    if (fr->max_files)
        lenz_json_set_int(j, "files_left", left_of(fr->max_files, fr->files_received));
    else
        lenz_json_set_null(j, "files_left");
    if (fr->max_bytes)
        lenz_json_set_int(j, "bytes_left", left_of(fr->max_bytes, fr->bytes_received));
    else
        lenz_json_set_null(j, "bytes_left");
    (void)r;
}

static int page(request_rec *r, lenz_req *lr, int status, const char *error)
{
    const lenz_up_fr *fr = lr->ctx;
    lenz_json *ctx = lenz_json_new_object(r->pool);
    apr_int64_t files_left = left_of(fr->max_files, fr->files_received);
    apr_int64_t bytes_left = left_of(fr->max_bytes, fr->bytes_received);

    describe(r, fr, ctx);
    lenz_json_set_str(ctx, "token", fr->token);
    lenz_json_set_bool(ctx, "need_password", !unlocked(r, lr));
    lenz_json_set_bool(ctx, "full", files_left == 0 || bytes_left == 0);
    lenz_json_set_str(ctx, "endpoint", apr_pstrcat(r->pool, lenz_cfg_base(r, lr->dir), "/request/",
                                                   fr->token, NULL));
    lenz_json_set_int(ctx, "max_files", files_left < 0 ? 0 : files_left);
    lenz_json_set_int(ctx, "max_size", bytes_left < 0 ? 0 : bytes_left);
    if (files_left > 0)
        lenz_json_set_str(ctx, "files_left_text", apr_psprintf(r->pool, "%" APR_INT64_T_FMT " file%s",
                                                               files_left, files_left == 1 ? "" : "s"));
    if (bytes_left > 0)
        lenz_json_set_str(ctx, "bytes_left_text", lenz_human_size(r->pool, bytes_left));
    if (error)
        lenz_json_set_str(ctx, "error", error);
    return lenz_render_page(r, status, "request", ctx);
}

/* GET /upload/request/{token}: the page; API clients get what the page
 * shows as JSON. */
static int request_page(request_rec *r, lenz_req *lr)
{
    lenz_json *j;
    if (!open_request(r, lr))
        return OK;
    if (page_wanted(r))
        return page(r, lr, HTTP_OK, NULL);
    j = lenz_json_new_object(r->pool);
    describe(r, lr->ctx, j);
    {
        lenz_json *req = lenz_json_obj_add_array(j, "requires");
        if (!unlocked(r, lr))
            lenz_json_arr_add_str(req, "password");
    }
    return lenz_send_json(r, HTTP_OK, j);
}

/* POST .../unlock {"password"} (or the page's form): a grant for a day. */
static int unlock(request_rec *r, lenz_req *lr)
{
    const lenz_up_fr *fr;
    const char *pw = NULL, *g, *pub = lr->srv->public_url;
    lenz_json *c;
    apr_status_t rv;

    if (!open_request(r, lr))
        return OK;
    fr = lr->ctx;
    if (is_form(r)) {
        apr_table_t *f = lenz_body_form(r, lr);
        if (!f)
            return OK;
        pw = apr_table_get(f, "password");
    }
    else {
        lenz_json *b = lenz_body_json(r, lr);
        if (!b || !lenz_field_str(r, b, "password", 1, 1024, &pw))
            return OK;
    }
    if (!pw || strlen(pw) > 1024)
        return lenz_field_bad(r, "password", "is required"), OK;
    if (!lenz_rate_check(r, "request-unlock", apr_pstrcat(r->pool, fr->id, "|", lenz_rate_addr(r), NULL),
                         10, 900))
        return OK;
    rv = fr->password_hash ? lenz_pw_verify(r, pw, fr->password_hash) : lenz_pw_dummy(r, pw);
    if (rv == LENZ_EUNAVAIL)
        return lenz_pw_busy(r);
    if (!fr->password_hash || rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LENZLOGNO(2043) "wrong password for file request %s",
                      fr->id);
        if (is_form(r))
            return page(r, lr, HTTP_FORBIDDEN, "That password is not right.");
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "wrong-password", "Wrong password",
                         "the password is not right");
    }
    c = lenz_json_new_object(r->pool);
    lenz_json_set_bool(c, "pw", 1);
    if (lenz_token_seal(r->pool, lr->srv->keyring, "request-grant", fr->id, GRANT_TTL,
                        apr_time_sec(apr_time_now()), c, &g) != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2044), HTTP_INTERNAL_SERVER_ERROR, "grant",
                         "Internal error", "the grant could not be made");
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_psprintf(r->pool, GRANT_COOKIE "=%s; Path=%s/request/%s; HttpOnly; SameSite=Lax%s; "
                                "Max-Age=%d", g, lenz_cfg_base(r, lr->dir), fr->token,
                                pub && !strncasecmp(pub, "https:", 6) ? "; Secure" : "", GRANT_TTL));
    if (is_form(r)) {
        apr_table_setn(r->err_headers_out, "Location",
                       apr_pstrcat(r->pool, pub ? pub : "", lenz_cfg_base(r, lr->dir), "/request/",
                                   fr->token, NULL));
        r->status = HTTP_SEE_OTHER;
        return OK;
    }
    c = lenz_json_new_object(r->pool);
    lenz_json_set_str(c, "grant", g);
    return lenz_send_json(r, HTTP_OK, c);
}

/* The upload calls: the request open (and, to start a file, unlocked). */
static int gated(request_rec *r, lenz_req *lr, int need_unlock)
{
    if (!open_request(r, lr))
        return 0;
    if (need_unlock && !unlocked(r, lr)) {
        lenz_json *ext = lenz_json_new_object(r->pool);
        lenz_json_arr_add_str(lenz_json_obj_add_array(ext, "requires"), "password");
        lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(2045), HTTP_UNAUTHORIZED, "gate-required",
                      "Password required", "this request needs its password first (POST .../unlock)", ext);
        return 0;
    }
    return 1;
}

static int r_init(request_rec *r, lenz_req *lr)
{
    return gated(r, lr, 1) ? lenz_up_initiate(r, lr, LENZ_UP_REQUEST, 1) : OK;
}

static int r_part(request_rec *r, lenz_req *lr)
{
    return gated(r, lr, 0) ? lenz_up_part(r, lr, LENZ_UP_REQUEST) : OK;
}

static int r_complete(request_rec *r, lenz_req *lr)
{
    return gated(r, lr, 0) ? lenz_up_complete(r, lr, LENZ_UP_REQUEST, 1) : OK;
}

static int r_parts(request_rec *r, lenz_req *lr)
{
    return gated(r, lr, 0) ? lenz_up_parts(r, lr, LENZ_UP_REQUEST) : OK;
}

static int r_abort(request_rec *r, lenz_req *lr)
{
    return gated(r, lr, 0) ? lenz_up_abort(r, lr, LENZ_UP_REQUEST) : OK;
}

const lenz_route lenz_request_routes[] = {
    { LENZ_GET, "/request/{token}", request_page, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/request/{token}/unlock", unlock, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/request/{token}/encrypted/initiate", r_init, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/request/{token}/encrypted/upload-part", r_part, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/request/{token}/encrypted/complete", r_complete, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/request/{token}/parts", r_parts, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/request/{token}/abort", r_abort, LENZ_ACCESS_PUBLIC },
    { 0 }
};
