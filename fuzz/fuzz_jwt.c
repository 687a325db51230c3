/* fuzz_jwt.c - lenz_jwt_verify() on arbitrary text (API access tokens
 * arrive in the Authorization header).
 *
 * The key file is fixed (fixtures.h), so only the generated seeds (and
 * what the fuzzer keeps of them) verify.  Checked:
 *   - statuses are the documented ones;
 *   - a verified token has an object of claims with "exp" in the future;
 *   - with an issuer required, nothing verifies that does not without;
 *   - a verified token has one spelling: each of its three parts is the
 *     canonical unpadded base64url of its bytes (a second spelling of the
 *     signature would slip past a deny list keyed on the token text).
 */
#include "fuzz.h"
#include "jwt.h"
#include "keys.h"
#include "json.h"
#include "codec.h"
#include "err.h"
#include "fixtures.h"

#define ISSUER "https://files.example.org"

static lenz_keyring *ring;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *why = NULL;
    fuzz_init();
    ring = lenz_keyring_parse(fuzz_root, FUZZ_KEYRING, strlen(FUZZ_KEYRING), "fuzz", &why);
    FUZZ_CHECK(ring != NULL, "fixed key file: %s", why);
    return 0;
}

static void canonical_part(apr_pool_t *p, const char *s, apr_size_t len)
{
    apr_size_t n;
    unsigned char *raw = lenz_unb64url(p, s, len, &n);
    const char *again;
    FUZZ_CHECK(raw != NULL, "verified a part that does not decode");
    again = lenz_b64url(p, raw, n);
    FUZZ_CHECK(strlen(again) == len && memcmp(again, s, len) == 0,
               "token verifies under a second spelling: %.*s", (int)len, s);
}

static int known_status(apr_status_t rv)
{
    return rv == APR_SUCCESS || rv == LENZ_EFORMAT || rv == LENZ_EAUTH || rv == LENZ_EEXPIRED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *text = fuzz_cstr(data, size);
    apr_time_t now = apr_time_from_sec(FUZZ_NOW);
    lenz_json *c1 = NULL, *c2 = NULL;
    apr_status_t r1, r2;

    r1 = lenz_jwt_verify(p, ring, text, now, NULL, &c1);
    r2 = lenz_jwt_verify(p, ring, text, now, ISSUER, &c2);
    FUZZ_CHECK(known_status(r1) && known_status(r2), "statuses %d %d", r1, r2);
    FUZZ_CHECK(r2 != APR_SUCCESS || r1 == APR_SUCCESS, "verifies only with an issuer");
    if (r1 == APR_SUCCESS) {
        const char *d1 = strchr(text, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        apr_int64_t exp = 0;
        FUZZ_CHECK(c1 && lenz_json_typeof(c1) == LENZ_JSON_OBJECT, "claims are not an object");
        FUZZ_CHECK(lenz_json_get_int(c1, "exp", &exp) == APR_SUCCESS && exp > FUZZ_NOW,
                   "verified without a future exp");
        FUZZ_CHECK(d1 && d2 && !strchr(d2 + 1, '.'), "verified without three parts");
        canonical_part(p, text, (apr_size_t)(d1 - text));
        canonical_part(p, d1 + 1, (apr_size_t)(d2 - d1 - 1));
        canonical_part(p, d2 + 1, strlen(d2 + 1));
    }
    if (r2 == APR_SUCCESS) {
        const char *iss = NULL;
        FUZZ_CHECK(lenz_json_get_str(c2, "iss", &iss) == APR_SUCCESS && strcmp(iss, ISSUER) == 0,
                   "verified for another issuer");
    }

    free(text);
    apr_pool_destroy(p);
    return 0;
}
