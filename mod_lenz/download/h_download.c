/* h_download.c - lenz-download, mounted at /download: GET /download/{token}
 * (the seed's route) serves the file or the transfer behind a share link
 * once its gates are passed; a browser that has not passed them gets a
 * page asking for what is missing, an API client a 401 problem naming it.
 * The gates: POST .../unlock (password), .../otp and .../verify (an
 * e-mailed code for a listed recipient).  Answers never tell whether an
 * address is on the list. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "area.h"
#include "download.h"
#include "serve.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/rate.h"
#include "httpd/pwgate.h"
#include "httpd/otp.h"
#include "jobs/mailjob.h"
#include "passwd.h"
#include "mail.h"
#include "names.h"
#include "err.h"

/* POST .../verify: at most VERIFY_PER_IP a client address per
 * VERIFY_PERIOD seconds, and WRONG_CODES_CAP wrong codes per (link,
 * address) per WRONG_CODES_WINDOW seconds however many codes were sent. */
#define VERIFY_PER_IP       30
#define VERIFY_PERIOD       600
#define WRONG_CODES_CAP     10
#define WRONG_CODES_WINDOW  (24 * 3600)

static int is_form(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    return ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

static void describe(request_rec *r, const lenz_link *l, lenz_json *j)
{
    lenz_json *files = lenz_json_obj_add_array(j, "files");
    int i;
    for (i = 0; i < l->files->nelts; i++) {
        lenz_dfile *f = &APR_ARRAY_IDX(l->files, i, lenz_dfile);
        lenz_json *o = lenz_json_arr_add_object(files);
        lenz_json_set_str(o, "id", f->id);
        /* Shown to whoever holds the link: no bidi control may make
         * "photo<U+202E>gpj.exe" read "photoexe.jpg" (names.h). */
        lenz_json_set_str(o, "name", lenz_name_neutral(r->pool, f->name));
        lenz_json_set_int(o, "size", f->size);
        lenz_json_set_str(o, "content_type", f->content_type);
        if (l->folder_id)       /* a folder link's: where in the folder ("" at its top) */
            lenz_json_set_str(o, "path", f->dir ? lenz_name_neutral(r->pool, f->dir) : "");
    }
    if (l->folder_id)
        lenz_json_set_str(j, "folder", lenz_name_neutral(r->pool, l->folder_name));
    lenz_json_set_int(j, "size", l->total_size);
    lenz_json_set_str(j, "expires_at", l->expires_at);
    if (l->max_downloads) {
        apr_int64_t dl, bytes;
        lenz_link_left(l, &dl, &bytes);
        lenz_json_set_int(j, "downloads_left", dl);
        lenz_json_set_int(j, "bytes_left", bytes);
    }
    else {
        lenz_json_set_null(j, "downloads_left");
        lenz_json_set_null(j, "bytes_left");
    }
}

static void requires(const lenz_link *l, lenz_json *j)
{
    lenz_json *req = lenz_json_obj_add_array(j, "requires");
    if (l->password_hash && !l->pw_ok)
        lenz_json_arr_add_str(req, "password");
    if (l->has_recipients && !l->otp_ok)
        lenz_json_arr_add_str(req, "email_otp");
}

/* The gate page (browsers) or a 401 problem (API clients). */
static int gate(request_rec *r, lenz_req *lr, lenz_link *l, int status, const char *error,
                const char *email, int code_sent)
{
    lenz_json *ctx = lenz_json_new_object(r->pool);
    describe(r, l, ctx);
    requires(l, ctx);
    if (lenz_wants_json(r) && !is_form(r)) {
        return lenz_fail_ext(r, APLOG_DEBUG, NULL, status, "gate-required", "Access requires more",
                             error ? error : "this link needs a password or an e-mail code first", ctx);
    }
    lenz_json_set_str(ctx, "title", "Download");
    lenz_json_set_str(ctx, "token", l->token);
    lenz_json_set_bool(ctx, "need_password", l->password_hash && !l->pw_ok);
    lenz_json_set_bool(ctx, "need_email", l->has_recipients && !l->otp_ok);
    lenz_json_set_bool(ctx, "code_sent", code_sent);
    lenz_json_set_str(ctx, "email", email);
    if (error)
        lenz_json_set_str(ctx, "error", error);
    return lenz_render_page(r, status, "download/gate", ctx);
}

static int with_link(request_rec *r, lenz_req *lr, lenz_db **db, lenz_link **l)
{
    if (!(*db = lenz_db_open(r))) {
        lenz_fail(r, APLOG_ERR, LENZLOGNO(2130), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                  "Service unavailable", "try again shortly");
        return 0;
    }
    *l = lenz_link_open(r, lr, *db, lenz_param(lr, "token"));
    if (!*l) {
        lenz_db_close(*db);
        return 0;
    }
    lenz_grant_read(r, lr, *l);
    return 1;
}

/* A folder's or a set's link opened in a browser: what it holds, each
 * file with its own download, and the whole as one ZIP. */
static int listing(request_rec *r, lenz_req *lr, lenz_link *l)
{
    lenz_json *ctx = lenz_json_new_object(r->pool), *rows;
    const char *last = NULL;
    int i;
    describe(r, l, ctx);
    lenz_json_set_str(ctx, "title", l->folder_id ? lenz_name_neutral(r->pool, l->folder_name) : "Shared files");
    lenz_json_set_str(ctx, "token", l->token);
    lenz_json_set_str(ctx, "total_text", lenz_human_size(r->pool, l->total_size));
    lenz_json_set_str(ctx, "count_text", apr_psprintf(r->pool, "%d file%s", l->files->nelts,
                                                      l->files->nelts == 1 ? "" : "s"));
    lenz_json_set_bool(ctx, "empty", l->files->nelts == 0);
    rows = lenz_json_obj_add_array(ctx, "rows");
    for (i = 0; i < l->files->nelts; i++) {
        lenz_dfile *f = &APR_ARRAY_IDX(l->files, i, lenz_dfile);
        lenz_json *o = lenz_json_arr_add_object(rows);
        const char *dir = f->dir ? f->dir : "";
        /* A heading row where the folder changes (rows come by folder). */
        if (!last || strcmp(last, dir) != 0) {
            if (*dir)
                lenz_json_set_str(o, "heading", lenz_name_neutral(r->pool, dir));
            last = dir;
        }
        lenz_json_set_str(o, "id", f->id);
        lenz_json_set_str(o, "name", lenz_name_neutral(r->pool, f->name));
        lenz_json_set_str(o, "size_text", lenz_human_size(r->pool, f->size));
    }
    return lenz_render_page(r, HTTP_OK, "download/listing", ctx);
}

static int wants_page(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    return accept && ap_strstr_c(accept, "text/html") != NULL;
}

static int download(request_rec *r, lenz_req *lr)
{
    const char *want = lenz_param(lr, "file");
    int zip = !strcmp(lr->route->pattern, "/{token}/zip");
    lenz_link *l;
    lenz_db *db;
    int i;

    if (!with_link(r, lr, &db, &l))
        return OK;
    if (!lenz_link_open_to_caller(l)) {
        lenz_db_close(db);
        return gate(r, lr, l, HTTP_UNAUTHORIZED, NULL, NULL, 0);
    }
    if (!want && !zip && (l->folder_id || l->file_set) && wants_page(r)) {
        lenz_db_close(db);
        return listing(r, lr, l);
    }
    if (!want && (zip || l->folder_id || l->file_set || l->files->nelts > 1))
        return lenz_serve_zip(r, lr, l, db);
    for (i = 0; i < l->files->nelts; i++) {
        lenz_dfile *f = &APR_ARRAY_IDX(l->files, i, lenz_dfile);
        if (!want || strcmp(f->id, want) == 0)
            return lenz_serve_file(r, lr, l, f, db);
    }
    lenz_db_close(db);
    return lenz_fail(r, APLOG_INFO, LENZLOGNO(2131), HTTP_NOT_FOUND, "no-file", "File not found",
                     "this link has no such file");
}

static int info(request_rec *r, lenz_req *lr)
{
    lenz_link *l;
    lenz_db *db;
    lenz_json *j;
    if (!with_link(r, lr, &db, &l))
        return OK;
    lenz_db_close(db);
    j = lenz_json_new_object(r->pool);
    describe(r, l, j);
    requires(l, j);
    return lenz_send_json(r, HTTP_OK, j);
}

/* Reads one field from a JSON or a form body; NULL after answering. */
static const char *field(request_rec *r, lenz_req *lr, const char *name, apr_size_t max,
                         const char **second, const char *second_name)
{
    const char *v = NULL;
    if (is_form(r)) {
        apr_table_t *f = lenz_body_form(r, lr);
        if (!f)
            return NULL;
        v = apr_table_get(f, name);
        if (second)
            *second = apr_table_get(f, second_name);
        if (!v || strlen(v) > max) {
            lenz_field_bad(r, name, "is required");
            return NULL;
        }
        return v;
    }
    else {
        lenz_json *b = lenz_body_json(r, lr);
        if (!b || !lenz_field_str(r, b, name, 1, max, &v))
            return NULL;
        if (second && !lenz_field_str(r, b, second_name, 1, 32, second))
            return NULL;
        return v;
    }
}

static int granted(request_rec *r, lenz_req *lr, lenz_link *l, const char *grant)
{
    lenz_json *j;
    if (!grant)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2132), HTTP_INTERNAL_SERVER_ERROR, "grant",
                         "Internal error", "the grant could not be made");
    if (is_form(r)) {
        apr_table_setn(r->err_headers_out, "Location",
                       apr_pstrcat(r->pool, lr->srv->public_url, "/download/", l->token, NULL));
        r->status = HTTP_SEE_OTHER;
        return OK;
    }
    j = lenz_json_new_object(r->pool);
    lenz_json_set_str(j, "grant", grant);
    requires(l, j);
    return lenz_send_json(r, HTTP_OK, j);
}

