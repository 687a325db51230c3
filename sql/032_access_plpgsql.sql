-- 032_access_plpgsql.sql - the access functions in PL/pgSQL, unchanged in
-- what they decide (issue 18, item 10's measurement; docs/bench.md).
--
-- As LANGUAGE sql functions that read tables they cannot be inlined, and
-- every call built a new executor for its statement; nested (lenz_access
-- -> lenz_topic_rank -> lenz_is_moderator, lenz_folder_rank) that cost
-- about 0.2 ms a row: a page of 51 topics took 23.4 ms in psql (pgbench,
-- prepared).  PL/pgSQL keeps its statements' plans for the session: the
-- same page took 3.2 ms with two of them converted.  Each body below is
-- the latest one (sql/024, 027, 029) wrapped in RETURN (...); a scalar
-- subquery with no row is NULL, as the SQL function's answer was.
-- #variable_conflict use_column keeps SQL functions' rule that a column
-- name wins over a parameter of the same name.

CREATE OR REPLACE FUNCTION lenz_folder_rank(member uuid, folder uuid) RETURNS integer
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN (SELECT CASE WHEN f.owner_id = member THEN 5 ELSE coalesce((
        SELECT max(lenz_role_rank(s.role)) FROM shares s JOIN folders sf ON sf.id = s.folder_id
         WHERE s.user_id = member AND s.status = 'active' AND sf.owner_id = f.owner_id
           AND (sf.id = f.id OR left(f.path, length(sf.path) + 1) = sf.path || '/')), 0) END
      FROM folders f WHERE f.id = folder);
END $$;

CREATE OR REPLACE FUNCTION lenz_file_rank(member uuid, file uuid) RETURNS integer
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN (SELECT CASE WHEN x.owner_id = member THEN 5
                        WHEN x.folder_id IS NULL OR x.trashed_at IS NOT NULL THEN 0
                        ELSE lenz_folder_rank(member, x.folder_id) END
              FROM files x WHERE x.id = file);
END $$;

CREATE OR REPLACE FUNCTION lenz_visible_path(member uuid, folder uuid) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN (SELECT CASE WHEN f.owner_id = member THEN f.path ELSE (
        SELECT '/' || sf.name || substr(f.path, length(sf.path) + 1)
          FROM shares s JOIN folders sf ON sf.id = s.folder_id
         WHERE s.user_id = member AND s.status = 'active' AND sf.owner_id = f.owner_id
           AND (sf.id = f.id OR left(f.path, length(sf.path) + 1) = sf.path || '/')
         ORDER BY length(sf.path) LIMIT 1) END
      FROM folders f WHERE f.id = folder);
END $$;

CREATE OR REPLACE FUNCTION lenz_is_moderator(member uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN coalesce((SELECT 'moderator' = ANY (roles) OR 'admin' = ANY (roles) FROM users
                      WHERE id = member AND status = 'active'), false);
END $$;

CREATE OR REPLACE FUNCTION lenz_topic_rank(member uuid, topic uuid) RETURNS integer
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN (SELECT CASE
        WHEN lenz_is_moderator(member) AND (t.folder_id IS NULL OR lenz_folder_rank(member, t.folder_id) > 0) THEN 5
        WHEN t.removed_at IS NOT NULL THEN 0
        WHEN t.folder_id IS NOT NULL AND coalesce(lenz_folder_rank(member, t.folder_id), 0) = 0 THEN 0
        WHEN t.folder_id IS NOT NULL AND EXISTS (SELECT 1 FROM folders f WHERE f.id = t.folder_id
                                                 AND (f.trashed_at IS NOT NULL OR left(f.path, 2) = '//')) THEN 0
        WHEN t.folder_id IS NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = member AND u.status = 'active') THEN 0
        WHEN t.author_id = member THEN 4
        WHEN t.locked THEN 1
        WHEN t.folder_id IS NOT NULL AND lenz_folder_rank(member, t.folder_id) < 2 THEN 1
        ELSE 2 END
      FROM topics t WHERE t.id = topic);
END $$;

CREATE OR REPLACE FUNCTION lenz_access(member uuid, kind text, obj uuid) RETURNS integer
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN coalesce(CASE kind
        WHEN 'folder' THEN lenz_folder_rank(member, obj)
        WHEN 'file' THEN lenz_file_rank(member, obj)
        WHEN 'comment' THEN (SELECT CASE WHEN c.folder_id IS NOT NULL THEN lenz_folder_rank(member, c.folder_id)
                                         ELSE lenz_file_rank(member, c.file_id) END
                               FROM comments c WHERE c.id = obj)
        WHEN 'topic' THEN lenz_topic_rank(member, obj)
        WHEN 'post' THEN (SELECT CASE WHEN r.rk = 0 THEN 0
                                      WHEN r.rk = 5 THEN 5
                                      WHEN p.removed_at IS NOT NULL THEN 0
                                      WHEN p.author_id = member THEN greatest(r.rk, 4)
                                      ELSE least(r.rk, 2) END
                            FROM posts p CROSS JOIN LATERAL (SELECT lenz_topic_rank(member, p.topic_id) AS rk) r
                           WHERE p.id = obj)
        WHEN 'conversation' THEN (SELECT 2 FROM conversation_members m
                                   WHERE m.conversation_id = obj AND m.user_id = member)
        END, 0);
END $$;

CREATE OR REPLACE FUNCTION lenz_message_access(member uuid, message bigint) RETURNS integer
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN coalesce((SELECT lenz_access(member, 'conversation', m.conversation_id) FROM messages m
                      WHERE m.id = message), 0);
END $$;
