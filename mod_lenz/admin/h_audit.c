/* h_audit.c - the audit log in the admin console: /admin/audit (a page,
 * filtered, 100 rows a page, newest first), /admin/audit.csv (the same
 * filters, every matching row, streamed) and /api/v1/admin/audit (JSON).
 *
 * Filters: actor (an e-mail address or a user id), type (an action, or the
 * start of one: "admin." is every admin action), object (the subject, as
 * the event names it), from and to (days, YYYY-MM-DD, UTC, both
 * included), q (words anywhere in the type, subject or details: full text,
 * sql/020), before (an entry id: the page after).
 *
 * The export reads LENZ_CSV_BATCH rows at a time by id (keyset), each
 * batch in a pool of its own that is cleared before the next, and passes
 * each batch to the client before reading on: memory stays at one batch
 * whatever the range (t/admin_audit.t measures a million rows). */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "area.h"
#include "audit_admin.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/render.h"

#define PAGE_ROWS      100
#define LENZ_CSV_BATCH 1000
#define ISO(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

const lenz_stmt lenz_admin_audit_stmts[] = {
    { "lenz_adm_audit",
      "SELECT a.id, " ISO("a.created_at") ", a.type, a.actor_id, u.email, a.subject, a.payload::text "
      "FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id "
      "WHERE (%s::text IS NULL OR a.actor_id = (SELECT x.id FROM users x WHERE x.email = %s::citext) "
      "       OR a.actor_id::text = %s) "
      "AND (%s::text IS NULL OR starts_with(a.type, %s)) "
      "AND (%s::text IS NULL OR a.subject = %s) "
      "AND (%s::date IS NULL OR a.created_at >= %s::date) "
      "AND (%s::date IS NULL OR a.created_at < %s::date + 1) "
      "AND (%s::text IS NULL OR to_tsvector('simple', a.type || ' ' || coalesce(a.subject, '') || ' ' "
      "     || a.payload::text) @@ plainto_tsquery('simple', %s)) "
      /* Newest first by when it happened: runners dispatch events in
       * parallel, so the row ids need not follow the events' order.
       * before: the entries after that one in this order. */
      "AND (%s::bigint IS NULL OR (a.created_at, a.id) < "
      "     (SELECT b.created_at, b.id FROM audit_log b WHERE b.id = %s::bigint)) "
      "ORDER BY a.created_at DESC, a.id DESC LIMIT %s::int" },
    { NULL }
};

typedef struct {
    const char *actor, *type, *object, *from, *to, *q, *before;
} audit_filter;

static int is_date(const char *s)
{
    int i;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !apr_isdigit(s[i]))
            return 0;
    return (s[5] == '0' || (s[5] == '1' && s[6] <= '2')) && !(s[5] == '0' && s[6] == '0')
           && s[8] <= '3' && !(s[8] == '0' && s[9] == '0') && !(s[8] == '3' && s[9] > '1');
}

static const char *opt(request_rec *r, const char *name)
{
    const char *v = lenz_query(r, name);
    return v && *v ? v : NULL;
}

/* The filter from the query: NULL when fine, else the bad parameter. */
static const char *read_filter(request_rec *r, audit_filter *f)
{
    const char *c;
    f->actor = opt(r, "actor");
    f->type = opt(r, "type");
    f->object = opt(r, "object");
    f->from = opt(r, "from");
    f->to = opt(r, "to");
    f->q = opt(r, "q");
    f->before = opt(r, "before");
    if (f->actor && strlen(f->actor) > 254)
        return "actor";
    if (f->type && strlen(f->type) > 100)
        return "type";
    if (f->object && strlen(f->object) > 200)
        return "object";
    if (f->q && strlen(f->q) > 200)
        return "q";
    if (f->from && !is_date(f->from))
        return "from";
    if (f->to && !is_date(f->to))
        return "to";
    if (f->before) {
        if (strlen(f->before) > 18)
            return "before";
        for (c = f->before; *c; c++)
            if (!apr_isdigit(*c))
                return "before";
    }
    return NULL;
}

static apr_status_t fetch(lenz_db *db, apr_pool_t *p, const audit_filter *f, const char *before, int limit,
                          lenz_rows *rows)
{
    const char *args[17];
    args[0] = args[1] = args[2] = f->actor;
    args[3] = args[4] = f->type;
    args[5] = args[6] = f->object;
    args[7] = args[8] = f->from;
    args[9] = args[10] = f->to;
    args[11] = args[12] = f->q;
    args[13] = args[14] = before;
    args[15] = apr_itoa(p, limit);
    return lenz_db_select_in(db, p, "lenz_adm_audit", rows, 16, args);
}

