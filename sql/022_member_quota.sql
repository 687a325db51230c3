-- 022_member_quota.sql - a member's own storage quota, set by an
-- administrator (issue 19); NULL: the site's LenzMemberQuota.
ALTER TABLE users ADD COLUMN quota bigint CHECK (quota IS NULL OR quota >= 0);
