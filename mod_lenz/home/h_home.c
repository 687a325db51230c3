/* h_home.c - lenz-home: the site's front page, "/" (mount it with
 * <LocationMatch "^/$"> and LenzBase /).  For guests: what the site does
 * and the way in (upload, sign in, register); for members: their newest
 * files, their unread notifications, and the way to everything else. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "httpd/auth.h"
#include "httpd/dbd.h"
#include "httpd/render.h"
#include "httpd/config.h"

static const lenz_stmt stmts[] = {
    /* The member's newest files that are in their tree (not in the trash). */
    { "lenz_home_recent",
      "SELECT x.id, x.name, x.size, to_char(x.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), p.path "
      "FROM files x JOIN folders p ON p.id = x.folder_id WHERE x.owner_id = %s::uuid AND x.state = 'ready' "
      "AND x.trashed_at IS NULL AND left(p.path, 2) <> '//' ORDER BY x.updated_at DESC, x.id LIMIT 10" },
    { "lenz_home_unread",
      "SELECT count(*) FROM notifications WHERE user_id = %s::uuid AND read_at IS NULL" },
    { NULL }
};

static int home(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = lenz_json_new_object(r->pool);
    int answered;
    lenz_user *u = lenz_auth_user(r, lr, &answered);

    if (answered)
        return OK;
    lenz_json_set_str(ctx, "title", u ? "Home" : "Share files safely");
    lenz_json_set_int(ctx, "guest_days", lenz_cfg_guest_expiry(lr->srv) / 86400);
    if (u) {
        lenz_json *m = lenz_json_obj_add_object(ctx, "member"), *files = lenz_json_obj_add_array(m, "recent");
        const char *args[1] = { u->id };
        lenz_rows rows;
        lenz_db *db = lenz_db_open(r);
        int i;
        lenz_json_set_str(m, "name", u->name && *u->name ? u->name : u->email);
        if (db) {
            if (lenz_db_select(db, "lenz_home_recent", &rows, 1, args) == APR_SUCCESS)
                for (i = 0; i < rows.nrows; i++) {
                    lenz_json *f = lenz_json_arr_add_object(files);
                    lenz_json_set_str(f, "id", rows.rows[i][0]);
                    lenz_json_set_str(f, "name", rows.rows[i][1]);
                    lenz_json_set_str(f, "size", lenz_human_size(r->pool, apr_atoi64(rows.rows[i][2])));
                    lenz_json_set_str(f, "when", rows.rows[i][3]);
                    lenz_json_set_str(f, "folder", rows.rows[i][4]);
                }
            if (lenz_db_select(db, "lenz_home_unread", &rows, 1, args) == APR_SUCCESS && rows.nrows == 1)
                lenz_json_set_int(m, "unread", apr_atoi64(rows.rows[0][0]));
            lenz_db_close(db);
        }
        lenz_json_set_bool(m, "has_recent", lenz_json_array_len(files) > 0);
    }
    return lenz_render_page(r, HTTP_OK, "home", ctx);
}

static const lenz_route routes[] = {
    { LENZ_GET, "/", home, LENZ_ACCESS_PUBLIC },
    { 0 }
};

static const lenz_route *const tables[] = { routes, NULL };

const lenz_area lenz_area_home = { "lenz-home", "home", tables, stmts, 0 };
