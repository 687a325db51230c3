/* h_api_content.c - a member reading their own stored files without a
 * share link: /api/v1/files/{id}/content (the file as downloads send it:
 * decrypted, Range, ETag, HEAD) and /api/v1/files/{id}/preview (shown
 * inline where that is safe).  Served here, where serving lives; the files
 * area owns the tree.  Another member's file, or one in the trash, is 404
 * like an id that does not exist. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "download.h"
#include "serve.h"
#include "httpd/dbd.h"
#include "httpd/problem.h"
#include "httpd/auth.h"
#include "codec.h"

static int serve_own(request_rec *r, lenz_req *lr, int inline_view)
{
    const char *id = lenz_param(lr, "id"), *args[2];
    lenz_dfile f;
    lenz_rows rows;
    lenz_db *db;

    if (!lenz_uuid_ok(id))
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such file");
    if (!(db = lenz_db_open(r)))
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2160), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "the database is unavailable; try again shortly");
    args[0] = id;
    args[1] = lr->user->id;
    if (lenz_db_select(db, "lenz_dl_own_file", &rows, 2, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2160), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "the database is unavailable; try again shortly");
    }
    if (rows.nrows != 1) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such file");
    }
    lenz_dfile_from_row(rows.rows[0], &f);
    f.inline_view = inline_view;
    return lenz_serve_file(r, lr, NULL, &f, db);      /* takes over db */
}

static int content(request_rec *r, lenz_req *lr) { return serve_own(r, lr, 0); }
static int preview(request_rec *r, lenz_req *lr) { return serve_own(r, lr, 1); }

const lenz_route lenz_api_content_routes[] = {
    { LENZ_GET, "/files/{id}/content", content, LENZ_ACCESS_MEMBER },
    { LENZ_GET, "/files/{id}/preview", preview, LENZ_ACCESS_MEMBER },
    { 0 }
};
