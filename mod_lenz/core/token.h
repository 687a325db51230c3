/* token.h - link tokens and sealed stateless tokens.
 *
 * Link tokens are 32 random bytes written as 43 characters of unpadded
 * base64url.  The server keeps only SHA-256 of the 43 ASCII characters, so
 * a database dump gives no usable link.
 *
 * Sealed tokens carry their own state (upload sessions and the like) so
 * any host can check them without a lookup:
 *
 *   key   = HKDF-SHA-256(ikm = master key <version>,
 *                        salt = "lenz-sealed-token-v1", info = purpose)
 *   blob  = 0x01 || version (uint32 BE) || nonce (12, random)
 *           || AES-256-GCM(key, nonce, claims JSON) || tag (16)
 *   AAD   = 0x01 || version (uint32 BE) || purpose
 *   text  = base64url(blob), unpadded, at most LENZ_SEALED_MAX characters
 *
 * The claims are a compact JSON object: "sub" (whose token it is), "iat",
 * "exp" (unix seconds), then the caller's fields.  A token sealed under an
 * older master key version opens as long as that version stays in the
 * key file.  See docs/format.md.
 */
#ifndef LENZ_TOKEN_H
#define LENZ_TOKEN_H

#include <apr_pools.h>
#include "json.h"
#include "keys.h"

#define LENZ_TOKEN_BYTES      32
#define LENZ_TOKEN_TEXT_LEN   43
#define LENZ_TOKEN_HASH_LEN   32
#define LENZ_SEALED_VERSION   1
#define LENZ_SEALED_MAX       4096   /* characters of token text */
#define LENZ_SEALED_PURPOSE_MAX 128

/* ---- link tokens ---- */

/* A new token: *text (43 chars, from p) and the SHA-256 to store. */
apr_status_t lenz_token_new(apr_pool_t *p, const char **text,
                            unsigned char hash[LENZ_TOKEN_HASH_LEN]);
/* SHA-256 of a presented token after checking it is exactly 43 base64url
 * characters in canonical form; LENZ_EFORMAT otherwise (hash untouched). */
apr_status_t lenz_token_hash(const char *text, apr_size_t len,
                             unsigned char hash[LENZ_TOKEN_HASH_LEN]);
/* Constant-time comparison of two hashes: 1 when equal. */
int lenz_token_equal(const unsigned char a[LENZ_TOKEN_HASH_LEN],
                     const unsigned char b[LENZ_TOKEN_HASH_LEN]);

/* ---- sealed tokens ---- */

/* Seal claims (a JSON object or NULL; it must not hold "sub", "iat" or
 * "exp") for purpose and sub, valid for ttl_seconds from now, under the
 * keyring's current version.  *text comes from p.  APR_EINVAL for a bad
 * argument, LENZ_ETOOBIG when the text would pass LENZ_SEALED_MAX. */
apr_status_t lenz_token_seal(apr_pool_t *p, const lenz_keyring *kr, const char *purpose,
                             const char *sub, apr_int64_t ttl_seconds, apr_int64_t now,
                             const lenz_json *claims, const char **text);
/* Test vectors only: version and nonce given instead of current/random. */
apr_status_t lenz_token_seal_nonce(apr_pool_t *p, const lenz_keyring *kr,
                                   apr_uint32_t version, const unsigned char nonce[12],
                                   const char *purpose, const char *sub,
                                   apr_int64_t ttl_seconds, apr_int64_t now,
                                   const lenz_json *claims, const char **text);

/* Open text sealed for purpose.  On success *claims (from p) is the whole
 * claims object, "sub", "iat" and "exp" included.  Returns
 *   LENZ_EFORMAT  not base64url, too long or too short, unknown format byte
 *   LENZ_EAUTH    altered, other purpose, unknown key version, or "sub"
 *                 differs from expected_sub (a token replayed for someone
 *                 else); expected_sub NULL skips that check and leaves it
 *                 to the caller
 *   LENZ_EEXPIRED now >= exp (checked only once everything else passed) */
apr_status_t lenz_token_open(apr_pool_t *p, const lenz_keyring *kr, const char *purpose,
                             const char *expected_sub, apr_int64_t now,
                             const char *text, lenz_json **claims);

#endif
