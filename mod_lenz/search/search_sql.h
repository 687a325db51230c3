/* search_sql.h - the search statement (h_search.c), in a header of its
 * own so bench/search compiles the same text for its bare-SQL reference.
 * Plain C string literals only. */
#ifndef LENZ_SEARCH_SQL_H
#define LENZ_SEARCH_SQL_H

/* Each kind's matches (a branch), bounded to the page's end.  Ranked
 * first, then lenz_access() asked of the candidates in rank order until
 * the page's end is reached: the branch's sql selects its matches with
 * the column "acc" (the id lenz_access takes for kind), and the wrapper
 * filters the sorted candidates (OFFSET 0 keeps the filter above the
 * sort, so PostgreSQL checks access on the rows it returns, not on every
 * match).  Access is still lenz_access's alone; the branches' owner and
 * membership conditions only narrow the candidates to a superset of what
 * it allows (bench/search: 10x on a member's 100,000 names). */
#define LENZ_SEARCH_BRANCH(bit, kind, sql) "(SELECT type, id, title, body, rank FROM (SELECT * FROM (" sql ") b " \
    "WHERE (SELECT types FROM q) & " #bit " <> 0 ORDER BY rank DESC, id OFFSET 0) c " \
    "WHERE lenz_access((SELECT me FROM q), '" kind "', c.acc) > 0 LIMIT (SELECT upto FROM q))"
/* The owners whose trees the member may see something of: their own and
 * those of the folders shared with them (lenz_folder_rank needs one). */
#define LENZ_SEARCH_OWNERS "(SELECT q.me UNION SELECT sf.owner_id FROM shares s JOIN folders sf " \
    "ON sf.id = s.folder_id WHERE s.user_id = q.me AND s.status = 'active')"

/* Arguments: tsquery, raw text (for similarity), types, member, page end
 * (offset + limit + 1), offset, limit. */
#define LENZ_SEARCH_SQL \
    "WITH q AS (SELECT to_tsquery('simple', %s) AS tq, %s::text AS raw, %s::int AS types, %s::uuid AS me, " \
    "  %s::int AS upto), " \
    "hits AS (" \
    LENZ_SEARCH_BRANCH(1, "file", "SELECT 'file' AS type, x.id::text AS id, x.name AS title, x.name AS body, x.id AS acc, " \
    "greatest(ts_rank_cd('{0.1,0.2,0.4,1.0}', setweight(x.search, 'A'), q.tq), " \
    "  word_similarity(q.raw, x.name) * 0.5) AS rank " \
    "FROM files x JOIN folders p ON p.id = x.folder_id, q " \
    "WHERE (x.search @@ q.tq OR q.raw <%% x.name) AND x.state = 'ready' AND x.trashed_at IS NULL " \
    "AND left(p.path, 2) <> '//' AND x.owner_id IN " LENZ_SEARCH_OWNERS) \
    " UNION ALL " \
    LENZ_SEARCH_BRANCH(2, "folder", "SELECT 'folder' AS type, f.id::text AS id, f.name AS title, f.name AS body, " \
    "f.id AS acc, " \
    "greatest(ts_rank_cd('{0.1,0.2,0.4,1.0}', f.search, q.tq), word_similarity(q.raw, f.name) * 0.5) AS rank " \
    "FROM folders f, q WHERE (f.search @@ q.tq OR q.raw <%% f.name) AND f.parent_id IS NOT NULL " \
    "AND f.trashed_at IS NULL AND left(f.path, 2) <> '//' AND f.owner_id IN " LENZ_SEARCH_OWNERS) \
    " UNION ALL " \
    LENZ_SEARCH_BRANCH(4, "comment", "SELECT 'comment' AS type, c.id::text AS id, c.id AS acc, " \
    "coalesce((SELECT name FROM files WHERE id = c.file_id), " \
    "  (SELECT name FROM folders WHERE id = c.folder_id)) AS title, c.body AS body, " \
    "ts_rank_cd('{0.1,0.2,0.4,1.0}', c.search, q.tq) AS rank FROM comments c, q " \
    "WHERE c.search @@ q.tq " \
    "AND NOT EXISTS (SELECT 1 FROM files x WHERE x.id = c.file_id AND x.trashed_at IS NOT NULL)") \
    " UNION ALL " \
    LENZ_SEARCH_BRANCH(8, "topic", "SELECT 'topic' AS type, t.id::text AS id, t.title AS title, t.body AS body, t.id AS acc, " \
    "greatest(ts_rank_cd('{0.1,0.2,0.4,1.0}', t.search, q.tq), word_similarity(q.raw, t.title) * 0.5) AS rank " \
    "FROM topics t, q WHERE (t.search @@ q.tq OR q.raw <%% t.title) AND t.removed_at IS NULL") \
    " UNION ALL " \
    LENZ_SEARCH_BRANCH(16, "post", "SELECT 'post' AS type, p.id::text AS id, t.title AS title, p.body AS body, p.id AS acc, " \
    "ts_rank_cd('{0.1,0.2,0.4,1.0}', p.search, q.tq) AS rank " \
    "FROM posts p JOIN topics t ON t.id = p.topic_id, q WHERE p.search @@ q.tq AND p.removed_at IS NULL " \
    "AND t.removed_at IS NULL") \
    " UNION ALL " \
    LENZ_SEARCH_BRANCH(32, "conversation", "SELECT 'message' AS type, m.id::text AS id, m.conversation_id AS acc, " \
    "coalesce(nullif(u.name, ''), u.email, 'a former member') " \
    "AS title, m.body AS body, ts_rank_cd('{0.1,0.2,0.4,1.0}', m.search, q.tq) AS rank " \
    "FROM messages m LEFT JOIN users u ON u.id = m.author_id, q WHERE m.search @@ q.tq " \
    "AND m.conversation_id IN (SELECT conversation_id FROM conversation_members WHERE user_id = q.me)") \
    "), page AS (SELECT * FROM hits ORDER BY rank DESC, type, id OFFSET %s::int LIMIT %s::int) " \
    "SELECT page.type, page.id, page.title, " \
    "ts_headline('simple', page.body, q.tq, 'StartSel=' || chr(1) || ', StopSel=' || chr(2) " \
    "  || ', MaxWords=24, MinWords=8, MaxFragments=1'), page.rank " \
    "FROM page, q ORDER BY page.rank DESC, page.type, page.id"

#endif
