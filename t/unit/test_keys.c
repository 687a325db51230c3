/* Unit tests for the key hierarchy (keys.c): wrapping with its vector from
 * docs/format.md (`build/t/test_keys --vectors` prints it), context
 * strings, the master key file's checks and rotation. */
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include "tap.h"
#include "keys.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"

#define VEC_KEK   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define VEC_KEY   "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define VEC_NONCE "404142434445464748494a4b"
#define VEC_FILE  "00112233-4455-6677-8899-aabbccddeeff"
#define VEC_USER  "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
/* (c) the DEK above wrapped by the KEK above for file VEC_FILE. */
static const char *VEC_WRAP_DEK =
    "01404142434445464748494a4bc2988c000219a124e5ed3d1db7493d7449f7606f"
    "830039144f7e74deab2ed3e471e0f008f9cf20fac954e0203aff05c3";
/* The bytes of VEC_KEK as a user KEK, wrapped by VEC_KEY taken as master
 * key version 3, for user VEC_USER. */
static const char *VEC_WRAP_KEK =
    "01404142434445464748494a4bc255bf825473c30c5a3b5a2389475f7d039f8f90"
    "e155b1c976e78e1b7cf7d11d854e688960237af605bd02bc039ea711";

static void unhex(const char *hex, unsigned char *out, size_t n)
{
    if (lenz_unhex(hex, strlen(hex), out, n) != APR_SUCCESS)
        abort();
}

static void print_vectors(apr_pool_t *p)
{
    unsigned char kek[32], key[32], nonce[12], blob[LENZ_WRAP_LEN];
    unhex(VEC_KEK, kek, 32);
    unhex(VEC_KEY, key, 32);
    unhex(VEC_NONCE, nonce, 12);
    printf("context: %s\n", lenz_key_context_dek(p, VEC_FILE));
    lenz_key_wrap_nonce(p, kek, lenz_key_context_dek(p, VEC_FILE), key, nonce, blob);
    printf("dek blob: %s\n", lenz_hex(p, blob, sizeof(blob)));
    printf("context: %s\n", lenz_key_context_kek(p, VEC_USER, 3));
    lenz_key_wrap_nonce(p, key, lenz_key_context_kek(p, VEC_USER, 3), kek, nonce, blob);
    printf("kek blob: %s\n", lenz_hex(p, blob, sizeof(blob)));
}

static void test_wrap(apr_pool_t *p)
{
    unsigned char kek[32], key[32], nonce[12], blob[LENZ_WRAP_LEN], m[LENZ_WRAP_LEN], out[32];
    const char *ctx;
    int i, fails = 0, codes = 0;

    unhex(VEC_KEK, kek, 32);
    unhex(VEC_KEY, key, 32);
    unhex(VEC_NONCE, nonce, 12);
    ctx = lenz_key_context_dek(p, VEC_FILE);
    ok(lenz_key_wrap_nonce(p, kek, ctx, key, nonce, blob) == APR_SUCCESS, "wrap with a fixed nonce");
    is_str(lenz_hex(p, blob, sizeof(blob)), VEC_WRAP_DEK, "vector (c): DEK wrap blob");
    ok(lenz_key_unwrap(p, kek, ctx, blob, sizeof(blob), out) == APR_SUCCESS
       && memcmp(out, key, 32) == 0, "vector (c) unwraps");
    ok(lenz_key_wrap_nonce(p, key, lenz_key_context_kek(p, VEC_USER, 3), kek, nonce, blob)
       == APR_SUCCESS, "KEK wrap with a fixed nonce");
    is_str(lenz_hex(p, blob, sizeof(blob)), VEC_WRAP_KEK, "vector (c): KEK wrap blob");

    /* Random nonces: two wraps differ, both unwrap. */
    ok(lenz_key_generate(key) == APR_SUCCESS, "generate a key");
    ok(lenz_key_wrap(p, kek, ctx, key, blob) == APR_SUCCESS
       && lenz_key_wrap(p, kek, ctx, key, m) == APR_SUCCESS
       && memcmp(blob, m, sizeof(blob)) != 0, "two wraps of one key differ");
    ok(lenz_key_unwrap(p, kek, ctx, m, sizeof(m), out) == APR_SUCCESS
       && memcmp(out, key, 32) == 0, "round trip");
    is_int(blob[0], 1, "blob starts with version 1");

    is_int(lenz_key_unwrap(p, kek, lenz_key_context_dek(p, "00112233-4455-6677-8899-aabbccddeef0"),
                           blob, sizeof(blob), out), LENZ_EAUTH, "another file's context fails");
    ok(memcmp(out, key, 32) != 0, "  and the output holds no key");
    is_int(lenz_key_unwrap(p, kek, lenz_key_context_kek(p, VEC_USER, 1), blob, sizeof(blob), out),
           LENZ_EAUTH, "a KEK context for a DEK blob fails");
    kek[31] ^= 1;
    is_int(lenz_key_unwrap(p, kek, ctx, blob, sizeof(blob), out), LENZ_EAUTH, "wrong KEK fails");
    kek[31] ^= 1;
    for (i = 0; i < LENZ_WRAP_LEN; i++) {
        apr_status_t rv;
        memcpy(m, blob, sizeof(m));
        m[i] ^= 0x01;
        rv = lenz_key_unwrap(p, kek, ctx, m, sizeof(m), out);
        fails += rv != APR_SUCCESS;
        codes += rv == (i == 0 ? LENZ_EFORMAT : LENZ_EAUTH);
    }
    is_int(fails, LENZ_WRAP_LEN, "a flipped bit in any of the 61 bytes fails");
    is_int(codes, LENZ_WRAP_LEN, "  version byte: LENZ_EFORMAT, others LENZ_EAUTH");
    is_int(lenz_key_unwrap(p, kek, ctx, blob, 60, out), LENZ_EFORMAT, "short blob: LENZ_EFORMAT");
    is_int(lenz_key_unwrap(p, kek, "", blob, sizeof(blob), out), APR_EINVAL, "empty context refused");
}

