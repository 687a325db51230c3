/* markdown.h - what members write in posts, rendered to safe HTML by
 * libcmark (CommonMark), the only file that calls it.
 *
 * Refused, before anything is stored (each with its reason, for a 422):
 * raw HTML (blocks or inline: write Markdown), links and images whose URL
 * has a scheme other than http, https or mailto ("javascript:", "data:"),
 * and blocks nested deeper than LENZ_MD_MAX_DEPTH (10,000 quotes inside
 * each other).  What passes is rendered with libcmark's safe defaults
 * (raw HTML omitted, dangerous URLs dropped) as a second guard. */
#ifndef LENZ_MARKDOWN_H
#define LENZ_MARKDOWN_H

#include <apr_pools.h>

#define LENZ_MD_MAX_DEPTH 16

/* APR_SUCCESS and *html (from p), or APR_EINVAL and *why. */
apr_status_t lenz_md_render(apr_pool_t *p, const char *text, apr_size_t len, const char **html,
                            const char **why);

#endif
