/* gen_corpus.c - writes the seeds that need the core to make them: sealed
 * objects (fuzz_aead_dec), sealed and link tokens (fuzz_token), password
 * hashes (fuzz_passwd), signed JWTs (fuzz_jwt).  Deterministic: fixed keys, nonces and salts, so
 * running it again rewrites the same files.
 *
 *   build/fuzz/gen_corpus fuzz/corpus      (make -f fuzz/fuzz.mk corpus)
 */
#include <errno.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include "fuzz.h"
#include "aead.h"
#include "token.h"
#include "keys.h"
#include "json.h"
#include "passwd.h"
#include "jwt.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"
#include "fixtures.h"

static const char *top;
static apr_pool_t *pool;

static void put(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", top, dir);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s/%s", top, dir, name);
    if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void put_str(const char *dir, const char *name, const char *s)
{
    put(dir, name, s, strlen(s));
}

/* ---- fuzz_aead_dec ---- */

/* The whole sealed object of plain size P. */
static unsigned char *sealed(apr_uint64_t P, apr_size_t *len)
{
    lenz_aead_params pp;
    unsigned char *plain = malloc(P + 1), *out;
    apr_uint64_t i;
    fuzz_aead_params(&pp, P);
    for (i = 0; i < P; i++)
        plain[i] = fuzz_plain_at(i);
    if (lenz_aead_seal_buffer(pool, &pp, plain, (apr_size_t)P, &out, len) != APR_SUCCESS)
        abort();
    free(plain);
    return out;
}

static void put_aead(const char *name, apr_uint64_t P, int ranged, apr_uint64_t first,
                     apr_uint64_t last, unsigned seed, const unsigned char *body, size_t blen)
{
    fuzz_aead_hdr h;
    unsigned char *buf = malloc(FUZZ_AEAD_HDR + blen + 1);
    h.plain_size = P;
    h.ranged = ranged;
    h.chunk_seed = seed;
    h.first = first;
    h.last = last;
    fuzz_aead_hdr_write(buf, &h);
    memcpy(buf + FUZZ_AEAD_HDR, body, blen);
    put("aead_dec", name, buf, FUZZ_AEAD_HDR + blen);
    free(buf);
}

/* A valid ranged seed: the object bytes a Range request would fetch. */
static void put_range(const char *name, apr_uint64_t P, apr_uint64_t first, apr_uint64_t last,
                      unsigned seed)
{
    lenz_aead_params pp;
    lenz_aead_span sp;
    apr_size_t len;
    unsigned char *obj = sealed(P, &len);
    fuzz_aead_params(&pp, P);
    if (lenz_aead_range(&pp, first, last, &sp) != APR_SUCCESS)
        abort();
    put_aead(name, P, 1, first, last, seed, obj + sp.cipher_offset, (size_t)sp.cipher_length);
}

