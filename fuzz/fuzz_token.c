/* fuzz_token.c - sealed tokens (lenz_token_open) and link tokens
 * (lenz_token_hash) on arbitrary text.
 *
 * The key file is fixed (fixtures.h: versions 3 and 7), so the only
 * tokens that can open are the generated seeds and what the fuzzer keeps
 * of them.  Checked:
 *   - statuses are the documented ones; an opened token has "sub" (a
 *     string), "iat" and "exp" (integers), is not expired, and matches the
 *     expected subject when one is given;
 *   - a token opens for one purpose only;
 *   - an opened token has one spelling: its text is the canonical unpadded
 *     base64url of its bytes (so a replay list keyed on the text holds);
 *   - lenz_token_hash() takes exactly 43 canonical base64url characters
 *     and gives their SHA-256.
 */
#include "fuzz.h"
#include "token.h"
#include "keys.h"
#include "json.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"
#include "fixtures.h"

static lenz_keyring *ring;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *why = NULL;
    fuzz_init();
    ring = lenz_keyring_parse(fuzz_root, FUZZ_KEYRING, strlen(FUZZ_KEYRING), "fuzz", &why);
    FUZZ_CHECK(ring != NULL, "fixed key file: %s", why);
    return 0;
}

static int b64url_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '_';
}

static void check_opened(apr_pool_t *p, const char *text, const lenz_json *c,
                         const char *expected_sub)
{
    const char *sub = NULL, *again;
    apr_int64_t iat = 0, exp = 0;
    unsigned char *blob;
    apr_size_t n;

    FUZZ_CHECK(c && lenz_json_typeof(c) == LENZ_JSON_OBJECT, "claims are not an object");
    FUZZ_CHECK(lenz_json_get_str(c, "sub", &sub) == APR_SUCCESS && sub, "no sub");
    FUZZ_CHECK(lenz_json_get_int(c, "iat", &iat) == APR_SUCCESS, "no iat");
    FUZZ_CHECK(lenz_json_get_int(c, "exp", &exp) == APR_SUCCESS, "no exp");
    FUZZ_CHECK(exp > FUZZ_NOW, "expired token opened");
    FUZZ_CHECK(!expected_sub || strcmp(sub, expected_sub) == 0, "opened for another subject");
    blob = lenz_unb64url(p, text, strlen(text), &n);
    FUZZ_CHECK(blob != NULL, "opened text that does not decode");
    again = lenz_b64url(p, blob, n);
    FUZZ_CHECK(strcmp(again, text) == 0, "token opens under a second spelling: %s", text);
}

static int known_status(apr_status_t rv)
{
    return rv == APR_SUCCESS || rv == LENZ_EFORMAT || rv == LENZ_EAUTH || rv == LENZ_EEXPIRED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *text = fuzz_cstr(data, size);
    unsigned char hash[LENZ_TOKEN_HASH_LEN], want[LENZ_SHA256_LEN];
    lenz_json *c1 = NULL, *c2 = NULL, *c3 = NULL;
    apr_status_t r1, r2, r3, rv;
    size_t i;

    r1 = lenz_token_open(p, ring, FUZZ_PURPOSE, NULL, FUZZ_NOW, text, &c1);
    r2 = lenz_token_open(p, ring, FUZZ_PURPOSE2, NULL, FUZZ_NOW, text, &c2);
    r3 = lenz_token_open(p, ring, FUZZ_PURPOSE, FUZZ_SUB, FUZZ_NOW, text, &c3);
    FUZZ_CHECK(known_status(r1) && known_status(r2) && known_status(r3),
               "statuses %d %d %d", r1, r2, r3);
    FUZZ_CHECK(!(r1 == APR_SUCCESS && r2 == APR_SUCCESS), "opens for two purposes");
    if (r1 == APR_SUCCESS)
        check_opened(p, text, c1, NULL);
    if (r2 == APR_SUCCESS)
        check_opened(p, text, c2, NULL);
    if (r3 == APR_SUCCESS)
        check_opened(p, text, c3, FUZZ_SUB);
    /* Only the subject check differs between r1 and r3. */
    FUZZ_CHECK(r1 != APR_SUCCESS || r3 == APR_SUCCESS || r3 == LENZ_EAUTH,
               "subject check changed the status to %d", r3);
    FUZZ_CHECK(r3 != APR_SUCCESS || r1 == APR_SUCCESS, "opened only with a subject");

    rv = lenz_token_hash((const char *)data, size, hash);
    FUZZ_CHECK(rv == APR_SUCCESS || rv == LENZ_EFORMAT, "token_hash: status %d", rv);
    if (rv == APR_SUCCESS) {
        FUZZ_CHECK(size == LENZ_TOKEN_TEXT_LEN, "hashed a %zu-character token", size);
        for (i = 0; i < size; i++)
            FUZZ_CHECK(b64url_char(data[i]), "hashed a token with byte 0x%02x", data[i]);
        lenz_sha256(data, size, want);
        FUZZ_CHECK(memcmp(hash, want, sizeof(want)) == 0, "hash is not SHA-256 of the text");
        /* Canonical: decoding and encoding again gives the same text. */
        {
            apr_size_t n;
            unsigned char *raw = lenz_unb64url(p, (const char *)data, size, &n);
            FUZZ_CHECK(raw && n == LENZ_TOKEN_BYTES
                       && memcmp(lenz_b64url(p, raw, n), data, size) == 0,
                       "link token has a second spelling");
        }
    }

    free(text);
    apr_pool_destroy(p);
    return 0;
}
