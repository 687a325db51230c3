/* store.h - a member's folders and files in the database: the tree, names,
 * moves, the trash and storage use (sql/012_storage.sql).
 *
 * Every statement is bounded by the owner: another member's item is
 * "not found", exactly like an id that does not exist.  Name changes
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
    LENZ_FS_DB                /* the database failed (503) */
} lenz_fs_rc;

/* One item as the API shows it. */
typedef struct {
    int folder;
    const char *id, *name, *parent_id, *path, *modified_at, *etag;
    apr_int64_t size;             /* files */
    int depth;                    /* folders: 0 for the root */
} lenz_fs_item;

/* The member's root folder's id, made on first use; NULL on a DB error. */
const char *lenz_fs_root(lenz_db *db, const char *owner);

lenz_fs_rc lenz_fs_folder(lenz_db *db, const char *owner, const char *id, lenz_fs_item *out);
lenz_fs_rc lenz_fs_file(lenz_db *db, const char *owner, const char *id, lenz_fs_item *out);

/* A new folder named name in parent.  *suggested on a clash. */
lenz_fs_rc lenz_fs_mkdir(lenz_db *db, const char *owner, const char *parent, const char *name,
                         int max_depth, lenz_fs_item *out, const char **suggested);
/* Renames (name not NULL) and/or moves (to not NULL) a folder or a file;
 * if_match: the item's ETag the client saw, or NULL. */
lenz_fs_rc lenz_fs_change(lenz_db *db, const char *owner, int folder, const char *id,
                          const char *name, const char *to, const char *if_match, int max_depth,
                          lenz_fs_item *out, const char **suggested);
/* To the trash (a folder with everything below it). */
lenz_fs_rc lenz_fs_trash(lenz_db *db, const char *owner, int folder, const char *id);
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
