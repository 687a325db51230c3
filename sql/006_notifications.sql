-- 006_notifications.sql - in-app notifications, made from events by the
-- notification subscriber (one per event and user), read live by browsers
-- over Server-Sent Events.

CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id   bigint,                      -- the event it came from (no FK: events are purged)
    type       text NOT NULL,
    title      text NOT NULL,
    body       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz,
    UNIQUE (event_id, user_id)
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_read ON notifications (read_at) WHERE read_at IS NOT NULL;

-- Wakes the live streams of the user (the job runners LISTEN on
-- lenz_notify and poke their process's streams with the payload, the user
-- id); delivered at commit, once per user and transaction.
CREATE FUNCTION lenz_notifications_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lenz_notify', NEW.user_id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_notify AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION lenz_notifications_notify();
