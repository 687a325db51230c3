-- 001_init.sql - accounts and their key-encryption keys.
-- Applied by `lenzctl migrate` inside one transaction.

CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         citext NOT NULL UNIQUE,
    name          text NOT NULL DEFAULT '',
    password_hash text,                         -- PHC string ($scrypt$...), NULL until set
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'active', 'disabled')),
    roles         text[] NOT NULL DEFAULT ARRAY['member']::text[],
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Per-user key-encryption keys, wrapped by a master key version.  Master
-- key rotation rewrites wrapped_kek and master_key_version; the KEK itself
-- (and so every file's wrapped data key) stays the same.
CREATE TABLE user_keys (
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version            integer NOT NULL CHECK (version > 0),
    wrapped_kek        bytea NOT NULL,
    master_key_version integer NOT NULL CHECK (master_key_version > 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    rotated_at         timestamptz,
    PRIMARY KEY (user_id, version)
);
CREATE INDEX user_keys_master_key_version ON user_keys (master_key_version);
