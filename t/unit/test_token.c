/* Unit tests for link tokens and sealed tokens (token.c), with the sealed
 * token vector of docs/format.md (`build/t/test_token --vectors`). */
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "token.h"
#include "keys.h"
#include "json.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"

#define MK1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define MK2 "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"
#define VEC_NONCE "505152535455565758595a5b"
#define VEC_NOW   1700000000
#define VEC_TTL   3600
#define VEC_SUB   "guest:42"
#define VEC_PURPOSE "upload"

/* (d) HKDF output for master key MK1 (as version 7) and purpose "upload". */
static const char *VEC_PURPOSE_KEY =
    "4372b60e7fb3490d4382c9b363facbeaabbb5c800458493715bd5d4cbbb6a45d";
static const char *VEC_CLAIMS =
    "{\"sub\":\"guest:42\",\"iat\":1700000000,\"exp\":1700003600,"
    "\"file\":\"00112233-4455-6677-8899-aabbccddeeff\",\"part_size\":8388608}";
static const char *VEC_TOKEN =
    "AQAAAAdQUVJTVFVWV1hZWlv8XWgyov4212Q8NnOmkDkX6WySnSLhksbG-J00BNNhQhXb"
    "FhkGwP9HNueA3itiMMlyGbe5T2KhzE82aNmbTu6VPkfnUkJvoY8ePOFzWG4i0z6FOY3r"
    "DIEQIVGm-zvI5TDJqHcqVXFf8-xBhjGAW6AId1lDb6DlwvGBuWQqAgBL0dHUGcqNuA";

static lenz_keyring *ring(apr_pool_t *p, const char *text)
{
    const char *why;
    lenz_keyring *kr = lenz_keyring_parse(p, text, strlen(text), "test", &why);
    if (!kr) {
        printf("Bail out! %s\n", why);
        exit(1);
    }
    return kr;
}

static lenz_json *vec_claims(apr_pool_t *p)
{
    lenz_json *c = lenz_json_new_object(p);
    lenz_json_set_str(c, "file", "00112233-4455-6677-8899-aabbccddeeff");
    lenz_json_set_int(c, "part_size", 8388608);
    return c;
}

static const char *vec_token(apr_pool_t *p, lenz_keyring *kr)
{
    unsigned char nonce[12];
    const char *text = NULL;
    lenz_unhex(VEC_NONCE, 24, nonce, 12);
    if (lenz_token_seal_nonce(p, kr, 7, nonce, VEC_PURPOSE, VEC_SUB, VEC_TTL, VEC_NOW,
                              vec_claims(p), &text) != APR_SUCCESS)
        return NULL;
    return text;
}

static const char *purpose_key(apr_pool_t *p)
{
    unsigned char mk[32], k[32];
    lenz_unhex(MK1, 64, mk, 32);
    lenz_hkdf_sha256(mk, 32, "lenz-sealed-token-v1", 20, VEC_PURPOSE, 6, k, 32);
    return lenz_hex(p, k, 32);
}

static void print_vectors(apr_pool_t *p)
{
    lenz_keyring *kr = ring(p, "7:" MK1 "\n");
    const char *t = vec_token(p, kr);
    apr_size_t n;
    unsigned char *b = lenz_unb64url(p, t, strlen(t), &n);
    printf("purpose key: %s\n", purpose_key(p));
    printf("token (%d chars): %s\n", (int)strlen(t), t);
    printf("blob (%d bytes): %s\n", (int)n, lenz_hex(p, b, n));
}

static void test_link(apr_pool_t *p)
{
    const char *t1, *t2;
    unsigned char h1[32], h2[32], h[32];
    char bad[44];
    int i, all43 = 1;

    ok(lenz_token_new(p, &t1, h1) == APR_SUCCESS, "new link token");
    is_int(strlen(t1), 43, "43 characters");
    ok(lenz_token_hash(t1, strlen(t1), h) == APR_SUCCESS && lenz_token_equal(h, h1),
       "hash of the presented text equals the stored hash");
    is_str(lenz_sha256_hex(p, t1, 43), lenz_hex(p, h1, 32), "stored hash is SHA-256 of the text");
    lenz_token_new(p, &t2, h2);
    ok(strcmp(t1, t2) != 0 && !lenz_token_equal(h1, h2), "two tokens differ");
    for (i = 0; i < 200; i++) {
        const char *t;
        lenz_token_new(p, &t, h);
        all43 &= strlen(t) == 43 && lenz_token_hash(t, 43, h2) == APR_SUCCESS && lenz_token_equal(h, h2);
    }
    ok(all43, "200 new tokens all 43 chars and all validate");

    memcpy(bad, t1, 44);
    bad[0] = bad[0] == 'A' ? 'B' : 'A';
    ok(lenz_token_hash(bad, 43, h) == APR_SUCCESS && !lenz_token_equal(h, h1), "one char changed: other hash");
    is_int(lenz_token_hash(t1, 42, h), LENZ_EFORMAT, "42 chars refused");
    is_int(lenz_token_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 44, h), LENZ_EFORMAT, "44 chars refused");
    memcpy(bad, t1, 44);
    bad[10] = '+';
    is_int(lenz_token_hash(bad, 43, h), LENZ_EFORMAT, "'+' refused");
    bad[10] = '/';
    is_int(lenz_token_hash(bad, 43, h), LENZ_EFORMAT, "'/' refused");
    bad[10] = '=';
    is_int(lenz_token_hash(bad, 43, h), LENZ_EFORMAT, "'=' refused");
    bad[10] = '\0';
    is_int(lenz_token_hash(bad, 43, h), LENZ_EFORMAT, "NUL refused");
    is_int(lenz_token_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", 43, h), LENZ_EFORMAT,
           "non-canonical last character refused");
    is_int(lenz_token_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE", 43, h), APR_SUCCESS,
           "canonical last character accepted");
    is_int(lenz_token_hash(NULL, 43, h), LENZ_EFORMAT, "NULL refused");
}

