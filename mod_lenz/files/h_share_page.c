/* h_share_page.c - sharing from the file manager, as pages under /files:
 * the link dialog (a page: what is shared, expiry, a download limit, a
 * password, recipients for the e-mail code) for one file, one folder or
 * the files picked in a folder; the Shared page (every link and transfer
 * of the member's with its downloads, each revocable; their file
 * requests, each closable); asking for files into a folder (a file
 * request); the picked items' bulk actions (share, move, delete); and the
 * member's default for where uploads go.  Forms without scripts, as the
 * rest of the manager (h_files_page.c). */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "area.h"
#include "store.h"
#include "requests.h"
#include "httpd/config.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/dbd.h"
#include "httpd/auth.h"
#include "httpd/links.h"
#include "httpd/pwgate.h"
#include "mail.h"
#include "names.h"
#include "codec.h"
#include "err.h"

#define MAX_PICKED     1000
#define MAX_RECIPIENTS 20

const lenz_stmt lenz_share_page_stmts[] = {
    { "lenz_sp_requests",
      "SELECT r.id, d.name, r.title, "
      "to_char(r.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "(SELECT count(*) FROM files f JOIN transfers t ON t.id = f.transfer_id "
      " WHERE t.request_id = r.id AND f.state = 'ready'), coalesce(r.max_files, 0), "
      "(r.revoked_at IS NULL AND r.expires_at > now()) "
      "FROM file_requests r JOIN folders d ON d.id = r.folder_id WHERE r.owner_id = %s::uuid "
      "ORDER BY r.created_at DESC LIMIT 200" },
    { NULL }
};

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2570), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

static int redirect(request_rec *r, lenz_req *lr, const char *to)
{
    apr_table_setn(r->err_headers_out, "Location", apr_pstrcat(r->pool, lr->srv->public_url, to, NULL));
    r->status = HTTP_SEE_OTHER;
    return OK;
}

/* A page saying what was wrong with a form (status: the API's for it). */
static int form_problem(request_rec *r, int status, const char *title, const char *detail)
{
    lenz_json *ctx = lenz_json_new_object(r->pool);
    lenz_json_set_str(ctx, "title", title);
    lenz_json_set_int(ctx, "status", status);
    lenz_json_set_str(ctx, "detail", detail);
    return lenz_render_page(r, status, "error", ctx);
}

typedef struct {
    apr_array_header_t *files;      /* of const char * ids */
    const char *folder;             /* or one folder */
} picked;

typedef struct { apr_array_header_t *vals; const char *key; } collect_ctx;

static int collect(void *baton, const char *key, const char *val)
{
    collect_ctx *c = baton;
    if (!strcmp(key, c->key) && c->vals->nelts <= MAX_PICKED)
        APR_ARRAY_PUSH(c->vals, const char *) = val;
    return 1;
}

/* Every value of a repeated form field. */
static apr_array_header_t *all_of(apr_pool_t *p, apr_table_t *t, const char *key)
{
    collect_ctx c = { apr_array_make(p, 8, sizeof(const char *)), key };
    apr_table_do(collect, &c, t, key, NULL);
    return c.vals;
}

/* "file:<id>" / "folder:<id>" items: files only, or one folder.  NULL
 * with *why set when the choice cannot be shared as one link. */
static picked *pick(apr_pool_t *p, apr_array_header_t *items, const char **why)
{
    picked *pk = apr_pcalloc(p, sizeof(*pk));
    int i, folders = 0;
    pk->files = apr_array_make(p, items->nelts + 1, sizeof(const char *));
    *why = NULL;
    if (items->nelts > MAX_PICKED) {
        *why = "Pick at most 1000 files for one link.";
        return NULL;
    }
    for (i = 0; i < items->nelts; i++) {
        const char *v = APR_ARRAY_IDX(items, i, const char *);
        if (!strncmp(v, "file:", 5) && lenz_uuid_ok(v + 5))
            APR_ARRAY_PUSH(pk->files, const char *) = v + 5;
        else if (!strncmp(v, "folder:", 7) && lenz_uuid_ok(v + 7)) {
            pk->folder = v + 7;
            folders++;
        }
        else {
            *why = "That is not an item of yours.";
            return NULL;
        }
    }
    if (!folders && !pk->files->nelts)
        *why = "Pick the files or the folder to share first.";
    else if (folders > 1 || (folders && pk->files->nelts))
        *why = "A link holds one folder, or files: share folders one at a time.";
    return *why ? NULL : pk;
}