static void test_contexts(apr_pool_t *p)
{
    is_str(lenz_key_context_kek(p, VEC_USER, 7),
           "lenz:kek:user=6ba7b810-9dad-11d1-80b4-00c04fd430c8:mk=7", "KEK context");
    is_str(lenz_key_context_dek(p, "00112233-4455-6677-8899-AABBCCDDEEFF"),
           "lenz:dek:file=00112233-4455-6677-8899-aabbccddeeff", "DEK context, upper case folded");
    ok(lenz_key_context_dek(p, "00112233-4455-6677-8899-aabbccddeef") == NULL, "short uuid refused");
    ok(lenz_key_context_dek(p, "00112233x4455-6677-8899-aabbccddeeff") == NULL, "bad dash refused");
    ok(lenz_key_context_dek(p, "0011223g-4455-6677-8899-aabbccddeeff") == NULL, "non-hex refused");
    ok(lenz_key_context_kek(p, VEC_USER, 0) == NULL, "master key version 0 refused");
    ok(lenz_key_context_dek(p, NULL) == NULL, "NULL refused");
}

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "22222222222222222222222222222222222222222222222222222222222222AA"

static void test_parse(apr_pool_t *p)
{
    const char *why = NULL;
    const char *good = "# master keys\n\n  1:" K1 "  \r\n# old above\n2:" K2;
    lenz_keyring *kr = lenz_keyring_parse(p, good, strlen(good), "t", &why);
    unsigned char k2[32];
    static const struct { const char *text, *want; } bad[] = {
        {"", "holds no key"},
        {"# only\n\n", "holds no key"},
        {"1:" K1 "\nx\n", "line 2:"},
        {"0:" K1 "\n", "line 1:"},
        {"01:" K1 "\n", "line 1:"},
        {"-1:" K1 "\n", "line 1:"},
        {"2147483648:" K1 "\n", "line 1:"},
        {"1:" K1 "1\n", "line 1:"},
        {"#\n1:111111111111111111111111111111111111111111111111111111111111111\n", "line 2:"},
        {"1:111111111111111111111111111111111111111111111111111111111111111g\n", "line 1:"},
        {"1 :" K1 "\n", "line 1:"},
        {"1:" K1 " # trailing\n", "line 1:"},
        {"1:" K1 "\n\n\n1:" K2 "\n", "line 4: version 1 appears twice"},
        {"1;" K1 "\n", "line 1:"},
    };
    size_t i;

    ok(kr != NULL, "key file with comments, blanks, CRLF and spaces parses");
    is_int(lenz_keyring_count(kr), 2, "two versions");
    is_int(lenz_keyring_current_version(kr), 2, "highest is current");
    unhex(K2, k2, 32);
    ok(lenz_keyring_get(kr, 2) && memcmp(lenz_keyring_get(kr, 2), k2, 32) == 0, "version 2 bytes");
    ok(lenz_keyring_get(kr, 3) == NULL, "unknown version: NULL");
    {
        const char *t = "5:" K1 "\n3:" K2 "\n";
        kr = lenz_keyring_parse(p, t, strlen(t), "t", &why);
        is_int(lenz_keyring_current_version(kr), 5, "current is the highest, not the last line");
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        kr = lenz_keyring_parse(p, bad[i].text, strlen(bad[i].text), "f.key", &why);
        ok(!kr && why && strstr(why, bad[i].want) && !strstr(why, "1111111") && !strstr(why, "2222222"),
           "refused: %s (%s)", bad[i].want, why ? why : "no reason");
    }
}

