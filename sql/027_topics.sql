-- 027_topics.sql - topics and posts (issue 18, item 4; the seed's
-- TopicsFlow): members open topics (the whole site's, or one shared
-- folder's members'), post in them in Markdown (stored as written, and as
-- the safe HTML libcmark made of it), reply, edit, delete and up-vote;
-- members join a topic to hear of new posts; moderators pin, lock and
-- remove.  Who may see and post is lenz_access(member, 'topic'|'post', id),
-- the same one function as for folders, files and comments.

-- Tags as words for the search column (array_to_string is only stable in
-- general; for text[] it is immutable).
CREATE FUNCTION lenz_tags_text(text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT array_to_string($1, ' ') $$;

CREATE TABLE topics (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    author_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body             text NOT NULL CHECK (length(body) <= 20000),
    body_html        text NOT NULL,
    tags             text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 10),
    folder_id        uuid REFERENCES folders (id) ON DELETE CASCADE,   -- NULL: the whole site
    pinned           boolean NOT NULL DEFAULT false,
    locked           boolean NOT NULL DEFAULT false,
    removed_at       timestamptz,
    votes            integer NOT NULL DEFAULT 0,
    posts            integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    search           tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B')
        || setweight(to_tsvector('simple', lenz_tags_text(tags)), 'A')) STORED
);
CREATE INDEX topics_activity ON topics (pinned DESC, last_activity_at DESC, id) WHERE removed_at IS NULL;
CREATE INDEX topics_votes ON topics (pinned DESC, votes DESC, id) WHERE removed_at IS NULL;
CREATE INDEX topics_folder ON topics (folder_id);
CREATE INDEX topics_author ON topics (author_id);
CREATE INDEX topics_tags ON topics USING gin (tags);
CREATE INDEX topics_search ON topics USING gin (search);
CREATE INDEX topics_title_trgm ON topics USING gin (title gin_trgm_ops);

CREATE TABLE posts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    topic_id   uuid NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    author_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    reply_to   uuid REFERENCES posts (id) ON DELETE SET NULL,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    body_html  text NOT NULL,
    votes      integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    edited_at  timestamptz,
    removed_at timestamptz,
    search     tsvector GENERATED ALWAYS AS (setweight(to_tsvector('simple', body), 'B')) STORED
);
CREATE INDEX posts_topic ON posts (topic_id, created_at, id);
CREATE INDEX posts_author ON posts (author_id);
CREATE INDEX posts_reply_to ON posts (reply_to);
CREATE INDEX posts_search ON posts USING gin (search);

CREATE TABLE topic_votes (
    topic_id uuid NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (topic_id, user_id)
);
CREATE INDEX topic_votes_user ON topic_votes (user_id);
CREATE TABLE post_votes (
    post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_votes_user ON post_votes (user_id);
-- Who hears of new posts: the topic's author and whoever joined.
CREATE TABLE topic_members (
    topic_id  uuid NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic_id, user_id)
);
CREATE INDEX topic_members_user ON topic_members (user_id);

-- A moderator (users.roles) may see removed topics and posts and pin,
-- lock and remove.
CREATE FUNCTION lenz_is_moderator(member uuid) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT 'moderator' = ANY (roles) OR 'admin' = ANY (roles) FROM users
                      WHERE id = member AND status = 'active'), false)
$$;

-- A member's rank on a topic: 0 none; 1 read (a folder topic's viewers,
-- anyone on a locked one); 2 post; 4 its author (edit, delete); 5 a
-- moderator.  A site topic is every active member's; a folder topic its
-- folder's (rank by the folder's: viewer reads, commenter and up post).
-- Removed: moderators only.
CREATE FUNCTION lenz_topic_rank(member uuid, topic uuid) RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT CASE
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
      FROM topics t WHERE t.id = topic
$$;

-- lenz_access grows topics and posts (a post: its topic's rank; a removed
-- post, moderators only; the author of a post ranks 4 on it).
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
        END, 0)
$$;

ALTER TABLE notification_prefs DROP CONSTRAINT notification_prefs_kind_check;
ALTER TABLE notification_prefs ADD CONSTRAINT notification_prefs_kind_check
    CHECK (kind IN ('downloads', 'requests', 'shares', 'comments', 'topics'));
