/* render.h - Mustache templates loaded from LenzTemplateDir at start-up
 * (a syntax error stops httpd with the file and line), rendered for pages
 * and mails. */
#ifndef LENZ_RENDER_H
#define LENZ_RENDER_H

#include "lenz.h"
#include "json.h"
#include "mustache.h"

typedef struct lenz_tmpl_set lenz_tmpl_set;

/* Compiles every *.mustache file below dir; names are the relative paths
 * without the extension ("error", "mail/otp.html"). */
apr_status_t lenz_tmpl_load(apr_pool_t *p, const char *dir, lenz_tmpl_set **out,
                            const char **why);
const lenz_mst *lenz_tmpl_get(const lenz_tmpl_set *set, const char *name);

/* Renders an HTML page with the given status to the client.  The common
 * page context (site name, base URL) is added under "site".  Returns OK,
 * or an HTTP error status when the template is missing. */
int lenz_render_page(request_rec *r, int status, const char *name, lenz_json *ctx);

/* "1.5 MiB": bytes as people read them. */
const char *lenz_human_size(apr_pool_t *p, apr_off_t n);

/* Renders a template into a string (mails, small fragments). */
apr_status_t lenz_render_string(apr_pool_t *p, const lenz_tmpl_set *set,
                                const char *name, lenz_json *ctx, const char **out);

#endif