/* Names what is shared, checking each item is the member's and live. */
static lenz_fs_rc describe(request_rec *r, lenz_db *db, const char *owner, const picked *pk, lenz_json *ctx)
{
    lenz_json *names = lenz_json_obj_add_array(ctx, "names"), *hidden = lenz_json_obj_add_array(ctx, "items");
    lenz_fs_item it;
    lenz_fs_rc rc;
    int i;
    if (pk->folder) {
        /* Links are the owner's to make (a folder shared with the
         * member is as unknown here as one that is not). */
        if ((rc = lenz_fs_folder(db, owner, pk->folder, &it)) != LENZ_FS_OK)
            return rc;
        if (it.rank != LENZ_RANK_OWNER)
            return LENZ_FS_NOT_FOUND;
        if (!it.parent_id)
            return LENZ_FS_ROOT;
        lenz_json_arr_add_str(names, apr_pstrcat(r->pool, it.name, "/ (the folder and all in it, as it is when the link is used)", NULL));
        lenz_json_arr_add_str(hidden, apr_pstrcat(r->pool, "folder:", pk->folder, NULL));
        return LENZ_FS_OK;
    }
    for (i = 0; i < pk->files->nelts; i++) {
        const char *id = APR_ARRAY_IDX(pk->files, i, const char *);
        if ((rc = lenz_fs_file(db, owner, id, &it)) != LENZ_FS_OK)
            return rc;
        if (it.rank != LENZ_RANK_OWNER)
            return LENZ_FS_NOT_FOUND;
        lenz_json_arr_add_str(names, it.name);
        lenz_json_arr_add_str(hidden, apr_pstrcat(r->pool, "file:", id, NULL));
    }
    return LENZ_FS_OK;
}

static int dialog(request_rec *r, lenz_req *lr, const picked *pk, const char *error)
{
    lenz_json *ctx = lenz_json_new_object(r->pool), *opts;
    int max_days = lenz_cfg_link_expiry_max(lr->srv) / 86400, def_days = lenz_cfg_link_expiry(lr->srv) / 86400;
    static const int choices[] = { 1, 3, 7, 14, 30, 90, 365 };
    lenz_fs_rc rc;
    lenz_db *db;
    apr_size_t i;

    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = describe(r, db, lr->user->id, pk, ctx);
    lenz_db_close(db);
    if (rc == LENZ_FS_DB)
        return unavailable(r);
    if (rc == LENZ_FS_ROOT)
        return form_problem(r, HTTP_CONFLICT, "Your top folder", "Share the folders and files in it, not the top folder itself.");
    if (rc != LENZ_FS_OK)
        return form_problem(r, HTTP_NOT_FOUND, "Not found", "That item is not in your files (any more).");
    lenz_json_set_str(ctx, "title", "Share");
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    if (error)
        lenz_json_set_str(ctx, "error", error);
    opts = lenz_json_obj_add_array(ctx, "days");
    for (i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
        lenz_json *o;
        if (choices[i] > (max_days > 0 ? max_days : 1))
            break;
        o = lenz_json_arr_add_object(opts);
        lenz_json_set_int(o, "n", choices[i]);
        lenz_json_set_str(o, "label", choices[i] == 1 ? "1 day" : apr_psprintf(r->pool, "%d days", choices[i]));
        lenz_json_set_bool(o, "selected", choices[i] == (def_days > 0 ? def_days : 1));
    }
    return lenz_render_page(r, error ? HTTP_BAD_REQUEST : HTTP_OK, "files/share", ctx);
}

/* GET /files/share?item=file:<id> (or folder:<id>): the dialog for one. */
static int share_one(request_rec *r, lenz_req *lr)
{
    const char *item = lenz_query(r, "item"), *why;
    apr_array_header_t *items = apr_array_make(r->pool, 1, sizeof(const char *));
    picked *pk;
    APR_ARRAY_PUSH(items, const char *) = item ? item : "";
    if (!(pk = pick(r->pool, items, &why)))
        return form_problem(r, HTTP_NOT_FOUND, "Not found", why);
    return dialog(r, lr, pk, NULL);
}

