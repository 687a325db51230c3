-- 011_part_nonces.sql - encrypted object format v2 (docs/format.md): each
-- S3 part of an encrypted upload is sealed under a nonce prefix of its
-- own, drawn at random for every attempt at that part, so a part sent
-- again with other bytes never reuses a (key, nonce) pair
-- (docs/security.md, "Upload parts").  Files of format 1 keep their one
-- prefix in files.nonce_prefix and read as before.

-- The prefix of the attempt whose ciphertext S3 holds for this part (it is
-- recorded with that attempt's ETag, which CompleteMultipartUpload checks).
-- NULL: a plain part, or a part of a format 1 upload.
ALTER TABLE upload_parts ADD COLUMN nonce_prefix bytea CHECK (octet_length(nonce_prefix) = 7);

-- Format 2: segments per part (k), set at initiate, and every part's
-- prefix in part order (7 bytes each), copied from upload_parts at
-- complete, so a reader needs the files row alone, as for format 1.
ALTER TABLE files ADD COLUMN segments_per_part integer CHECK (segments_per_part > 0);
ALTER TABLE files ADD COLUMN part_prefixes bytea
    CHECK (octet_length(part_prefixes) > 0 AND octet_length(part_prefixes) % 7 = 0);

-- An encrypted file's columns: format 1 needs its file-wide prefix,
-- format 2 has none and needs k instead (and its parts' prefixes once
-- ready).  Replaces 002's check, found by what it says.
DO $$
DECLARE c text;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
              WHERE conrelid = 'files'::regclass AND contype = 'c'
                AND pg_get_constraintdef(oid) LIKE '%nonce_prefix IS NOT NULL%' LOOP
        EXECUTE format('ALTER TABLE files DROP CONSTRAINT %I', c);
    END LOOP;
END $$;
ALTER TABLE files ADD CONSTRAINT files_enc_columns CHECK (
    storage = 'plain'
    OR (format_version IN (1, 2) AND segment_size IS NOT NULL AND wrapped_dek IS NOT NULL
        AND kek_user_id IS NOT NULL AND kek_version IS NOT NULL
        AND (format_version <> 1 OR nonce_prefix IS NOT NULL)
        AND (format_version <> 2 OR (segments_per_part IS NOT NULL
                                     AND (state <> 'ready' OR part_prefixes IS NOT NULL)))));
