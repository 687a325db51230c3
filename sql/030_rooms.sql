-- 030_rooms.sql - live rooms (issue 18, item 6; the seed's Socket.IO rooms
-- topic_<id> and chat_room_<id>): what happens in a topic or a
-- conversation, for the event streams subscribed to it
-- (/events/stream?room=topic:ID&room=chat:ID).  A row is written by the
-- rooms subscriber (jobs/rooms.c) in the event's dispatch, under one
-- advisory lock so ids commit in order (a stream resuming after id M never
-- misses a smaller id committed later); its insert NOTIFYs every process
-- and host (the runners LISTEN) so their streams look at once.  Access is
-- checked for every row a stream reads (lenz_room_access), so a member
-- whose access ends stops getting the room's events.  Kept a day.
CREATE TABLE room_events (
    id         bigserial PRIMARY KEY,
    room       text NOT NULL CHECK (room ~ '^(topic|chat):[0-9a-f-]{36}$'),
    event      text NOT NULL CHECK (event ~ '^[a-z]+$'),
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX room_events_room ON room_events (room, id);
CREATE INDEX room_events_time ON room_events (created_at);

CREATE FUNCTION lenz_room_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lenz_notify', 'room:' || NEW.room);
    RETURN NULL;
END $$;
CREATE TRIGGER room_events_notify AFTER INSERT ON room_events
    FOR EACH ROW EXECUTE FUNCTION lenz_room_events_notify();

-- A member's access to a room: the topic's or the conversation's.
CREATE FUNCTION lenz_room_access(member uuid, room text) RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT CASE split_part(room, ':', 1)
        WHEN 'topic' THEN lenz_access(member, 'topic', split_part(room, ':', 2)::uuid)
        WHEN 'chat' THEN lenz_access(member, 'conversation', split_part(room, ':', 2)::uuid)
        ELSE 0 END
$$;
