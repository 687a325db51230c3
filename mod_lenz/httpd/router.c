/* router.c - the content handler shared by all areas: find the area,
 * match the route, check access, call the route function. */
#include <apr_strings.h>

#include "lenz.h"
#include "router.h"
#include "body.h"
#include "problem.h"
#include "security.h"
#include "auth.h"
#include "idem.h"

const lenz_area *lenz_area_of(const request_rec *r)
{
    int i;
    if (!r->handler || strncmp(r->handler, "lenz-", 5) != 0)
        return NULL;
    for (i = 0; lenz_areas[i]; i++)
        if (strcmp(r->handler, lenz_areas[i]->handler) == 0)
            return lenz_areas[i];
    return NULL;
}

const char *lenz_param(const lenz_req *lr, const char *name)
{
    int i;
    for (i = 0; i < lr->nparams; i++)
        if (strcmp(lr->pname[i], name) == 0)
            return lr->pval[i];
    return NULL;
}

static apr_size_t seglen(const char *s)
{
    const char *e = strchr(s, '/');
    return e ? (apr_size_t)(e - s) : strlen(s);
}

/* Walks pattern and path one segment at a time.  A {name} placeholder
 * captures one non-empty segment; anything else must be equal. */
int lenz_route_match(apr_pool_t *p, const char *pattern, const char *path,
                     lenz_req *lr)
{
    const char *pp = pattern, *s = path;
    int n = 0;

    for (;;) {
        apr_size_t plen, slen;
        if (*pp == '\0' || *s == '\0')
            break;
        if (*pp != '/' || *s != '/')
            return 0;
        pp++;
        s++;
        plen = seglen(pp);
        slen = seglen(s);
        if (plen >= 2 && pp[0] == '{' && pp[plen - 1] == '}') {
            if (slen == 0 || n >= LENZ_MAX_PARAMS)
                return 0;
            if (lr) {
                lr->pname[n] = apr_pstrmemdup(p, pp + 1, plen - 2);
                lr->pval[n] = apr_pstrmemdup(p, s, slen);
            }
            n++;
        }
        else if (plen != slen || strncmp(pp, s, plen) != 0) {
            return 0;
        }
        pp += plen;
        s += slen;
    }
    if (*pp != '\0' || *s != '\0')
        return 0;
    if (lr)
        lr->nparams = n;
    return 1;
}

static const char *allow_header(apr_pool_t *p, apr_int64_t mask)
{
    static const struct { int m; const char *name; } names[] = {
        { M_GET, "GET, HEAD" }, { M_POST, "POST" }, { M_PUT, "PUT" },
        { M_DELETE, "DELETE" }, { M_PATCH, "PATCH" },
    };
    const char *out = NULL;
    apr_size_t i;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (mask & LENZ_M(names[i].m))
            out = out ? apr_pstrcat(p, out, ", ", names[i].name, NULL) : names[i].name;
    return out ? apr_pstrcat(p, out, ", OPTIONS", NULL) : "OPTIONS";
}

static int unsafe_method(const request_rec *r)
{
    return r->method_number != M_GET && r->method_number != M_OPTIONS;
}

static int is_form(const request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    return ct && (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0
                  || strncasecmp(ct, "multipart/form-data", 19) == 0);
}

/* A browser's own request, or one from another site?  Sec-Fetch-Site and
 * Origin say so when present; requests without either (API clients,
 * curl) are not cross-site browser requests. */
static int cross_site(request_rec *r, lenz_req *lr)
{
    const char *sfs = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    const char *origin = apr_table_get(r->headers_in, "Origin");
    if (sfs && (strcmp(sfs, "cross-site") == 0 || strcmp(sfs, "same-site") == 0))
        return 1;
    if (origin && strcmp(origin, "null") != 0 && lr->srv->public_url) {
        apr_size_t n = strlen(origin);
        /* The public URL starts with its origin (scheme://host[:port]). */
        return strncasecmp(lr->srv->public_url, origin, n) != 0
               || (lr->srv->public_url[n] != '\0' && lr->srv->public_url[n] != '/');
    }
    return 0;
}

/* The one policy point: every route says who may call it, and every
 * state-changing browser request proves it comes from our own pages. */
