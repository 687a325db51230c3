/* store.c - a member's folders and files in the database (store.h). */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "jobs/s3garbage.h"
#include "store.h"
#include "httpd/outbox.h"
#include "codec.h"

#define TS(t)   "to_char(" t ".updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define ETAG(t) "'\"' || (extract(epoch FROM " t ".updated_at) * 1000000)::bigint || '\"'"
/* Live: not in the trash, nor inside a trashed folder (whose subtree
 * lives under '//trash/'). */
#define LIVE(f) "left(" f ".path, 2) <> '//'"

/* An item's columns, then its owner, the caller's rank on it and on the
 * folder it is in (lenz_access, sql/024).  The path and, at the top of
 * what was shared with the caller, the parent are as the caller sees them
 * (lenz_visible_path): nothing of the owner's folders above a share. */
#define FOLDER_COLS "f.id, f.name, CASE WHEN a.rk = 5 OR a.prk > 0 THEN f.parent_id END, " \
    "lenz_visible_path(%s::uuid, f.id), f.depth, " TS("f") ", " ETAG("f") ", f.owner_id, a.rk, a.prk, f.path"
#define FILE_COLS   "x.id, x.name, x.folder_id, lenz_visible_path(%s::uuid, p.id), x.size, " TS("x") ", " \
    ETAG("x") ", x.owner_id, a.rk, a.rk, p.path"
/* Arguments: member (path), member, member (ranks), id; a file's:
 * member (path), member (rank), id. */
#define FOLDER_FROM "FROM folders f CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'folder', f.id) AS rk, " \
    "coalesce(lenz_access(%s::uuid, 'folder', f.parent_id), 0) AS prk) a " \
    "WHERE f.id = %s::uuid AND a.rk > 0 AND f.trashed_at IS NULL AND " LIVE("f")
#define FILE_FROM "FROM files x JOIN folders p ON p.id = x.folder_id " \
    "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'file', x.id) AS rk) a " \
    "WHERE x.id = %s::uuid AND a.rk > 0 AND x.trashed_at IS NULL AND x.state = 'ready' AND " LIVE("p")

