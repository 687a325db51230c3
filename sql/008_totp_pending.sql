-- 008_totp_pending.sql - two-factor set-up no longer touches the active
-- secret: a new secret waits in totp_pending_* until a code from it is
-- confirmed (then it replaces the active one); recovery codes are keyed.
ALTER TABLE users
    ADD COLUMN totp_pending_secret      bytea,      -- wrapped by the user's KEK, like totp_secret
    ADD COLUMN totp_pending_kek_version integer;

-- A set-up started before this migration (a secret, not enabled) is a
-- pending one now.
UPDATE users SET totp_pending_secret = totp_secret, totp_pending_kek_version = totp_kek_version,
                 totp_secret = NULL, totp_kek_version = NULL
 WHERE NOT totp_enabled AND totp_secret IS NOT NULL;

-- Recovery codes: HMAC-SHA-256 under a key derived from the member's KEK
-- (kek_version names which); NULL marks a code stored before this
-- migration as plain SHA-256, still accepted until used or replaced.
ALTER TABLE recovery_codes ADD COLUMN kek_version integer;
