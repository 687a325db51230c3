-- 005_uploads.sql - transfers (one or more files behind one share link),
-- multipart uploads in progress with their parts, and share links.

CREATE TABLE transfers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id     uuid REFERENCES users (id) ON DELETE CASCADE,   -- NULL: a guest's
    guest_ip     text,                                           -- a guest's client address
    state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'deleted')),
    link_id      uuid,                                           -- the transfer's share link
    link_token_sealed text,                                      -- that link's token, sealed (so
                                                                 -- every complete can return it)
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz
);
CREATE INDEX transfers_owner ON transfers (owner_id, created_at DESC);
CREATE INDEX transfers_expires ON transfers (expires_at) WHERE expires_at IS NOT NULL;

ALTER TABLE files ADD COLUMN transfer_id uuid REFERENCES transfers (id) ON DELETE CASCADE;
ALTER TABLE files ADD COLUMN sha256 bytea;            -- whole-file digest when known
CREATE INDEX files_transfer ON files (transfer_id);

-- A multipart upload in progress (one per file being uploaded).
CREATE TABLE uploads (
    file_id      uuid PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    s3_upload_id text NOT NULL,
    part_size    bigint NOT NULL CHECK (part_size > 0),    -- plaintext bytes per part
    part_count   integer NOT NULL CHECK (part_count BETWEEN 1 AND 10000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
CREATE INDEX uploads_open ON uploads (created_at) WHERE completed_at IS NULL;

-- Parts received (encrypted path: recorded by httpd as they pass through;
-- plain path: checked against S3's ListParts at complete).
CREATE TABLE upload_parts (
    file_id    uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    part       integer NOT NULL CHECK (part BETWEEN 1 AND 10000),
    size       bigint NOT NULL CHECK (size >= 0),          -- plaintext bytes
    etag       text NOT NULL,
    sha256     bytea,                                      -- of the part's plaintext
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (file_id, part)
);

-- Share links: the token is 256-bit random and kept only as SHA-256.
CREATE TABLE links (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash    bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    transfer_id   uuid REFERENCES transfers (id) ON DELETE CASCADE,
    file_id       uuid REFERENCES files (id) ON DELETE CASCADE,
    owner_id      uuid REFERENCES users (id) ON DELETE CASCADE,   -- NULL: a guest's
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    max_downloads integer CHECK (max_downloads > 0),
    downloads     integer NOT NULL DEFAULT 0,
    password_hash text,                                           -- PHC scrypt, optional gate
    revoked_at    timestamptz,
    CHECK (transfer_id IS NOT NULL OR file_id IS NOT NULL)
);
CREATE INDEX links_owner ON links (owner_id, created_at DESC);
CREATE INDEX links_transfer ON links (transfer_id);
CREATE INDEX links_file ON links (file_id);
CREATE INDEX links_expires ON links (expires_at);
ALTER TABLE transfers ADD CONSTRAINT transfers_link_fk
    FOREIGN KEY (link_id) REFERENCES links (id) ON DELETE SET NULL;

-- The e-mail OTP gate: only these addresses may ask for a code.
CREATE TABLE link_recipients (
    link_id uuid NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    email   citext NOT NULL,
    PRIMARY KEY (link_id, email)
);
