/* security.c - application security headers on every answer. */
#include <apr_strings.h>

#include "lenz.h"
#include "security.h"
#include "config.h"
#include "s3.h"

/* No inline script or style anywhere: pages load their JS and CSS files
 * from /static.  Scripts may connect to this site and to the S3 origin
 * only (the upload page PUTs parts to presigned URLs there): a script
 * injected somehow cannot send what it reads to any other host. */
#define CSP_HEAD "default-src 'self'; script-src 'self'; style-src 'self'; " \
                 "img-src 'self' data:; connect-src 'self'"
#define CSP_TAIL "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

static const char *page_csp(request_rec *r)
{
    const lenz_srv_cfg *c = lenz_srv(r->server);
    const char *s3 = c && c->s3 ? lenz_s3_origin(c->s3) : NULL;
    return s3 ? apr_pstrcat(r->pool, CSP_HEAD " ", s3, CSP_TAIL, NULL) : CSP_HEAD CSP_TAIL;
}

void lenz_security_headers(request_rec *r, int api)
{
    apr_table_t *h = r->err_headers_out;
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
    /* Share-link tokens live in URLs: never leak them in a Referer. */
    apr_table_setn(h, "Referrer-Policy", "no-referrer");
    apr_table_setn(h, "X-Frame-Options", "DENY");
    apr_table_setn(h, "Cache-Control", "no-store");
    if (api)
        apr_table_setn(h, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    else
        apr_table_setn(h, "Content-Security-Policy", page_csp(r));
}
