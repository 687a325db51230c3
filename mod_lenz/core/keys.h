/* keys.h - the key hierarchy: master key file, key wrapping, key contexts.
 *
 *   master key (version N, in a file named by a directive, never in the DB)
 *     wraps each user's key-encryption key (KEK)   context lenz:kek:user=<uuid>:mk=<N>
 *       which wraps each file's data key (DEK)     context lenz:dek:file=<uuid>
 *
 * Master key file: text, one key a line as `<version>:<64 hex digits>`
 * (version a decimal integer 1..2147483647 without leading zeros, hex of
 * either case), '#' comment lines and blank lines allowed, spaces and tabs
 * around a line ignored.  The highest version is current; older ones stay
 * so that KEKs wrapped under them still unwrap while they are re-wrapped.
 * The file must be a regular file of at most 64 KiB readable by its owner
 * only (no group or other permission bits).
 *
 * Wrapped key blob (61 bytes):
 *   0x01 || nonce (12, random) || AES-256-GCM(kek, nonce, key) (32) || tag (16)
 * with the context string as AAD, so a blob moved to another user, file or
 * master-key version does not unwrap.  See docs/format.md.
 */
#ifndef LENZ_KEYS_H
#define LENZ_KEYS_H

#include <apr_pools.h>

#define LENZ_KEY_LEN          32
#define LENZ_WRAP_VERSION     1
#define LENZ_WRAP_LEN         61
#define LENZ_KEYFILE_MAX      65536
#define LENZ_KEY_VERSION_MAX  2147483647u

/* Memory for secret bytes, wiped when p is cleared or destroyed. */
void *lenz_key_palloc(apr_pool_t *p, apr_size_t len);

/* ---- master key file ---- */
typedef struct lenz_keyring lenz_keyring;

/* Load and check the master key file.  NULL with *why (from p, naming the
 * file and the line, never a key byte) when it is missing, unreadable, not
 * a regular file, readable or writable by group or others, too large,
 * empty or malformed.  Keys live in p and are wiped with it. */
lenz_keyring *lenz_keyring_load(apr_pool_t *p, const char *path, const char **why);
/* The same checks on text already in memory (name is used in messages). */
lenz_keyring *lenz_keyring_parse(apr_pool_t *p, const char *text, apr_size_t len,
                                 const char *name, const char **why);

apr_uint32_t lenz_keyring_current_version(const lenz_keyring *kr);
/* The key of that version, or NULL when the file does not hold it. */
const unsigned char *lenz_keyring_get(const lenz_keyring *kr, apr_uint32_t version);
/* Number of versions held. */
int lenz_keyring_count(const lenz_keyring *kr);

/* "<version>:<64 hex digits of a new random key>\n", from p (wiped with
 * it); NULL if the random generator fails or version is out of range. */
const char *lenz_keyring_generate_line(apr_pool_t *p, apr_uint32_t version);

/* Write text to path atomically: a 0600 temporary file in the same
 * directory, flushed to disk, then renamed over path (replace) or linked
 * to path only if it does not exist yet (APR_EEXIST otherwise). */
apr_status_t lenz_keyring_write_file(apr_pool_t *p, const char *path,
                                     const char *text, apr_size_t len,
                                     int replace, const char **why);
/* Create a new key file holding version 1; refuses to overwrite. */
apr_status_t lenz_keyring_create_file(apr_pool_t *p, const char *path, const char **why);
/* Rotation: load path (all the checks above), append a new random key as
 * version current+1 keeping every line already there, write it back
 * atomically.  *new_version receives the new current version. */
apr_status_t lenz_keyring_add_version(apr_pool_t *p, const char *path,
                                      apr_uint32_t *new_version, const char **why);

/* Retirement: rewrite path without the line of that version (comments and
 * other keys kept).  LENZ_ECONFLICT for the current version, LENZ_ENOTFOUND
 * when the file does not hold it. */
apr_status_t lenz_keyring_remove_version(apr_pool_t *p, const char *path,
                                         apr_uint32_t version, const char **why);

/* ---- wrapping ---- */

/* 32 random bytes. */
apr_status_t lenz_key_generate(unsigned char key[LENZ_KEY_LEN]);

/* blob receives LENZ_WRAP_LEN bytes.  p is only scratch for the cipher
 * context (a subpool, destroyed before return). */
apr_status_t lenz_key_wrap(apr_pool_t *p, const unsigned char kek[LENZ_KEY_LEN],
                           const char *context, const unsigned char key[LENZ_KEY_LEN],
                           unsigned char blob[LENZ_WRAP_LEN]);
/* Test vectors only: the nonce is given instead of drawn. */
apr_status_t lenz_key_wrap_nonce(apr_pool_t *p, const unsigned char kek[LENZ_KEY_LEN],
                                 const char *context, const unsigned char key[LENZ_KEY_LEN],
                                 const unsigned char nonce[12],
                                 unsigned char blob[LENZ_WRAP_LEN]);
/* LENZ_EFORMAT for a blob of the wrong length or version, LENZ_EAUTH for
 * the wrong kek or context or any altered byte (key is then wiped). */
apr_status_t lenz_key_unwrap(apr_pool_t *p, const unsigned char kek[LENZ_KEY_LEN],
                             const char *context, const unsigned char *blob,
                             apr_size_t blob_len, unsigned char key[LENZ_KEY_LEN]);

/* Context strings, so callers cannot typo them.  uuid is the canonical
 * 36-character text form (any case; lower-cased here).  NULL when the
 * uuid is malformed or the version is 0 or out of range. */
const char *lenz_key_context_kek(apr_pool_t *p, const char *user_uuid,
                                 apr_uint32_t master_version);
const char *lenz_key_context_dek(apr_pool_t *p, const char *file_uuid);

#endif
