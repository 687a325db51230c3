-- 009_download_budget.sql - what a limited share link has sent.  A link
-- with max_downloads lets at most max_downloads times its files' size
-- leave the server: a request reserves the bytes it is about to send (and
-- one download when it starts at the first byte) with a conditional
-- UPDATE before its first byte, and gives back at its end what it never
-- handed to the client.  So a client that closes early and fetches the
-- rest with Range, or many requests at once, get no more than the limit
-- (docs/security.md, "Download limits").  Links without a limit leave it
-- at 0.
ALTER TABLE links ADD COLUMN bytes_served bigint NOT NULL DEFAULT 0 CHECK (bytes_served >= 0);
