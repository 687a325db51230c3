/* h_search.c - search across everything the caller may see (docs/api.md,
 * "Search"): files and folders (names), comments, topics and posts, as
 *
 *   GET /api/v1/search?q=&type=file,folder,comment,topic,post,message&cursor=&limit=
 *       -> 200 {"results":[{"type","id","title","snippet"}],"next_cursor"}
 *   GET /search?q=   the search page (lenz-search)
 *
 * One statement: PostgreSQL full text (the 'simple' configuration; names
 * and titles weigh over bodies) with the last word matched as a prefix
 * (as you type), ts_rank_cd ordering, pg_trgm word similarity for typos in
 * names and titles, and lenz_access() on every candidate inside the query
 * (sql/024): nothing the caller may not see is read into the module.
 * Messages: the title is the author's name.  Snippets come from ts_headline over the page's rows only, the matches
 * between \x01 and \x02, escaped here and marked with <mark>. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "area.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/dbd.h"
#include "httpd/auth.h"
#include "httpd/render.h"
#include "codec.h"
#include "search_sql.h"

#define LIMIT_DEFAULT 20
#define LIMIT_MAX 100
#define OFFSET_MAX 1000
#define WORDS_MAX 8

#define T_FILE    1
#define T_FOLDER  2
#define T_COMMENT 4
#define T_TOPIC   8
#define T_POST    16
#define T_MESSAGE 32

const lenz_stmt lenz_search_stmts[] = {
    { "lenz_search", LENZ_SEARCH_SQL },
    { NULL }
};

/* The words of q as a tsquery: "w1 & w2 & w3:*" (the last as a prefix:
 * as you type).  Words are letters and digits (any UTF-8 letter); the rest
 * separates them.  NULL when there is none. */
static const char *tsquery_of(apr_pool_t *p, const char *q)
{
    const unsigned char *s = (const unsigned char *)q;
    const char *out = NULL, *last = NULL;
    int n = 0;
    while (*s && n < WORDS_MAX) {
        const unsigned char *b;
        while (*s && !(apr_isalnum(*s) || *s >= 0x80))
            s++;
        b = s;
        while (*s && (apr_isalnum(*s) || *s >= 0x80))
            s++;
        if (s > b) {
            const char *w = lenz_ascii_lower(p, apr_pstrmemdup(p, (const char *)b, s - b));
            if (last)
                out = out ? apr_pstrcat(p, out, " & ", last, NULL) : last;
            last = w;
            n++;
        }
    }
    if (!last)
        return NULL;
    last = apr_pstrcat(p, last, ":*", NULL);
    return out ? apr_pstrcat(p, out, " & ", last, NULL) : last;
}

static int types_of(const char *s, int *mask)
{
    static const char *const names[] = { "file", "folder", "comment", "topic", "post", "message" };
    char *copy, *last, *w;
    unsigned i;
    *mask = 0;
    if (!s || !*s) {
        *mask = T_FILE | T_FOLDER | T_COMMENT | T_TOPIC | T_POST | T_MESSAGE;
        return 1;
    }
    copy = strdup(s);
    for (w = apr_strtok(copy, ",", &last); w; w = apr_strtok(NULL, ",", &last)) {
        for (i = 0; i < sizeof(names) / sizeof(names[0]) && strcmp(w, names[i]); i++)
            ;
        if (i == sizeof(names) / sizeof(names[0])) {
            free(copy);
            return 0;
        }
        *mask |= 1 << i;
    }
    free(copy);
    return *mask != 0;
}

/* A snippet as HTML: the text escaped, the matches in <mark>. */
static const char *snippet_html(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0;
    const char *c;
    char *out, *o;
    for (c = s; *c; c++)
        n += *c == '&' ? 5 : *c == '<' || *c == '>' ? 4 : *c == '"' ? 6 : *c == '\x01' ? 6 : *c == '\x02' ? 7 : 1;
    o = out = apr_palloc(p, n + 1);
    for (c = s; *c; c++) {
        const char *rep = *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;" : *c == '"' ? "&quot;"
                        : *c == '\x01' ? "<mark>" : *c == '\x02' ? "</mark>" : NULL;
        if (rep) {
            apr_size_t l = strlen(rep);
            memcpy(o, rep, l);
            o += l;
        }
        else
            *o++ = *c;
    }
    *o = '\0';
    return out;
}

/* Runs the search; 0 after answering 400/503.  *next: the next page's
 * cursor or NULL. */
