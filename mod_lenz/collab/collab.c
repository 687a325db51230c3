/* collab.c - what the area's files share (collab.h). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "collab.h"
#include "httpd/problem.h"
#include "httpd/rate.h"
#include "httpd/auth.h"
#include "textfilter.h"

const char *lenz_collab_role_name(int rank)
{
    static const char *const names[] = { NULL, "viewer", "commenter", "editor", "co-owner", "owner" };
    return rank >= 1 && rank <= 5 ? names[rank] : NULL;
}

int lenz_collab_text_ok(request_rec *r, lenz_req *lr, const char *field, const char *text,
                        lenz_collab_limit kind)
{
    const apr_array_header_t *words = lenz_cfg_content_words(lr->srv);
    const char *why = lenz_text_refused(r->pool, text, words ? (const char *const *)words->elts : NULL,
                                        words ? words->nelts : 0, lenz_cfg_content_links(lr->srv));
    if (why) {
        lenz_json *ext = lenz_json_new_object(r->pool);
        lenz_json_set_str(ext, "field", field);
        lenz_json_set_str(ext, "reason", why);
        lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(2710), HTTP_UNPROCESSABLE_ENTITY, "content-refused",
                      "Not accepted", apr_pstrcat(r->pool, field, ": ", why, NULL), ext);
        return 0;
    }
    return lenz_rate_check(r, apr_pstrcat(r->pool, "collab-", lenz_collab_limit_names[kind], NULL), lr->user->id,
                           lenz_cfg_collab_limit(lr->srv, kind), 3600);
}