const lenz_stmt lenz_files_stmts[] = {
    { "lenz_fs_root_get", "SELECT id FROM folders WHERE owner_id = %s::uuid AND parent_id IS NULL" },
    { "lenz_fs_root_new",
      "INSERT INTO folders (owner_id, name, path, depth) VALUES (%s::uuid, '', '/', 0) "
      "ON CONFLICT (owner_id) WHERE parent_id IS NULL DO NOTHING" },
    { "lenz_fs_folder", "SELECT " FOLDER_COLS " " FOLDER_FROM },
    { "lenz_fs_folder_lock", "SELECT " FOLDER_COLS " " FOLDER_FROM " FOR UPDATE OF f" },
    { "lenz_fs_file", "SELECT " FILE_COLS " " FILE_FROM },
    { "lenz_fs_file_lock", "SELECT " FILE_COLS " " FILE_FROM " FOR UPDATE OF x" },
    /* One name in one folder at a time (see store.h). */
    { "lenz_fs_lock_name",
      "SELECT pg_advisory_xact_lock(hashtextextended(%s || '/' || lenz_name_key(%s), 7))" },
    { "lenz_fs_taken", "SELECT lenz_name_taken(%s::uuid, %s, %s::uuid)" },
    { "lenz_fs_stored_path", "SELECT path FROM folders WHERE id = %s::uuid" },
    { "lenz_fs_free", "SELECT lenz_free_name(%s::uuid, %s, %s::uuid)" },
    { "lenz_fs_mkdir",
      "INSERT INTO folders (owner_id, parent_id, name, path, depth) "
      "VALUES (%s::uuid, %s::uuid, %s, %s, %s::int) RETURNING id" },
    { "lenz_fs_subtree_depth",
      "SELECT max(depth) FROM folders WHERE owner_id = %s::uuid "
      "AND (path = %s OR left(path, length(%s) + 1) = %s || '/')" },
    /* A subtree's paths and depths in one statement, however many below. */
    { "lenz_fs_subtree_move",
      "UPDATE folders SET path = %s || substr(path, length(%s) + 1), depth = depth + %s::int "
      "WHERE owner_id = %s::uuid AND (path = %s OR left(path, length(%s) + 1) = %s || '/')" },
    { "lenz_fs_folder_set",
      "UPDATE folders SET name = %s, parent_id = %s::uuid, updated_at = now() WHERE id = %s::uuid" },
    { "lenz_fs_file_set",
      "UPDATE files SET name = %s, folder_id = %s::uuid, updated_at = now() WHERE id = %s::uuid" },
    { "lenz_fs_folder_trash",
      "UPDATE folders SET trashed_at = now(), trashed_from = parent_id, trashed_path = %s, "
      "updated_at = now() WHERE id = %s::uuid" },
    { "lenz_fs_file_trash",
      "UPDATE files SET trashed_at = now(), trashed_from = folder_id, trashed_path = %s, "
      "updated_at = now() WHERE id = %s::uuid" },
    { "lenz_fs_trashed_folder",
      "SELECT id, name, trashed_from, depth FROM folders "
      "WHERE id = %s::uuid AND owner_id = %s::uuid AND trashed_at IS NOT NULL FOR UPDATE" },
    { "lenz_fs_trashed_file",
      "SELECT id, name, trashed_from FROM files WHERE id = %s::uuid AND owner_id = %s::uuid "
      "AND trashed_at IS NOT NULL AND state = 'ready' FOR UPDATE" },
    { "lenz_fs_folder_untrash",
      "UPDATE folders SET name = %s, parent_id = %s::uuid, trashed_at = NULL, trashed_from = NULL, "
      "trashed_path = NULL, updated_at = now() WHERE id = %s::uuid" },
    { "lenz_fs_file_untrash",
      "UPDATE files SET name = %s, folder_id = %s::uuid, trashed_at = NULL, trashed_from = NULL, "
      "trashed_path = NULL, updated_at = now() WHERE id = %s::uuid" },
    /* The files the trash holds gone, their objects queued for deletion,
     * the trashed folders gone (sql/013_trash_purge.sql). */
    { "lenz_fs_empty", "SELECT lenz_trash_empty(%s::uuid, %s::int)" },
    { "lenz_fs_trash_list",
      "SELECT t, id, name, original, to_char(trashed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM ("
      " SELECT 'folder' AS t, id, name, trashed_path AS original, trashed_at FROM folders "
      "  WHERE owner_id = %s::uuid AND trashed_at IS NOT NULL"
      " UNION ALL"
      " SELECT 'file', id, name, rtrim(trashed_path, '/') || '/' || name, trashed_at FROM files "
      "  WHERE owner_id = %s::uuid AND trashed_at IS NOT NULL AND state = 'ready') t "
      "ORDER BY trashed_at DESC, id LIMIT 1000" },
    /* The trash: files trashed themselves (files_trash), and the files
     * of trashed folders (their paths under '//', folders_path), summed
     * folder by folder (files_folder): a join let the planner scan every
     * file of the member's, 5.6 ms for 100,000 files and an empty trash,
     * 0.1 ms this way (docs/bench.md). */
    { "lenz_fs_usage",
      "SELECT coalesce((SELECT used FROM storage_usage WHERE user_id = %s::uuid), 0), "
      "coalesce((SELECT sum(x.size) FROM files x WHERE x.owner_id = %s::uuid AND x.trashed_at IS NOT NULL "
      "  AND x.state <> 'deleted'), 0) "
      "+ coalesce((SELECT sum(s.n) FROM folders f CROSS JOIN LATERAL (SELECT sum(x.size) AS n FROM files x "
      "  WHERE x.folder_id = f.id AND x.trashed_at IS NULL AND x.state <> 'deleted') s "
      "  WHERE f.owner_id = %s::uuid AND f.path LIKE '//%%'), 0)" },
    { "lenz_fs_upload_default", "SELECT coalesce(upload_default, 'encrypted') FROM users WHERE id = %s::uuid" },
    { "lenz_fs_set_upload_default", "UPDATE users SET upload_default = %s WHERE id = %s::uuid" },
    { NULL }
};

static const char *NIL = "00000000-0000-0000-0000-000000000000";