static void entry_json(apr_pool_t *p, lenz_json *o, const char **row)
{
    lenz_json *payload = lenz_json_parse(p, row[6], strlen(row[6]), 0, NULL);
    lenz_json_set_int(o, "id", apr_atoi64(row[0]));
    lenz_json_set_str(o, "created_at", row[1]);
    lenz_json_set_str(o, "type", row[2]);
    lenz_json_set_str(o, "actor_id", row[3]);
    lenz_json_set_str(o, "actor_email", row[4]);
    lenz_json_set_str(o, "subject", row[5]);
    if (payload)
        lenz_json_set_copy(o, "details", payload);
}

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2263), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

static int bad(request_rec *r, const char *field)
{
    return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_REQUEST, "invalid-field", "Check the filter",
                     apr_psprintf(r->pool, "%s: %s", field,
                                  !strcmp(field, "from") || !strcmp(field, "to") ? "a day as YYYY-MM-DD"
                                  : !strcmp(field, "before") ? "an entry id" : "too long"));
}

/* The query string of the filter, for links (without before). */
static const char *filter_query(request_rec *r, const audit_filter *f)
{
    const char *s = "";
    const char *names[6] = { "actor", "type", "object", "from", "to", "q" };
    const char *vals[6] = { f->actor, f->type, f->object, f->from, f->to, f->q };
    int i;
    for (i = 0; i < 6; i++)
        if (vals[i])
            s = apr_pstrcat(r->pool, s, "&", names[i], "=", ap_escape_urlencoded(r->pool, vals[i]), NULL);
    return s;
}

static int page(request_rec *r, lenz_req *lr)
{
    audit_filter f;
    const char *why = read_filter(r, &f);
    lenz_json *ctx, *arr;
    lenz_rows rows;
    lenz_db *db;
    int i;

    if (why)
        return bad(r, why);
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (fetch(db, r->pool, &f, f.before, PAGE_ROWS + 1, &rows) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    ctx = lenz_json_new_object(r->pool);
    lenz_json_set_str(ctx, "title", "Audit log");
    lenz_json_set_bool(ctx, "nav_audit", 1);
    lenz_json_set_str(ctx, "actor", f.actor);
    lenz_json_set_str(ctx, "type", f.type);
    lenz_json_set_str(ctx, "object", f.object);
    lenz_json_set_str(ctx, "from", f.from);
    lenz_json_set_str(ctx, "to", f.to);
    lenz_json_set_str(ctx, "q", f.q);
    arr = lenz_json_obj_add_array(ctx, "entries");
    for (i = 0; i < rows.nrows && i < PAGE_ROWS; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr);
        entry_json(r->pool, o, rows.rows[i]);
        lenz_json_set_str(o, "details_text", rows.rows[i][6]);
    }
    lenz_json_set_bool(ctx, "none", rows.nrows == 0);
    lenz_json_set_str(ctx, "csv", apr_pstrcat(r->pool, "?", filter_query(r, &f) + (*filter_query(r, &f) ? 1 : 0), NULL));
    if (rows.nrows > PAGE_ROWS)
        lenz_json_set_str(ctx, "next", apr_pstrcat(r->pool, "?before=", rows.rows[PAGE_ROWS - 1][0],
                                                   filter_query(r, &f), NULL));
    (void)lr;
    return lenz_render_page(r, HTTP_OK, "admin/audit", ctx);
}

