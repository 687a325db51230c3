/* problem.h - answers: JSON bodies, RFC 9457 problem+json for API
 * errors, and an HTML error page (templates/error.mustache) for browsers.
 */
#ifndef LENZ_PROBLEM_H
#define LENZ_PROBLEM_H

#include "lenz.h"
#include "json.h"

/* Does this request want JSON answers?  API areas always; otherwise a
 * client that asks for JSON (Accept) or sent JSON without asking for HTML. */
int lenz_wants_json(request_rec *r);

/* Sends body as application/json with status; returns OK. */
int lenz_send_json(request_rec *r, int status, const lenz_json *body);

/* Logs "<tag><title>: <detail>" at level (tag may be NULL for no log line)
 * and answers status with a problem document or an error page.  slug
 * names the problem type (urn:lenz:problem:<slug>).  Returns OK: the
 * answer is written. */
#define lenz_fail(r, level, tag, status, slug, title, detail) \
    lenz_fail_at(APLOG_MARK, (r), (level), (tag), (status), (slug), (title), (detail), NULL)
/* The same with extra members for the problem document. */
#define lenz_fail_ext(r, level, tag, status, slug, title, detail, ext) \
    lenz_fail_at(APLOG_MARK, (r), (level), (tag), (status), (slug), (title), (detail), (ext))

int lenz_fail_at(const char *file, int line, int module_index, request_rec *r,
                 int level, const char *tag, int status, const char *slug,
                 const char *title, const char *detail, const lenz_json *ext);

/* The two answers every area gives: 503 db-unavailable (logged with tag at
 * error level) and 404 not-found "no such WHAT" (not logged: other
 * people's things answer as ids that do not exist). */
#define lenz_fail_db(r, tag) \
    lenz_fail((r), APLOG_ERR, (tag), HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "Service unavailable", \
              "the database is unavailable; try again shortly")
#define lenz_fail_not_found(r, what) \
    lenz_fail((r), APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", \
              apr_pstrcat((r)->pool, "no such ", (what), NULL))

#endif