static void folder_row(const char **row, lenz_fs_item *it)
{
    memset(it, 0, sizeof(*it));
    it->folder = 1;
    it->id = row[0];
    it->name = row[1];
    it->parent_id = row[2];
    it->path = row[3];
    it->depth = (int)apr_atoi64(row[4]);
    it->modified_at = row[5];
    it->etag = row[6];
    it->owner_id = row[7];
    it->rank = (int)apr_atoi64(row[8]);
    it->parent_rank = (int)apr_atoi64(row[9]);
    it->stored_path = row[10];
}

static void file_row(apr_pool_t *p, const char **row, lenz_fs_item *it)
{
    memset(it, 0, sizeof(*it));
    it->id = row[0];
    it->name = row[1];
    it->parent_id = row[2];
    it->path = apr_pstrcat(p, strcmp(row[3], "/") ? row[3] : "", "/", row[1], NULL);
    it->size = apr_atoi64(row[4]);
    it->modified_at = row[5];
    it->etag = row[6];
    it->owner_id = row[7];
    it->rank = (int)apr_atoi64(row[8]);
    it->parent_rank = (int)apr_atoi64(row[9]);
    it->stored_path = row[10];
}

const char *lenz_fs_role_name(int rank)
{
    static const char *const names[] = { NULL, "viewer", "commenter", "editor", "co-owner", "owner" };
    return rank >= 1 && rank <= 5 ? names[rank] : NULL;
}

void lenz_fs_item_json(lenz_json *o, const lenz_fs_item *it, int with_parent)
{
    lenz_json_set_str(o, "type", it->folder ? "folder" : "file");
    lenz_json_set_str(o, "id", it->id);
    lenz_json_set_str(o, "name", it->name);
    if (with_parent) {
        lenz_json_set_str(o, "parent_id", it->parent_id);
        lenz_json_set_str(o, "path", it->path);
    }
    if (it->folder)
        lenz_json_set_null(o, "size");
    else
        lenz_json_set_int(o, "size", it->size);
    lenz_json_set_str(o, "modified_at", it->modified_at);
    lenz_json_set_str(o, "etag", it->etag);
}

