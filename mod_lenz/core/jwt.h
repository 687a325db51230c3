/* jwt.h - access tokens for API clients: JSON Web Tokens signed with
 * HMAC-SHA-256 under a key derived (HKDF) from the master key.  The key id
 * ("kid": "mk<N>") names the master key version, so master key rotation
 * rotates token keys too, and every host holding the key file can verify.
 * The algorithm is fixed here: a token's "alg" is checked, never obeyed.
 */
#ifndef LENZ_JWT_H
#define LENZ_JWT_H

#include <apr_pools.h>
#include <apr_time.h>
#include "json.h"
#include "keys.h"

#define LENZ_JWT_MAX 4096

/* Signs claims (an object; the caller sets sub, exp, iat, ...) with the
 * current master key version. */
apr_status_t lenz_jwt_sign(apr_pool_t *p, const lenz_keyring *kr, const lenz_json *claims,
                           const char **out);

/* Verifies signature, header (alg HS256, typ JWT when present, kid of a
 * held version), "exp" (must be in the future), "nbf"/"iat" (not in the
 * future, 60 s skew allowed) and "iss" when issuer is not NULL.
 * APR_SUCCESS with *claims, LENZ_EFORMAT (not a JWT), LENZ_EAUTH (bad
 * signature, wrong algorithm, unknown key, wrong issuer) or LENZ_EEXPIRED. */
apr_status_t lenz_jwt_verify(apr_pool_t *p, const lenz_keyring *kr, const char *token,
                             apr_time_t now, const char *issuer, lenz_json **claims);

#endif
