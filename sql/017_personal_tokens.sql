-- 017_personal_tokens.sql - personal access tokens (issue 19): named,
-- scoped credentials a member makes for scripts and WebDAV clients.  The
-- token is "lenz_pat_" + 43 base64url characters (32 random bytes); only
-- SHA-256 of the 43 characters is kept, as for link tokens, so a database
-- dump gives no usable token.  Revoked tokens stay listed as revoked.
CREATE TABLE personal_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    hash         bytea NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    can_read     boolean NOT NULL,
    can_write    boolean NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    last_used_ip text,
    revoked_at   timestamptz,
    CHECK (can_read OR can_write)
);
CREATE INDEX personal_tokens_user ON personal_tokens (user_id, created_at DESC);