static int unlock(request_rec *r, lenz_req *lr)
{
    apr_status_t rv;
    lenz_link *l;
    lenz_db *db;
    const char *pw;
    if (!with_link(r, lr, &db, &l))
        return OK;
    lenz_db_close(db);
    if (!(pw = field(r, lr, "password", 1024, NULL, NULL)))
        return OK;
    if (!lenz_rate_check(r, "unlock", apr_pstrcat(r->pool, l->id, "|", lenz_rate_addr(r), NULL), 10, 900))
        return OK;
    rv = l->password_hash ? lenz_pw_verify(r, pw, l->password_hash) : lenz_pw_dummy(r, pw);
    if (rv == LENZ_EUNAVAIL)
        return lenz_pw_busy(r);
    if (!l->password_hash || rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LENZLOGNO(2133) "wrong password for link %s", l->id);
        return is_form(r) ? gate(r, lr, l, HTTP_FORBIDDEN, "That password is not right.", NULL, 0)
                          : lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "wrong-password",
                                      "Wrong password", "the password is not right");
    }
    return granted(r, lr, l, lenz_grant_issue(r, lr, l, 1, 0, NULL));
}

static const char *lower(apr_pool_t *p, const char *s)
{
    char *d = apr_pstrdup(p, s), *c;
    for (c = d; *c; c++)
        *c = (char)apr_tolower(*c);
    return d;
}

