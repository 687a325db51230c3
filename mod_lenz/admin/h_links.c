/* h_links.c - share links in the admin console: /admin/links (the live
 * links, the largest or the most downloaded first, everyone's or one
 * owner's (?owner=EMAIL): a link's size is what it serves now,
 * lenz_link_files) with Revoke on each, and /api/v1/admin/links.  Revoking is the owner's revoke: the link answers
 * 410 from the next request on.  Each revoke is an admin.link_revoked
 * event naming the administrator. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "links_admin.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/outbox.h"
#include "codec.h"

#define ISO(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define LIST_MAX 100

const lenz_stmt lenz_admin_links_stmts[] = {
    { "lenz_adm_links",
      "SELECT l.id, u.email, CASE WHEN l.folder_id IS NOT NULL THEN 'folder' WHEN l.file_set THEN 'files' "
      "WHEN l.file_id IS NOT NULL THEN 'file' ELSE 'transfer' END, "
      "coalesce(d.name, (SELECT f.name FROM files f WHERE f.id = l.file_id), ''), "
      "s.bytes, s.n, l.downloads, l.max_downloads, " ISO("l.created_at") ", " ISO("l.expires_at") " "
      "FROM links l LEFT JOIN users u ON u.id = l.owner_id LEFT JOIN folders d ON d.id = l.folder_id "
      "CROSS JOIN LATERAL (SELECT coalesce(sum(f.size), 0) AS bytes, count(f.id) AS n "
      "  FROM lenz_link_files(l.id) x JOIN files f ON f.id = x.file_id AND f.state = 'ready') s "
      "WHERE l.revoked_at IS NULL AND l.expires_at > now() AND (%s::text IS NULL OR u.email = %s::citext) "
      "ORDER BY CASE WHEN %s = 'downloads' THEN l.downloads ELSE s.bytes END DESC, l.created_at DESC "
      "LIMIT " APR_STRINGIFY(LIST_MAX) },
    { "lenz_adm_link_revoke",
      "UPDATE links SET revoked_at = now() WHERE id::text = %s AND revoked_at IS NULL RETURNING owner_id" },
    { NULL }
};

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2265), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

static const char *sort_of(request_rec *r)
{
    const char *s = lenz_query(r, "sort");
    if (!s || !strcmp(s, "size"))
        return "size";
    return !strcmp(s, "downloads") ? "downloads" : NULL;
}

/* owner: an e-mail address, or NULL for everyone's. */
static const char *owner_of(request_rec *r)
{
    const char *o = lenz_query(r, "owner");
    return o && *o && strlen(o) <= 254 ? o : NULL;
}

static int load(request_rec *r, const char *sort, const char *owner, lenz_json *arr, int page)
{
    const char *args[3] = { owner, owner, sort };
    lenz_rows rows;
    lenz_db *db = lenz_db_open(r);
    int i;
    if (!db)
        return 0;
    if (lenz_db_select(db, "lenz_adm_links", &rows, 3, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return 0;
    }
    lenz_db_close(db);
    for (i = 0; i < rows.nrows; i++) {
        const char **row = rows.rows[i];
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_str(o, "id", row[0]);
        lenz_json_set_str(o, "owner_email", row[1]);
        lenz_json_set_str(o, "kind", row[2]);
        lenz_json_set_str(o, "name", row[3]);
        lenz_json_set_int(o, "size", apr_atoi64(row[4]));
        lenz_json_set_int(o, "files", apr_atoi64(row[5]));
        lenz_json_set_int(o, "downloads", apr_atoi64(row[6]));
        if (row[7])
            lenz_json_set_int(o, "max_downloads", apr_atoi64(row[7]));
        else
            lenz_json_set_null(o, "max_downloads");
        lenz_json_set_str(o, "created_at", row[8]);
        lenz_json_set_str(o, "expires_at", row[9]);
        if (page)
            lenz_json_set_str(o, "size_text", lenz_human_size(r->pool, apr_atoi64(row[4])));
    }
    return 1;
}

/* 0 revoked, else the HTTP status. */
static int revoke_link(request_rec *r, lenz_req *lr, const char *id)
{
    const char *args[1] = { id };
    lenz_rows rows;
    lenz_json *ev;
    lenz_db *db;
    apr_status_t rv;
    if (!id || !lenz_uuid_ok(id))
        return HTTP_NOT_FOUND;
    if (!(db = lenz_db_open(r)))
        return HTTP_SERVICE_UNAVAILABLE;
    lenz_db_begin(db);
    rv = lenz_db_select(db, "lenz_adm_link_revoke", &rows, 1, args);
    if (rv == APR_SUCCESS && rows.nrows == 1) {
        ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "owner_id", rows.rows[0][0]);
        lenz_json_set_str(ev, "ip", r->useragent_ip);
        rv = lenz_event_emit(db, "admin.link_revoked", lr->user->id, id, ev);
    }
    lenz_db_end(db, rv != APR_SUCCESS || rows.nrows != 1);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        return HTTP_SERVICE_UNAVAILABLE;
    return rows.nrows == 1 ? 0 : HTTP_NOT_FOUND;
}

