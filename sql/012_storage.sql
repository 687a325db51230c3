-- 012_storage.sql - secure storage: each member's tree of folders, their
-- files in it, the trash, exact storage use, and search over names.
--
-- Names compare case-insensitively after Unicode NFC (lenz_name_key):
-- "Report.PDF" and "report.pdf", and an "é" composed or not, are one name
-- in a folder, enforced by unique indexes (never by a check that races).
-- Paths are kept in folders.path ('/' the root, '/a/b' below it), so a
-- move rewrites a subtree's paths in one statement; files hold only their
-- folder.  A deleted folder or file goes to the trash: its trashed_at is
-- set, it remembers where it was (trashed_from, trashed_path), and a
-- trashed folder's subtree is moved under the path '//trash/<its id>',
-- which no live path can start with (names hold no '/'), so nothing inside
-- it shows in the tree and its names free their places.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION lenz_name_key(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(normalize($1, NFC) COLLATE "und-x-icu") $$;

CREATE TABLE folders (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_id    uuid REFERENCES folders (id) ON DELETE CASCADE,     -- NULL: the member's root
    name         text NOT NULL CHECK (parent_id IS NULL OR length(name) BETWEEN 1 AND 255),
    name_key     text GENERATED ALWAYS AS (lenz_name_key(name)) STORED,
    path         text NOT NULL,
    depth        integer NOT NULL CHECK (depth >= 0),
    trashed_at   timestamptz,
    trashed_from uuid REFERENCES folders (id) ON DELETE SET NULL,
    trashed_path text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((parent_id IS NULL) = (depth = 0))
);
CREATE UNIQUE INDEX folders_root ON folders (owner_id) WHERE parent_id IS NULL;
CREATE UNIQUE INDEX folders_name ON folders (parent_id, name_key) WHERE trashed_at IS NULL;
CREATE INDEX folders_parent ON folders (parent_id);
CREATE INDEX folders_trashed_from ON folders (trashed_from);
CREATE INDEX folders_path ON folders (owner_id, path text_pattern_ops);
CREATE INDEX folders_trash ON folders (owner_id, trashed_at) WHERE trashed_at IS NOT NULL;
CREATE INDEX folders_path_trgm ON folders USING gin (path gin_trgm_ops);

ALTER TABLE files
    ADD COLUMN folder_id    uuid REFERENCES folders (id) ON DELETE CASCADE,  -- members' files
    ADD COLUMN name_key     text GENERATED ALWAYS AS (lenz_name_key(name)) STORED,
    ADD COLUMN trashed_at   timestamptz,
    ADD COLUMN trashed_from uuid REFERENCES folders (id) ON DELETE SET NULL,
    ADD COLUMN trashed_path text,
    -- The id the encryption binds (the AAD) when it is not the file's own:
    -- a copy shares its original's ciphertext and wrapped key, so it keeps
    -- the original's.  NULL: the file's id.
    ADD COLUMN crypt_id     uuid,
    ADD COLUMN search       tsvector GENERATED ALWAYS AS
        (to_tsvector('simple', translate(name, '._-', '   '))) STORED;

-- Is nm taken in folder (by a folder or a file other than self)?
CREATE FUNCTION lenz_name_taken(folder uuid, nm text, self uuid) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM folders WHERE parent_id = folder AND name_key = lenz_name_key(nm)
                   AND trashed_at IS NULL AND id IS DISTINCT FROM self)
        OR EXISTS (SELECT 1 FROM files WHERE folder_id = folder AND name_key = lenz_name_key(nm)
                   AND trashed_at IS NULL AND state <> 'deleted' AND id IS DISTINCT FROM self)
$$;
-- The first of "want", "want (2)", "want (3)" ... free in folder (the
-- number goes before an extension of up to 16 characters: "a (2).pdf").
CREATE FUNCTION lenz_free_name(folder uuid, want text, self uuid) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    n integer := 2;
    cand text := want;
BEGIN
    WHILE lenz_name_taken(folder, cand, self) LOOP
        cand := regexp_replace(want, '^(.+?)((\.[^.]{1,16})?)$', '\1 (' || n || ')\2');
        n := n + 1;
    END LOOP;
    RETURN cand;
END $$;

-- Every member with files gets a root; their files (before this
-- migration they had no folders) go there, names made unique the way a
-- clash is answered: "report (2).pdf".
INSERT INTO folders (owner_id, parent_id, name, path, depth)
SELECT DISTINCT owner_id, NULL::uuid, '', '/', 0 FROM files WHERE owner_id IS NOT NULL;
CREATE INDEX files_migrate_names ON files (folder_id, name_key);
DO $$
DECLARE
    d record;