static int otp(request_rec *r, lenz_req *lr)
{
    lenz_link *l;
    lenz_db *db;
    const char *email, *args[2], *code;
    lenz_rows rows;
    if (!with_link(r, lr, &db, &l))
        return OK;
    if (!(email = field(r, lr, "email", 254, NULL, NULL))) {
        lenz_db_close(db);
        return OK;
    }
    email = lower(r->pool, email);
    if (!lenz_rate_check(r, "link-otp", apr_pstrcat(r->pool, l->id, "|", lenz_rate_addr(r), NULL), 10, 600)
        || !lenz_rate_check(r, "link-otp-mail", apr_pstrcat(r->pool, l->id, "|", email, NULL), 3, 600)) {
        lenz_db_close(db);
        return OK;
    }
    args[0] = l->id;
    args[1] = email;
    if (lenz_mail_addr_ok(email) && lenz_db_select(db, "lenz_dl_recipient", &rows, 2, args) == APR_SUCCESS
        && rows.nrows == 1) {
        lenz_db_begin(db);
        if (lenz_otp_issue(r, db, apr_pstrcat(r->pool, "link:", l->id, NULL), email, LENZ_OTP_TTL, &code)
            == APR_SUCCESS) {
            lenz_json *d = lenz_json_new_object(r->pool), *secret = lenz_json_new_object(r->pool);
            lenz_json_set_str(secret, "code", code);    /* sealed in the queue (mailjob.h) */
            lenz_json_set_int(d, "minutes", LENZ_OTP_TTL / 60);
            lenz_json_set_str(d, "site_url", lr->srv->public_url);
            if (lenz_mail_enqueue_sealed(db, "link_code", email, "Your code to download the shared files",
                                         d, secret, NULL) == APR_SUCCESS)
                lenz_db_end(db, 0);
            else
                lenz_db_end(db, 1);
        }
        else {
            lenz_db_end(db, 1);
        }
    }
    lenz_db_close(db);
    /* The same answer whether or not the address may have a code. */
    if (is_form(r))
        return gate(r, lr, l, HTTP_OK, NULL, email, 1);
    {
        lenz_json *j = lenz_json_new_object(r->pool);
        lenz_json_set_str(j, "status", "code_sent_if_allowed");
        return lenz_send_json(r, HTTP_ACCEPTED, j);
    }
}

