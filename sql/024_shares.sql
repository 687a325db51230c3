-- 024_shares.sql - shared folders, comments and the activity of shared
-- folders (issue 18, items 1-3).
--
-- Access to a member's folders, files and comments is decided by one
-- function, lenz_access(member, kind, id): the caller's rank on the
-- object (0 none, 1 viewer, 2 commenter, 3 editor, 4 co-owner, 5 owner).
-- Every statement that returns a folder, a file or a comment to a member
-- asks it (docs/collab.md); no route filters rows after reading them.
--
-- A share gives its role on a folder and everything below it: an item is
-- below a shared folder when its folder's path starts with the shared
-- folder's path and one owner holds both.  A shared folder in the trash
-- lives under '//trash/' and every live-only statement refuses what is
-- there; restored, its shares hold again; purged, they go with it.

CREATE TABLE shares (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    folder_id   uuid NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    email       citext NOT NULL CHECK (length(email) <= 254),
    user_id     uuid REFERENCES users (id) ON DELETE CASCADE,    -- the member once known
    role        text NOT NULL CHECK (role IN ('viewer', 'commenter', 'editor', 'co-owner')),
    status      text NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'active', 'declined')),
    invited_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    accepted_at timestamptz,
    UNIQUE (folder_id, email),
    CHECK (status <> 'active' OR user_id IS NOT NULL)
);
CREATE INDEX shares_user ON shares (user_id, status);
CREATE INDEX shares_email ON shares (email) WHERE user_id IS NULL;
CREATE INDEX shares_invited_by ON shares (invited_by);

-- Comments on a file or a folder; one level of replies.
CREATE TABLE comments (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    file_id    uuid REFERENCES files (id) ON DELETE CASCADE,
    folder_id  uuid REFERENCES folders (id) ON DELETE CASCADE,
    author_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    parent_id  uuid REFERENCES comments (id) ON DELETE CASCADE,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at timestamptz NOT NULL DEFAULT now(),
    edited_at  timestamptz,
    CHECK ((file_id IS NULL) <> (folder_id IS NULL))
);
CREATE INDEX comments_file ON comments (file_id, created_at, id) WHERE file_id IS NOT NULL;
CREATE INDEX comments_folder ON comments (folder_id, created_at, id) WHERE folder_id IS NOT NULL;
CREATE INDEX comments_parent ON comments (parent_id);
CREATE INDEX comments_author ON comments (author_id);

CREATE FUNCTION lenz_role_rank(text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE $1 WHEN 'viewer' THEN 1 WHEN 'commenter' THEN 2 WHEN 'editor' THEN 3
                   WHEN 'co-owner' THEN 4 WHEN 'owner' THEN 5 ELSE 0 END
$$;
CREATE FUNCTION lenz_rank_role(integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (ARRAY['viewer', 'commenter', 'editor', 'co-owner', 'owner'])[$1]
$$;

-- The member's rank on a folder: 5 on their own, else the highest role
-- of their active shares on it or a folder above it.
CREATE FUNCTION lenz_folder_rank(member uuid, folder uuid) RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN f.owner_id = member THEN 5 ELSE coalesce((
        SELECT max(lenz_role_rank(s.role)) FROM shares s JOIN folders sf ON sf.id = s.folder_id
         WHERE s.user_id = member AND s.status = 'active' AND sf.owner_id = f.owner_id
           AND (sf.id = f.id OR left(f.path, length(sf.path) + 1) = sf.path || '/')), 0) END
      FROM folders f WHERE f.id = folder
$$;

-- A file's rank: its owner's 5; others', that of its folder, unless it is
-- outside the tree (a guest transfer's) or in the trash: then none.
CREATE FUNCTION lenz_file_rank(member uuid, file uuid) RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN x.owner_id = member THEN 5
                WHEN x.folder_id IS NULL OR x.trashed_at IS NOT NULL THEN 0
                ELSE lenz_folder_rank(member, x.folder_id) END
      FROM files x WHERE x.id = file
$$;

-- The one access function: the member's rank on a folder, a file or a
-- comment (the rank on what it is about).  0: none.
CREATE FUNCTION lenz_access(member uuid, kind text, obj uuid) RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(CASE kind
        WHEN 'folder' THEN lenz_folder_rank(member, obj)
        WHEN 'file' THEN lenz_file_rank(member, obj)
        WHEN 'comment' THEN (SELECT CASE WHEN c.folder_id IS NOT NULL THEN lenz_folder_rank(member, c.folder_id)
                                         ELSE lenz_file_rank(member, c.file_id) END
                               FROM comments c WHERE c.id = obj)
        END, 0)
$$;

-- The shared folders a folder is in (itself or above it), with their
-- owner: whom a change there concerns.
CREATE FUNCTION lenz_share_scopes(folder uuid) RETURNS TABLE (share_folder uuid)
    LANGUAGE sql STABLE AS $$
    SELECT DISTINCT sf.id FROM folders f JOIN folders sf ON sf.owner_id = f.owner_id
      JOIN shares s ON s.folder_id = sf.id
     WHERE f.id = folder AND (sf.id = f.id OR left(f.path, length(sf.path) + 1) = sf.path || '/')
$$;

-- What happened in shared folders: a row per change, from the outbox's
-- events (subscribers.c), for the folder feeds and the member's feed.
CREATE TABLE activity (
    id         bigserial PRIMARY KEY,
    event_id   bigint NOT NULL,                   -- no FK: events are purged
    folder_id  uuid NOT NULL REFERENCES folders (id) ON DELETE CASCADE,   -- where it happened
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    actor_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    verb       text NOT NULL,
    item_type  text,
    item_id    uuid,
    item_name  text,
    detail     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, folder_id)
);
CREATE INDEX activity_folder ON activity (folder_id, id);
CREATE INDEX activity_owner ON activity (owner_id, id);
CREATE INDEX activity_actor ON activity (actor_id);
ALTER TABLE users ADD COLUMN activity_seen bigint NOT NULL DEFAULT 0;

-- Notices of shares and comments, as the member chooses (sql/019).
ALTER TABLE notification_prefs DROP CONSTRAINT notification_prefs_kind_check;
ALTER TABLE notification_prefs ADD CONSTRAINT notification_prefs_kind_check
    CHECK (kind IN ('downloads', 'requests', 'shares', 'comments'));

-- A folder's path as the member sees it: their own as it is; one shared
-- with them from the top shared folder they can see ("/Acme/Q3", never
-- the owner's folders above it, which they cannot see).  NULL: no access.
CREATE FUNCTION lenz_visible_path(member uuid, folder uuid) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN f.owner_id = member THEN f.path ELSE (
        SELECT '/' || sf.name || substr(f.path, length(sf.path) + 1)
          FROM shares s JOIN folders sf ON sf.id = s.folder_id
         WHERE s.user_id = member AND s.status = 'active' AND sf.owner_id = f.owner_id
           AND (sf.id = f.id OR left(f.path, length(sf.path) + 1) = sf.path || '/')
         ORDER BY length(sf.path) LIMIT 1) END
      FROM folders f WHERE f.id = folder
$$;