static int run(request_rec *r, lenz_req *lr, const char *q, const char *type, const char *cursor, int limit,
               lenz_rows *rows, const char **next)
{
    const char *tq, *args[7];
    int mask, offset = 0;
    lenz_db *db;
    if (!q || !*q || strlen(q) > 200 || !(tq = tsquery_of(r->pool, q)))
        return lenz_field_bad(r, "q", "1 to 200 characters with at least one word"), 0;
    if (!types_of(type, &mask))
        return lenz_field_bad(r, "type", "file, folder, comment, topic, post or message, separated by commas"), 0;
    if (cursor) {
        char *end;
        long v = strtol(cursor, &end, 10);
        if (!*cursor || *end || v < 0 || v > OFFSET_MAX)
            return lenz_field_bad(r, "cursor", "a next_cursor this search gave"), 0;
        offset = (int)v;
    }
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2760)), 0;
    args[0] = tq;
    args[1] = q;
    args[2] = apr_itoa(r->pool, mask);
    args[3] = lr->user->id;
    args[4] = apr_itoa(r->pool, offset + limit + 1);
    args[5] = apr_itoa(r->pool, offset);
    args[6] = apr_itoa(r->pool, limit + 1);
    if (lenz_db_select(db, "lenz_search", rows, 7, args) != APR_SUCCESS)
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2760)), 0;
    lenz_db_close(db);
    *next = NULL;
    if (rows->nrows > limit) {
        rows->nrows = limit;
        if (offset + limit <= OFFSET_MAX)
            *next = apr_itoa(r->pool, offset + limit);
    }
    return 1;
}

static void results_json(request_rec *r, lenz_json *arr, const lenz_rows *rows)
{
    int i;
    for (i = 0; i < rows->nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_str(o, "type", rows->rows[i][0]);
        lenz_json_set_str(o, "id", rows->rows[i][1]);
        lenz_json_set_str(o, "title", rows->rows[i][2]);
        lenz_json_set_str(o, "snippet", snippet_html(r->pool, rows->rows[i][3]));
    }
}

static int api_search(request_rec *r, lenz_req *lr)
{
    const char *limit_s = lenz_query(r, "limit"), *next;
    lenz_json *out;
    lenz_rows rows;
    int limit = LIMIT_DEFAULT;
    if (limit_s) {
        char *end;
        long v = strtol(limit_s, &end, 10);
        if (!*limit_s || *end || v < 1 || v > LIMIT_MAX)
            return lenz_field_bad(r, "limit", apr_psprintf(r->pool, "1 to %d", LIMIT_MAX)), OK;
        limit = (int)v;
    }
    if (!run(r, lr, lenz_query(r, "q"), lenz_query(r, "type"), lenz_query(r, "cursor"), limit, &rows, &next))
        return OK;
    out = lenz_json_new_object(r->pool);
    results_json(r, lenz_json_obj_add_array(out, "results"), &rows);
    lenz_json_set_str(out, "next_cursor", next);
    return lenz_send_json(r, HTTP_OK, out);
}

/* Where a result leads on the site. */
static const char *result_url(apr_pool_t *p, const char **row)
{
    if (!strcmp(row[0], "folder"))
        return apr_pstrcat(p, "/files/folder/", row[1], NULL);
    if (!strcmp(row[0], "file"))
        return apr_pstrcat(p, "/collab/file/", row[1], NULL);
    if (!strcmp(row[0], "topic"))
        return apr_pstrcat(p, "/topics/", row[1], NULL);
    return NULL;
}

static int page(request_rec *r, lenz_req *lr)
{
    const char *q = lenz_query(r, "q"), *next = NULL;
    lenz_json *ctx = lenz_json_new_object(r->pool), *arr;
    lenz_rows rows;
    int i;
    lenz_json_set_str(ctx, "title", "Search");
    lenz_json_set_str(ctx, "q", q);
    if (q && *q) {
        if (!run(r, lr, q, NULL, lenz_query(r, "cursor"), LIMIT_DEFAULT, &rows, &next))
            return OK;
        arr = lenz_json_obj_add_array(ctx, "results");
        results_json(r, arr, &rows);
        for (i = 0; i < rows.nrows; i++) {
            lenz_json *o = lenz_json_array_get(arr, (apr_size_t)i);
            lenz_json_set_str(o, "url", result_url(r->pool, rows.rows[i]));
        }
        lenz_json_set_bool(ctx, "searched", 1);
        lenz_json_set_bool(ctx, "none", rows.nrows == 0);
        if (next)
            lenz_json_set_str(ctx, "next_url", apr_pstrcat(r->pool, "/search?q=", ap_escape_uri(r->pool, q),
                                                           "&cursor=", next, NULL));
    }
    return lenz_render_page(r, HTTP_OK, "search", ctx);
}

const lenz_route lenz_api_search_routes[] = {
    { LENZ_GET, "/search", api_search, LENZ_ACCESS_MEMBER },
    { 0 }
};

static const lenz_route routes[] = {
    { LENZ_GET, "/", page, LENZ_ACCESS_MEMBER },
    { 0 }
};
static const lenz_route *const tables[] = { routes, NULL };
const lenz_area lenz_area_search = { "lenz-search", "search", tables, NULL, 0 };