static void aead_seeds(void)
{
    static const apr_uint64_t sizes[] = { 0, 1, 63, 64, 65, 200, 1000, 4000 };
    const apr_size_t S16 = FUZZ_AEAD_SEG + LENZ_AEAD_TAG_LEN;
    unsigned char *obj, *bad;
    apr_size_t len;
    char name[64];
    size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        obj = sealed(sizes[i], &len);
        snprintf(name, sizeof(name), "whole-p%u", (unsigned)sizes[i]);
        put_aead(name, sizes[i], 0, 0, 0, (unsigned)i * 37, obj, len);
    }
    put_range("range-p1000-70-200", 1000, 70, 200, 1);
    put_range("range-p1000-last-byte", 1000, 999, 0xffff, 2);
    put_range("range-p1000-first-byte", 1000, 0, 0, 3);
    put_range("range-p200-all", 200, 0, 0xffff, 4);
    put_range("range-p4000-mid-segment", 4000, 2000, 2010, 5);

    /* Near-valid: each must fail, after emitting only verified bytes. */
    obj = sealed(200, &len);
    bad = malloc(len + 1);
    memcpy(bad, obj, len);
    bad[S16 + FUZZ_AEAD_SEG + 3] ^= 0x01;                     /* tag of segment 1 */
    put_aead("bad-p200-tag-flip", 200, 0, 0, 0, 6, bad, len);
    memcpy(bad, obj, len);
    bad[2 * S16 + 5] ^= 0x80;                                 /* ciphertext of segment 2 */
    put_aead("bad-p200-bit-flip", 200, 0, 0, 0, 7, bad, len);
    put_aead("bad-p200-truncated", 200, 0, 0, 0, 8, obj, len - 1);
    memcpy(bad, obj, len);
    bad[len] = 0;
    put_aead("bad-p200-extended", 200, 0, 0, 0, 9, bad, len + 1);
    memcpy(bad, obj + S16, S16);                              /* segments 0 and 1 swapped */
    memcpy(bad + S16, obj, S16);
    memcpy(bad + 2 * S16, obj + 2 * S16, len - 2 * S16);
    put_aead("bad-p200-swapped", 200, 0, 0, 0, 10, bad, len);
    put_aead("bad-p199-size-lie", 199, 0, 0, 0, 11, obj, len);
    put_aead("bad-p128-not-final", 128, 0, 0, 0, 12, obj, 2 * S16);   /* segment 1 lacks the final flag */
    put_aead("bad-p0-no-tag", 0, 0, 0, 0, 13, obj, 0);
    free(bad);
    /* The last segment of a 1000-byte object where a 200-byte one ends. */
    obj = sealed(1000, &len);
    bad = sealed(200, &len);
    memcpy(bad + 3 * S16, obj + 3 * S16, 8 + LENZ_AEAD_TAG_LEN);
    put_aead("bad-p200-foreign-final", 200, 0, 0, 0, 14, bad, 3 * S16 + 8 + LENZ_AEAD_TAG_LEN);
}

/* ---- fuzz_token ---- */

static lenz_keyring *ring(const char *text)
{
    const char *why;
    lenz_keyring *kr = lenz_keyring_parse(pool, text, strlen(text), "gen", &why);
    if (!kr) {
        fprintf(stderr, "%s\n", why);
        exit(1);
    }
    return kr;
}

static void token_seeds(void)
{
    lenz_keyring *kr = ring(FUZZ_KEYRING), *other = ring("9:" FUZZ_MK9 "\n");
    lenz_json *claims = lenz_json_new_object(pool), *big = lenz_json_new_object(pool);
    unsigned char nonce[12], raw[32];
    const char *t;
    char *s;
    int i;

    for (i = 0; i < 12; i++)
        nonce[i] = (unsigned char)(0x50 + i);
    lenz_json_set_str(claims, "file", "00112233-4455-6677-8899-aabbccddeeff");
    lenz_json_set_int(claims, "part_size", 8388608);
#define SEAL(kr_, v, purpose, sub, ttl, now, c) do { \
        if (lenz_token_seal_nonce(pool, kr_, v, nonce, purpose, sub, ttl, now, c, &t) != APR_SUCCESS) \
            abort(); \
    } while (0)
    SEAL(kr, 7, FUZZ_PURPOSE, FUZZ_SUB, 3600, 1700000000, claims);
    put_str("token", "sealed-v7-upload", t);
    s = apr_pstrcat(pool, t, "=", NULL);
    put_str("token", "near-sealed-padded", s);
    s = apr_pstrdup(pool, t);
    s[strlen(s) - 1] = s[strlen(s) - 1] == 'A' ? 'B' : 'A';
    put_str("token", "near-sealed-last-char", s);
    SEAL(kr, 3, FUZZ_PURPOSE, "user:7", 600, 1700000000, NULL);
    put_str("token", "sealed-v3-upload-old-key", t);
    SEAL(kr, 7, FUZZ_PURPOSE2, FUZZ_SUB, 86400, 1700000000, claims);
    put_str("token", "sealed-v7-share", t);
    SEAL(kr, 7, FUZZ_PURPOSE, FUZZ_SUB, 50, 1700000000, claims);
    put_str("token", "sealed-expired", t);
    SEAL(other, 9, FUZZ_PURPOSE, FUZZ_SUB, 3600, 1700000000, claims);
    put_str("token", "sealed-unknown-version", t);
    for (i = 0; i < 40; i++)
        lenz_json_set_str(big, apr_psprintf(pool, "field%02d", i),
                          "a long claim value that fills the token up to its limit");
    SEAL(kr, 7, FUZZ_PURPOSE, FUZZ_SUB, 3600, 1700000000, big);
    put_str("token", "sealed-large", t);
