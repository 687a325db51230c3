-- 014_sharing.sql - sharing from the file manager: share links to a folder
-- (its current content) or to a set of files; file requests (upload-only
-- links into a member's folder); idempotent API mutations; a member's
-- default for plain or encrypted uploads.

-- A link to a folder serves what is in it when it is used (a ZIP, and a
-- listing page); a link to a set of files names them in link_files.
ALTER TABLE links
    ADD COLUMN folder_id uuid REFERENCES folders (id) ON DELETE CASCADE,
    ADD COLUMN file_set  boolean NOT NULL DEFAULT false;
ALTER TABLE links DROP CONSTRAINT links_check;
ALTER TABLE links ADD CONSTRAINT links_target
    CHECK (num_nonnulls(transfer_id, file_id, folder_id) + file_set::int = 1);
CREATE INDEX links_folder ON links (folder_id) WHERE folder_id IS NOT NULL;

CREATE TABLE link_files (
    link_id uuid NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    file_id uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    PRIMARY KEY (link_id, file_id)
);
CREATE INDEX link_files_file ON link_files (file_id);

-- File requests: anyone with the link uploads into the owner's folder and
-- sees nothing of it.  files_received and bytes_received count what was
-- started (an initiate takes its place and size under the row's lock; an
-- abort gives them back), so max_files and max_bytes cannot be passed by
-- uploads in parallel.
CREATE TABLE file_requests (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    folder_id      uuid NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    token_hash     bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    message        text CHECK (length(message) <= 2000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    max_bytes      bigint CHECK (max_bytes > 0),
    max_files      integer CHECK (max_files > 0),
    password_hash  text,
    files_received integer NOT NULL DEFAULT 0 CHECK (files_received >= 0),
    bytes_received bigint NOT NULL DEFAULT 0 CHECK (bytes_received >= 0),
    revoked_at     timestamptz
);
CREATE INDEX file_requests_owner ON file_requests (owner_id, created_at DESC);

-- An uploader's batch is a transfer without a share link, naming the
-- request, who sent it and their message; notified_files counts the files
-- the owner was told about (jobs/requests.c).
ALTER TABLE transfers
    ADD COLUMN request_id       uuid REFERENCES file_requests (id) ON DELETE SET NULL,
    ADD COLUMN uploader_name    text CHECK (length(uploader_name) <= 200),
    ADD COLUMN uploader_message text CHECK (length(uploader_message) <= 2000),
    ADD COLUMN notified_files   integer NOT NULL DEFAULT 0;
CREATE INDEX transfers_request ON transfers (request_id) WHERE request_id IS NOT NULL;

-- Idempotency-Key on API mutations (httpd/idem.c): the first request with
-- a key runs and its answer is kept for a day; a retry with the same key
-- and the same request gets that answer again.  status NULL: running.
CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint  bytea NOT NULL,
    status       integer,
    content_type text,
    location     text,
    body         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- "Decide where to upload": a member's own default where the site lets
-- them choose (LenzUploadPolicy choice); NULL: encrypted.
ALTER TABLE users ADD COLUMN upload_default text CHECK (upload_default IN ('plain', 'encrypted'));

-- The files a link serves now: its file, its transfer's, its set's, or
-- what its folder holds at any depth (dir: the path below the folder,
-- NULL at its top).  Unfiltered: callers keep what is ready and live.
-- One SELECT, so the planner inlines it into the query that calls it.
CREATE FUNCTION lenz_link_files(p_link uuid) RETURNS TABLE (file_id uuid, dir text)
    LANGUAGE sql STABLE AS $$
    SELECT l.file_id, NULL::text FROM links l WHERE l.id = p_link AND l.file_id IS NOT NULL
    UNION ALL
    SELECT t.id, NULL FROM links l JOIN files t ON t.transfer_id = l.transfer_id WHERE l.id = p_link
    UNION ALL
    SELECT s.file_id, NULL FROM link_files s WHERE s.link_id = p_link
    UNION ALL
    SELECT ff.id, CASE WHEN d.id = lf.id THEN NULL ELSE substr(d.path, length(lf.path) + 2) END
      FROM links l JOIN folders lf ON lf.id = l.folder_id
      JOIN folders d ON d.owner_id = lf.owner_id
       AND (d.id = lf.id OR left(d.path, length(lf.path) + 1) = lf.path || '/')
      JOIN files ff ON ff.folder_id = d.id
     WHERE l.id = p_link
$$;
