/* token.c - link tokens (random, stored hashed) and sealed stateless
 * tokens (AES-256-GCM under a key derived from the master key). */
#include <string.h>
#include <apr_strings.h>

#include "token.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"

#define SEALED_SALT   "lenz-sealed-token-v1"
#define SEALED_HEAD   (1 + 4 + LENZ_GCM_NONCE)   /* format, version, nonce */
#define SEALED_DEPTH  16

/* ------------------------------------------------------------------ */
/* Link tokens                                                         */

apr_status_t lenz_token_new(apr_pool_t *p, const char **text,
                            unsigned char hash[LENZ_TOKEN_HASH_LEN])
{
    unsigned char raw[LENZ_TOKEN_BYTES];
    apr_status_t rv = lenz_random(raw, sizeof(raw));
    if (rv != APR_SUCCESS)
        return rv;
    *text = lenz_b64url(p, raw, sizeof(raw));
    lenz_wipe(raw, sizeof(raw));
    lenz_sha256(*text, LENZ_TOKEN_TEXT_LEN, hash);
    return APR_SUCCESS;
}

static int b64url_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

apr_status_t lenz_token_hash(const char *text, apr_size_t len,
                             unsigned char hash[LENZ_TOKEN_HASH_LEN])
{
    apr_size_t i;
    int v = 0;
    if (!text || len != LENZ_TOKEN_TEXT_LEN)
        return LENZ_EFORMAT;
    for (i = 0; i < len; i++)
        if ((v = b64url_value((unsigned char)text[i])) < 0)
            return LENZ_EFORMAT;
    /* 43 characters carry 258 bits for 256: the last one's two low bits
     * must be zero, so each token has exactly one spelling. */
    if (v & 3)
        return LENZ_EFORMAT;
    lenz_sha256(text, len, hash);
    return APR_SUCCESS;
}

int lenz_token_equal(const unsigned char a[LENZ_TOKEN_HASH_LEN],
                     const unsigned char b[LENZ_TOKEN_HASH_LEN])
{
    return lenz_ct_equal(a, b, LENZ_TOKEN_HASH_LEN);
}

/* ------------------------------------------------------------------ */
/* Sealed tokens                                                       */

