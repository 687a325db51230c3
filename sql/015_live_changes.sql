-- 015_live_changes.sql - live changes on the members' event stream: a
-- change to a member's folders (storage.changed, files/store.c) reaches
-- their open pages through the same rows and wake-up as notifications,
-- marked live: never listed, never unread (read_at is set on insert), sent
-- on /events/stream as "event: storage", and purged after a day.
ALTER TABLE notifications ADD COLUMN live boolean NOT NULL DEFAULT false;
CREATE INDEX notifications_live ON notifications (created_at) WHERE live;