static const char *write_tmp(apr_pool_t *p, const char *dir, const char *name,
                             const char *text, mode_t mode)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

static void test_files(apr_pool_t *p, const char *dir)
{
    const char *why = NULL, *path;
    const char *text = "1:" K1 "\n";
    lenz_keyring *kr;

    path = write_tmp(p, dir, "ok.key", text, 0600);
    ok(lenz_keyring_load(p, path, &why) != NULL, "0600 key file loads");
    path = write_tmp(p, dir, "ro.key", text, 0400);
    ok(lenz_keyring_load(p, path, &why) != NULL, "0400 key file loads");
    path = write_tmp(p, dir, "wide.key", text, 0644);
    kr = lenz_keyring_load(p, path, &why);
    ok(!kr && why && strstr(why, "is readable by group or others (mode 0644); chmod 600 it"),
       "0644 refused: %s", why ? why : "-");
    path = write_tmp(p, dir, "grp.key", text, 0640);
    ok(!lenz_keyring_load(p, path, &why) && strstr(why, "mode 0640"), "0640 refused");
    path = write_tmp(p, dir, "gw.key", text, 0620);
    ok(!lenz_keyring_load(p, path, &why) && strstr(why, "mode 0620"), "0620 (group write) refused");
    path = write_tmp(p, dir, "empty.key", "", 0600);
    ok(!lenz_keyring_load(p, path, &why) && strstr(why, "holds no key"), "empty file refused");
    path = write_tmp(p, dir, "bad.key", "# x\n1:" K1 "\nnope\n", 0600);
    kr = lenz_keyring_load(p, path, &why);
    ok(!kr && strstr(why, "line 3") && strstr(why, path),
       "malformed file refused with path and line: %s", why);
    kr = lenz_keyring_load(p, apr_pstrcat(p, dir, "/missing.key", NULL), &why);
    ok(!kr && strstr(why, "cannot read"), "missing file refused: %s", why);
    ok(!lenz_keyring_load(p, dir, &why) && strstr(why, "not a regular file"), "directory refused");
    path = apr_pstrcat(p, dir, "/fifo.key", NULL);
    mkfifo(path, 0600);
    ok(!lenz_keyring_load(p, path, &why) && strstr(why, "not a regular file"),
       "FIFO refused without blocking");
    if (geteuid() != 0) {
        path = write_tmp(p, dir, "noread.key", text, 0000);
        ok(!lenz_keyring_load(p, path, &why) && strstr(why, "cannot read"), "unreadable refused");
    }
    else {
        /* root reads any mode; a path that cannot be opened at all (a file
         * used as a directory) takes the same refusal path. */
        path = write_tmp(p, dir, "plain.key", text, 0600);
        path = apr_pstrcat(p, path, "/child.key", NULL);
        ok(!lenz_keyring_load(p, path, &why) && strstr(why, "cannot read"),
           "unopenable path refused: %s", why ? why : "");
    }
    {
        char *big = malloc(LENZ_KEYFILE_MAX + 10);
        memset(big, '#', LENZ_KEYFILE_MAX + 9);
        big[LENZ_KEYFILE_MAX + 9] = '\0';
        path = write_tmp(p, dir, "big.key", big, 0600);
        ok(!lenz_keyring_load(p, path, &why) && strstr(why, "larger"), "oversized file refused");
        free(big);
    }
}

