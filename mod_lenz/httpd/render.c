/* render.c - template loading and page rendering. */
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_hash.h>

#include "lenz.h"
#include "render.h"
#include "config.h"
#include "security.h"
#include "router.h"
#include "auth.h"

#define MAX_TEMPLATE_SIZE (1024 * 1024)
#define MAX_TEMPLATE_DEPTH 4

struct lenz_tmpl_set {
    const char *dir;
    apr_hash_t *byname;   /* name -> const lenz_mst * */
};

static apr_status_t load_file(apr_pool_t *p, lenz_tmpl_set *set, const char *path,
                              const char *name, const char **why)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t n;
    char *buf;
    const lenz_mst *t;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p);
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot open template '%s' (%pm)", path, &rv);
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv == APR_SUCCESS && fi.size > MAX_TEMPLATE_SIZE)
        rv = APR_EINVAL;
    if (rv != APR_SUCCESS) {
        apr_file_close(f);
        *why = apr_psprintf(p, "template '%s' is unreadable or larger than 1 MiB", path);
        return APR_EINVAL;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !(rv == APR_EOF && n == 0)) {
        *why = apr_psprintf(p, "cannot read template '%s' (%pm)", path, &rv);
        return rv;
    }
    buf[n] = '\0';
    t = lenz_mst_compile(p, name, buf, n, why);
    if (!t) {
        *why = apr_psprintf(p, "template %s: %s", path, *why);
        return APR_EINVAL;
    }
    apr_hash_set(set->byname, name, APR_HASH_KEY_STRING, t);
    return APR_SUCCESS;
}

static apr_status_t load_dir(apr_pool_t *p, lenz_tmpl_set *set, const char *dir,
                             const char *prefix, int depth, const char **why)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv;

    if (depth > MAX_TEMPLATE_DEPTH)
        return APR_SUCCESS;
    rv = apr_dir_open(&d, dir, p);
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot open template directory '%s' (%pm)", dir, &rv);
        return rv;
    }
    while ((rv = apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)) == APR_SUCCESS) {
        const char *path, *name;
        apr_size_t n = strlen(fi.name);
        if (fi.name[0] == '.')
            continue;
        path = apr_pstrcat(p, dir, "/", fi.name, NULL);
        if (fi.filetype == APR_DIR) {
            rv = load_dir(p, set, path, apr_pstrcat(p, prefix, fi.name, "/", NULL), depth + 1, why);
            if (rv != APR_SUCCESS)
                break;
            continue;
        }
        if (n <= 9 || strcmp(fi.name + n - 9, ".mustache") != 0)
            continue;
        name = apr_pstrcat(p, prefix, apr_pstrmemdup(p, fi.name, n - 9), NULL);
        rv = load_file(p, set, path, name, why);
        if (rv != APR_SUCCESS)
            break;
    }
    apr_dir_close(d);
    return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
}

apr_status_t lenz_tmpl_load(apr_pool_t *p, const char *dir, lenz_tmpl_set **out,
                            const char **why)
{
    lenz_tmpl_set *set = apr_pcalloc(p, sizeof(*set));
    apr_status_t rv;
    set->dir = dir;
    set->byname = apr_hash_make(p);
    rv = load_dir(p, set, dir, "", 0, why);
    if (rv != APR_SUCCESS)
        return rv;
    if (!apr_hash_get(set->byname, "error", APR_HASH_KEY_STRING)) {
        *why = apr_psprintf(p, "'%s' has no error.mustache (is it the template directory?)", dir);
        return APR_ENOENT;
    }
    *out = set;
    return APR_SUCCESS;
}

const lenz_mst *lenz_tmpl_get(const lenz_tmpl_set *set, const char *name)
{
    return set ? apr_hash_get(set->byname, name, APR_HASH_KEY_STRING) : NULL;
}

static const lenz_mst *partial(void *baton, const char *name)
{
    return lenz_tmpl_get(baton, name);
}

static apr_status_t write_client(void *baton, const char *buf, apr_size_t len)
{
    request_rec *r = baton;
    return ap_rwrite(buf, (int)len, r) < 0 ? APR_ECONNABORTED : APR_SUCCESS;
}