static void put_be32(unsigned char *b, apr_uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

static apr_uint32_t get_be32(const unsigned char *b)
{
    return (apr_uint32_t)b[0] << 24 | (apr_uint32_t)b[1] << 16
        | (apr_uint32_t)b[2] << 8 | b[3];
}

static int purpose_ok(const char *purpose)
{
    return purpose && *purpose && strlen(purpose) <= LENZ_SEALED_PURPOSE_MAX;
}

/* A fresh cipher context under the purpose key, in scratch pool tmp. */
static apr_status_t purpose_cipher(apr_pool_t *tmp, const unsigned char *mk,
                                   const char *purpose, lenz_gcm **g)
{
    unsigned char *key = lenz_key_palloc(tmp, LENZ_AES256_KEY);
    apr_status_t rv = lenz_hkdf_sha256(mk, LENZ_KEY_LEN, SEALED_SALT, strlen(SEALED_SALT),
                                       purpose, strlen(purpose), key, LENZ_AES256_KEY);
    if (rv != APR_SUCCESS)
        return rv;
    *g = lenz_gcm_make(tmp, key);
    lenz_wipe(key, LENZ_AES256_KEY);
    return *g ? APR_SUCCESS : LENZ_ECRYPTO;
}

/* AAD = 0x01 || version || purpose, from tmp. */
static unsigned char *sealed_aad(apr_pool_t *tmp, apr_uint32_t version,
                                 const char *purpose, apr_size_t *len)
{
    apr_size_t pl = strlen(purpose);
    unsigned char *aad = apr_palloc(tmp, 5 + pl);
    aad[0] = LENZ_SEALED_VERSION;
    put_be32(aad + 1, version);
    memcpy(aad + 5, purpose, pl);
    *len = 5 + pl;
    return aad;
}

typedef struct {
    lenz_json *dst;
    int clash;
} copy_baton;

static int copy_field(void *baton, const char *key, lenz_json *val)
{
    copy_baton *cb = baton;
    if (!strcmp(key, "sub") || !strcmp(key, "iat") || !strcmp(key, "exp")) {
        cb->clash = 1;
        return 1;
    }
    lenz_json_set_copy(cb->dst, key, val);
    return 0;
}

/* The claims text: sub, iat, exp first, then the caller's fields. */
static const char *claims_text(apr_pool_t *p, const char *sub, apr_int64_t now,
                               apr_int64_t exp, const lenz_json *extra)
{
    copy_baton cb;
    cb.dst = lenz_json_new_object(p);
    cb.clash = 0;
    lenz_json_set_str(cb.dst, "sub", sub);
    lenz_json_set_int(cb.dst, "iat", now);
    lenz_json_set_int(cb.dst, "exp", exp);
    if (extra)
        lenz_json_object_each(extra, copy_field, &cb);
    return cb.clash ? NULL : lenz_json_dump(p, cb.dst);
}

apr_status_t lenz_token_seal_nonce(apr_pool_t *p, const lenz_keyring *kr,
                                   apr_uint32_t version, const unsigned char nonce[12],
                                   const char *purpose, const char *sub,
                                   apr_int64_t ttl_seconds, apr_int64_t now,
                                   const lenz_json *claims, const char **text)
{
    const unsigned char *mk = lenz_keyring_get(kr, version);
    const char *json;
    unsigned char *blob, *aad;
    apr_size_t jl, blen, alen;
    apr_pool_t *tmp;
    lenz_gcm *g;
    apr_status_t rv;

    if (!mk || !purpose_ok(purpose) || !sub || !*sub || ttl_seconds <= 0 || now < 0
        || ttl_seconds > APR_INT64_MAX - now
        || (claims && lenz_json_typeof(claims) != LENZ_JSON_OBJECT))
        return APR_EINVAL;
    if ((rv = apr_pool_create(&tmp, p)) != APR_SUCCESS)
        return rv;
    json = claims_text(tmp, sub, now, now + ttl_seconds, claims);
    if (!json) {
        apr_pool_destroy(tmp);
        return APR_EINVAL;
    }
    jl = strlen(json);
    blen = SEALED_HEAD + jl + LENZ_GCM_TAG;
    if ((blen * 4 + 2) / 3 > LENZ_SEALED_MAX) {
        apr_pool_destroy(tmp);
        return LENZ_ETOOBIG;
    }
    blob = apr_palloc(tmp, blen);
    blob[0] = LENZ_SEALED_VERSION;
    put_be32(blob + 1, version);
    memcpy(blob + 5, nonce, LENZ_GCM_NONCE);
    aad = sealed_aad(tmp, version, purpose, &alen);
    rv = purpose_cipher(tmp, mk, purpose, &g);
    if (rv == APR_SUCCESS)
        rv = lenz_gcm_seal(g, blob + 5, aad, alen, json, jl, blob + SEALED_HEAD,
                           blob + SEALED_HEAD + jl);
    if (rv == APR_SUCCESS)
        *text = lenz_b64url(p, blob, blen);
    lenz_wipe((void *)json, jl);
    apr_pool_destroy(tmp);
    return rv;
}

apr_status_t lenz_token_seal(apr_pool_t *p, const lenz_keyring *kr, const char *purpose,
                             const char *sub, apr_int64_t ttl_seconds, apr_int64_t now,
                             const lenz_json *claims, const char **text)
{
    unsigned char nonce[LENZ_GCM_NONCE];
    /* Random nonces under a key per (master version, purpose): the 2^32
     * message bound is far beyond the tokens one key version will seal. */
    apr_status_t rv = lenz_random(nonce, sizeof(nonce));
    if (rv != APR_SUCCESS)
        return rv;
    return lenz_token_seal_nonce(p, kr, lenz_keyring_current_version(kr), nonce,
                                 purpose, sub, ttl_seconds, now, claims, text);
}

/* Decode and authenticate; *json (from tmp) is the plaintext claims. */
static apr_status_t unseal(apr_pool_t *tmp, const lenz_keyring *kr, const char *purpose,
                           const char *text, char **json, apr_size_t *jl)
{
    apr_size_t tl, blen, alen;
    unsigned char *blob, *aad;
    const unsigned char *mk;
    apr_uint32_t version;
    lenz_gcm *g;
    apr_status_t rv;

    if (!text)
        return LENZ_EFORMAT;
    tl = strnlen(text, LENZ_SEALED_MAX + 1);
    /* Unpadded base64url only (docs/format.md): lenz_unb64url() also
     * takes '=' padding, which would give one token a second spelling. */
    if (tl > LENZ_SEALED_MAX || memchr(text, '=', tl))
        return LENZ_EFORMAT;
    blob = lenz_unb64url(tmp, text, tl, &blen);
    /* The smallest claims text is "{}". */
    if (!blob || blen < SEALED_HEAD + 2 + LENZ_GCM_TAG || blob[0] != LENZ_SEALED_VERSION)
        return LENZ_EFORMAT;
    version = get_be32(blob + 1);
    if (!(mk = lenz_keyring_get(kr, version)))
        return LENZ_EAUTH;
    *jl = blen - SEALED_HEAD - LENZ_GCM_TAG;
    *json = apr_palloc(tmp, *jl + 1);
    aad = sealed_aad(tmp, version, purpose, &alen);
    if ((rv = purpose_cipher(tmp, mk, purpose, &g)) != APR_SUCCESS)
        return rv;
    rv = lenz_gcm_open(g, blob + 5, aad, alen, blob + SEALED_HEAD, *jl,
                       blob + SEALED_HEAD + *jl, *json);
    if (rv != APR_SUCCESS)
        return rv;
    (*json)[*jl] = '\0';
    return APR_SUCCESS;
}

apr_status_t lenz_token_open(apr_pool_t *p, const lenz_keyring *kr, const char *purpose,
                             const char *expected_sub, apr_int64_t now,
                             const char *text, lenz_json **claims)
{
    apr_pool_t *tmp;
    char *json = NULL;
    apr_size_t jl = 0;
    lenz_json *c;
    const char *sub, *why;
    apr_int64_t exp, iat;
    apr_status_t rv;

    if (!kr || !purpose_ok(purpose))
        return APR_EINVAL;
    if ((rv = apr_pool_create(&tmp, p)) != APR_SUCCESS)
        return rv;
    rv = unseal(tmp, kr, purpose, text, &json, &jl);
    /* Authentic from here on, so a parse failure means a bug, not an attack. */
    c = rv == APR_SUCCESS ? lenz_json_parse(p, json, jl, SEALED_DEPTH, &why) : NULL;
    if (json)
        lenz_wipe(json, jl);
    apr_pool_destroy(tmp);
    if (rv != APR_SUCCESS)
        return rv;
    if (!c || lenz_json_typeof(c) != LENZ_JSON_OBJECT
        || lenz_json_get_str(c, "sub", &sub) != APR_SUCCESS
        || lenz_json_get_int(c, "exp", &exp) != APR_SUCCESS
        || lenz_json_get_int(c, "iat", &iat) != APR_SUCCESS)
        return LENZ_EFORMAT;
    if (expected_sub && strcmp(sub, expected_sub) != 0)
        return LENZ_EAUTH;
    if (now >= exp)
        return LENZ_EEXPIRED;
    *claims = c;
    return APR_SUCCESS;
}