static int verify(request_rec *r, lenz_req *lr)
{
    lenz_link *l;
    lenz_db *db;
    const char *email, *code = NULL;
    apr_status_t rv;
    int after = 1;
    /* Per client address, whatever the link and the address typed: one
     * host cannot spread guesses over many links or recipients. */
    if (!lenz_rate_check(r, "link-verify-ip", lenz_rate_addr(r), VERIFY_PER_IP, VERIFY_PERIOD))
        return OK;
    if (!with_link(r, lr, &db, &l))
        return OK;
    if (!(email = field(r, lr, "email", 254, &code, "code"))) {
        lenz_db_close(db);
        return OK;
    }
    email = lower(r->pool, email);
    /* Every resend brings a code with LENZ_OTP_TRIES of its own: wrong
     * codes are also capped per (link, address) across resends. */
    rv = lenz_otp_check_capped(r, db, apr_pstrcat(r->pool, "link:", l->id, NULL), email,
                               code ? code : "", WRONG_CODES_CAP, WRONG_CODES_WINDOW, &after);
    lenz_db_close(db);
    if (rv == LENZ_ETOOBIG) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LENZLOGNO(2135) "link %s: %d wrong codes "
                      "for one address within %d h; verify paused for %d s", l->id,
                      WRONG_CODES_CAP, WRONG_CODES_WINDOW / 3600, after);
        apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, after));
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_TOO_MANY_REQUESTS, "rate-limited",
                         "Too many requests", apr_psprintf(r->pool, "%d wrong codes for this "
                         "address within %d hours, whatever the number of codes sent; try "
                         "again in %d s", WRONG_CODES_CAP, WRONG_CODES_WINDOW / 3600, after));
    }
    if (rv != APR_SUCCESS) {
        const char *why = rv == LENZ_EEXPIRED ? "That code is no longer valid; ask for a new one."
                                              : "That code is not right.";
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LENZLOGNO(2134) "wrong or expired code for link %s", l->id);
        if (is_form(r))
            return gate(r, lr, l, HTTP_FORBIDDEN, why, email, 1);
        return lenz_fail(r, APLOG_DEBUG, NULL, rv == LENZ_EEXPIRED ? HTTP_GONE : HTTP_FORBIDDEN,
                         rv == LENZ_EEXPIRED ? "code-expired" : "invalid-code",
                         rv == LENZ_EEXPIRED ? "Code no longer valid" : "Invalid code", why);
    }
    return granted(r, lr, l, lenz_grant_issue(r, lr, l, 0, 1, email));
}

static const lenz_route routes[] = {
    { LENZ_GET, "/{token}", download, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/{token}/files/{file}", download, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/{token}/zip", download, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/{token}/info", info, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/{token}/unlock", unlock, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/{token}/otp", otp, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/{token}/verify", verify, LENZ_ACCESS_PUBLIC },
    { 0 }
};

static const lenz_route *const tables[] = { routes, NULL };

const lenz_area lenz_area_download = { "lenz-download", "download", tables, NULL, 0 };