const char *lenz_human_size(apr_pool_t *p, apr_off_t n)
{
    static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        return apr_psprintf(p, "%" APR_OFF_T_FMT " bytes", n);
    if (v == (double)(apr_int64_t)v)
        return apr_psprintf(p, "%" APR_INT64_T_FMT " %s", (apr_int64_t)v, unit[u]);
    return apr_psprintf(p, "%.1f %s", v, unit[u]);
}

/* The site's header: who is signed in, and which section this page is in
 * (marked aria-current for assistive technology). */
static void add_nav(request_rec *r, lenz_json *ctx)
{
    lenz_req *lr = ap_get_module_config(r->request_config, &lenz_module);
    lenz_json *nav = lenz_json_obj_add_object(ctx, "nav");
    const char *u = r->uri ? r->uri : "";
    lenz_srv_cfg *c = lenz_srv(r->server);
    const char *base = c->public_url ? c->public_url : "";
    apr_size_t bl;
    int answered = 0;

    /* The path below the public URL's own (a site mounted under /x). */
    {
        const char *slash = strstr(base, "://");
        slash = slash ? strchr(slash + 3, '/') : NULL;
        bl = slash ? strlen(slash) : 0;
        if (bl && !strncmp(u, slash, bl))
            u += bl;
    }
    lenz_json_set_bool(nav, "home", !strcmp(u, "/") || !*u);
    lenz_json_set_bool(nav, "upload", !strncmp(u, "/upload", 7));
    lenz_json_set_bool(nav, "shared", !strncmp(u, "/files/shared", 13));
    lenz_json_set_bool(nav, "files", !strncmp(u, "/files", 6) && strncmp(u, "/files/shared", 13));
    lenz_json_set_bool(nav, "account", !strncmp(u, "/account", 8));
    lenz_json_set_bool(nav, "topics", !strncmp(u, "/topics", 7));
    lenz_json_set_bool(nav, "search", !strncmp(u, "/search", 7));
    lenz_json_set_bool(nav, "messages", !strncmp(u, "/collab/messages", 16));
    lenz_json_set_bool(nav, "admin_here", !strncmp(u, "/admin", 6));
    /* Resolved already, or resolvable without answering (a bad bearer token
     * would answer 401 itself: pages are not for bearer tokens). */
    if (lr && !r->main && (lr->auth_done || !apr_table_get(r->headers_in, "Authorization"))) {
        lenz_user *user = lenz_auth_user(r, lr, &answered);
        if (user && !answered) {
            lenz_json *who = lenz_json_obj_add_object(nav, "user");
            lenz_json_set_str(who, "name", user->name && *user->name ? user->name : user->email);
            lenz_json_set_str(nav, "csrf", lenz_csrf_token(r, lr));
            lenz_json_set_bool(nav, "admin", (user->roles & LENZ_ROLE_ADMIN) != 0);
        }
    }
}

static void add_site(request_rec *r, lenz_json *ctx)
{
    lenz_srv_cfg *c = lenz_srv(r->server);
    lenz_json *site = lenz_json_obj_add_object(ctx, "site");
    lenz_json_set_str(site, "name", "Lenzeye");
    lenz_json_set_str(site, "base_url", c->public_url ? c->public_url : "");
    add_nav(r, ctx);
}

int lenz_render_page(request_rec *r, int status, const char *name, lenz_json *ctx)
{
    lenz_srv_cfg *c = lenz_srv(r->server);
    const lenz_mst *t = lenz_tmpl_get(c->templates, name);
    apr_status_t rv;

    if (!t) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      LENZLOGNO(0160) "template '%s' not found", name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!ctx)
        ctx = lenz_json_new_object(r->pool);
    add_site(r, ctx);
    r->status = status;
    lenz_security_headers(r, 0);
    ap_set_content_type(r, "text/html; charset=utf-8");
    if (r->header_only)
        return OK;
    rv = lenz_mst_render(t, ctx, partial, c->templates, write_client, r, r->pool);
    if (rv != APR_SUCCESS && rv != APR_ECONNABORTED)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      LENZLOGNO(0161) "rendering template '%s' failed", name);
    return OK;
}

apr_status_t lenz_render_string(apr_pool_t *p, const lenz_tmpl_set *set,
                                const char *name, lenz_json *ctx, const char **out)
{
    const lenz_mst *t = lenz_tmpl_get(set, name);
    if (!t)
        return APR_ENOENT;
    return lenz_mst_render_string(p, t, ctx, partial, (void *)set, out);
}