#undef SEAL
    for (i = 0; i < 32; i++)
        raw[i] = (unsigned char)(i * 7 + 1);
    t = lenz_b64url(pool, raw, sizeof(raw));
    put_str("token", "link-token", t);
    s = apr_pstrdup(pool, t);
    s[42] = 'B';                              /* low bits set: not canonical */
    put_str("token", "near-link-noncanonical", s);
    put_str("token", "near-link-44-chars", apr_pstrcat(pool, t, "A", NULL));
}

/* ---- fuzz_passwd ---- */

static const char *phc(const char *pw, unsigned ln, unsigned r, unsigned p,
                       const unsigned char *salt, size_t salt_len, size_t hash_len)
{
    unsigned char out[64];
    char *s, *h;
    if (lenz_scrypt(pw, strlen(pw), salt, salt_len, (apr_uint64_t)1 << ln, r, p, out,
                    hash_len) != APR_SUCCESS)
        abort();
    s = lenz_b64(pool, salt, salt_len);
    h = lenz_b64(pool, out, hash_len);
    s[strcspn(s, "=")] = '\0';
    h[strcspn(h, "=")] = '\0';
    return apr_psprintf(pool, "$scrypt$ln=%u,r=%u,p=%u$%s$%s", ln, r, p, s, h);
}

static void passwd_seeds(void)
{
    static const unsigned char salt[64] = "0123456789abcdef0123456789abcdef0123456789abcdef012345678";
    put_str("passwd", "cheap-ok", apr_pstrcat(pool, "password\n",
            phc("password", 4, 1, 1, salt, 16, 32), NULL));
    put_str("passwd", "cheap-ok-default-password", phc("password", 5, 2, 1, salt, 16, 32));
    put_str("passwd", "cheap-wrong-password", apr_pstrcat(pool, "Password\n",
            phc("password", 4, 1, 1, salt, 16, 32), NULL));
    put_str("passwd", "cheap-short-salt-long-hash", apr_pstrcat(pool, "p\xc3\xa4ss\n",
            phc("p\xc3\xa4ss", 3, 4, 2, salt, 4, 64), NULL));
    put_str("passwd", "cheap-long-salt-short-hash", apr_pstrcat(pool, "\n",
            phc("", 2, 1, 3, salt, 64, 16), NULL));
    /* The docs/format.md vector: default cost, parsed but not verified here. */
    put_str("passwd", "default-cost-vector",
            "correct horse battery staple\n"
            "$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg");
    put_str("passwd", "over-limit-ln21", "pw\n$scrypt$ln=21,r=8,p=1$AAECAwQFBgcICQoLDA0ODw"
            "$eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg");
    put_str("passwd", "over-limit-work", "pw\n$scrypt$ln=18,r=32,p=16$AAECAwQFBgcICQoLDA0ODw"
            "$eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg");
    put_str("passwd", "near-padding", "pw\n$scrypt$ln=4,r=1,p=1$AAECAwQFBgcICQoLDA0ODw=="
            "$eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg");
    put_str("passwd", "near-leading-zero", "pw\n$scrypt$ln=04,r=1,p=1$AAECAwQFBgcICQoLDA0ODw"
            "$eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg");
    put_str("passwd", "near-argon2", "pw\n$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ"
            "$RdescudvJCsgt3ub+b+dWRWJTmaaJObG");
    put_str("passwd", "near-trailing-dollar", "pw\n$scrypt$ln=4,r=1,p=1$AAECAwQFBgcICQoLDA0ODw"
            "$eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg$");
}