/* POST /files/share: the link, shown once. */
static int share_make(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *why, *v, *token, *link_id, *expires, *phc = NULL;
    lenz_json *ctx;
    lenz_link_spec spec;
    picked *pk;
    lenz_db *db;
    apr_status_t rv;
    apr_int64_t days;

    if (!f)
        return OK;
    if (!(pk = pick(r->pool, all_of(r->pool, f, "item"), &why)))
        return form_problem(r, HTTP_BAD_REQUEST, "Nothing to share", why);
    memset(&spec, 0, sizeof(spec));
    days = apr_atoi64((v = apr_table_get(f, "days")) ? v : "0");
    if (days < 1 || days * 86400 > lenz_cfg_link_expiry_max(lr->srv))
        return dialog(r, lr, pk, "Choose how long the link works.");
    spec.ttl = (int)(days * 86400);
    v = apr_table_get(f, "max_downloads");
    if (v && *v) {
        apr_int64_t n = apr_atoi64(v);
        if (n < 1 || n > 1000000 || strspn(v, "0123456789") != strlen(v))
            return dialog(r, lr, pk, "The number of downloads is a whole number from 1, or empty for no limit.");
        spec.max_downloads = (int)n;
    }
    v = apr_table_get(f, "recipients");
    if (v && *v) {
        char *list = apr_pstrdup(r->pool, v), *tok, *st;
        spec.recipients = apr_array_make(r->pool, 4, sizeof(const char *));
        for (tok = apr_strtok(list, " ,;\r\n\t", &st); tok; tok = apr_strtok(NULL, " ,;\r\n\t", &st)) {
            if (!lenz_mail_addr_ok(tok) || spec.recipients->nelts >= MAX_RECIPIENTS)
                return dialog(r, lr, pk, apr_psprintf(r->pool, "Recipients: up to %d e-mail addresses, "
                                                      "one per line (\u201c%s\u201d is not one).", MAX_RECIPIENTS, tok));
            APR_ARRAY_PUSH(spec.recipients, const char *) = tok;
        }
    }
    v = apr_table_get(f, "password");
    if (v && *v) {
        if (strlen(v) > 1024)
            return dialog(r, lr, pk, "The password is too long.");
        if ((rv = lenz_pw_hash(r, v, NULL, &phc)) != APR_SUCCESS)
            return rv == LENZ_EUNAVAIL ? lenz_pw_busy(r) : unavailable(r);
        spec.password_hash = phc;
    }
    spec.owner_id = lr->user->id;
    if (pk->folder)
        spec.folder_id = pk->folder;
    else if (pk->files->nelts == 1)
        spec.file_id = APR_ARRAY_IDX(pk->files, 0, const char *);
    else
        spec.file_ids = pk->files;

    ctx = lenz_json_new_object(r->pool);
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    {
        lenz_fs_rc rc = describe(r, db, lr->user->id, pk, ctx);
        if (rc != LENZ_FS_OK) {
            lenz_db_close(db);
            return rc == LENZ_FS_DB ? unavailable(r)
                   : rc == LENZ_FS_ROOT ? form_problem(r, HTTP_CONFLICT, "Your top folder",
                                                       "Share the folders and files in it, not the top folder itself.")
                   : form_problem(r, HTTP_NOT_FOUND, "Not found", "That item is not in your files (any more).");
        }
    }
    lenz_db_begin(db);
    rv = lenz_link_create(r, db, &spec, &token, &link_id, &expires);
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        return unavailable(r);
    lenz_json_set_str(ctx, "title", "Link made");
    lenz_json_set_str(ctx, "url", lenz_link_url(r, token));
    lenz_json_set_str(ctx, "expires_at", expires);
    lenz_json_set_bool(ctx, "password", phc != NULL);
    lenz_json_set_bool(ctx, "recipients", spec.recipients && spec.recipients->nelts);
    if (spec.max_downloads)
        lenz_json_set_int(ctx, "max_downloads", spec.max_downloads);
    return lenz_render_page(r, HTTP_CREATED, "files/share_done", ctx);
}

