/* security.c - application security headers on every answer. */
#include "lenz.h"
#include "security.h"

/* No inline script or style anywhere: pages load their JS and CSS files
 * from /static. */
#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; " \
            "img-src 'self' data:; connect-src 'self' https: http:; " \
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

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
        apr_table_setn(h, "Content-Security-Policy", CSP);
}