static int answer_revoke(request_rec *r, int rc)
{
    if (rc == HTTP_SERVICE_UNAVAILABLE)
        return unavailable(r);
    return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "Not found", "no such live link");
}

static int links_page(request_rec *r, lenz_req *lr)
{
    const char *sort = sort_of(r);
    lenz_json *ctx = lenz_json_new_object(r->pool);
    if (!sort)
        return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "No such order",
                         "sort: size or downloads");
    if (!load(r, sort, owner_of(r), lenz_json_obj_add_array(ctx, "links"), 1))
        return unavailable(r);
    lenz_json_set_str(ctx, "title", "Links");
    lenz_json_set_bool(ctx, "nav_links", 1);
    lenz_json_set_str(ctx, "csrf", lenz_csrf_token(r, lr));
    lenz_json_set_str(ctx, "sort", sort);
    lenz_json_set_bool(ctx, !strcmp(sort, "size") ? "by_size" : "by_downloads", 1);
    if (lenz_query(r, "revoked"))
        lenz_json_set_str(ctx, "saved", "The link was revoked.");
    return lenz_render_page(r, HTTP_OK, "admin/links", ctx);
}

static int page_revoke(request_rec *r, lenz_req *lr)
{
    int rc;
    if (!lenz_body_form(r, lr))
        return OK;
    if ((rc = revoke_link(r, lr, lenz_param(lr, "id"))))
        return answer_revoke(r, rc);
    apr_table_setn(r->err_headers_out, "Location",
                   apr_pstrcat(r->pool, lr->srv->public_url, "/admin/links?revoked=1", NULL));
    r->status = HTTP_SEE_OTHER;
    return OK;
}

const lenz_route lenz_admin_links_routes[] = {
    { LENZ_GET, "/links", links_page, LENZ_ACCESS_ADMIN },
    { LENZ_POST, "/links/{id}/revoke", page_revoke, LENZ_ACCESS_ADMIN },
    { 0 }
};

static int api_links(request_rec *r, lenz_req *lr)
{
    const char *sort = sort_of(r);
    lenz_json *out = lenz_json_new_object(r->pool);
    (void)lr;
    if (!sort)
        return lenz_field_bad(r, "sort", "size or downloads");
    if (!load(r, sort, owner_of(r), lenz_json_obj_add_array(out, "links"), 0))
        return unavailable(r);
    return lenz_send_json(r, HTTP_OK, out);
}

static int api_revoke(request_rec *r, lenz_req *lr)
{
    int rc = revoke_link(r, lr, lenz_param(lr, "id"));
    if (rc)
        return answer_revoke(r, rc);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

const lenz_route lenz_api_admin_links_routes[] = {
    { LENZ_GET, "/admin/links", api_links, LENZ_ACCESS_ADMIN },
    { LENZ_DELETE, "/admin/links/{id}", api_revoke, LENZ_ACCESS_ADMIN },
    { 0 }
};
