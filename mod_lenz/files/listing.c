/* listing.c - a folder's children page by page, and search over a member's
 * names and folder paths (listing.h).
 *
 * Pages are keyset-paged: the cursor holds the last row's (kind, sort key,
 * id), so page N costs what page 1 costs however deep it is.  Folders come
 * before files in every order; within each, the chosen key (name: its
 * comparison key; size; modified) and the id break ties.  Search ranks
 * PostgreSQL full text over the name's words (ts_rank_cd) against pg_trgm's
 * word similarity (typos, partial words: "invoce" finds "invoice-2024.pdf"),
 * whichever is higher, and pages by (rank, id). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "listing.h"
#include "codec.h"

/* One page of a folder's children in one order.  Each branch (folders,
 * then files) takes its own rows after the cursor in its index's order,
 * at most a page, and the union is ordered and cut once more: PostgreSQL
 * reads a page from each index instead of sorting the whole folder.
 * kf/kx: the folders' and files' sort key; kfo/kxo: that key as the
 * cursor's text; param: the cursor's text back as a key; cmp/dir: < DESC
 * or > ASC.  The cursor's key goes out as k_text, never as the sort column
 * itself: ORDER BY must sort the key, not its text ("9" after "24").
 * Arguments: folder, t, t, k, id, limit (folders); the same (files); limit. */
#define TS(a)   "to_char(" a ".updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define ETAG(a) "'\"' || (extract(epoch FROM " a ".updated_at) * 1000000)::bigint || '\"'"
#define KIDS(kf, kx, kfo, kxo, param, cmp, dir) \
    "SELECT t, id, name, size, mod, etag, k_text FROM (" \
    "(SELECT 0 AS t, f.id, f.name, NULL::bigint AS size, " TS("f") " AS mod, " ETAG("f") " AS etag, " \
    kfo " AS k_text, " kf " AS ok FROM folders f WHERE f.parent_id = %s::uuid AND f.trashed_at IS NULL " \
    "AND (%s::int IS NULL OR (%s::int = 0 AND (" kf ", f.id) " cmp " (" param ", %s::uuid))) " \
    "ORDER BY " kf " " dir ", f.id " dir " LIMIT %s::int) " \
    "UNION ALL " \
    "(SELECT 1, x.id, x.name, x.size, " TS("x") ", " ETAG("x") ", " kxo ", " kx " FROM files x " \
    "WHERE x.folder_id = %s::uuid AND x.trashed_at IS NULL AND x.state = 'ready' " \
    "AND (%s::int IS NULL OR %s::int = 0 OR (" kx ", x.id) " cmp " (" param ", %s::uuid)) " \
    "ORDER BY " kx " " dir ", x.id " dir " LIMIT %s::int)) c " \
    "ORDER BY t, ok " dir ", id " dir " LIMIT %s::int"

#define BY_NAME(cmp, dir) KIDS("f.name_key COLLATE \"C\"", "x.name_key COLLATE \"C\"", "f.name_key", "x.name_key", \
                               "%s::text COLLATE \"C\"", cmp, dir)
/* Folders have no size: -1, before every file's. */
#define BY_SIZE(cmp, dir) KIDS("(-1)::bigint", "x.size", "'-1'", "x.size::text", "%s::bigint", cmp, dir)
/* Times in the cursor as microseconds since the epoch (exact both ways). */
#define MICROS(a) "(extract(epoch FROM " a ".updated_at) * 1000000)::bigint::text"
#define BY_MOD(cmp, dir) KIDS("f.updated_at", "x.updated_at", MICROS("f"), MICROS("x"), \
                              "('epoch'::timestamptz + %s::bigint * interval '1 microsecond')", cmp, dir)

const lenz_stmt lenz_listing_stmts[] = {
    { "lenz_ls_name_asc",  BY_NAME(">", "ASC") },
    { "lenz_ls_name_desc", BY_NAME("<", "DESC") },
    { "lenz_ls_size_asc",  BY_SIZE(">", "ASC") },
    { "lenz_ls_size_desc", BY_SIZE("<", "DESC") },
    { "lenz_ls_modified_asc",  BY_MOD(">", "ASC") },
    { "lenz_ls_modified_desc", BY_MOD("<", "DESC") },
    /* Search: live items of the owner only (paths under '//' are in the trash). */
    { "lenz_ls_search",
      "WITH q AS (SELECT plainto_tsquery('simple', translate(%s, '._-', '   ')) AS tq, lower(%s) AS s), "
      "hits AS ("
      " SELECT 'file' AS t, x.id, x.name, rtrim(p.path, '/') || '/' || x.name AS path, x.size, "
      "  greatest(ts_rank_cd(x.search, q.tq), word_similarity(q.s, x.name)) AS score "
      " FROM files x JOIN folders p ON p.id = x.folder_id, q "
      " WHERE x.owner_id = %s::uuid AND x.trashed_at IS NULL AND x.state = 'ready' AND left(p.path, 2) <> '//' "
      "  AND (x.search @@ q.tq OR word_similarity(q.s, x.name) >= 0.5 OR strpos(lower(x.name), q.s) > 0 "
      "       OR word_similarity(q.s, p.path) >= 0.5)"
      " UNION ALL"
      " SELECT 'folder', f.id, f.name, f.path, NULL::bigint, word_similarity(q.s, f.path) "
      " FROM folders f, q WHERE f.owner_id = %s::uuid AND f.parent_id IS NOT NULL AND f.trashed_at IS NULL "
      "  AND left(f.path, 2) <> '//' AND (word_similarity(q.s, f.name) >= 0.5 OR strpos(lower(f.name), q.s) > 0)) "
      "SELECT t, id, name, path, size, score::float8::text AS score_text FROM hits "
      "WHERE %s::float8 IS NULL OR score < %s::float8 OR (score = %s::float8 AND id > %s::uuid) "
      "ORDER BY score DESC, id LIMIT %s::int" },
    { NULL }
};

