/* jwt.c - HS256 JWTs (RFC 7519/7515) with base64url from codec.c and the
 * HMAC and HKDF from crypto.c. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>

#include "jwt.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"

#define SKEW 60

/* The signing key for master key version v: HKDF(mk_v, "lenz-jwt-v1", "access"). */
static apr_status_t derive(const lenz_keyring *kr, apr_uint32_t v, unsigned char key[32])
{
    const unsigned char *mk = lenz_keyring_get(kr, v);
    if (!mk)
        return LENZ_EAUTH;
    return lenz_hkdf_sha256(mk, LENZ_KEY_LEN, "lenz-jwt-v1", 11, "access", 6, key, 32);
}

apr_status_t lenz_jwt_sign(apr_pool_t *p, const lenz_keyring *kr, const lenz_json *claims,
                           const char **out)
{
    apr_uint32_t v = lenz_keyring_current_version(kr);
    lenz_json *hdr = lenz_json_new_object(p);
    const char *h, *c, *input;
    unsigned char key[32], mac[32];
    apr_status_t rv;

    lenz_json_set_str(hdr, "alg", "HS256");
    lenz_json_set_str(hdr, "typ", "JWT");
    lenz_json_set_str(hdr, "kid", apr_psprintf(p, "mk%u", v));
    h = lenz_json_dump(p, hdr);
    c = lenz_json_dump(p, claims);
    input = apr_pstrcat(p, lenz_b64url(p, h, strlen(h)), ".", lenz_b64url(p, c, strlen(c)), NULL);
    if ((rv = derive(kr, v, key)) != APR_SUCCESS)
        return rv;
    rv = lenz_hmac_sha256(key, sizeof(key), input, strlen(input), mac);
    lenz_wipe(key, sizeof(key));
    if (rv != APR_SUCCESS)
        return rv;
    *out = apr_pstrcat(p, input, ".", lenz_b64url(p, mac, sizeof(mac)), NULL);
    return APR_SUCCESS;
}

static lenz_json *json_part(apr_pool_t *p, const char *s, apr_size_t len)
{
    apr_size_t n;
    unsigned char *raw = lenz_unb64url(p, s, len, &n);
    lenz_json *j;
    if (!raw)
        return NULL;
    j = lenz_json_parse(p, (const char *)raw, n, 8, NULL);
    return j && lenz_json_typeof(j) == LENZ_JSON_OBJECT ? j : NULL;
}

apr_status_t lenz_jwt_verify(apr_pool_t *p, const lenz_keyring *kr, const char *token,
                             apr_time_t now, const char *issuer, lenz_json **claims)
{
    const char *d1, *d2, *alg, *kid, *typ, *iss;
    apr_size_t len;
    unsigned char key[32], mac[32], *sig;
    apr_size_t siglen;
    lenz_json *hdr, *cl;
    apr_int64_t exp, t;
    apr_uint32_t v;
    char *end;
    apr_status_t rv;

    /* Unpadded base64url only (RFC 7515): lenz_unb64url() also takes '='
     * padding, which would give one token a second spelling. */
    if (!token || (len = strlen(token)) > LENZ_JWT_MAX || memchr(token, '=', len))
        return LENZ_EFORMAT;
    d1 = strchr(token, '.');
    d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.') || d1 == token || d2 == d1 + 1 || !d2[1])
        return LENZ_EFORMAT;
    if (!(hdr = json_part(p, token, (apr_size_t)(d1 - token))))
        return LENZ_EFORMAT;
    /* The algorithm is ours to choose: anything but HS256 ("none",
     * "RS256" with our key as a public key, ...) is refused outright. */
    if (lenz_json_get_str(hdr, "alg", &alg) != APR_SUCCESS || strcmp(alg, "HS256") != 0)
        return LENZ_EAUTH;
    if (lenz_json_get_str(hdr, "typ", &typ) == APR_SUCCESS && strcmp(typ, "JWT") != 0)
        return LENZ_EAUTH;
    if (lenz_json_get_str(hdr, "kid", &kid) != APR_SUCCESS || strncmp(kid, "mk", 2) != 0
        || !kid[2] || kid[2] == '0')
        return LENZ_EAUTH;
    v = (apr_uint32_t)strtoul(kid + 2, &end, 10);
    if (*end || derive(kr, v, key) != APR_SUCCESS)
        return LENZ_EAUTH;
    sig = lenz_unb64url(p, d2 + 1, strlen(d2 + 1), &siglen);
    rv = lenz_hmac_sha256(key, sizeof(key), token, (apr_size_t)(d2 - token), mac);
    lenz_wipe(key, sizeof(key));
    if (rv != APR_SUCCESS)
        return rv;
    if (!sig || siglen != sizeof(mac) || !lenz_ct_equal(sig, mac, sizeof(mac)))
        return LENZ_EAUTH;

    if (!(cl = json_part(p, d1 + 1, (apr_size_t)(d2 - d1 - 1))))
        return LENZ_EFORMAT;
    if (lenz_json_get_int(cl, "exp", &exp) != APR_SUCCESS)
        return LENZ_EAUTH;
    if (exp <= apr_time_sec(now))
        return LENZ_EEXPIRED;
    if (lenz_json_get_int(cl, "nbf", &t) == APR_SUCCESS && t > apr_time_sec(now) + SKEW)
        return LENZ_EAUTH;
    if (lenz_json_get_int(cl, "iat", &t) == APR_SUCCESS && t > apr_time_sec(now) + SKEW)
        return LENZ_EAUTH;
    if (issuer && (lenz_json_get_str(cl, "iss", &iss) != APR_SUCCESS || strcmp(iss, issuer) != 0))
        return LENZ_EAUTH;
    *claims = cl;
    return APR_SUCCESS;
}
