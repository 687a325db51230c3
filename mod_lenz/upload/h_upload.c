/* h_upload.c - lenz-upload, mounted at /upload: the upload page (GET /),
 * the seed's routes that existing Lenzeye browser and Android clients use
 * (guests), the same for signed-in members, and the /api/v1/uploads table
 * for new clients. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "uploads.h"
#include "httpd/quota.h"
#include "httpd/config.h"
#include "httpd/auth.h"
#include "httpd/dbd.h"
#include "httpd/render.h"

#define GUEST(fn, call)  static int fn(request_rec *r, lenz_req *lr) { return call; }

GUEST(g_init, lenz_up_initiate(r, lr, 0, 0))
GUEST(g_init_enc, lenz_up_initiate(r, lr, 0, 1))
GUEST(g_presign, lenz_up_presign(r, lr, 0))
GUEST(g_part, lenz_up_part(r, lr, 0))
GUEST(g_complete, lenz_up_complete(r, lr, 0, 0))
GUEST(g_complete_enc, lenz_up_complete(r, lr, 0, 1))
GUEST(g_parts, lenz_up_parts(r, lr, 0))
GUEST(g_abort, lenz_up_abort(r, lr, 0))
GUEST(m_init, lenz_up_initiate(r, lr, 1, 0))
GUEST(m_init_enc, lenz_up_initiate(r, lr, 1, 1))
GUEST(m_presign, lenz_up_presign(r, lr, 1))
GUEST(m_part, lenz_up_part(r, lr, 1))
GUEST(m_complete, lenz_up_complete(r, lr, 1, 0))
GUEST(m_complete_enc, lenz_up_complete(r, lr, 1, 1))
GUEST(m_parts, lenz_up_parts(r, lr, 1))
GUEST(m_abort, lenz_up_abort(r, lr, 1))

/* The upload page ----------------------------------------------------------- */

/* "1 GiB", "10 MiB", "1.5 GiB", "512 bytes". */
static const char *human_period(apr_pool_t *p, int secs)
{
    if (secs >= 86400 && secs % 86400 == 0)
        return apr_psprintf(p, "%d day%s", secs / 86400, secs == 86400 ? "" : "s");
    if (secs >= 3600 && secs % 3600 == 0)
        return apr_psprintf(p, "%d hour%s", secs / 3600, secs == 3600 ? "" : "s");
    return apr_psprintf(p, "%d minutes", (secs + 59) / 60);
}

/* GET /upload/: the page for the JavaScript uploader (htdocs/js/upload.js).
 * Signed-in members get the member routes and their quota, guests the
 * guest routes and limits; the policy decides whether encryption is the
 * visitor's choice.  This area answers errors as JSON, but this route is
 * a page: it always renders HTML. */