static const char *sort_names[] = { "name", "size", "modified", NULL };

int lenz_ls_sort(const char *s)
{
    int i;
    if (!s || !*s)
        return 0;
    for (i = 0; sort_names[i]; i++)
        if (!strcmp(s, sort_names[i]))
            return i;
    return -1;
}

/* Cursors: base64url of "t\nk\nid" (the last row's), opaque to clients. */
static const char *cursor_make(apr_pool_t *p, const char *t, const char *k, const char *id)
{
    const char *raw = apr_pstrcat(p, t, "\n", k ? k : "", "\n", id, NULL);
    return lenz_b64url(p, (const unsigned char *)raw, strlen(raw));
}

int lenz_ls_cursor_parse(apr_pool_t *p, const char *c, const char **t, const char **k, const char **id)
{
    unsigned char *buf;
    apr_size_t n;
    char *s, *a, *b;
    if (!c || strlen(c) > 1300 || !(buf = lenz_unb64url(p, c, strlen(c), &n)) || memchr(buf, '\0', n))
        return 0;
    s = apr_pstrmemdup(p, (const char *)buf, n);
    if (!(a = strchr(s, '\n')) || !(b = strchr(a + 1, '\n')))
        return 0;
    *a = *b = '\0';
    *t = s;
    *k = a + 1;
    *id = b + 1;
    return strlen(*id) == 36 && **t && strspn(*t, "0123456789.e-+") == strlen(*t);
}

apr_status_t lenz_ls_children(lenz_db *db, const char *folder, int sort, int desc, const char *cursor,
                              int limit, lenz_json *arr, const char **next)
{
    apr_pool_t *p = lenz_db_pool(db);
    const char *label = apr_psprintf(p, "lenz_ls_%s_%s", sort_names[sort], desc ? "desc" : "asc");
    const char *args[13], *t = NULL, *k = NULL, *id = NULL;
    lenz_rows rows;
    int i, n = 0;

    *next = NULL;
    if (cursor && !lenz_ls_cursor_parse(p, cursor, &t, &k, &id))
        return APR_EINVAL;
    if (t && strcmp(t, "0") && strcmp(t, "1"))
        return APR_EINVAL;
    if (t && sort != 0 && (!*k || strspn(k, "-0123456789") != strlen(k)))
        return APR_EINVAL;
    {
        const char *lim = apr_itoa(p, limit + 1);
        int b;
        for (b = 0; b < 2; b++) {       /* the folders' branch, the files' */
            args[n++] = folder;
            args[n++] = t;
            args[n++] = t;
            args[n++] = t ? k : NULL;
            args[n++] = t ? id : NULL;
            args[n++] = lim;
        }
        args[n++] = lim;
    }
    if (lenz_db_select(db, label, &rows, n, args) != APR_SUCCESS)
        return APR_EGENERAL;
    for (i = 0; i < rows.nrows && i < limit; i++) {
        const char **r = rows.rows[i];
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_str(o, "type", r[0][0] == '0' ? "folder" : "file");
        lenz_json_set_str(o, "id", r[1]);
        lenz_json_set_str(o, "name", r[2]);
        if (r[3])
            lenz_json_set_int(o, "size", apr_atoi64(r[3]));
        else
            lenz_json_set_null(o, "size");
        lenz_json_set_str(o, "modified_at", r[4]);
        lenz_json_set_str(o, "etag", r[5]);
    }
    if (rows.nrows > limit) {
        const char **r = rows.rows[limit - 1];
        *next = cursor_make(p, r[0], r[6], r[1]);
    }
    return APR_SUCCESS;
}

apr_status_t lenz_ls_search(lenz_db *db, const char *owner, const char *q, const char *cursor, int limit,
                            lenz_json *arr, const char **next)
{
    apr_pool_t *p = lenz_db_pool(db);
    const char *args[10], *t = NULL, *k = NULL, *id = NULL;
    lenz_rows rows;
    int i;

    *next = NULL;
    if (cursor && (!lenz_ls_cursor_parse(p, cursor, &t, &k, &id) || strcmp(k, "s")))
        return APR_EINVAL;
    args[0] = args[1] = q;
    args[2] = args[3] = owner;
    args[4] = args[5] = args[6] = t;
    args[7] = id;
    args[8] = apr_itoa(p, limit + 1);
    if (lenz_db_select(db, "lenz_ls_search", &rows, 9, args) != APR_SUCCESS)
        return APR_EGENERAL;
    for (i = 0; i < rows.nrows && i < limit; i++) {
        const char **r = rows.rows[i];
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_str(o, "type", r[0]);
        lenz_json_set_str(o, "id", r[1]);
        lenz_json_set_str(o, "name", r[2]);
        lenz_json_set_str(o, "path", r[3]);
        if (r[4])
            lenz_json_set_int(o, "size", apr_atoi64(r[4]));
        else
            lenz_json_set_null(o, "size");
    }
    if (rows.nrows > limit)
        *next = cursor_make(p, rows.rows[limit - 1][5], "s", rows.rows[limit - 1][1]);
    return APR_SUCCESS;
}
