-- 004_accounts.sql - sign-in: browser sessions, API token families and
-- refresh tokens, one-time codes, TOTP and recovery codes, SSO mapping.
-- Every secret is stored as a hash (or, for the TOTP seed, wrapped by the
-- user's key-encryption key).

ALTER TABLE users
    ADD COLUMN external_id    text UNIQUE,                    -- REMOTE_USER of an SSO module
    ADD COLUMN totp_secret    bytea,                          -- wrapped by the user's KEK
    ADD COLUMN totp_kek_version integer,
    ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0,      -- replay guard
    ADD COLUMN totp_enabled   boolean NOT NULL DEFAULT false,
    ADD COLUMN password_changed_at timestamptz;

-- Browser sessions: the cookie holds 32 random bytes; only their SHA-256
-- is kept.  Idle expiry is last_seen_at + the configured idle time.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ip           text,
    user_agent   text
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- API clients: one family per sign-in (a device); access tokens name it,
-- so revoking the family ends them at once.
CREATE TABLE token_families (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    revoke_reason text,
    user_agent   text
);
CREATE INDEX token_families_user ON token_families (user_id);

CREATE TABLE refresh_tokens (
    hash       bytea PRIMARY KEY CHECK (octet_length(hash) = 32),
    family_id  uuid NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

-- One-time codes and single-use links: registration and share-link OTPs
-- (6 digits, keyed hash), password reset links (256-bit token, SHA-256).
CREATE TABLE otps (
    id         bigserial PRIMARY KEY,
    purpose    text NOT NULL,            -- 'register', 'reset', 'link:<id>'
    subject    text NOT NULL,            -- e-mail address or user id
    code_hash  bytea NOT NULL,
    tries      integer NOT NULL DEFAULT 0,
    max_tries  integer NOT NULL DEFAULT 5,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX otps_lookup ON otps (purpose, subject, created_at DESC);
CREATE INDEX otps_code ON otps (code_hash);
CREATE INDEX otps_expires ON otps (expires_at);

CREATE TABLE recovery_codes (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