static void test_sealed_vector(apr_pool_t *p)
{
    lenz_keyring *kr = ring(p, "7:" MK1 "\n");
    const char *t = vec_token(p, kr);
    lenz_json *c = NULL;
    const char *s;
    apr_int64_t v;

    is_str(purpose_key(p), VEC_PURPOSE_KEY, "vector (d): purpose key");
    is_str(t, VEC_TOKEN, "vector (d): sealed token text");
    is_int(lenz_token_open(p, kr, VEC_PURPOSE, VEC_SUB, VEC_NOW + 10, VEC_TOKEN, &c), APR_SUCCESS,
           "vector (d) opens");
    is_str(lenz_json_dump(p, c), VEC_CLAIMS, "vector (d): claims JSON");
    ok(lenz_json_get_str(c, "file", &s) == APR_SUCCESS
       && !strcmp(s, "00112233-4455-6677-8899-aabbccddeeff"), "caller claim kept");
    ok(lenz_json_get_int(c, "exp", &v) == APR_SUCCESS && v == VEC_NOW + VEC_TTL, "exp = now + ttl");
}

static void test_sealed(apr_pool_t *p)
{
    lenz_keyring *kr1 = ring(p, "1:" MK1 "\n");
    lenz_keyring *kr12 = ring(p, "1:" MK1 "\n2:" MK2 "\n");
    lenz_keyring *kr2 = ring(p, "2:" MK2 "\n");
    const char *t, *t2;
    lenz_json *c = NULL, *extra;
    apr_size_t blen, i;
    unsigned char *blob;
    int fails = 0, codes = 0, tfails = 0;
    const apr_int64_t now = 1800000000;

    ok(lenz_token_seal(p, kr1, "upload", "u-1", 60, now, NULL, &t) == APR_SUCCESS, "seal, no extra claims");
    ok(strlen(t) <= LENZ_SEALED_MAX, "text within the bound");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now, t, &c), APR_SUCCESS, "opens at iat");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now + 59, t, &c), APR_SUCCESS, "opens 1 s before exp");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now + 60, t, &c), LENZ_EEXPIRED, "expired at exp");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now + 86400, t, &c), LENZ_EEXPIRED, "expired a day later");
    is_int(lenz_token_open(p, kr1, "download", "u-1", now, t, &c), LENZ_EAUTH, "wrong purpose: LENZ_EAUTH");
    is_int(lenz_token_open(p, kr1, "upload", "u-2", now, t, &c), LENZ_EAUTH, "other sub: LENZ_EAUTH");
    is_int(lenz_token_open(p, kr1, "upload", "u-2", now + 3600, t, &c), LENZ_EAUTH,
           "other sub and expired: LENZ_EAUTH first");
    is_int(lenz_token_open(p, kr1, "upload", NULL, now, t, &c), APR_SUCCESS, "NULL expected sub: caller checks");
    ok(lenz_token_seal(p, kr1, "upload", "u-1", 60, now, NULL, &t2) == APR_SUCCESS && strcmp(t, t2) != 0,
       "two seals differ (random nonce)");

    /* Tamper each byte of the blob, and each character of the text. */
    blob = lenz_unb64url(p, t, strlen(t), &blen);
    for (i = 0; i < blen; i++) {
        apr_status_t rv;
        unsigned char *m = apr_pmemdup(p, blob, blen);
        m[i] ^= 0x20;
        rv = lenz_token_open(p, kr1, "upload", "u-1", now, lenz_b64url(p, m, blen), &c);
        fails += rv != APR_SUCCESS;
        codes += rv == (i == 0 ? LENZ_EFORMAT : LENZ_EAUTH);
    }
    is_int(fails, blen, "each of %d blob bytes altered: fails", (int)blen);
    is_int(codes, blen, "  format byte LENZ_EFORMAT, the rest LENZ_EAUTH");
    for (i = 0; i < strlen(t); i++) {
        char *m = apr_pstrdup(p, t);
        m[i] = m[i] == 'x' ? 'y' : 'x';
        tfails += lenz_token_open(p, kr1, "upload", "u-1", now, m, &c) != APR_SUCCESS;
    }
    is_int(tfails, strlen(t), "each text character altered: fails");
    ok(lenz_token_open(p, kr1, "upload", "u-1", now, apr_pstrndup(p, t, strlen(t) - 1), &c)
       != APR_SUCCESS, "truncated by one char: fails");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now, lenz_b64url(p, blob, blen - 3), &c),
           LENZ_EAUTH, "blob truncated by 3 bytes: LENZ_EAUTH");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now, lenz_b64url(p, blob, 17 + 2 + 15), &c),
           LENZ_EFORMAT, "blob shorter than the minimum: LENZ_EFORMAT");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now, apr_pstrcat(p, t, "AAAA", NULL), &c),
           LENZ_EAUTH, "extended: LENZ_EAUTH");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now, "", &c), LENZ_EFORMAT, "empty: LENZ_EFORMAT");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now, "abc$", &c), LENZ_EFORMAT, "bad char: LENZ_EFORMAT");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now, NULL, &c), LENZ_EFORMAT, "NULL: LENZ_EFORMAT");
    {
        char *big = apr_palloc(p, LENZ_SEALED_MAX + 2);
        memset(big, 'A', LENZ_SEALED_MAX + 1);
        big[LENZ_SEALED_MAX + 1] = '\0';
        is_int(lenz_token_open(p, kr1, "upload", "u-1", now, big, &c), LENZ_EFORMAT, "over 4096 chars: LENZ_EFORMAT");
    }

    /* Key versions. */
    is_int(lenz_token_open(p, kr12, "upload", "u-1", now, t, &c), APR_SUCCESS,
           "sealed under version 1 opens while version 1 stays in the file");
    is_int(lenz_token_open(p, kr2, "upload", "u-1", now, t, &c), LENZ_EAUTH,
           "and fails once version 1 is removed");
    ok(lenz_token_seal(p, kr12, "upload", "u-1", 60, now, NULL, &t2) == APR_SUCCESS
       && (blob = lenz_unb64url(p, t2, strlen(t2), &blen)) && blob[4] == 2, "new tokens use the current version");
    is_int(lenz_token_open(p, kr1, "upload", "u-1", now, t2, &c), LENZ_EAUTH, "unknown version: LENZ_EAUTH");
    /* A version byte rewritten to another held version does not verify. */
    blob = lenz_unb64url(p, t, strlen(t), &blen);
    blob[4] = 2;
    is_int(lenz_token_open(p, kr12, "upload", "u-1", now, lenz_b64url(p, blob, blen), &c), LENZ_EAUTH,
           "version field switched to another held key: LENZ_EAUTH");

    /* Seal refusals. */
    extra = lenz_json_new_object(p);
    lenz_json_set_str(extra, "sub", "admin");
    is_int(lenz_token_seal(p, kr1, "upload", "u-1", 60, now, extra, &t2), APR_EINVAL, "claims may not set sub");
    extra = lenz_json_new_object(p);
    lenz_json_set_int(extra, "exp", 1);
    is_int(lenz_token_seal(p, kr1, "upload", "u-1", 60, now, extra, &t2), APR_EINVAL, "claims may not set exp");
    is_int(lenz_token_seal(p, kr1, "upload", "u-1", 0, now, NULL, &t2), APR_EINVAL, "ttl 0 refused");
    is_int(lenz_token_seal(p, kr1, "", "u-1", 60, now, NULL, &t2), APR_EINVAL, "empty purpose refused");
    is_int(lenz_token_seal(p, kr1, "upload", "", 60, now, NULL, &t2), APR_EINVAL, "empty sub refused");
    is_int(lenz_token_seal(p, kr1, "upload", "u-1", APR_INT64_MAX, now, NULL, &t2), APR_EINVAL,
           "exp overflow refused");
    extra = lenz_json_new_object(p);
    {
        char *s = apr_palloc(p, 3100);
        memset(s, 'x', 3099);
        s[3099] = '\0';
        lenz_json_set_str(extra, "blob", s);
    }
    is_int(lenz_token_seal(p, kr1, "upload", "u-1", 60, now, extra, &t2), LENZ_ETOOBIG,
           "claims too big for 4096 chars refused");
    extra = lenz_json_new_object(p);
    lenz_json_set_int(extra, "n", 5);
    lenz_json_obj_add_object(extra, "nested");
    ok(lenz_token_seal(p, kr1, "upload", "guest:9", 60, now, extra, &t2) == APR_SUCCESS
       && lenz_token_open(p, kr1, "upload", "guest:9", now, t2, &c) == APR_SUCCESS
       && lenz_json_int(lenz_json_get(c, "n")) == 5
       && lenz_json_typeof(lenz_json_get(c, "nested")) == LENZ_JSON_OBJECT, "caller claims round trip");
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    if (argc > 1 && strcmp(argv[1], "--vectors") == 0) {
        print_vectors(p);
        return 0;
    }
    test_link(p);
    test_sealed_vector(p);
    test_sealed(p);
    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
