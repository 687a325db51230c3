-- 019_notification_prefs.sql - what a member is told, and how (issue 19).
-- Per kind of notice, in the app and/or by mail; no row means the
-- defaults (both on).  Security notices are always mailed (not a kind
-- here).  With a digest (hourly or daily) the mails of those kinds wait in
-- digest_items until the lenz-mail-digest job sends them as one mail.
CREATE TABLE notification_prefs (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    text NOT NULL CHECK (kind IN ('downloads', 'requests')),
    in_app  boolean NOT NULL DEFAULT true,
    mail    boolean NOT NULL DEFAULT true,
    PRIMARY KEY (user_id, kind)
);
ALTER TABLE users ADD COLUMN mail_digest text NOT NULL DEFAULT 'off'
    CHECK (mail_digest IN ('off', 'hourly', 'daily'));
ALTER TABLE users ADD COLUMN digest_sent_at timestamptz;

CREATE TABLE digest_items (
    id         bigserial PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    title      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX digest_items_user ON digest_items (user_id, id);

-- Whether user wants notices of kind on channel ('in_app' or 'mail').
CREATE FUNCTION lenz_wants(u uuid, k text, channel text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT CASE channel WHEN 'mail' THEN p.mail ELSE p.in_app END
                     FROM notification_prefs p WHERE p.user_id = u AND p.kind = k), true)
$$;
