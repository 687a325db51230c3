/* fuzz.h - what every libFuzzer harness shares: APR set up once, a pool
 * per input, a check that aborts (so libFuzzer keeps the input), copies of
 * the input that ASan can bound exactly, and a small deterministic PRNG
 * (seeded from the input) for chunk sizes.
 *
 * Pool memory is normally carved out of large blocks, which would hide an
 * over-read from ASan; fuzz/pool_shim.c turns every apr_palloc() into a
 * malloc() of its own so the redzones are where the bytes end.
 */
#ifndef LENZ_FUZZ_H
#define LENZ_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: print why and abort, which libFuzzer reports as a
 * crash and saves the input for. */
#define FUZZ_CHECK(cond, ...) do { \
    if (!(cond)) { \
        fprintf(stderr, "fuzz check failed at %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); \
        fputc('\n', stderr); \
        abort(); \
    } \
} while (0)

static apr_pool_t *fuzz_root;

static void fuzz_init(void)
{
    if (fuzz_root)
        return;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS)
        abort();
}

/* A fresh pool for one input; the caller destroys it before returning. */
static __attribute__((unused)) apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p;
    fuzz_init();
    if (apr_pool_create(&p, fuzz_root) != APR_SUCCESS)
        abort();
    return p;
}

/* data as a NUL-terminated string in a malloc() block of exactly len+1
 * bytes (for APIs that take C strings); free() it. */
static __attribute__((unused)) char *fuzz_cstr(const uint8_t *data, size_t len)
{
    char *s = malloc(len + 1);
    if (!s)
        abort();
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

/* data in a malloc() block of exactly len bytes (len 0 included), so a
 * read one byte past a chunk is caught; free() it. */
static __attribute__((unused)) void *fuzz_dup(const uint8_t *data, size_t len)
{
    void *b = malloc(len ? len : 1);
    if (!b)
        abort();
    if (len)
        memcpy(b, data, len);
    return b;
}

/* xorshift64*, seeded from the bytes (FNV-1a) so a run is reproducible. */
typedef struct {
    uint64_t s;
} fuzz_rng;

static __attribute__((unused)) void fuzz_rng_seed(fuzz_rng *r, const uint8_t *data, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;
    for (i = 0; i < len; i++)
        h = (h ^ data[i]) * 0x100000001b3ull;
    r->s = h ? h : 1;
}

static __attribute__((unused)) uint64_t fuzz_rng_next(fuzz_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

/* A chunk length in 1..max, small ones more likely (1-byte pieces find
 * most boundary bugs, big ones the fast paths). */
static __attribute__((unused)) size_t fuzz_rng_chunk(fuzz_rng *r, size_t max)
{
    uint64_t x = fuzz_rng_next(r);
    size_t cap;
    if (max <= 1)
        return 1;
    switch (x & 3) {
    case 0:  cap = 1; break;
    case 1:  cap = max < 8 ? max : 8; break;
    case 2:  cap = max < 128 ? max : 128; break;
    default: cap = max; break;
    }
    return 1 + (size_t)((x >> 2) % cap);
}

#endif
