-- 029_messages.sql - messages between members (issue 18, item 5): one-to-one
-- and small-group conversations, a read marker per member (unread counts
-- follow from it), delivered to the members' open pages through their
-- event streams (a live row per recipient, sql/015).
CREATE TABLE conversations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    one_to_one      text UNIQUE,          -- "a:b" (sorted ids) for a pair's one conversation
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_created_by ON conversations (created_by);
CREATE TABLE conversation_members (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_read       bigint NOT NULL DEFAULT 0,        -- the last message id they read
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user ON conversation_members (user_id);
CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_id       uuid REFERENCES users (id) ON DELETE SET NULL,
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    search          tsvector GENERATED ALWAYS AS (setweight(to_tsvector('simple', body), 'B')) STORED
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_author ON messages (author_id);
CREATE INDEX messages_search ON messages USING gin (search);

-- lenz_access grows conversations and messages: a member of the
-- conversation ranks 2 (reads and writes), anyone else 0.
CREATE OR REPLACE FUNCTION lenz_access(member uuid, kind text, obj uuid) RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(CASE kind
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
        END, 0)
$$;
-- A message's access is its conversation's (messages have bigint ids).
CREATE FUNCTION lenz_message_access(member uuid, message bigint) RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT lenz_access(member, 'conversation', m.conversation_id) FROM messages m
                      WHERE m.id = message), 0)
$$;
