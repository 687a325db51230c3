/* fuzz_keyring.c - the master key file parser (lenz_keyring_parse), plus
 * the other small parsers of keys.h that take text from outside: the
 * UUID in a key context and the wrapped-key blob.
 *
 * Checked: a parsed key file holds at least one key, its current version
 * is the highest and present, version 0 is never present; a refusal says
 * why and never quotes key material (no run of 64 hex digits from the
 * input shows up in the message); a context is "lenz:dek:file=" and 36
 * lower-case characters; no blob unwraps under a key nobody wrapped with.
 */
#include <ctype.h>
#include "fuzz.h"
#include "keys.h"
#include "err.h"

/* Does msg hold 16 or more hex digits in a row (a slice of a key)? */
static int holds_hex_run(const char *msg)
{
    int run = 0;
    for (; *msg; msg++) {
        run = isxdigit((unsigned char)*msg) ? run + 1 : 0;
        if (run >= 16)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *why = NULL, *ctx;
    lenz_keyring *kr;
    char *text;

    kr = lenz_keyring_parse(p, (const char *)data, size, "fuzz.key", &why);
    if (kr) {
        apr_uint32_t cur = lenz_keyring_current_version(kr);
        FUZZ_CHECK(lenz_keyring_count(kr) >= 1, "key file without keys accepted");
        FUZZ_CHECK(cur >= 1 && cur <= LENZ_KEY_VERSION_MAX, "current version %u", cur);
        FUZZ_CHECK(lenz_keyring_get(kr, cur) != NULL, "current version not held");
        FUZZ_CHECK(lenz_keyring_get(kr, 0) == NULL, "version 0 held");
        if (cur < LENZ_KEY_VERSION_MAX)
            FUZZ_CHECK(lenz_keyring_get(kr, cur + 1) == NULL, "a version above current");
    }
    else {
        FUZZ_CHECK(why && *why, "refused without a reason");
        FUZZ_CHECK(!holds_hex_run(why), "refusal quotes hex from the file: %s", why);
    }

    /* A file UUID as it comes from a URL or the database. */
    text = fuzz_cstr(data, size);
    ctx = lenz_key_context_dek(p, text);
    if (ctx) {
        size_t i;
        FUZZ_CHECK(strncmp(ctx, "lenz:dek:file=", 14) == 0 && strlen(ctx) == 14 + 36,
                   "context %s", ctx);
        for (i = 14; ctx[i]; i++)
            FUZZ_CHECK(!isupper((unsigned char)ctx[i]), "context not lower-cased: %s", ctx);
    }
    ctx = lenz_key_context_kek(p, text, 1);
    FUZZ_CHECK(!ctx || strncmp(ctx, "lenz:kek:user=", 14) == 0, "kek context %s", ctx);
    free(text);

    /* A wrapped key from the database: nothing unwraps under this kek. */
    {
        static const unsigned char kek[LENZ_KEY_LEN] = { 1, 2, 3 };
        unsigned char key[LENZ_KEY_LEN];
        apr_status_t rv = lenz_key_unwrap(p, kek, "lenz:dek:file=fuzz", data, size, key);
        FUZZ_CHECK(rv == LENZ_EFORMAT || rv == LENZ_EAUTH, "unwrap: status %d", rv);
    }

    apr_pool_destroy(p);
    return 0;
}
