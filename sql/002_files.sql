-- 002_files.sql - stored files.  A file's bytes live in S3 under s3_key;
-- an encrypted file (storage 'enc') also records everything needed to
-- read it back: format version, segment size, nonce prefix, and its data
-- key wrapped by a user key-encryption key (see docs/format.md).

CREATE TABLE files (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id       uuid REFERENCES users (id) ON DELETE CASCADE,   -- NULL: a guest's file
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 1024),
    content_type   text NOT NULL DEFAULT 'application/octet-stream',
    size           bigint NOT NULL CHECK (size >= 0),              -- plaintext bytes
    storage        text NOT NULL CHECK (storage IN ('plain', 'enc')),
    s3_key         text NOT NULL UNIQUE,
    format_version smallint,
    segment_size   integer CHECK (segment_size > 0),
    nonce_prefix   bytea CHECK (octet_length(nonce_prefix) = 7),
    wrapped_dek    bytea CHECK (octet_length(wrapped_dek) = 61),
    kek_user_id    uuid,
    kek_version    integer,
    state          text NOT NULL DEFAULT 'uploading'
                   CHECK (state IN ('uploading', 'ready', 'deleted')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    CHECK (storage = 'plain'
           OR (format_version IS NOT NULL AND segment_size IS NOT NULL
               AND nonce_prefix IS NOT NULL AND wrapped_dek IS NOT NULL
               AND kek_user_id IS NOT NULL AND kek_version IS NOT NULL)),
    -- A key that still wraps a file's key cannot go while the file stays
    -- (NO ACTION: checked at the end of the statement, so deleting a user
    -- removes their keys and files together).
    FOREIGN KEY (kek_user_id, kek_version) REFERENCES user_keys (user_id, version)
        ON DELETE NO ACTION
);
CREATE INDEX files_owner ON files (owner_id, created_at DESC);
CREATE INDEX files_kek ON files (kek_user_id, kek_version);
CREATE INDEX files_expires ON files (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX files_state ON files (state) WHERE state <> 'ready';