static int api_list(request_rec *r, lenz_req *lr)
{
    audit_filter f;
    const char *why = read_filter(r, &f);
    lenz_json *out, *arr;
    lenz_rows rows;
    lenz_db *db;
    int i;
    (void)lr;
    if (why)
        return lenz_field_bad(r, why, "see docs/api.md: actor, type, object, from, to (YYYY-MM-DD), q, before");
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    if (fetch(db, r->pool, &f, f.before, PAGE_ROWS + 1, &rows) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    arr = lenz_json_obj_add_array(out, "entries");
    for (i = 0; i < rows.nrows && i < PAGE_ROWS; i++)
        entry_json(r->pool, lenz_json_arr_add_object(arr), rows.rows[i]);
    if (rows.nrows > PAGE_ROWS)
        lenz_json_set_int(out, "next_before", apr_atoi64(rows.rows[PAGE_ROWS - 1][0]));
    else
        lenz_json_set_null(out, "next_before");
    return lenz_send_json(r, HTTP_OK, out);
}

/* One CSV field (RFC 4180): quoted when it holds a comma, quote or line
 * break; a leading =, +, - or @ gets a ' so a spreadsheet shows it as
 * text rather than running it as a formula. */
static void csv_field(apr_bucket_brigade *bb, const char *v, int last)
{
    const char *c, *run;
    int quote = 0;
    if (v) {
        for (c = v; *c; c++)
            if (*c == ',' || *c == '"' || *c == '\n' || *c == '\r')
                quote = 1;
        if (quote)
            apr_brigade_putc(bb, NULL, NULL, '"');
        if (*v == '=' || *v == '+' || *v == '-' || *v == '@')
            apr_brigade_putc(bb, NULL, NULL, '\'');
        /* Runs between quotes at once; each quote doubled. */
        for (run = c = v; *c; c++)
            if (*c == '"') {
                apr_brigade_write(bb, NULL, NULL, run, (apr_size_t)(c - run + 1));
                run = c;
            }
        apr_brigade_write(bb, NULL, NULL, run, (apr_size_t)(c - run));
        if (quote)
            apr_brigade_putc(bb, NULL, NULL, '"');
    }
    apr_brigade_write(bb, NULL, NULL, last ? "\r\n" : ",", last ? 2 : 1);
}

static int csv(request_rec *r, lenz_req *lr)
{
    audit_filter f;
    const char *why = read_filter(r, &f), *before;
    apr_bucket_brigade *bb;
    apr_pool_t *batch;
    lenz_rows rows;
    lenz_db *db;
    apr_off_t total = 0;
    int i, j;
    char day[16];
    apr_size_t dl;
    apr_time_exp_t now;

    (void)lr;
    if (why)
        return bad(r, why);
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    apr_pool_create(&batch, r->pool);
    /* The first batch before any byte is sent: a failure is still a 503. */
    if (fetch(db, batch, &f, f.before, LENZ_CSV_BATCH, &rows) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    apr_time_exp_gmt(&now, apr_time_now());
    apr_strftime(day, &dl, sizeof(day), "%Y%m%d", &now);
    ap_set_content_type(r, "text/csv; charset=utf-8");
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool, "attachment; filename=\"audit-%s.csv\"", day));
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_puts(bb, NULL, NULL, "id,created_at,type,actor_id,actor_email,subject,details\r\n");
    for (;;) {
        for (i = 0; i < rows.nrows; i++)
            for (j = 0; j < 7; j++)
                csv_field(bb, rows.rows[i][j], j == 6);
        total += rows.nrows;
        if (ap_pass_brigade(r->output_filters, bb) != APR_SUCCESS || r->connection->aborted) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "audit export: the client went away after %"
                          APR_OFF_T_FMT " rows", total);
            break;
        }
        apr_brigade_cleanup(bb);
        if (rows.nrows < LENZ_CSV_BATCH)
            break;
        before = apr_pstrdup(r->pool, rows.rows[rows.nrows - 1][0]);
        apr_pool_clear(batch);
        if (fetch(db, batch, &f, before, LENZ_CSV_BATCH, &rows) != APR_SUCCESS) {
            /* Mid-stream the status is sent: the connection is dropped
             * before the chunked body's end, so the client sees a cut
             * file rather than a short one that looks whole. */
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LENZLOGNO(2264) "audit export: reading failed after %"
                          APR_OFF_T_FMT " rows", total);
            r->connection->keepalive = AP_CONN_CLOSE;
            r->connection->aborted = 1;
            break;
        }
    }
    apr_pool_destroy(batch);
    lenz_db_close(db);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "audit export: %" APR_OFF_T_FMT " rows", total);
    return OK;
}

const lenz_route lenz_admin_audit_routes[] = {
    { LENZ_GET, "/audit", page, LENZ_ACCESS_ADMIN },
    { LENZ_GET, "/audit.csv", csv, LENZ_ACCESS_ADMIN },
    { 0 }
};

const lenz_route lenz_api_admin_audit_routes[] = {
    { LENZ_GET, "/admin/audit", api_list, LENZ_ACCESS_ADMIN },
    { 0 }
};