/* ---- fuzz_jwt ---- */

static const char *jwt(lenz_keyring *kr, apr_int64_t exp, const char *iss, const char *extra)
{
    lenz_json *c = lenz_json_new_object(pool);
    const char *t;
    lenz_json_set_str(c, "sub", "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d");
    lenz_json_set_int(c, "iat", FUZZ_NOW - 60);
    lenz_json_set_int(c, "exp", exp);
    if (iss)
        lenz_json_set_str(c, "iss", iss);
    if (extra)
        lenz_json_set_int(c, extra, FUZZ_NOW + 3600);
    if (lenz_jwt_sign(pool, kr, c, &t) != APR_SUCCESS)
        abort();
    return t;
}

/* header.payload.<signature> with header and payload given as JSON. */
static const char *unsigned_jwt(const char *hdr, const char *claims, const char *sig)
{
    return apr_pstrcat(pool, lenz_b64url(pool, hdr, strlen(hdr)), ".",
                       lenz_b64url(pool, claims, strlen(claims)), ".", sig, NULL);
}

static void jwt_seeds(void)
{
    lenz_keyring *kr = ring(FUZZ_KEYRING), *old = ring("3:" FUZZ_MK2 "\n");
    const char *t = jwt(kr, FUZZ_NOW + 900, "https://files.example.org", NULL);
    char *s;

    put_str("jwt", "valid-mk7-issuer", t);
    put_str("jwt", "valid-mk3-no-issuer", jwt(old, FUZZ_NOW + 900, NULL, NULL));
    put_str("jwt", "other-issuer", jwt(kr, FUZZ_NOW + 900, "https://evil.example", NULL));
    put_str("jwt", "expired", jwt(kr, FUZZ_NOW - 1, NULL, NULL));
    put_str("jwt", "nbf-future", jwt(kr, FUZZ_NOW + 900, NULL, "nbf"));
    put_str("jwt", "bearer-prefix", apr_pstrcat(pool, "Bearer ", t, NULL));
    put_str("jwt", "near-signature-padded", apr_pstrcat(pool, t, "=", NULL));
    s = apr_pstrdup(pool, t);
    s[strlen(s) - 2] ^= 1;
    put_str("jwt", "near-signature-flipped", s);
    put_str("jwt", "alg-none", unsigned_jwt("{\"alg\":\"none\",\"typ\":\"JWT\"}",
            "{\"sub\":\"admin\",\"exp\":9999999999}", ""));
    put_str("jwt", "alg-none-empty-sig", apr_pstrcat(pool, unsigned_jwt("{\"alg\":\"none\"}",
            "{\"sub\":\"admin\",\"exp\":9999999999}", "x"), NULL));
    put_str("jwt", "alg-rs256", unsigned_jwt("{\"alg\":\"RS256\",\"kid\":\"mk7\"}",
            "{\"exp\":9999999999}", "c2lnbmF0dXJl"));
    put_str("jwt", "kid-leading-zero", unsigned_jwt("{\"alg\":\"HS256\",\"kid\":\"mk07\"}",
            "{\"exp\":9999999999}", "c2lnbmF0dXJl"));
    put_str("jwt", "kid-wraps", unsigned_jwt("{\"alg\":\"HS256\",\"kid\":\"mk4294967303\"}",
            "{\"exp\":9999999999}", "c2lnbmF0dXJl"));
    put_str("jwt", "four-parts", apr_pstrcat(pool, t, ".e30", NULL));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
        return 2;
    }
    top = argv[1];
    fuzz_init();
    pool = fuzz_root;
    aead_seeds();
    token_seeds();
    passwd_seeds();
    jwt_seeds();
    apr_terminate();
    printf("gen_corpus: wrote the aead_dec, token, passwd and jwt seeds under %s\n", top);
    return 0;
}