BEGIN
    FOR d IN SELECT f.id, r.id AS root, f.name FROM files f JOIN folders r
                 ON r.owner_id = f.owner_id AND r.parent_id IS NULL
              WHERE f.state <> 'deleted' ORDER BY f.created_at, f.id
    LOOP
        UPDATE files SET folder_id = d.root, name = lenz_free_name(d.root, d.name, d.id) WHERE id = d.id;
    END LOOP;
END $$;
UPDATE files f SET folder_id = r.id
  FROM folders r WHERE r.owner_id = f.owner_id AND r.parent_id IS NULL AND f.folder_id IS NULL;
DROP INDEX files_migrate_names;

CREATE UNIQUE INDEX files_name ON files (folder_id, name_key)
    WHERE trashed_at IS NULL AND state <> 'deleted' AND folder_id IS NOT NULL;
CREATE INDEX files_folder ON files (folder_id);
CREATE INDEX files_trashed_from ON files (trashed_from);
CREATE INDEX files_trash ON files (owner_id, trashed_at) WHERE trashed_at IS NOT NULL;
CREATE INDEX files_search ON files USING gin (search);
CREATE INDEX files_name_trgm ON files USING gin (name gin_trgm_ops);
CREATE INDEX files_list_name ON files (folder_id, name_key, id) WHERE trashed_at IS NULL AND state = 'ready';
CREATE INDEX files_list_size ON files (folder_id, size, id) WHERE trashed_at IS NULL AND state = 'ready';
CREATE INDEX files_list_modified ON files (folder_id, updated_at, id) WHERE trashed_at IS NULL AND state = 'ready';

-- A member's new file lands in their root unless a folder is given, and
-- takes "name (2)" when its name is taken there (uploads never fail on a
-- name): every way in (the API, the pages, lenzctl import) alike.
CREATE FUNCTION lenz_files_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.owner_id IS NOT NULL THEN
        IF NEW.folder_id IS NULL THEN
            INSERT INTO folders (owner_id, name, path, depth) VALUES (NEW.owner_id, '', '/', 0)
                ON CONFLICT (owner_id) WHERE parent_id IS NULL DO NOTHING;
            SELECT id INTO NEW.folder_id FROM folders WHERE owner_id = NEW.owner_id AND parent_id IS NULL;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtextextended(NEW.folder_id::text || '/' || lenz_name_key(NEW.name), 7));
        NEW.name := lenz_free_name(NEW.folder_id, NEW.name, NEW.id);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER files_place BEFORE INSERT ON files FOR EACH ROW EXECUTE FUNCTION lenz_files_place();

-- Storage each member uses, kept exact by a trigger on files: the bytes of
-- every file of theirs that is uploading or ready (the trash included),
-- whatever runs at once (each change adds its difference in one UPDATE).
-- Quota checks lock the member's row (SELECT ... FOR UPDATE).
CREATE TABLE storage_usage (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    used    bigint NOT NULL DEFAULT 0 CHECK (used >= 0)
);
INSERT INTO storage_usage (user_id, used)
SELECT u.id, coalesce((SELECT sum(size) FROM files f WHERE f.owner_id = u.id AND f.state <> 'deleted'), 0)
  FROM users u;

CREATE FUNCTION lenz_usage_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.owner_id IS NOT NULL AND OLD.state <> 'deleted' THEN
        UPDATE storage_usage SET used = used - OLD.size WHERE user_id = OLD.owner_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.owner_id IS NOT NULL AND NEW.state <> 'deleted' THEN
        INSERT INTO storage_usage (user_id, used) VALUES (NEW.owner_id, NEW.size)
        ON CONFLICT (user_id) DO UPDATE SET used = storage_usage.used + EXCLUDED.used;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER files_usage AFTER INSERT OR DELETE OR UPDATE OF size, state, owner_id ON files
    FOR EACH ROW EXECUTE FUNCTION lenz_usage_track();

-- S3 objects whose rows are gone (the trash emptied or purged): deleted in
-- batches by the lenz-trash-purge job (DeleteObjects), and only then
-- removed here, so a crash in between leaves them to the next run.
CREATE TABLE s3_garbage (
    s3_key    text PRIMARY KEY,
    queued_at timestamptz NOT NULL DEFAULT now()
);
