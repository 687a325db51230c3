-- 007_drop_files_sha256.sql - files.sha256 ("whole-file digest when
-- known") was never written: parts arrive in any order and in parallel, so
-- no server sees a file's bytes in sequence, and a digest of the whole
-- cannot be derived from the parts' digests.  What integrity there is
-- lives where it is checked: every 64 KiB segment's GCM tag (docs/format.md)
-- and, per part, upload_parts.sha256 when the client sent one.
ALTER TABLE files DROP COLUMN IF EXISTS sha256;
