-- 013_trash_purge.sql - emptying a member's trash as one function, so the
-- member's DELETE /api/v1/trash (files/store.c) and the scheduled purge of
-- what was trashed LenzTrashDays ago (jobs/trash.c, lenz-trash-purge) run
-- the same statements.  The S3 objects of the files it removes are queued
-- in s3_garbage (012) for the lenz-s3-garbage job, which deletes them from
-- S3 in batches and only then from the queue.

-- Empties p_owner's trash, or with p_older_than_days > 0 only what was
-- trashed longer ago than that: every file trashed by itself, and every
-- trashed folder with its whole subtree (the paths under '//trash/<id>'),
-- each file in it whatever its own age.  Returns the files removed.
--
-- What the two statements it replaces did, and three things they did not:
--   * the trashed folders are chosen once, and locked (FOR UPDATE), before
--     anything is deleted: a folder trashed between the files' DELETE and
--     the folders' no longer goes with its files cascaded away unqueued,
--     and a restore of a folder at the same moment either waits and finds
--     it gone, or wins and the folder is left alone with its files;
--   * every file row in those subtrees is deleted here rather than by the
--     folders' ON DELETE CASCADE, so each one's key is queued: an upload
--     still in progress there (its object may appear when it completes)
--     as much as a ready file; rows already 'deleted' have no object;
--   * one emptying per member at a time (the member's and the job's), so
--     two never lock the same rows in different orders.
CREATE FUNCTION lenz_trash_empty(p_owner uuid, p_older_than_days integer) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz;
    roots  uuid[];
    n      integer;
BEGIN
    IF p_older_than_days > 0 THEN
        cutoff := now() - make_interval(days => p_older_than_days);
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('lenz-trash/' || p_owner::text, 7));
    roots := ARRAY(SELECT id FROM folders
                    WHERE owner_id = p_owner AND trashed_at IS NOT NULL
                      AND (cutoff IS NULL OR trashed_at < cutoff)
                    ORDER BY id FOR UPDATE);
    WITH sub AS (
        SELECT f.id FROM folders f JOIN unnest(roots) AS r (id)
            ON f.path = '//trash/' || r.id
            OR left(f.path, length('//trash/' || r.id) + 1) = '//trash/' || r.id || '/'
         WHERE f.owner_id = p_owner
    ), gone AS (
        DELETE FROM files x
         WHERE (x.owner_id = p_owner AND x.trashed_at IS NOT NULL AND x.state = 'ready'
                AND (cutoff IS NULL OR x.trashed_at < cutoff))
            OR x.folder_id IN (SELECT id FROM sub)
        RETURNING x.s3_key, x.state
    ), queued AS (
        INSERT INTO s3_garbage (s3_key)
        SELECT s3_key FROM gone WHERE state <> 'deleted'
        ON CONFLICT (s3_key) DO NOTHING
    )
    SELECT count(*) INTO n FROM gone WHERE state <> 'deleted';
    DELETE FROM folders WHERE id = ANY (roots);
    RETURN n;
END $$;

-- The lenz-s3-garbage job takes the oldest keys first.
CREATE INDEX s3_garbage_queued ON s3_garbage (queued_at);
