-- 018_devices.sql - members' devices (issue 19): each browser session and
-- each app sign-in (token family) gets an id a member can name to end it
-- (sessions were keyed only by their token's hash, which stays private),
-- and app sign-ins keep the address they were made and last refreshed from.
ALTER TABLE sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX sessions_id ON sessions (id);
ALTER TABLE token_families ADD COLUMN ip text;