static int access_ok(request_rec *r, lenz_req *lr)
{
    lenz_access need = lr->route->access;
    int answered = 0;
    lenz_user *u;

    if (unsafe_method(r) && cross_site(r, lr)) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0105), HTTP_FORBIDDEN, "cross-site",
                  "Cross-site request refused", "state-changing requests must come from this site");
        return 0;
    }
    u = lenz_auth_user(r, lr, &answered);
    if (answered)
        return 0;
    /* Cookie sessions and sign-ons (whose credentials a browser also
     * sends by itself) prove the request comes from our pages. */
    if (u && (u->via == LENZ_VIA_SESSION || u->via == LENZ_VIA_REMOTE) && unsafe_method(r)) {
        const char *h = apr_table_get(r->headers_in, "X-CSRF-Token");
        if (h) {
            if (!lenz_csrf_ok(r, lr, h)) {
                lenz_fail(r, APLOG_INFO, LENZLOGNO(0106), HTTP_FORBIDDEN, "csrf",
                          "Invalid CSRF token", "reload the page and try again");
                return 0;
            }
        }
        else if (is_form(r)) {
            lr->csrf_pending = 1;       /* checked when the form is read (body.c) */
        }
        else {
            lenz_fail(r, APLOG_INFO, LENZLOGNO(0106), HTTP_FORBIDDEN, "csrf",
                      "Missing CSRF token", "send the X-CSRF-Token header");
            return 0;
        }
    }
    if (need == LENZ_ACCESS_PUBLIC)
        return 1;
    if (!u) {
        if (!lenz_wants_json(r) && r->method_number == M_GET) {
            /* A browser: to the sign-in page, and back afterwards. */
            apr_table_setn(r->headers_out, "Location",
                           apr_pstrcat(r->pool, lr->srv->public_url, "/account/login?next=",
                                       ap_escape_uri(r->pool, r->unparsed_uri), NULL));
            r->status = HTTP_SEE_OTHER;
            return 0;
        }
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer");
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0104), HTTP_UNAUTHORIZED, "auth-required",
                  "Sign-in required", "this route needs a signed-in user");
        return 0;
    }
    if ((need == LENZ_ACCESS_LAB && !(u->roles & (LENZ_ROLE_LAB | LENZ_ROLE_ADMIN)))
        || (need == LENZ_ACCESS_ADMIN && !(u->roles & LENZ_ROLE_ADMIN))
        || (need == LENZ_ACCESS_MEMBER && !(u->roles & (LENZ_ROLE_MEMBER | LENZ_ROLE_LAB | LENZ_ROLE_ADMIN)))) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0107), HTTP_FORBIDDEN, "forbidden", "Forbidden",
                  "your account may not use this route");
        return 0;
    }
    return 1;
}

int lenz_router_handler(request_rec *r)
{
    const lenz_area *area = lenz_area_of(r);
    const lenz_route *rt;
    const lenz_route *const *tab;
    lenz_req *lr;
    const char *base;
    apr_size_t blen;
    apr_int64_t allowed = 0;

    if (!area)
        return DECLINED;

    lr = apr_pcalloc(r->pool, sizeof(*lr));
    lr->area = area;
    lr->srv = lenz_srv(r->server);
    lr->dir = lenz_dir(r);
    lr->start = r->request_time;
    ap_set_module_config(r->request_config, &lenz_module, lr);
    lenz_security_headers(r, area->api);

    if (!lr->srv->enabled || !lr->srv->keyring) {
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(0101), HTTP_SERVICE_UNAVAILABLE,
                         "not-configured", "Service not configured",
                         "mod_lenz has no configuration for this server");
    }

    base = lenz_cfg_base(r, lr->dir);
    blen = strlen(base);
    if (blen == 1 && base[0] == '/')
        blen = 0;
    if (strncmp(r->uri, base, blen) != 0 || (r->uri[blen] != '/' && r->uri[blen] != '\0')) {
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(0102), HTTP_NOT_FOUND, "not-found",
                         "Not found", apr_psprintf(r->pool,
                         "request path is not below the area's base '%s' (set LenzBase "
                         "inside <LocationMatch>)", base));
    }
    lr->path = r->uri[blen] ? r->uri + blen : "/";

    for (tab = area->routes; *tab && !lr->route; tab++) {
        for (rt = *tab; rt->pattern; rt++) {
            if (!lenz_route_match(r->pool, rt->pattern, lr->path, lr))
                continue;
            allowed |= rt->methods;
            if (rt->methods & LENZ_M(r->method_number)) {
                lr->route = rt;
                break;
            }
        }
    }

    if (!lr->route) {
        if (!allowed)
            return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found",
                             "Not found", "no such resource");
        apr_table_setn(r->err_headers_out, "Allow", allow_header(r->pool, allowed));
        if (r->method_number == M_OPTIONS) {
            r->status = HTTP_NO_CONTENT;
            return OK;
        }
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(0103), HTTP_METHOD_NOT_ALLOWED,
                         "method-not-allowed", "Method not allowed",
                         apr_psprintf(r->pool, "%s is not allowed here", r->method));
    }

    if (!access_ok(r, lr))
        return OK;
    /* A form's CSRF token is checked here, before the handler runs, so a
     * handler that never reads its form is protected all the same. */
    if (lr->csrf_pending && !lenz_body_form(r, lr))
        return OK;
    if (!lenz_idem_begin(r, lr))
        return OK;
    {
        int rc = lr->route->fn(r, lr);
        lenz_idem_finish(r, lr, rc);
        return rc;
    }
}
