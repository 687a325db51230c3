/* keystore.h - users' key-encryption keys as httpd sees them: loaded
 * from user_keys and unwrapped with the master key ring; made on first
 * use.  Guests' files are keyed by a system account of their own. */
#ifndef LENZ_KEYSTORE_H
#define LENZ_KEYSTORE_H

#include "lenz.h"
#include "router.h"
#include "dbd.h"
#include "keys.h"

extern const lenz_stmt lenz_keystore_stmts[];

/* The user's newest KEK, unwrapped into kek (from lenz_key_palloc memory
 * of the caller), creating version 1 when the user has none yet. */
apr_status_t lenz_kek_current(request_rec *r, lenz_db *db, const char *user_id,
                              unsigned char kek[LENZ_KEY_LEN], int *version);
/* A given version (to unwrap an existing file's key). */
apr_status_t lenz_kek_get(request_rec *r, lenz_db *db, const char *user_id, int version,
                          unsigned char kek[LENZ_KEY_LEN]);
/* The same from a row the caller already read: the wrapped KEK (hex) and
 * the master key version (decimal) of user_keys, e.g. joined to a file. */
apr_status_t lenz_kek_from_row(request_rec *r, const char *user_id, const char *wrapped_hex,
                               const char *master_version, unsigned char kek[LENZ_KEY_LEN]);
/* The id of the system account that owns guests' keys (made on first use). */
const char *lenz_guest_account(request_rec *r, lenz_db *db);

#endif