static void test_rotation(apr_pool_t *p, const char *dir)
{
    const char *why = NULL;
    const char *path = apr_pstrcat(p, dir, "/master.key", NULL);
    lenz_keyring *kr, *kr2;
    unsigned char kek[32], blob[LENZ_WRAP_LEN], blob2[LENZ_WRAP_LEN], out[32];
    apr_uint32_t v = 0;
    struct stat st;
    const char *user = VEC_USER;
    unsigned char mk1[32];

    is_int(lenz_keyring_create_file(p, path, &why), APR_SUCCESS, "create a key file");
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "created 0600");
    is_int(lenz_keyring_create_file(p, path, &why), APR_EEXIST, "create refuses to overwrite");
    kr = lenz_keyring_load(p, path, &why);
    ok(kr && lenz_keyring_current_version(kr) == 1, "new file holds version 1");
    memcpy(mk1, lenz_keyring_get(kr, 1), 32);

    /* A user KEK wrapped under master key 1. */
    lenz_key_generate(kek);
    lenz_key_wrap(p, lenz_keyring_get(kr, 1), lenz_key_context_kek(p, user, 1), kek, blob);

    is_int(lenz_keyring_add_version(p, path, &v, &why), APR_SUCCESS, "add a version");
    is_int(v, 2, "  version 2");
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "  file still 0600");
    kr2 = lenz_keyring_load(p, path, &why);
    ok(kr2 && lenz_keyring_count(kr2) == 2 && lenz_keyring_current_version(kr2) == 2,
       "reloaded: two versions, current 2");
    ok(memcmp(lenz_keyring_get(kr2, 1), mk1, 32) == 0, "version 1 kept unchanged");
    ok(memcmp(lenz_keyring_get(kr2, 2), mk1, 32) != 0, "version 2 is a new key");
    {
        size_t n;
        char *t = slurp(path, &n);
        ok(t && strncmp(t, "# mod_lenz master keys", 22) == 0, "comment line kept");
        free(t);
    }
    /* Rotation re-wraps: unwrap with the old version, wrap with the new. */
    ok(lenz_key_unwrap(p, lenz_keyring_get(kr2, 1), lenz_key_context_kek(p, user, 1),
                       blob, sizeof(blob), out) == APR_SUCCESS && memcmp(out, kek, 32) == 0,
       "KEK wrapped under version 1 still unwraps after rotation");
    ok(lenz_key_wrap(p, lenz_keyring_get(kr2, 2), lenz_key_context_kek(p, user, 2), out, blob2)
       == APR_SUCCESS, "re-wrapped under version 2");
    is_int(lenz_key_unwrap(p, lenz_keyring_get(kr2, 2), lenz_key_context_kek(p, user, 1),
                           blob2, sizeof(blob2), out), LENZ_EAUTH,
           "a blob re-wrapped under version 2 does not pass as version 1");
    ok(lenz_key_unwrap(p, lenz_keyring_get(kr2, 2), lenz_key_context_kek(p, user, 2),
                       blob2, sizeof(blob2), out) == APR_SUCCESS && memcmp(out, kek, 32) == 0,
       "  but unwraps as version 2");

    /* Retirement. */
    is_int(lenz_keyring_remove_version(p, path, 2, &why), LENZ_ECONFLICT,
           "the current version cannot be removed");
    is_int(lenz_keyring_remove_version(p, path, 7, &why), LENZ_ENOTFOUND,
           "an absent version: not found");
    is_int(lenz_keyring_remove_version(p, path, 1, &why), APR_SUCCESS, "version 1 removed");
    kr2 = lenz_keyring_load(p, path, &why);
    ok(kr2 && lenz_keyring_count(kr2) == 1 && lenz_keyring_get(kr2, 1) == NULL
       && lenz_keyring_current_version(kr2) == 2, "reloaded: only version 2 left");
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "  file still 0600");
    {
        size_t n;
        char *t = slurp(path, &n);
        ok(t && strncmp(t, "# mod_lenz master keys", 22) == 0, "  comment line kept");
        free(t);
    }

    chmod(path, 0644);
    is_int(lenz_keyring_add_version(p, path, &v, &why), APR_EINVAL, "rotation refuses a 0644 file");
    is_int(lenz_keyring_remove_version(p, path, 1, &why), APR_EINVAL, "retirement refuses a 0644 file");
    {
        const char *ln = lenz_keyring_generate_line(p, 9);
        ok(ln && strlen(ln) == 2 + 64 + 1 && strncmp(ln, "9:", 2) == 0 && ln[66] == '\n',
           "generate_line: 9:<64 hex>\\n");
        ok(lenz_keyring_generate_line(p, 0) == NULL, "generate_line refuses version 0");
    }
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    const char *tmp;
    char *dir;

    apr_initialize();
    apr_pool_create(&p, NULL);
    if (argc > 1 && strcmp(argv[1], "--vectors") == 0) {
        print_vectors(p);
        return 0;
    }
    apr_temp_dir_get(&tmp, p);
    dir = apr_psprintf(p, "%s/lenz-test-keys-XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }
    test_wrap(p);
    test_contexts(p);
    test_parse(p);
    test_files(p, dir);
    test_rotation(p, dir);
    {
        char *cmd = apr_psprintf(p, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            diag("could not remove %s", dir);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