/* GET /files/shared: the member's links (transfers apart) and requests. */
static int shared_page(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = lenz_json_new_object(r->pool), *links, *transfers, *reqs;
    const char *args[1] = { lr->user->id };
    lenz_rows rows, rq;
    lenz_db *db;
    int i;

    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (lenz_db_select(db, "lenz_links_mine", &rows, 1, args) != APR_SUCCESS
        || lenz_db_select(db, "lenz_sp_requests", &rq, 1, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    links = lenz_json_obj_add_array(ctx, "links");
    transfers = lenz_json_obj_add_array(ctx, "transfers");
    for (i = 0; i < rows.nrows; i++) {
        const char **row = rows.rows[i];
        lenz_json *o = lenz_json_arr_add_object(!strcmp(row[12], "transfer") ? transfers : links);
        lenz_link_row_json(r->pool, row, o);
        lenz_json_set_str(o, "name", lenz_name_neutral(r->pool, row[13] ? row[13] : "(nothing left)"));
        lenz_json_set_bool(o, "live", row[8][0] != 't');
        lenz_json_set_str(o, "downloads_text", row[5] ? apr_psprintf(r->pool, "%s of %s", row[6], row[5]) : row[6]);
        lenz_json_set_str(o, "kind_text", !strcmp(row[12], "folder") ? "folder" : !strcmp(row[12], "files")
                                          ? "files" : !strcmp(row[12], "file") ? "file" : "transfer");
    }
    reqs = lenz_json_obj_add_array(ctx, "requests");
    for (i = 0; i < rq.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(reqs);
        lenz_json_set_str(o, "id", rq.rows[i][0]);
        lenz_json_set_str(o, "folder", rq.rows[i][1][0] ? rq.rows[i][1] : "My files");
        lenz_json_set_str(o, "title", rq.rows[i][2]);
        lenz_json_set_str(o, "expires_at", rq.rows[i][3]);
        lenz_json_set_str(o, "received_text", apr_atoi64(rq.rows[i][5])
                          ? apr_psprintf(r->pool, "%s of %s", rq.rows[i][4], rq.rows[i][5]) : rq.rows[i][4]);
        lenz_json_set_bool(o, "open", rq.rows[i][6][0] == 't');
    }
    lenz_json_set_bool(ctx, "no_links", lenz_json_array_len(links) == 0);
    lenz_json_set_bool(ctx, "no_transfers", lenz_json_array_len(transfers) == 0);
    lenz_json_set_bool(ctx, "no_requests", rq.nrows == 0);
    lenz_json_set_str(ctx, "title", "Shared");
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    return lenz_render_page(r, HTTP_OK, "files/shared", ctx);
}

static int revoke_link(request_rec *r, lenz_req *lr)
{
    const char *id = lenz_param(lr, "id"), *args[3];
    lenz_db *db;
    if (!lenz_body_form(r, lr))
        return OK;
    if (!lenz_uuid_ok(id))
        return form_problem(r, HTTP_NOT_FOUND, "Not found", "There is no such link of yours.");
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    args[0] = lr->user->id;
    args[1] = "00";             /* by id only */
    args[2] = id;
    lenz_db_exec(db, "lenz_links_revoke", NULL, 3, args);
    lenz_db_close(db);
    return redirect(r, lr, "/files/shared");
}

/* POST /files/shared/link/{id}/limits: how long from now, and how many
 * downloads (empty: no limit), as PATCH /api/v1/links does. */
static int link_limits(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *id = lenz_param(lr, "id"), *v, *args[8], *ttl, *max;
    apr_int64_t days, n = 0;
    lenz_rows rows;
    lenz_db *db;
    if (!f)
        return OK;
    if (!lenz_uuid_ok(id))
        return form_problem(r, HTTP_NOT_FOUND, "Not found", "There is no such link of yours.");
    days = apr_atoi64((v = apr_table_get(f, "days")) && *v ? v : "0");
    if (days < 1 || days * 86400 > lenz_cfg_link_expiry_max(lr->srv))
        return form_problem(r, HTTP_BAD_REQUEST, "How long?", apr_psprintf(r->pool, "A link works 1 to %d days.",
                            lenz_cfg_link_expiry_max(lr->srv) / 86400));
    v = apr_table_get(f, "max_downloads");
    if (v && *v && ((n = apr_atoi64(v)) < 1 || n > 1000000 || strspn(v, "0123456789") != strlen(v)))
        return form_problem(r, HTTP_BAD_REQUEST, "How many downloads?", "A whole number from 1, or empty for no limit.");
    ttl = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, days * 86400);
    max = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, n);      /* 0: no limit */
    args[0] = args[1] = ttl;
    args[2] = args[3] = args[4] = max;
    args[5] = lr->user->id;
    args[6] = "00";             /* by id only */
    args[7] = id;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (lenz_db_select(db, "lenz_links_limits", &rows, 8, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    if (rows.nrows != 1)
        return form_problem(r, HTTP_NOT_FOUND, "Not found", "There is no such live link of yours.");
    return redirect(r, lr, "/files/shared");
}

static int close_request(request_rec *r, lenz_req *lr)
{
    const char *args[2] = { lr->user->id, lenz_param(lr, "id") };
    lenz_db *db;
    if (!lenz_body_form(r, lr))
        return OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    lenz_db_exec(db, "lenz_fr_close", NULL, 2, args);
    lenz_db_close(db);
    return redirect(r, lr, "/files/shared");
}

/* GET /files/folder/{id}/request: the form for one. */
static int request_form(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = lenz_json_new_object(r->pool);
    lenz_fs_item it;
    lenz_fs_rc rc;
    lenz_db *db;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = lenz_fs_folder(db, lr->user->id, lenz_param(lr, "id"), &it);
    lenz_db_close(db);
    if (rc == LENZ_FS_OK && it.rank != LENZ_RANK_OWNER)
        rc = LENZ_FS_NOT_FOUND;         /* requests go to the owner's own folders */
    if (rc == LENZ_FS_DB)
        return unavailable(r);
    if (rc != LENZ_FS_OK)
        return form_problem(r, HTTP_NOT_FOUND, "Not found", "There is no such folder of yours.");
    lenz_json_set_str(ctx, "title", "Request files");
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    lenz_json_set_str(ctx, "folder_id", it.id);
    lenz_json_set_str(ctx, "folder", it.parent_id ? it.name : "My files");
    return lenz_render_page(r, HTTP_OK, "files/request_new", ctx);
}

/* POST /files/folder/{id}/request: a file request into the folder. */
static int request_make(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    lenz_json *ctx;
    lenz_fr_spec spec;
    const char *v, **row, *token;
    apr_status_t rv;
    lenz_fs_rc rc;
    lenz_db *db;
    apr_int64_t days;

    if (!f)
        return OK;
    memset(&spec, 0, sizeof(spec));
    spec.folder = lenz_param(lr, "id");
    if (!lenz_uuid_ok(spec.folder))
        return form_problem(r, HTTP_NOT_FOUND, "Not found", "There is no such folder of yours.");
    v = apr_table_get(f, "title");
    spec.title = v && *v ? v : NULL;
    if (spec.title && (strlen(spec.title) > 200 || lenz_name_has_bidi(spec.title)))
        return form_problem(r, HTTP_BAD_REQUEST, "That title cannot be used",
                            "A title is up to 200 characters, without bidirectional controls.");
    v = apr_table_get(f, "message");
    spec.message = v && *v ? v : NULL;
    if (spec.message && strlen(spec.message) > 2000)
        return form_problem(r, HTTP_BAD_REQUEST, "Message too long", "A message is up to 2000 characters.");
    days = apr_atoi64((v = apr_table_get(f, "days")) && *v ? v : "7");
    if (days < 1 || days > 365)
        return form_problem(r, HTTP_BAD_REQUEST, "How long?", "A request stays open 1 to 365 days.");
    spec.ttl = days * 86400;
    v = apr_table_get(f, "max_files");
    spec.max_files = v && *v ? apr_atoi64(v) : 0;
    if (spec.max_files < 0 || spec.max_files > 100000)
        return form_problem(r, HTTP_BAD_REQUEST, "How many files?", "Up to 100000 files, or empty for no limit.");
    v = apr_table_get(f, "password");
    if (v && *v && (rv = lenz_pw_hash(r, v, NULL, &spec.password_hash)) != APR_SUCCESS)
        return rv == LENZ_EUNAVAIL ? lenz_pw_busy(r) : unavailable(r);
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = lenz_fr_make(r, db, lr->user->id, &spec, &row, &token);
    lenz_db_close(db);
    if (rc == LENZ_FS_NOT_FOUND)
        return form_problem(r, HTTP_NOT_FOUND, "Not found", "There is no such folder of yours.");
    if (rc != LENZ_FS_OK)
        return unavailable(r);
    ctx = lenz_json_new_object(r->pool);
    lenz_json_set_str(ctx, "title", "File request made");
    lenz_json_set_str(ctx, "url", lenz_fr_url(r, token));
    lenz_json_set_str(ctx, "expires_at", row[5]);
    lenz_json_set_str(ctx, "folder", row[13][0] ? row[13] : "My files");
    lenz_json_set_bool(ctx, "request", 1);
    return lenz_render_page(r, HTTP_CREATED, "files/share_done", ctx);
}

/* POST /files/bulk: the items picked in a folder, shared, moved or
 * deleted together. */
static int bulk(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    apr_array_header_t *items;
    const char *action, *back, *to, *why;
    lenz_db *db;
    int i, failed = 0;

    if (!f)
        return OK;
    items = all_of(r->pool, f, "item");
    action = apr_table_get(f, "action");
    back = apr_table_get(f, "back");
    if (!back || (strcmp(back, "/files") && (strncmp(back, "/files/folder/", 14) || !lenz_uuid_ok(back + 14))))
        back = "/files";
    if (action && !strcmp(action, "share")) {
        picked *pk = pick(r->pool, items, &why);
        return pk ? dialog(r, lr, pk, NULL) : form_problem(r, HTTP_BAD_REQUEST, "Nothing to share", why);
    }
    if (!action || (strcmp(action, "move") && strcmp(action, "delete")))
        return form_problem(r, HTTP_BAD_REQUEST, "Which action?", "Choose Share, Move or Delete.");
    if (!items->nelts || items->nelts > MAX_PICKED)
        return form_problem(r, HTTP_BAD_REQUEST, "Nothing picked", "Pick the items first (at most 1000).");
    to = apr_table_get(f, "to");
    if (!strcmp(action, "move") && !lenz_uuid_ok(to))
        return form_problem(r, HTTP_BAD_REQUEST, "Where to?", "Choose a folder to move the items to.");
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    for (i = 0; i < items->nelts; i++) {
        const char *v = APR_ARRAY_IDX(items, i, const char *);
        int folder = !strncmp(v, "folder:", 7);
        const char *id = folder ? v + 7 : !strncmp(v, "file:", 5) ? v + 5 : "";
        lenz_fs_item it;
        const char *suggested;
        lenz_fs_rc rc;
        if (!lenz_uuid_ok(id))
            rc = LENZ_FS_NOT_FOUND;
        else if (!strcmp(action, "delete"))
            rc = lenz_fs_trash(db, lr->user->id, folder, id);
        else
            rc = lenz_fs_change(db, lr->user->id, folder, id, NULL, to, NULL, lenz_cfg_folder_depth(lr->srv),
                                &it, &suggested);
        if (rc == LENZ_FS_DB) {
            lenz_db_close(db);
            return unavailable(r);
        }
        failed += rc != LENZ_FS_OK;
    }
    lenz_db_close(db);
    if (failed)
        return form_problem(r, HTTP_CONFLICT, "Not everything could be done",
                            apr_psprintf(r->pool, "%d of the %d items could not be %s (a name taken there, a folder "
                                         "into itself, or an item gone meanwhile); the others were.", failed,
                                         items->nelts, strcmp(action, "move") ? "deleted" : "moved"));
    return redirect(r, lr, back);
}

/* POST /files/settings: where new uploads go by default. */
static int settings(request_rec *r, lenz_req *lr)
{
    apr_table_t *f = lenz_body_form(r, lr);
    const char *where;
    lenz_fs_rc rc;
    lenz_db *db;
    if (!f)
        return OK;
    where = apr_table_get(f, "upload_default");
    if (!where || (strcmp(where, "encrypted") && strcmp(where, "plain")))
        return form_problem(r, HTTP_BAD_REQUEST, "Encrypted or plain?", "Choose one of the two.");
    if (lenz_cfg_upload_policy(lr->srv) != LENZ_POLICY_CHOICE)
        return form_problem(r, HTTP_CONFLICT, "Not a choice here", "This site's upload policy decides where files go.");
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    rc = lenz_fs_set_upload_default(db, lr->user->id, where);
    lenz_db_close(db);
    return rc == LENZ_FS_OK ? redirect(r, lr, "/files") : unavailable(r);
}

const lenz_route lenz_share_page_routes[] = {
    { LENZ_GET, "/share", share_one, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/share", share_make, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/shared", shared_page, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/shared/link/{id}/revoke", revoke_link, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/shared/link/{id}/limits", link_limits, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/shared/request/{id}/close", close_request, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/folder/{id}/request", request_form, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/folder/{id}/request", request_make, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/bulk", bulk, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/settings", settings, LENZ_ACCESS_MEMBER },
    { 0 }
};
