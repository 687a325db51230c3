/* budget.c - how a limited share link keeps its limit.  The link row
 * holds its downloads and bytes_served; the budget is max_downloads times
 * the link's files' size.  Every request that will send a body reserves
 * its bytes (and one download when it starts a download) with one
 * conditional UPDATE before its first byte, so requests in parallel
 * cannot all pass the check before any is counted; at its end it gives
 * back what it did not hand to the client.  What was handed over counts
 * even when the client then vanished: bytes in its socket buffers may
 * have reached it, and a client could resume from anywhere. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "budget.h"
#include "httpd/problem.h"
#include "json.h"

const lenz_stmt lenz_dl_limit_stmts[] = {
    /* One download (0 or 1) and N bytes, only while both fit.  The budget
     * is compared as numeric: max_downloads x size can pass bigint.  A
     * limit taken off meanwhile lets it through (and nothing then reads
     * the columns). */
    { "lenz_dl_reserve",
      "UPDATE links SET downloads = downloads + %s::int, bytes_served = bytes_served + %s::bigint "
      "WHERE id = %s::uuid AND revoked_at IS NULL AND expires_at > now() "
      "AND (max_downloads IS NULL OR (downloads + %s::int <= max_downloads "
      "AND bytes_served + %s::bigint <= max_downloads::numeric * %s::bigint)) "
      "RETURNING downloads" },
    { "lenz_dl_giveback",
      "UPDATE links SET downloads = greatest(downloads - %s::int, 0), "
      "bytes_served = greatest(bytes_served - %s::bigint, 0) WHERE id = %s::uuid" },
    { NULL }
};

static const char *i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

int lenz_dl_starts_download(const lenz_link *l, int zip, apr_uint64_t first)
{
    return zip || (l->files->nelts == 1 && first == 0);
}

int lenz_dl_reserve(request_rec *r, lenz_db *db, const lenz_link *l, int download,
                    apr_int64_t bytes, lenz_dl_claim *c)
{
    const char *args[6];
    lenz_rows rows;
    int ok, got;

    c->download = 0;
    c->bytes = 0;
    if (l->max_downloads <= 0)
        return 1;
    args[0] = args[3] = download ? "1" : "0";
    args[1] = args[4] = i64(r->pool, bytes);
    args[2] = l->id;
    args[5] = i64(r->pool, l->total_size);
    if (download && lenz_db_begin(db) != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2151), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    ok = lenz_db_select(db, "lenz_dl_reserve", &rows, 6, args) == APR_SUCCESS;
    got = ok && rows.nrows == 1;
    if (got && download)
        ok = lenz_link_event(r, db, l, apr_atoi64(rows.rows[0][0])) == APR_SUCCESS;
    if (download && lenz_db_end(db, !ok || !got) != APR_SUCCESS)
        ok = 0;
    if (!ok)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2151), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "try again shortly");
    if (!got) {
        /* Used up, or less left than asked for (maybe by a request that
         * reserved in the meantime); what the link had when it was read: */
        lenz_json *ext = lenz_json_new_object(r->pool);
        apr_int64_t dl, left;
        lenz_link_left(l, &dl, &left);
        /* The answer is about the link, not the file whose headers were
         * set already (a browser would save the page as the file). */
        apr_table_unset(r->headers_out, "Content-Disposition");
        apr_table_unset(r->headers_out, "ETag");
        apr_table_unset(r->headers_out, "Last-Modified");
        apr_table_unset(r->headers_out, "Accept-Ranges");
        r->status = HTTP_OK;
        lenz_json_set_int(ext, "downloads_left", dl);
        lenz_json_set_int(ext, "bytes_left", left);
        lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(2150), HTTP_GONE, "link-gone", "Link no longer valid",
                      download && dl == 0 ? "this link's downloads are used up"
                      : "less of this link's downloads is left than this request asks for", ext);
        return 0;
    }
    c->download = download;
    c->bytes = bytes;
    return 1;
}

void lenz_dl_settle(request_rec *r, const lenz_link *l, const lenz_dl_claim *c, apr_int64_t sent)
{
    const char *args[3];
    apr_int64_t back = c->bytes - sent;
    /* Nothing handed over (a pass that failed counts as handed over):
     * the server failed before its first byte. */
    int download = c->download && sent <= 0 && c->bytes > 0;
    lenz_db *db;

    if (back < 0)
        back = 0;
    if (back == 0 && !download)
        return;         /* all of it went out: nothing to give back */
    args[0] = download ? "1" : "0";
    args[1] = i64(r->pool, back);
    args[2] = l->id;
    if (!(db = lenz_db_open(r)) || lenz_db_exec(db, "lenz_dl_giveback", NULL, 3, args) != APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, LENZLOGNO(2152) "link %s: %" APR_INT64_T_FMT
                      " bytes%s not sent could not be given back", l->id, back,
                      download ? " and the download" : "");
    else
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "link %s: %" APR_INT64_T_FMT " bytes%s given back",
                      l->id, back, download ? " and the download" : "");
    if (db)
        lenz_db_close(db);
}