const char *lenz_fs_root(lenz_db *db, const char *owner)
{
    const char *args[1] = { owner };
    lenz_rows rows;
    if (lenz_db_select(db, "lenz_fs_root_get", &rows, 1, args) != APR_SUCCESS)
        return NULL;
    if (rows.nrows == 1)
        return rows.rows[0][0];
    if (lenz_db_exec(db, "lenz_fs_root_new", NULL, 1, args) != APR_SUCCESS
        || lenz_db_select(db, "lenz_fs_root_get", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1)
        return NULL;
    return rows.rows[0][0];
}

static lenz_fs_rc get_folder(lenz_db *db, const char *label, const char *member, const char *id,
                             lenz_fs_item *out)
{
    const char *args[4] = { member, member, member, id };
    lenz_rows rows;
    if (!lenz_uuid_ok(id))
        return LENZ_FS_NOT_FOUND;
    if (lenz_db_select(db, label, &rows, 4, args) != APR_SUCCESS)
        return LENZ_FS_DB;
    if (rows.nrows != 1)
        return LENZ_FS_NOT_FOUND;
    folder_row(rows.rows[0], out);
    return LENZ_FS_OK;
}

static lenz_fs_rc get_file(lenz_db *db, const char *label, const char *member, const char *id,
                           lenz_fs_item *out)
{
    const char *args[3] = { member, member, id };
    lenz_rows rows;
    if (!lenz_uuid_ok(id))
        return LENZ_FS_NOT_FOUND;
    if (lenz_db_select(db, label, &rows, 3, args) != APR_SUCCESS)
        return LENZ_FS_DB;
    if (rows.nrows != 1)
        return LENZ_FS_NOT_FOUND;
    file_row(lenz_db_pool(db), rows.rows[0], out);
    return LENZ_FS_OK;
}

lenz_fs_rc lenz_fs_folder(lenz_db *db, const char *member, const char *id, lenz_fs_item *out)
{
    return get_folder(db, "lenz_fs_folder", member, id, out);
}

lenz_fs_rc lenz_fs_file(lenz_db *db, const char *member, const char *id, lenz_fs_item *out)
{
    return get_file(db, "lenz_fs_file", member, id, out);
}

/* Locks name in folder for the transaction; 1 when it is free there
 * (other than self), 0 taken (then *suggested, if asked), -1 DB error. */
static int claim(lenz_db *db, const char *folder, const char *name, const char *self,
                 const char **suggested)
{
    const char *args[3] = { folder, name, self ? self : NIL };
    lenz_rows rows;
    if (lenz_db_select(db, "lenz_fs_lock_name", &rows, 2, args) != APR_SUCCESS
        || lenz_db_select(db, "lenz_fs_taken", &rows, 3, args) != APR_SUCCESS || rows.nrows != 1)
        return -1;
    if (rows.rows[0][0][0] != 't')
        return 1;
    if (suggested && lenz_db_select(db, "lenz_fs_free", &rows, 3, args) == APR_SUCCESS && rows.nrows == 1)
        *suggested = rows.rows[0][0];
    return 0;
}

static const char *child_path(apr_pool_t *p, const char *parent_path, const char *name)
{
    return apr_pstrcat(p, strcmp(parent_path, "/") ? parent_path : "", "/", name, NULL);
}

/* A change reaches the pages open on it: storage.changed in the change's
 * own transaction (the notify subscriber makes it a live row on
 * /events/stream for the owner and the members of the shares it is in,
 * sql/015 and 024; the activity subscriber a row of the shared folders'
 * feeds).  actor: who changed it; it: the item (its owner, kind, name),
 * or NULL with owner given; folders: the folders whose listing changed
 * (NULL ends; a repeat is left out), the first the one it is in now.  rc
 * passes through. */
static lenz_fs_rc changed_ex(lenz_db *db, const char *actor, const char *owner, const lenz_fs_item *it,
                             const char *op, const char *item, lenz_fs_rc rc,
                             const char *f1, const char *f2, const char *f3)
{
    apr_pool_t *p = lenz_db_pool(db);
    const char *fs[3] = { f1, f2, f3 };
    lenz_json *ev, *arr;
    int i, j;
    if (rc != LENZ_FS_OK)
        return rc;
    ev = lenz_json_new_object(p);
    lenz_json_set_str(ev, "owner_id", it ? it->owner_id : owner);
    lenz_json_set_str(ev, "op", op);
    lenz_json_set_str(ev, "id", item);
    if (it) {
        lenz_json_set_str(ev, "kind", it->folder ? "folder" : "file");
        lenz_json_set_str(ev, "name", it->name);
    }
    arr = lenz_json_obj_add_array(ev, "folders");
    for (i = 0; i < 3 && fs[i]; i++) {
        for (j = 0; j < i && strcmp(fs[j], fs[i]); j++)
            ;
        if (j == i)
            lenz_json_arr_add_str(arr, fs[i]);
    }
    return lenz_event_emit(db, "storage.changed", actor, item, ev) == APR_SUCCESS ? rc : LENZ_FS_DB;
}

static lenz_fs_rc changed(lenz_db *db, const char *actor, const lenz_fs_item *it, const char *op,
                          lenz_fs_rc rc, const char *f1, const char *f2, const char *f3)
{
    return changed_ex(db, actor, NULL, it, op, it->id, rc, f1, f2, f3);
}

lenz_fs_rc lenz_fs_changed(lenz_db *db, const char *owner, const char *op, const char *item,
                           const char *folder)
{
    return changed_ex(db, owner, owner, NULL, op, item, LENZ_FS_OK, folder, NULL, NULL);
}

/* Ends the transaction (commit on LENZ_FS_OK) and passes rc on. */
static lenz_fs_rc finish(lenz_db *db, lenz_fs_rc rc)
{
    if (lenz_db_end(db, rc != LENZ_FS_OK) != APR_SUCCESS && rc == LENZ_FS_OK)
        return LENZ_FS_DB;
    return rc;
}

/* The stored path of a folder (its owner's), for path arithmetic. */
static const char *stored_path(lenz_db *db, const char *id)
{
    const char *args[1] = { id };
    lenz_rows rows;
    if (lenz_db_select(db, "lenz_fs_stored_path", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1)
        return NULL;
    return rows.rows[0][0];
}

/* May the caller change what is in a folder they see with rank? */
static lenz_fs_rc may_edit(int rank)
{
    return rank >= LENZ_RANK_EDITOR ? LENZ_FS_OK : LENZ_FS_FORBIDDEN;
}

lenz_fs_rc lenz_fs_mkdir(lenz_db *db, const char *member, const char *parent, const char *name,
                         int max_depth, lenz_fs_item *out, const char **suggested)
{
    apr_pool_t *p = lenz_db_pool(db);
    lenz_fs_item par;
    lenz_rows rows;
    const char *args[5];
    lenz_fs_rc rc;
    int free_;

    if (lenz_db_begin(db) != APR_SUCCESS)
        return LENZ_FS_DB;
    if ((rc = get_folder(db, "lenz_fs_folder_lock", member, parent, &par)) != LENZ_FS_OK
        || (rc = may_edit(par.rank)) != LENZ_FS_OK)
        return finish(db, rc);
    if (par.depth + 1 > max_depth)
        return finish(db, LENZ_FS_TOO_DEEP);
    if ((free_ = claim(db, par.id, name, NULL, suggested)) <= 0)
        return finish(db, free_ < 0 ? LENZ_FS_DB : LENZ_FS_CLASH);
    /* The path as stored (the owner's), not as the caller sees it. */
    if (!(args[3] = stored_path(db, par.id)))
        return finish(db, LENZ_FS_DB);
    args[3] = child_path(p, args[3], name);
    args[0] = par.owner_id;
    args[1] = par.id;
    args[2] = name;
    args[4] = apr_itoa(p, par.depth + 1);
    if (lenz_db_select(db, "lenz_fs_mkdir", &rows, 5, args) != APR_SUCCESS || rows.nrows != 1)
        return finish(db, LENZ_FS_DB);
    rc = get_folder(db, "lenz_fs_folder", member, rows.rows[0][0], out);
    return finish(db, rc == LENZ_FS_OK ? changed(db, member, out, "created", rc, par.id, NULL, NULL) : rc);
}

/* The destination of a move: a folder the caller may edit, of the same
 * owner's tree. */
static lenz_fs_rc move_dest(lenz_db *db, const char *member, const lenz_fs_item *cur, const char *to,
                            lenz_fs_item *dest)
{
    lenz_fs_rc rc = get_folder(db, "lenz_fs_folder_lock", member, to, dest);
    if (rc != LENZ_FS_OK)
        return rc;
    if (strcmp(dest->owner_id, cur->owner_id))
        return LENZ_FS_OTHER_OWNER;
    return may_edit(dest->rank);
}

static lenz_fs_rc change_folder(lenz_db *db, const char *member, const char *id, const char *name,
                                const char *to, const char *if_match, int max_depth,
                                lenz_fs_item *out, const char **suggested)
{
    apr_pool_t *p = lenz_db_pool(db);
    lenz_fs_item cur, dest;
    lenz_rows rows;
    const char *args[7], *newpath, *cur_path, *dest_path;
    lenz_fs_rc rc;
    int delta, deepest, free_;

    if ((rc = get_folder(db, "lenz_fs_folder_lock", member, id, &cur)) != LENZ_FS_OK)
        return rc;
    if (cur.depth == 0)
        return cur.rank == LENZ_RANK_OWNER ? LENZ_FS_ROOT : LENZ_FS_FORBIDDEN;
    if ((rc = may_edit(cur.parent_rank)) != LENZ_FS_OK)
        return rc;
    if (if_match && strcmp(if_match, cur.etag) != 0)
        return LENZ_FS_STALE;
    if ((rc = move_dest(db, member, &cur, to ? to : cur.parent_id, &dest)) != LENZ_FS_OK)
        return rc;
    if (!(cur_path = stored_path(db, cur.id)) || !(dest_path = stored_path(db, dest.id)))
        return LENZ_FS_DB;
    /* Into itself or its own subtree: a cycle. */
    if (!strcmp(dest.id, cur.id)
        || (!strncmp(dest_path, cur_path, strlen(cur_path)) && dest_path[strlen(cur_path)] == '/'))
        return LENZ_FS_CYCLE;
    name = name ? name : cur.name;
    if ((free_ = claim(db, dest.id, name, cur.id, suggested)) <= 0)
        return free_ < 0 ? LENZ_FS_DB : LENZ_FS_CLASH;
    args[0] = cur.owner_id;
    args[1] = args[2] = args[3] = cur_path;
    if (lenz_db_select(db, "lenz_fs_subtree_depth", &rows, 4, args) != APR_SUCCESS || rows.nrows != 1)
        return LENZ_FS_DB;
    deepest = (int)apr_atoi64(rows.rows[0][0]);
    delta = dest.depth + 1 - cur.depth;
    if (deepest + delta > max_depth)
        return LENZ_FS_TOO_DEEP;
    newpath = child_path(p, dest_path, name);
    args[0] = newpath;
    args[1] = cur_path;
    args[2] = apr_itoa(p, delta);
    args[3] = cur.owner_id;
    args[4] = args[5] = args[6] = cur_path;
    if (lenz_db_exec(db, "lenz_fs_subtree_move", NULL, 7, args) != APR_SUCCESS)
        return LENZ_FS_DB;
    args[0] = name;
    args[1] = dest.id;
    args[2] = cur.id;
    if (lenz_db_exec(db, "lenz_fs_folder_set", NULL, 3, args) != APR_SUCCESS)
        return LENZ_FS_DB;
    if ((rc = get_folder(db, "lenz_fs_folder", member, cur.id, out)) != LENZ_FS_OK)
        return rc;
    return changed(db, member, out, "changed", rc, dest.id, cur.parent_id, cur.id);
}

static lenz_fs_rc change_file(lenz_db *db, const char *member, const char *id, const char *name,
                              const char *to, const char *if_match, lenz_fs_item *out,
                              const char **suggested)
{
    lenz_fs_item cur, dest;
    const char *args[3];
    lenz_fs_rc rc;
    int free_;

    if ((rc = get_file(db, "lenz_fs_file_lock", member, id, &cur)) != LENZ_FS_OK
        || (rc = may_edit(cur.rank)) != LENZ_FS_OK)
        return rc;
    if (if_match && strcmp(if_match, cur.etag) != 0)
        return LENZ_FS_STALE;
    if ((rc = move_dest(db, member, &cur, to ? to : cur.parent_id, &dest)) != LENZ_FS_OK)
        return rc;
    name = name ? name : cur.name;
    if ((free_ = claim(db, dest.id, name, cur.id, suggested)) <= 0)
        return free_ < 0 ? LENZ_FS_DB : LENZ_FS_CLASH;
    args[0] = name;
    args[1] = dest.id;
    args[2] = cur.id;
    if (lenz_db_exec(db, "lenz_fs_file_set", NULL, 3, args) != APR_SUCCESS)
        return LENZ_FS_DB;
    if ((rc = get_file(db, "lenz_fs_file", member, cur.id, out)) != LENZ_FS_OK)
        return rc;
    return changed(db, member, out, "changed", rc, dest.id, cur.parent_id, NULL);
}

lenz_fs_rc lenz_fs_change(lenz_db *db, const char *member, int folder, const char *id,
                          const char *name, const char *to, const char *if_match, int max_depth,
                          lenz_fs_item *out, const char **suggested)
{
    if (lenz_db_begin(db) != APR_SUCCESS)
        return LENZ_FS_DB;
    return finish(db, folder ? change_folder(db, member, id, name, to, if_match, max_depth, out, suggested)
                             : change_file(db, member, id, name, to, if_match, out, suggested));
}

lenz_fs_rc lenz_fs_trash(lenz_db *db, const char *member, int folder, const char *id)
{
    apr_pool_t *p = lenz_db_pool(db);
    lenz_fs_item cur;
    const char *args[7], *path;
    lenz_fs_rc rc;

    if (lenz_db_begin(db) != APR_SUCCESS)
        return LENZ_FS_DB;
    if (!folder) {
        if ((rc = get_file(db, "lenz_fs_file_lock", member, id, &cur)) != LENZ_FS_OK
            || (rc = may_edit(cur.rank)) != LENZ_FS_OK)
            return finish(db, rc);
        if (!(path = stored_path(db, cur.parent_id)))
            return finish(db, LENZ_FS_DB);
        args[0] = path;
        args[1] = cur.id;
        return finish(db, changed(db, member, &cur, "trashed",
                                  lenz_db_exec(db, "lenz_fs_file_trash", NULL, 2, args) == APR_SUCCESS
                                  ? LENZ_FS_OK : LENZ_FS_DB, cur.parent_id, NULL, NULL));
    }
    if ((rc = get_folder(db, "lenz_fs_folder_lock", member, id, &cur)) != LENZ_FS_OK)
        return finish(db, rc);
    if (cur.depth == 0)
        return finish(db, cur.rank == LENZ_RANK_OWNER ? LENZ_FS_ROOT : LENZ_FS_FORBIDDEN);
    if ((rc = may_edit(cur.parent_rank)) != LENZ_FS_OK)
        return finish(db, rc);
    if (!(path = stored_path(db, cur.id)))
        return finish(db, LENZ_FS_DB);
    /* The subtree leaves the tree: its paths go under //trash/<id>. */
    args[0] = apr_pstrcat(p, "//trash/", cur.id, NULL);
    args[1] = path;
    args[2] = "0";
    args[3] = cur.owner_id;
    args[4] = args[5] = args[6] = path;
    if (lenz_db_exec(db, "lenz_fs_subtree_move", NULL, 7, args) != APR_SUCCESS)
        return finish(db, LENZ_FS_DB);
    args[0] = path;
    args[1] = cur.id;
    return finish(db, changed(db, member, &cur, "trashed",
                              lenz_db_exec(db, "lenz_fs_folder_trash", NULL, 2, args) == APR_SUCCESS
                              ? LENZ_FS_OK : LENZ_FS_DB, cur.parent_id, cur.id, NULL));
}

/* Where an item comes back to: the folder it was in when that is live
 * (and deep enough room is left), else the root. */
static lenz_fs_rc restore_place(lenz_db *db, const char *owner, const char *from, int need,
                                int max_depth, lenz_fs_item *dest)
{
    lenz_fs_rc rc = from ? get_folder(db, "lenz_fs_folder_lock", owner, from, dest) : LENZ_FS_NOT_FOUND;
    if (rc == LENZ_FS_OK && dest->depth + need <= max_depth)
        return LENZ_FS_OK;
    if (rc == LENZ_FS_DB)
        return rc;
    {
        const char *root = lenz_fs_root(db, owner);
        return root ? get_folder(db, "lenz_fs_folder_lock", owner, root, dest) : LENZ_FS_DB;
    }
}

lenz_fs_rc lenz_fs_restore(lenz_db *db, const char *owner, const char *id, int max_depth,
                           lenz_fs_item *out)
{
    apr_pool_t *p = lenz_db_pool(db);
    lenz_fs_item dest;
    lenz_rows rows;
    const char *args[7], *name, *old, *suggested = NULL;
    lenz_fs_rc rc;
    int folder, depth = 0, deepest = 0, free_;

    if (!lenz_uuid_ok(id))
        return LENZ_FS_NOT_FOUND;
    if (lenz_db_begin(db) != APR_SUCCESS)
        return LENZ_FS_DB;
    args[0] = id;
    args[1] = owner;
    if (lenz_db_select(db, "lenz_fs_trashed_folder", &rows, 2, args) != APR_SUCCESS)
        return finish(db, LENZ_FS_DB);
    folder = rows.nrows == 1;
    if (!folder && (lenz_db_select(db, "lenz_fs_trashed_file", &rows, 2, args) != APR_SUCCESS))
        return finish(db, LENZ_FS_DB);
    if (rows.nrows != 1)
        return finish(db, LENZ_FS_NOT_FOUND);
    name = rows.rows[0][1];
    old = apr_pstrcat(p, "//trash/", id, NULL);
    if (folder) {
        const char *da[4] = { owner, old, old, old };
        lenz_rows d;
        depth = (int)apr_atoi64(rows.rows[0][3]);
        if (lenz_db_select(db, "lenz_fs_subtree_depth", &d, 4, da) != APR_SUCCESS || d.nrows != 1)
            return finish(db, LENZ_FS_DB);
        deepest = (int)apr_atoi64(d.rows[0][0]);
    }
    if ((rc = restore_place(db, owner, rows.rows[0][2], folder ? deepest - depth + 1 : 0, max_depth,
                            &dest)) != LENZ_FS_OK)
        return finish(db, rc);
    if ((free_ = claim(db, dest.id, name, id, &suggested)) < 0)
        return finish(db, LENZ_FS_DB);
    if (free_ == 0 && suggested)
        name = suggested;
    args[0] = name;
    args[1] = dest.id;
    args[2] = id;
    if (!folder) {
        if (lenz_db_exec(db, "lenz_fs_file_untrash", NULL, 3, args) != APR_SUCCESS)
            return finish(db, LENZ_FS_DB);
        rc = get_file(db, "lenz_fs_file", owner, id, out);
        return finish(db, rc == LENZ_FS_OK ? changed(db, owner, out, "restored", rc, dest.id, NULL, NULL) : rc);
    }
    if (lenz_db_exec(db, "lenz_fs_folder_untrash", NULL, 3, args) != APR_SUCCESS)
        return finish(db, LENZ_FS_DB);
    args[0] = child_path(p, dest.path, name);
    args[1] = old;
    args[2] = apr_itoa(p, dest.depth + 1 - depth);
    args[3] = owner;
    args[4] = args[5] = args[6] = old;
    if (lenz_db_exec(db, "lenz_fs_subtree_move", NULL, 7, args) != APR_SUCCESS)
        return finish(db, LENZ_FS_DB);
    rc = get_folder(db, "lenz_fs_folder", owner, id, out);
    return finish(db, rc == LENZ_FS_OK ? changed(db, owner, out, "restored", rc, dest.id, NULL, NULL) : rc);
}

lenz_fs_rc lenz_fs_empty(lenz_db *db, const char *owner, int older_than_days, int *n)
{
    const char *args[2] = { owner, apr_itoa(lenz_db_pool(db), older_than_days > 0 ? older_than_days : 0) };
    lenz_rows rows;

    *n = 0;
    if (lenz_db_begin(db) != APR_SUCCESS)
        return LENZ_FS_DB;
    if (lenz_db_select(db, "lenz_fs_empty", &rows, 2, args) != APR_SUCCESS || rows.nrows != 1)
        return finish(db, LENZ_FS_DB);
    *n = (int)apr_atoi64(rows.rows[0][0]);
    /* Their objects go soon rather than at the schedule's next run. */
    if (*n > 0 && lenz_s3_garbage_enqueue(db) != APR_SUCCESS)
        return finish(db, LENZ_FS_DB);
    return finish(db, changed_ex(db, owner, owner, NULL, "emptied", NULL, LENZ_FS_OK, NULL, NULL, NULL));
}

lenz_fs_rc lenz_fs_trash_list(lenz_db *db, const char *owner, lenz_json *arr)
{
    const char *args[2] = { owner, owner };
    lenz_rows rows;
    int i;
    if (lenz_db_select(db, "lenz_fs_trash_list", &rows, 2, args) != APR_SUCCESS)
        return LENZ_FS_DB;
    for (i = 0; i < rows.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_str(o, "type", rows.rows[i][0]);
        lenz_json_set_str(o, "id", rows.rows[i][1]);
        lenz_json_set_str(o, "name", rows.rows[i][2]);
        lenz_json_set_str(o, "original_path", rows.rows[i][3]);
        lenz_json_set_str(o, "trashed_at", rows.rows[i][4]);
    }
    return LENZ_FS_OK;
}

lenz_fs_rc lenz_fs_usage(lenz_db *db, const char *owner, apr_int64_t *used, apr_int64_t *trash)
{
    const char *args[3] = { owner, owner, owner };
    lenz_rows rows;
    if (lenz_db_select(db, "lenz_fs_usage", &rows, 3, args) != APR_SUCCESS || rows.nrows != 1)
        return LENZ_FS_DB;
    *used = apr_atoi64(rows.rows[0][0]);
    *trash = apr_atoi64(rows.rows[0][1]);
    return LENZ_FS_OK;
}

const char *lenz_fs_upload_default(lenz_db *db, const char *owner)
{
    const char *args[1] = { owner };
    lenz_rows rows;
    if (lenz_db_select(db, "lenz_fs_upload_default", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1)
        return NULL;
    return rows.rows[0][0];
}

lenz_fs_rc lenz_fs_set_upload_default(lenz_db *db, const char *owner, const char *where)
{
    const char *args[2] = { where, owner };
    return lenz_db_exec(db, "lenz_fs_set_upload_default", NULL, 2, args) == APR_SUCCESS ? LENZ_FS_OK : LENZ_FS_DB;
}
