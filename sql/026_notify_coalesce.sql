-- 026_notify_coalesce.sql - repeats of one kind on one object within a
-- window become one notification with a count (issue 18, item 9):
-- "report.pdf was downloaded 65 times", not 65 entries.  object: what the
-- repeats are about (a link, a commented item), NULL for notices that are
-- never coalesced; count: how many events the entry stands for.
ALTER TABLE notifications ADD COLUMN object text CHECK (length(object) <= 200);
ALTER TABLE notifications ADD COLUMN count integer NOT NULL DEFAULT 1 CHECK (count >= 1);
CREATE INDEX notifications_coalesce ON notifications (user_id, type, object)
    WHERE read_at IS NULL AND object IS NOT NULL;
