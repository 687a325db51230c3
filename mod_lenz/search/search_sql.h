/* search_sql.h - the search statement (h_search.c), in a header of its
 * own so bench/search compiles the same text for its bare-SQL reference.
 * Plain C string literals only. */
#ifndef LENZ_SEARCH_SQL_H
#define LENZ_SEARCH_SQL_H

/* Each kind's matches (a branch), bounded to the page's end; arguments:
 * types, and the member for lenz_access. */
#define LENZ_SEARCH_BRANCH(bit, sql) "(SELECT * FROM (" sql ") b WHERE (SELECT types FROM q) & " #bit " <> 0 " \
    "ORDER BY rank DESC, id LIMIT (SELECT upto FROM q))"

/* Arguments: tsquery, raw text (for similarity), types, member, page end
 * (offset + limit + 1), offset, limit. */
#define LENZ_SEARCH_SQL \
    "WITH q AS (SELECT to_tsquery('simple', %s) AS tq, %s::text AS raw, %s::int AS types, %s::uuid AS me, " \
    "  %s::int AS upto), " \
    "hits AS (" \
    LENZ_SEARCH_BRANCH(1, "SELECT 'file' AS type, x.id::text AS id, x.name AS title, x.name AS body, " \
    "greatest(ts_rank_cd('{0.1,0.2,0.4,1.0}', setweight(x.search, 'A'), q.tq), " \
    "  word_similarity(q.raw, x.name) * 0.5) AS rank " \
    "FROM files x JOIN folders p ON p.id = x.folder_id, q " \
    "WHERE (x.search @@ q.tq OR q.raw <%% x.name) AND x.state = 'ready' AND x.trashed_at IS NULL " \
    "AND left(p.path, 2) <> '//' AND lenz_access(q.me, 'file', x.id) > 0") \
    " UNION ALL " \
    LENZ_SEARCH_BRANCH(2, "SELECT 'folder' AS type, f.id::text AS id, f.name AS title, f.name AS body, " \
    "greatest(ts_rank_cd('{0.1,0.2,0.4,1.0}', f.search, q.tq), word_similarity(q.raw, f.name) * 0.5) AS rank " \
    "FROM folders f, q WHERE (f.search @@ q.tq OR q.raw <%% f.name) AND f.parent_id IS NOT NULL " \
    "AND f.trashed_at IS NULL AND left(f.path, 2) <> '//' AND lenz_access(q.me, 'folder', f.id) > 0") \
    " UNION ALL " \
    LENZ_SEARCH_BRANCH(4, "SELECT 'comment' AS type, c.id::text AS id, coalesce((SELECT name FROM files WHERE id = c.file_id), " \
    "  (SELECT name FROM folders WHERE id = c.folder_id)) AS title, c.body AS body, " \
    "ts_rank_cd('{0.1,0.2,0.4,1.0}', c.search, q.tq) AS rank FROM comments c, q " \
    "WHERE c.search @@ q.tq AND lenz_access(q.me, 'comment', c.id) > 0 " \
    "AND NOT EXISTS (SELECT 1 FROM files x WHERE x.id = c.file_id AND x.trashed_at IS NOT NULL)") \
    " UNION ALL " \
    LENZ_SEARCH_BRANCH(8, "SELECT 'topic' AS type, t.id::text AS id, t.title AS title, t.body AS body, " \
    "greatest(ts_rank_cd('{0.1,0.2,0.4,1.0}', t.search, q.tq), word_similarity(q.raw, t.title) * 0.5) AS rank " \
    "FROM topics t, q WHERE (t.search @@ q.tq OR q.raw <%% t.title) AND t.removed_at IS NULL " \
    "AND lenz_access(q.me, 'topic', t.id) > 0") \
    " UNION ALL " \
    LENZ_SEARCH_BRANCH(16, "SELECT 'post' AS type, p.id::text AS id, t.title AS title, p.body AS body, " \
    "ts_rank_cd('{0.1,0.2,0.4,1.0}', p.search, q.tq) AS rank " \
    "FROM posts p JOIN topics t ON t.id = p.topic_id, q WHERE p.search @@ q.tq AND p.removed_at IS NULL " \
    "AND t.removed_at IS NULL AND lenz_access(q.me, 'post', p.id) > 0") \
    " UNION ALL " \
    LENZ_SEARCH_BRANCH(32, "SELECT 'message' AS type, m.id::text AS id, coalesce(nullif(u.name, ''), u.email, 'a former member') " \
    "AS title, m.body AS body, ts_rank_cd('{0.1,0.2,0.4,1.0}', m.search, q.tq) AS rank " \
    "FROM messages m LEFT JOIN users u ON u.id = m.author_id, q WHERE m.search @@ q.tq " \
    "AND lenz_access(q.me, 'conversation', m.conversation_id) > 0") \
    "), page AS (SELECT * FROM hits ORDER BY rank DESC, type, id OFFSET %s::int LIMIT %s::int) " \
    "SELECT page.type, page.id, page.title, " \
    "ts_headline('simple', page.body, q.tq, 'StartSel=' || chr(1) || ', StopSel=' || chr(2) " \
    "  || ', MaxWords=24, MinWords=8, MaxFragments=1'), page.rank " \
    "FROM page, q ORDER BY page.rank DESC, page.type, page.id"

#endif
