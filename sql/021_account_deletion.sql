-- 021_account_deletion.sql - an account an administrator deleted (issue
-- 19): disabled at once and marked; the lenz-delete-account job removes its
-- files (S3 objects through s3_garbage), then the account.
ALTER TABLE users ADD COLUMN deleting_at timestamptz;
