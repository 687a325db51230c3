-- 031_transfer.sql - transferring a shared folder's ownership (issue 18,
-- item 1; docs/collab.md "Transferring ownership").
--
-- The owner offers a shared folder to one of its active members; the
-- member accepts (it costs their quota) or declines; the owner may
-- withdraw the offer.  Accepting re-wraps each file's key under the new
-- owner's KEK (collab/transfer.c, in C: the keys never reach SQL
-- unwrapped), then lenz_transfer_move() below moves the rest in the
-- same transaction.

CREATE TABLE folder_transfers (
    folder_id  uuid PRIMARY KEY REFERENCES folders (id) ON DELETE CASCADE,
    from_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX folder_transfers_to ON folder_transfers (to_id);
CREATE INDEX folder_transfers_from ON folder_transfers (from_id);

-- A live folder and every folder below it (one owner's tree).
CREATE FUNCTION lenz_subtree(folder uuid) RETURNS TABLE (id uuid)
    LANGUAGE sql STABLE AS $$
    SELECT d.id FROM folders f JOIN folders d ON d.owner_id = f.owner_id
     WHERE f.id = folder AND (d.id = f.id OR left(d.path, length(f.path) + 1) = f.path || '/')
$$;

-- Everything but the keys: the folder goes to the top of the new owner's
-- tree (under a free name), its subtree's paths and depths follow; its
-- files (those in its trash too), the links to it and to its files, its
-- file requests and its activity become the new owner's; the new
-- owner's own shares inside it go (they own it now) and the former
-- owner keeps it as an active co-owner.  Returns the folder's new name.
-- The caller has locked the folder and its subtree and re-wrapped the
-- encrypted files' keys (kek_user_id = new_owner) first.
CREATE FUNCTION lenz_transfer_move(folder uuid, new_owner uuid) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    f folders%ROWTYPE;
    ids uuid[];
    nm text;
    new_root uuid;
BEGIN
    INSERT INTO folders (owner_id, name, path, depth) VALUES (new_owner, '', '/', 0)
        ON CONFLICT (owner_id) WHERE parent_id IS NULL DO NOTHING;
    SELECT id INTO new_root FROM folders WHERE owner_id = new_owner AND parent_id IS NULL;
    SELECT * INTO f FROM folders WHERE id = folder;
    SELECT array_agg(s.id) INTO ids FROM lenz_subtree(folder) s;
    nm := lenz_free_name(new_root, f.name, f.id);
    UPDATE files SET owner_id = new_owner WHERE folder_id = ANY (ids) AND owner_id = f.owner_id;
    UPDATE folders d
       SET owner_id = new_owner,
           path = '/' || nm || substr(d.path, length(f.path) + 1),
           depth = d.depth - f.depth + 1,
           parent_id = CASE WHEN d.id = folder THEN new_root ELSE d.parent_id END,
           name = CASE WHEN d.id = folder THEN nm ELSE d.name END,
           updated_at = CASE WHEN d.id = folder THEN now() ELSE d.updated_at END
     WHERE d.id = ANY (ids);
    UPDATE links SET owner_id = new_owner
     WHERE owner_id = f.owner_id
       AND (folder_id = ANY (ids) OR file_id IN (SELECT x.id FROM files x WHERE x.folder_id = ANY (ids)));
    UPDATE file_requests SET owner_id = new_owner WHERE folder_id = ANY (ids);
    UPDATE activity SET owner_id = new_owner WHERE folder_id = ANY (ids);
    DELETE FROM shares WHERE folder_id = ANY (ids)
       AND (user_id = new_owner OR email = (SELECT email FROM users WHERE id = new_owner));
    INSERT INTO shares (folder_id, email, user_id, role, status, invited_by, accepted_at)
    SELECT folder, u.email, u.id, 'co-owner', 'active', new_owner, now() FROM users u WHERE u.id = f.owner_id
    ON CONFLICT (folder_id, email) DO UPDATE
       SET user_id = EXCLUDED.user_id, role = 'co-owner', status = 'active', accepted_at = now();
    DELETE FROM folder_transfers WHERE folder_transfers.folder_id = folder;
    RETURN nm;
END $$;
