/* store.h - a member's folders and files in the database: the tree, names,
 * moves, the trash and storage use (sql/012_storage.sql).
 *
 * Every lookup asks lenz_access() (sql/024_shares.sql) for the caller's
 * rank on the item: an item they have no access to is "not found",
 * exactly like an id that does not exist; one they see but may not change
 * is "forbidden".  Creating, renaming, moving and trashing need editor
 * (the rank on the folder the item is in, so an editor of a shared folder
 * changes what is inside it, never the shared folder itself); what they
 * create is the folder's owner's.  Trash, restore and storage use stay the
 * owner's own.  Name changes
 * (create, rename, move, restore, copy) take a transaction-scoped advisory
 * lock on (destination folder, name key) and check both folders and files
 * there, so two requests naming one place get one 201/200 and one 409;
 * the unique indexes stay underneath as the guarantee. */
#ifndef LENZ_FILES_STORE_H
#define LENZ_FILES_STORE_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"
#include "json.h"

extern const lenz_stmt lenz_files_stmts[];

#define LENZ_FS_DEPTH_DEFAULT 32

typedef enum {
    LENZ_FS_OK = 0,
    LENZ_FS_NOT_FOUND,        /* no such item of this member's (404) */
    LENZ_FS_CLASH,            /* the name is taken there (409, suggested_name) */
    LENZ_FS_CYCLE,            /* a folder into itself or below itself (409) */
    LENZ_FS_TOO_DEEP,         /* past LenzFolderDepth (400) */
    LENZ_FS_STALE,            /* If-Match does not match (412) */
    LENZ_FS_ROOT,             /* the root cannot be renamed, moved or deleted (409) */
    LENZ_FS_FORBIDDEN,        /* seen, but the caller's role does not allow it (403) */
    LENZ_FS_OTHER_OWNER,      /* a move between two owners' trees (409) */
    LENZ_FS_DB                /* the database failed (503) */
} lenz_fs_rc;

/* One item as the API shows it. */
typedef struct {
    int folder;
    const char *id, *name, *parent_id, *path, *modified_at, *etag;
    apr_int64_t size;             /* files */
    int depth;                    /* folders: 0 for the root */
    const char *owner_id;         /* whose storage it is */
    int rank;                     /* the caller's rank on it (lenz_access: 1 viewer .. 5 owner) */
    int parent_rank;              /* ... on the folder it is in (0: none, or the root) */
    const char *stored_path;      /* the owner's path of the folder (of a file: of its folder) */
} lenz_fs_item;

#define LENZ_RANK_VIEWER    1
#define LENZ_RANK_COMMENTER 2
#define LENZ_RANK_EDITOR    3
#define LENZ_RANK_COOWNER   4
#define LENZ_RANK_OWNER     5
/* "viewer" .. "owner" for a rank (NULL for 0). */
const char *lenz_fs_role_name(int rank);

/* The member's root folder's id, made on first use; NULL on a DB error. */
const char *lenz_fs_root(lenz_db *db, const char *owner);

/* A live folder or file the member may see (their own or shared with
 * them), with their rank on it. */
lenz_fs_rc lenz_fs_folder(lenz_db *db, const char *member, const char *id, lenz_fs_item *out);
lenz_fs_rc lenz_fs_file(lenz_db *db, const char *member, const char *id, lenz_fs_item *out);

/* A new folder named name in parent.  *suggested on a clash. */
lenz_fs_rc lenz_fs_mkdir(lenz_db *db, const char *member, const char *parent, const char *name,
                         int max_depth, lenz_fs_item *out, const char **suggested);
/* Renames (name not NULL) and/or moves (to not NULL) a folder or a file;
 * if_match: the item's ETag the client saw, or NULL. */
lenz_fs_rc lenz_fs_change(lenz_db *db, const char *member, int folder, const char *id,
                          const char *name, const char *to, const char *if_match, int max_depth,
                          lenz_fs_item *out, const char **suggested);
/* To the trash (a folder with everything below it). */
lenz_fs_rc lenz_fs_trash(lenz_db *db, const char *member, int folder, const char *id);
/* Back from the trash: to where it was, or the root when that is gone;
 * a name taken meanwhile gets " (2)" and so on. */
lenz_fs_rc lenz_fs_restore(lenz_db *db, const char *owner, const char *id, int max_depth,
                           lenz_fs_item *out);
/* Empties the trash (older_than_days > 0: only what was trashed that long
 * ago) with lenz_trash_empty() (sql/013), handing the S3 keys of the files
 * it removes to s3_garbage and, when there were any, queueing a
 * lenz-s3-garbage run in the same transaction.  *n: the files removed. */
lenz_fs_rc lenz_fs_empty(lenz_db *db, const char *owner, int older_than_days, int *n);
/* The trash's items, newest first, into arr. */
lenz_fs_rc lenz_fs_trash_list(lenz_db *db, const char *owner, lenz_json *arr);
/* {"used","trash"} bytes. */
lenz_fs_rc lenz_fs_usage(lenz_db *db, const char *owner, apr_int64_t *used, apr_int64_t *trash);

/* The item's JSON (children entries and answers). */
void lenz_fs_item_json(lenz_json *o, const lenz_fs_item *it, int with_parent);

/* storage.changed for a change made outside this file (a copy), inside
 * the caller's transaction: the owner's pages on folder refresh. */
lenz_fs_rc lenz_fs_changed(lenz_db *db, const char *owner, const char *op, const char *item,
                           const char *folder);

/* "Where to upload": the member's default, "encrypted" or "plain" (NULL
 * when the database cannot say), and setting it. */
const char *lenz_fs_upload_default(lenz_db *db, const char *owner);
lenz_fs_rc lenz_fs_set_upload_default(lenz_db *db, const char *owner, const char *where);

#endif