static int upload_page(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = lenz_json_new_object(r->pool);
    const char *base = lenz_cfg_base(r, lr->dir);
    int answered, policy = lenz_cfg_upload_policy(lr->srv);
    lenz_user *u = lenz_auth_user(r, lr, &answered);
    int member = u && (u->roles & (LENZ_ROLE_MEMBER | LENZ_ROLE_LAB | LENZ_ROLE_ADMIN));

    if (answered)
        return OK;
    if (!strcmp(base, "/"))
        base = "";
    lenz_json_set_str(ctx, "title", "Upload files");
    lenz_json_set_str(ctx, "endpoint", apr_pstrcat(r->pool, base, member ? "/member" : "/guest", NULL));
    lenz_json_set_str(ctx, "policy", policy == LENZ_POLICY_ENCRYPTED ? "encrypted"
                                     : policy == LENZ_POLICY_PLAIN ? "plain" : "choice");
    lenz_json_set_bool(ctx, "policy_choice", policy == LENZ_POLICY_CHOICE);
    lenz_json_set_bool(ctx, "policy_encrypted", policy == LENZ_POLICY_ENCRYPTED);
    lenz_json_set_bool(ctx, "policy_plain", policy == LENZ_POLICY_PLAIN);
    if (lenz_cfg_plain_above(lr->srv) > 0 && policy != LENZ_POLICY_PLAIN) {
        lenz_json_set_int(ctx, "plain_above", lenz_cfg_plain_above(lr->srv));
        lenz_json_set_str(ctx, "plain_above_text", lenz_human_size(r->pool, lenz_cfg_plain_above(lr->srv)));
    }
    lenz_json_set_str(ctx, "login_url", apr_pstrcat(r->pool, lr->srv->public_url ? lr->srv->public_url : "",
                                                    "/account/login?next=",
                                                    ap_escape_uri(r->pool, r->uri), NULL));
    if (member) {
        lenz_json *m = lenz_json_obj_add_object(ctx, "member");
        apr_off_t quota = lenz_cfg_member_quota(lr->srv), used = -1;
        const char *args[1] = { u->id };
        lenz_db *db = lenz_db_open(r);
        lenz_rows rows;
        if (db) {
            quota = lenz_member_quota(r, db, u->id);
            if (lenz_db_select(db, "lenz_up_quota", &rows, 1, args) == APR_SUCCESS && rows.nrows == 1)
                used = (apr_off_t)apr_atoi64(rows.rows[0][0]);
            if (policy == LENZ_POLICY_CHOICE && lenz_db_select(db, "lenz_up_default", &rows, 1, args) == APR_SUCCESS
                && rows.nrows == 1 && !strcmp(rows.rows[0][0], "plain"))
                lenz_json_set_bool(ctx, "encrypt_off", 1);      /* their default: the box starts unticked */
            lenz_db_close(db);
        }
        lenz_json_set_str(m, "name", u->name && *u->name ? u->name : u->email);
        lenz_json_set_str(m, "quota_text", lenz_human_size(r->pool, quota));
        if (used >= 0)
            lenz_json_set_str(m, "used_text", lenz_human_size(r->pool, used));
        lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
        /* What is left of the quota bounds the whole batch. */
        lenz_json_set_int(ctx, "max_size", used < 0 ? quota : used < quota ? quota - used : 0);
        lenz_json_set_int(ctx, "max_files", 0);
        lenz_json_set_str(ctx, "size_scope", "batch");
    }
    else if (lenz_cfg_guest_uploads(lr->srv)) {
        apr_off_t max = lenz_cfg_guest_max_size(lr->srv);
        lenz_json *g = lenz_json_obj_add_object(ctx, "guest");
        lenz_json_set_str(g, "max_size_text", lenz_human_size(r->pool, max));
        lenz_json_set_int(g, "max_files", lenz_cfg_guest_max_files(lr->srv));
        lenz_json_set_int(g, "per_hour", lenz_cfg_guest_per_hour(lr->srv));
        lenz_json_set_str(g, "expiry_text", human_period(r->pool, lenz_cfg_guest_expiry(lr->srv)));
        lenz_json_set_int(ctx, "max_size", max);
        lenz_json_set_int(ctx, "max_files", lenz_cfg_guest_max_files(lr->srv));
        lenz_json_set_str(ctx, "size_scope", "file");
    }
    else {
        lenz_json_set_bool(ctx, "guest_off", 1);
    }
    return lenz_render_page(r, HTTP_OK, "upload", ctx);
}

static const lenz_route routes[] = {
    { LENZ_GET, "/", upload_page, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/initiate", g_init, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/guest/presigned-url", g_presign, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/complete", g_complete, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/encrypted/initiate", g_init_enc, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/encrypted/upload-part", g_part, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/encrypted/complete", g_complete_enc, LENZ_ACCESS_PUBLIC },
    { LENZ_GET, "/guest/parts", g_parts, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/guest/abort", g_abort, LENZ_ACCESS_PUBLIC },
    { LENZ_POST, "/member/initiate", m_init, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/member/presigned-url", m_presign, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/member/complete", m_complete, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/member/encrypted/initiate", m_init_enc, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/member/encrypted/upload-part", m_part, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/member/encrypted/complete", m_complete_enc, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/member/parts", m_parts, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/member/abort", m_abort, LENZ_ACCESS_MEMBER },
    { 0 }
};

/* The same operations for API clients (bearer tokens), under /api/v1. */
const lenz_route lenz_api_upload_routes[] = {
    { LENZ_POST, "/uploads/initiate", m_init, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/uploads/presigned-url", m_presign, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/uploads/complete", m_complete, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/uploads/encrypted/initiate", m_init_enc, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/uploads/encrypted/upload-part", m_part, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/uploads/encrypted/complete", m_complete_enc, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/uploads/parts", m_parts, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/uploads/abort", m_abort, LENZ_ACCESS_MEMBER },
    { 0 }
};

static const lenz_route *const tables[] = { routes, lenz_request_routes, NULL };

/* The seed's clients expect JSON errors from these routes. */
const lenz_area lenz_area_upload = { "lenz-upload", "upload", tables, NULL, 1 };
