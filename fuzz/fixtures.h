/* fixtures.h - what the harnesses and the seed generator
 * (fuzz/gen_corpus.c) share, so generated seeds are valid for them.
 *
 * AEAD (fuzz_aead_dec): a fixed key, prefix and file id, the known
 * plaintext, and the layout of a fuzz input:
 *
 *   input = P (2, BE) || mode (1) || chunk seed (1) || first (2, BE)
 *           || last (2, BE) || object bytes
 *
 *   P      plaintext size, low 13 bits (0..8191)
 *   mode   bit 0: decrypt bytes first..last (last 0xffff: to the end)
 *          instead of the whole object; the object bytes then start at
 *          that range's first segment, as a Range request fetches them
 *   chunk seed   varies the random chunk sizes the bytes are fed in
 *
 * The plaintext of every object is fuzz_plain_at(offset), so the harness
 * knows what each emitted byte must be whatever segment it came from.
 */
#ifndef LENZ_FUZZ_FIXTURES_H
#define LENZ_FUZZ_FIXTURES_H

#include <stdint.h>
#include <string.h>
#include "aead.h"

#define FUZZ_AEAD_SEG      64
#define FUZZ_AEAD_HDR      8
#define FUZZ_AEAD_P_MASK   0x1fff
#define FUZZ_AEAD_RANGED   0x01
#define FUZZ_AEAD_TO_END   0xffff

/* Byte offset -> plaintext byte; not periodic, so a segment moved to
 * another position shows. */
static inline unsigned char fuzz_plain_at(uint64_t off)
{
    uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    return (unsigned char)(x >> 56);
}

static inline void fuzz_aead_params(lenz_aead_params *pp, uint64_t plain_size)
{
    unsigned i;
    memset(pp, 0, sizeof(*pp));
    pp->segment_size = FUZZ_AEAD_SEG;
    pp->plain_size = plain_size;
    for (i = 0; i < LENZ_AEAD_KEY_LEN; i++)
        pp->key[i] = (unsigned char)(0x40 + i);
    for (i = 0; i < LENZ_AEAD_PREFIX_LEN; i++)
        pp->prefix[i] = (unsigned char)(0xa0 + i);
    for (i = 0; i < LENZ_AEAD_FILE_ID_LEN; i++)
        pp->file_id[i] = (unsigned char)(0x11 * i);
}

typedef struct {
    uint64_t plain_size;
    int ranged;
    unsigned chunk_seed;
    uint64_t first, last;
} fuzz_aead_hdr;

static inline void fuzz_aead_hdr_read(const uint8_t *d, fuzz_aead_hdr *h)
{
    unsigned last = (unsigned)d[6] << 8 | d[7];
    h->plain_size = ((unsigned)d[0] << 8 | d[1]) & FUZZ_AEAD_P_MASK;
    h->ranged = d[2] & FUZZ_AEAD_RANGED;
    h->chunk_seed = d[3];
    h->first = (unsigned)d[4] << 8 | d[5];
    h->last = last == FUZZ_AEAD_TO_END ? UINT64_MAX : last;
}

static inline void fuzz_aead_hdr_write(uint8_t *d, const fuzz_aead_hdr *h)
{
    unsigned last = h->last > 0xfffe ? FUZZ_AEAD_TO_END : (unsigned)h->last;
    d[0] = (uint8_t)(h->plain_size >> 8);
    d[1] = (uint8_t)h->plain_size;
    d[2] = h->ranged ? FUZZ_AEAD_RANGED : 0;
    d[3] = (uint8_t)h->chunk_seed;
    d[4] = (uint8_t)(h->first >> 8);
    d[5] = (uint8_t)h->first;
    d[6] = (uint8_t)(last >> 8);
    d[7] = (uint8_t)last;
}

/* Tokens (fuzz_token): the key file the harness opens tokens with (the
 * keys of the docs/format.md vectors), a third key it does not hold, and
 * the clock it opens them at. */
#define FUZZ_MK1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define FUZZ_MK2 "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"
#define FUZZ_MK9 "9999999999999999999999999999999999999999999999999999999999999999"
#define FUZZ_KEYRING "# fuzz key file\n3:" FUZZ_MK2 "\n7:" FUZZ_MK1 "\n"
#define FUZZ_NOW     1700000100
#define FUZZ_PURPOSE "upload"
#define FUZZ_PURPOSE2 "share"
#define FUZZ_SUB     "guest:42"

#endif
