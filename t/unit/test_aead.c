/* Unit tests for the segmented AEAD object format (aead.c).
 *
 * The known-answer vectors below are the ones printed in docs/format.md;
 * `build/t/test_aead --vectors` prints them from the code.  Set
 * LENZ_BENCH=1 to also print seal/open throughput with 64 KiB segments. */
#include <apr_general.h>
#include <apr_time.h>
#include <apr_strings.h>
#include "tap.h"
#include "aead.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"

/* ---- fixed inputs of the vectors ---- */
static const char VEC_PLAIN[] = "Lenz v1 test vector: fifty bytes of plaintext ok.\n";
#define VEC_KEY    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define VEC_PREFIX "a0a1a2a3a4a5a6"
#define VEC_FILEID "00112233445566778899aabbccddeeff"

/* Vector (a): S = 16, P = 50: four segments (16, 16, 16, 2 bytes). */
static const char *VEC_A_SEG[] = {
    "46b472d3b622741d1846b7f4b9763308daabda00c1d6b924a2fdd3910fc09e35",
    "258d65fdad5a9fe994f49e16b456cb4329c70b04e079c1f62fb532c0312b91ba",
    "2d4e7a06ecf86335f7a7c97bebd4734c01c20774460964d7064c0ea89db1962a",
    "a2943294905054a8e0879ad7c915f2261663",
};
/* Vector (b): empty file, S = 65536: one empty final segment (tag only). */
static const char *VEC_B = "bd748f930bfc3bc72830fc70a6c59762";
/* Vector (f): format v2, S = 16, P = 50, two segments a part: part 1
 * (segments 0, 1) and part 2 (segments 2, 3) under prefixes of their own. */
#define VEC_F_PREFIX1 "b0b1b2b3b4b5b6"
#define VEC_F_PREFIX2 "c0c1c2c3c4c5c6"
static const char *VEC_F_SEG[] = {
    "ef8da8dac33eb2b60c1ce1fc972897d2cbfae34bc4054f27cddefd5738299555",
    "c78bb4b19016a3b65e69f91a8938903cf27ad3f1d94c619d3560ca8d65f876b3",
    "5627d0b52eb22d86ca4bcd14ec066a933c46fcc0e8d82620a6e6984305ea1c5f",
    "f1b9d3d709d1296c84d19135505f96481ec2",
};

/* ---- helpers ---- */
typedef struct {
    unsigned char *buf;
    size_t len, cap;
    int calls;
} buf_t;

static apr_status_t collect(void *baton, const unsigned char *data, apr_size_t len)
{
    buf_t *b = baton;
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 64;
        b->buf = realloc(b->buf, b->cap);
    }
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    b->calls++;
    return APR_SUCCESS;
}

static void buf_reset(buf_t *b) { b->len = 0; b->calls = 0; }

static void unhex(const char *hex, unsigned char *out, size_t n)
{
    if (lenz_unhex(hex, strlen(hex), out, n) != APR_SUCCESS)
        abort();
}

static void vec_params(lenz_aead_params *pp, apr_uint32_t S, apr_uint64_t P)
{
    memset(pp, 0, sizeof(*pp));
    pp->segment_size = S;
    pp->plain_size = P;
    unhex(VEC_KEY, pp->key, 32);
    unhex(VEC_PREFIX, pp->prefix, 7);
    unhex(VEC_FILEID, pp->file_id, 16);
}

static unsigned char *pattern(size_t n, unsigned seed)
{
    unsigned char *b = malloc(n ? n : 1);
    size_t i;
    for (i = 0; i < n; i++)
        b[i] = (unsigned char)((i * 131 + seed * 7 + (i >> 8)) & 0xff);
    return b;
}

/* Encrypt plain through the streaming encryptor fed in `chunk`-byte pieces. */
static apr_status_t enc_chunks(apr_pool_t *p, const lenz_aead_params *pp,
                               apr_uint64_t first, apr_uint64_t segs,
                               const unsigned char *plain, size_t len, size_t chunk,
                               buf_t *out)
{
    lenz_aead_enc *e;
    size_t off;
    apr_status_t rv = lenz_aead_enc_make(&e, p, pp, first, segs, collect, out);
    if (rv != APR_SUCCESS)
        return rv;
    for (off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if ((rv = lenz_aead_enc_feed(e, plain + off, n)) != APR_SUCCESS)
            return rv;
    }
    return lenz_aead_enc_finish(e);
}

static apr_status_t dec_chunks(apr_pool_t *p, const lenz_aead_params *pp,
                               const lenz_aead_span *sp,
                               const unsigned char *cipher, size_t len, size_t chunk,
                               buf_t *out)
{
    lenz_aead_dec *d;
    size_t off;
    apr_status_t rv = lenz_aead_dec_make(&d, p, pp, sp, collect, out);
    if (rv != APR_SUCCESS)
        return rv;
    for (off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if ((rv = lenz_aead_dec_feed(d, cipher + off, n)) != APR_SUCCESS)
            return rv;
    }
    return lenz_aead_dec_finish(d);
}

/* Open a whole object (one-shot), result code only. */
static apr_status_t try_open(apr_pool_t *p, const lenz_aead_params *pp,
                             const unsigned char *c, size_t len)
{
    unsigned char *out;
    apr_size_t olen;
    apr_pool_t *t;
    apr_status_t rv;
    apr_pool_create(&t, p);
    rv = lenz_aead_open_buffer(t, pp, c, len, &out, &olen);
    apr_pool_destroy(t);
    return rv;
}

/* Vector (f): each part sealed alone with its own prefix, as the upload
 * route does; *table gets both prefixes, *obj the 114-byte object. */
static void vec_f(apr_pool_t *p, lenz_aead_params *pp, unsigned char table[14],
                  unsigned char obj[114], int *good);

static void print_vectors(apr_pool_t *p)
{
    lenz_aead_params pp;
    unsigned char *c, table[14], obj[114];
    apr_size_t clen, i;
    int good = 1;

    vec_params(&pp, 16, 50);
    lenz_aead_seal_buffer(p, &pp, VEC_PLAIN, 50, &c, &clen);
    printf("(a) S=16 P=50 n=%d size=%d\n", (int)lenz_aead_segment_count(50, 16), (int)clen);
    for (i = 0; i < 4; i++) {
        apr_size_t off = i * 32, n = i < 3 ? 32 : 18;
        printf("seg %d: %s\n", (int)i, lenz_hex(p, c + off, n));
    }
    vec_params(&pp, 65536, 0);
    lenz_aead_seal_buffer(p, &pp, "", 0, &c, &clen);
    printf("(b) S=65536 P=0: %s\n", lenz_hex(p, c, clen));
    vec_f(p, &pp, table, obj, &good);
    printf("(f) v2 S=16 P=50 k=2 AAD %s\n", "4c454e5a02" "00000010" VEC_FILEID);
    for (i = 0; i < 4; i++) {
        apr_size_t off = i * 32, n = i < 3 ? 32 : 18;
        printf("seg %d: %s\n", (int)i, lenz_hex(p, obj + off, n));
    }
}

/* ---- tests ---- */

static void test_vectors(apr_pool_t *p)
{
    lenz_aead_params pp;
    unsigned char *c, *o;
    apr_size_t clen, olen, i;
    buf_t b = {0};

    vec_params(&pp, 16, 50);
    ok(lenz_aead_seal_buffer(p, &pp, VEC_PLAIN, 50, &c, &clen) == APR_SUCCESS, "vector a seals");
    is_int(clen, 50 + 4 * 16, "vector a size P + 16n");
    for (i = 0; i < 4; i++) {
        apr_size_t off = i * 32, n = i < 3 ? 32 : 18;
        is_str(lenz_hex(p, c + off, n), VEC_A_SEG[i], "vector a segment %d", (int)i);
    }
    ok(lenz_aead_open_buffer(p, &pp, c, clen, &o, &olen) == APR_SUCCESS
       && olen == 50 && memcmp(o, VEC_PLAIN, 50) == 0, "vector a opens");
    /* The streaming encryptor emits one call per segment. */
    ok(enc_chunks(p, &pp, 0, 0, (const unsigned char *)VEC_PLAIN, 50, 50, &b) == APR_SUCCESS
       && b.calls == 4 && b.len == clen && memcmp(b.buf, c, clen) == 0,
       "vector a streamed: one emit per segment, same bytes");
    free(b.buf);

    vec_params(&pp, 65536, 0);
    ok(lenz_aead_seal_buffer(p, &pp, "", 0, &c, &clen) == APR_SUCCESS, "vector b seals");
    is_str(lenz_hex(p, c, clen), VEC_B, "vector b: empty file is one 16-byte tag");
    ok(lenz_aead_open_buffer(p, &pp, c, clen, &o, &olen) == APR_SUCCESS && olen == 0,
       "vector b opens");
}

static void test_size_math(void)
{
    lenz_aead_params pp;
    is_int(lenz_aead_segment_count(0, 16), 1, "P=0: one segment");
    is_int(lenz_aead_segment_count(1, 16), 1, "P=1: one segment");
    is_int(lenz_aead_segment_count(16, 16), 1, "P=S: one segment");
    is_int(lenz_aead_segment_count(17, 16), 2, "P=S+1: two segments");
    is_int(lenz_aead_cipher_size(0, 65536), 16, "cipher size of empty");
    is_int(lenz_aead_cipher_size(65537, 65536), 65537 + 32, "cipher size S+1");
    is_int(lenz_aead_segment_plain(50, 16, 3), 2, "last segment plain size");
    is_int(lenz_aead_segment_plain(50, 16, 4), 0, "past the end");
    vec_params(&pp, 15, 10);
    is_int(lenz_aead_check(&pp), APR_EINVAL, "S below the minimum refused");
    pp.segment_size = LENZ_AEAD_SEGMENT_MAX + 1;
    is_int(lenz_aead_check(&pp), APR_EINVAL, "S above 16 MiB refused");
    pp.segment_size = 16;
    pp.plain_size = ((apr_uint64_t)1 << 32) * 16;
    is_int(lenz_aead_check(&pp), APR_SUCCESS, "2^32 segments allowed");
    pp.plain_size++;
    is_int(lenz_aead_check(&pp), LENZ_ETOOBIG, "2^32+1 segments refused");
}

static void test_round_trips(apr_pool_t *p)
{
    static const struct { apr_uint32_t S; size_t P; } cases[] = {
        {16, 0}, {16, 1}, {16, 15}, {16, 16}, {16, 17}, {16, 31}, {16, 32}, {16, 33}, {16, 1000},
        {4096, 0}, {4096, 1}, {4096, 4095}, {4096, 4096}, {4096, 4097}, {4096, 100000},
        {65536, 1}, {65536, 65535}, {65536, 65536}, {65536, 65537}, {65536, 300001},
        {1000, 999}, {1000, 5001},   /* neither power of two nor multiple of 16 */
    };
    static const size_t chunks[] = {1, 7, 4097, 1 << 20};
    size_t ci, k;
    buf_t c = {0}, o = {0};

    for (ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        lenz_aead_params pp;
        lenz_aead_span all;
        unsigned char *plain = pattern(cases[ci].P, (unsigned)ci);
        unsigned char *ref;
        apr_size_t rlen;
        int good = 1;
        apr_pool_t *t;

        apr_pool_create(&t, p);
        vec_params(&pp, cases[ci].S, cases[ci].P);
        pp.file_id[0] = (unsigned char)ci;
        lenz_aead_seal_buffer(t, &pp, plain, cases[ci].P, &ref, &rlen);
        lenz_aead_range_all(&pp, &all);
        good = rlen == lenz_aead_cipher_size(cases[ci].P, cases[ci].S);
        for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
            buf_reset(&c);
            buf_reset(&o);
            good &= enc_chunks(t, &pp, 0, 0, plain, cases[ci].P, chunks[k], &c) == APR_SUCCESS;
            good &= c.len == rlen && memcmp(c.buf, ref, rlen) == 0;
            good &= dec_chunks(t, &pp, &all, c.buf, c.len, chunks[k], &o) == APR_SUCCESS;
            good &= o.len == cases[ci].P && (o.len == 0 || memcmp(o.buf, plain, o.len) == 0);
        }
        ok(good, "round trip S=%u P=%zu in chunks of 1, 7, 4097, 1 MiB",
           (unsigned)cases[ci].S, cases[ci].P);
        free(plain);
        apr_pool_destroy(t);
    }
    free(c.buf);
    free(o.buf);
}

static void test_encryptor_refusals(apr_pool_t *p)
{
    lenz_aead_params pp;
    lenz_aead_enc *e;
    buf_t b = {0};
    unsigned char plain[64] = {0};

    vec_params(&pp, 16, 50);
    is_int(enc_chunks(p, &pp, 0, 0, plain, 49, 49, &b), LENZ_EFORMAT, "one byte short: refused at finish");
    is_int(b.calls, 3, "  only the three full segments went out");
    buf_reset(&b);
    is_int(enc_chunks(p, &pp, 0, 0, plain, 51, 51, &b), LENZ_EFORMAT, "one byte long: refused");
    buf_reset(&b);
    is_int(enc_chunks(p, &pp, 0, 0, plain, 40, 40, &b), LENZ_EFORMAT,
           "short non-final segment (would need a final flag at index 2) refused");
    buf_reset(&b);
    is_int(enc_chunks(p, &pp, 0, 0, plain, 32, 32, &b), LENZ_EFORMAT, "stopping on a boundary before the end refused");
    buf_reset(&b);
    /* Sticky failure. */
    lenz_aead_enc_make(&e, p, &pp, 3, 1, collect, &b);
    is_int(lenz_aead_enc_feed(e, plain, 3), LENZ_EFORMAT, "final segment of 2 fed 3 bytes refused");
    is_int(lenz_aead_enc_feed(e, plain, 1), LENZ_EFORMAT, "  and the encryptor stays failed");
    is_int(lenz_aead_enc_finish(e), LENZ_EFORMAT, "  also at finish");
    is_int(b.calls, 0, "  nothing emitted");
    is_int(lenz_aead_enc_make(&e, p, &pp, 4, 0, collect, &b), APR_EINVAL, "start past the last segment refused");
    is_int(lenz_aead_enc_make(&e, p, &pp, 2, 3, collect, &b), APR_EINVAL, "range past the end refused");
    {
        lenz_aead_dec *d;
        lenz_aead_span sp = {0, 1, 0, 32, 16, 0};
        is_int(lenz_aead_dec_make(&d, p, &pp, &sp, collect, &b), APR_EINVAL, "decryptor: skip of a whole segment refused");
        sp.skip = 15;
        sp.length = 2;
        is_int(lenz_aead_dec_make(&d, p, &pp, &sp, collect, &b), APR_EINVAL, "decryptor: length past the range refused");
        sp.segments = 0;
        is_int(lenz_aead_dec_make(&d, p, &pp, &sp, collect, &b), APR_EINVAL, "decryptor: empty range refused");
    }
    vec_params(&pp, 16, 0);
    is_int(enc_chunks(p, &pp, 0, 0, plain, 1, 1, &b), LENZ_EFORMAT, "empty file fed a byte refused");
    free(b.buf);
}

/* The small object all tamper cases start from: vector a. */
static void test_tamper(apr_pool_t *p)
{
    lenz_aead_params pp, q;
    unsigned char *c, *m;
    apr_size_t clen, i;
    int bits = 0, failed = 0, auth = 0;
    buf_t b = {0};
    lenz_aead_span all;

    vec_params(&pp, 16, 50);
    lenz_aead_seal_buffer(p, &pp, VEC_PLAIN, 50, &c, &clen);
    m = malloc(clen + 64);

    for (i = 0; i < clen * 8; i++) {
        apr_status_t rv;
        memcpy(m, c, clen);
        m[i / 8] ^= (unsigned char)(1u << (i % 8));
        rv = try_open(p, &pp, m, clen);
        bits++;
        failed += rv != APR_SUCCESS;
        auth += rv == LENZ_EAUTH;
    }
    is_int(failed, bits, "every one of %d single-bit flips fails to open", bits);
    is_int(auth, bits, "  all as LENZ_EAUTH");

    /* Swap segments 0 and 1. */
    memcpy(m, c, clen);
    memcpy(m, c + 32, 32);
    memcpy(m + 32, c, 32);
    is_int(try_open(p, &pp, m, clen), LENZ_EAUTH, "swapped segments fail");
    /* Drop the last segment: short stream. */
    is_int(try_open(p, &pp, c, 96), LENZ_EFORMAT, "dropped last segment fails (size)");
    lenz_aead_range_all(&pp, &all);
    is_int(dec_chunks(p, &pp, &all, c, 96, 5, &b), LENZ_EFORMAT, "  streaming: finish reports the truncation");
    /* ...even if P were cut to match: segment 2 was not sealed as final. */
    q = pp;
    q.plain_size = 48;
    is_int(try_open(p, &q, c, 96), LENZ_EAUTH, "dropped last segment with P=48 fails (final flag)");
    /* Append bytes (a copy of the last segment). */
    memcpy(m, c, clen);
    memcpy(m + clen, c + 96, 18);
    lenz_aead_range_all(&pp, &all);
    buf_reset(&b);
    is_int(dec_chunks(p, &pp, &all, m, clen + 18, 7, &b), LENZ_EFORMAT, "appended bytes fail");
    /* Truncate mid-segment. */
    buf_reset(&b);
    is_int(dec_chunks(p, &pp, &all, c, 40, 3, &b), LENZ_EFORMAT, "truncated mid-segment fails at finish");
    is_int(b.len, 16, "  only the first segment's plaintext came out");

    /* Another file id, segment size, key, prefix. */
    q = pp; q.file_id[15] ^= 1;
    is_int(try_open(p, &q, c, clen), LENZ_EAUTH, "another file id fails");
    q = pp; q.segment_size = 17;
    is_int(try_open(p, &q, c, clen), LENZ_EFORMAT, "another segment size (other layout) fails");
    {
        /* A segment sealed under S=32 (P=16: one final segment) has the
         * same nonce as under S=16, only the AAD differs. */
        unsigned char *c32;
        apr_size_t c32len;
        q = pp;
        q.segment_size = 32;
        q.plain_size = 16;
        lenz_aead_seal_buffer(p, &q, VEC_PLAIN, 16, &c32, &c32len);
        q.segment_size = 16;
        is_int(try_open(p, &q, c32, c32len), LENZ_EAUTH, "segment sealed with S=32 does not open with S=16");
    }
    q = pp; q.key[0] ^= 0x80;
    is_int(try_open(p, &q, c, clen), LENZ_EAUTH, "another key fails");
    q = pp; q.prefix[6] ^= 1;
    is_int(try_open(p, &q, c, clen), LENZ_EAUTH, "another nonce prefix fails");
    /* Segment swapped in from another file under the same key. */
    {
        unsigned char *c2;
        apr_size_t c2len;
        q = pp;
        q.file_id[0] ^= 0xff;
        q.prefix[0] ^= 0xff;
        lenz_aead_seal_buffer(p, &q, VEC_PLAIN, 50, &c2, &c2len);
        memcpy(m, c, clen);
        memcpy(m + 32, c2 + 32, 32);
        is_int(try_open(p, &pp, m, clen), LENZ_EAUTH, "segment from another file fails");
        is_int(try_open(p, &pp, c2, c2len), LENZ_EAUTH, "whole object of another file fails");
    }

    /* A bad tag in segment 1: segment 0 comes out, nothing of segment 1,
     * and the decryptor stays failed. */
    {
        lenz_aead_dec *d;
        memcpy(m, c, clen);
        m[63] ^= 1;
        buf_reset(&b);
        lenz_aead_dec_make(&d, p, &pp, &all, collect, &b);
        is_int(lenz_aead_dec_feed(d, m, 31), APR_SUCCESS, "no output before a tag is complete");
        is_int(b.len, 0, "  nothing emitted yet");
        is_int(lenz_aead_dec_feed(d, m + 31, 1), APR_SUCCESS, "segment 0 verified");
        is_int(b.len, 16, "  its 16 bytes emitted");
        is_int(lenz_aead_dec_feed(d, m + 32, 32), LENZ_EAUTH, "bad tag on segment 1: LENZ_EAUTH");
        is_int(b.len, 16, "  nothing of segment 1 emitted");
        is_int(lenz_aead_dec_feed(d, m + 64, clen - 64), LENZ_EAUTH, "decryptor stays failed");
        is_int(lenz_aead_dec_finish(d), LENZ_EAUTH, "  also at finish");
    }
    free(m);
    free(b.buf);
}

static void test_ranges(apr_pool_t *p)
{
    static const size_t sizes[] = {1, 15, 16, 17, 50, 64, 100};
    size_t si;
    lenz_aead_params pp;
    lenz_aead_span sp;
    buf_t b = {0};

    vec_params(&pp, 16, 0);
    is_int(lenz_aead_range(&pp, 0, 0, &sp), APR_EINVAL, "no range in an empty file");
    vec_params(&pp, 16, 50);
    is_int(lenz_aead_range(&pp, 50, 60, &sp), APR_EINVAL, "range starting at P refused");
    is_int(lenz_aead_range(&pp, 5, 4, &sp), APR_EINVAL, "first > last refused");
    ok(lenz_aead_range(&pp, 20, APR_UINT64_MAX, &sp) == APR_SUCCESS && sp.length == 30
       && sp.first_segment == 1 && sp.segments == 3 && sp.cipher_offset == 32
       && sp.cipher_length == 32 + 32 + 18 && sp.skip == 4, "open-ended range clamps to P-1");

    /* The worked example of docs/format.md. */
    vec_params(&pp, 65536, 200000);
    ok(lenz_aead_range(&pp, 100000, 150000, &sp) == APR_SUCCESS && sp.first_segment == 1
       && sp.segments == 2 && sp.cipher_offset == 65552 && sp.cipher_length == 131104
       && sp.skip == 34464 && sp.length == 50001, "docs example: bytes=100000-150000 of P=200000");
    is_int(lenz_aead_cipher_size(200000, 65536), 200064, "docs example: object size");

    for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t P = sizes[si], first, last;
        unsigned char *plain = pattern(P, 3), *c;
        apr_size_t clen;
        int good = 1, pairs = 0;
        apr_pool_t *t;

        apr_pool_create(&t, p);
        vec_params(&pp, 16, P);
        lenz_aead_seal_buffer(t, &pp, plain, P, &c, &clen);
        for (first = 0; first < P; first++) {
            for (last = first; last < P; last++) {
                apr_uint64_t fs = first / 16, ls = last / 16;
                apr_uint64_t cend = ls * 32 + lenz_aead_segment_plain(P, 16, ls) + 16;
                pairs++;
                good &= lenz_aead_range(&pp, first, last, &sp) == APR_SUCCESS;
                good &= sp.first_segment == fs && sp.segments == ls - fs + 1
                    && sp.cipher_offset == fs * 32 && sp.cipher_offset + sp.cipher_length == cend
                    && sp.skip == first % 16 && sp.length == last - first + 1;
                buf_reset(&b);
                good &= dec_chunks(t, &pp, &sp, c + sp.cipher_offset, sp.cipher_length,
                                   1 + (first + last) % 13, &b) == APR_SUCCESS;
                good &= b.len == last - first + 1 && memcmp(b.buf, plain + first, b.len) == 0;
                if (!good) {
                    diag("P=%zu first=%zu last=%zu", P, first, last);
                    break;
                }
            }
            if (!good)
                break;
        }
        ok(good, "range math and decrypt of all %d ranges of P=%zu (S=16)", pairs, P);
        free(plain);
        apr_pool_destroy(t);
    }
    free(b.buf);
}

static void test_parts(apr_pool_t *p)
{
    lenz_aead_params pp;
    lenz_aead_part_info pi;
    const size_t P = 10 * 16 + 5;         /* 11 segments */
    unsigned char *plain = pattern(P, 9), *ref, *obj, *o;
    apr_size_t rlen, olen;
    static const int order[] = {3, 1, 4, 2};
    int i, good = 1;
    buf_t b = {0};

    vec_params(&pp, 16, P);
    lenz_aead_seal_buffer(p, &pp, plain, P, &ref, &rlen);
    is_int(lenz_aead_part_count(&pp, 3), 4, "11 segments at 3 per part: 4 parts");
    ok(lenz_aead_part(&pp, 3, 2, &pi) == APR_SUCCESS && pi.first_segment == 3
       && pi.segments == 3 && pi.plain_offset == 48 && pi.plain_size == 48
       && pi.cipher_offset == 96 && pi.cipher_size == 96, "part 2 geometry");
    ok(lenz_aead_part(&pp, 3, 4, &pi) == APR_SUCCESS && pi.first_segment == 9
       && pi.segments == 2 && pi.plain_offset == 144 && pi.plain_size == 21
       && pi.cipher_offset == 288 && pi.cipher_size == 21 + 32, "last part geometry");
    is_int(lenz_aead_part(&pp, 3, 5, &pi), APR_EINVAL, "part past the end refused");
    is_int(lenz_aead_part(&pp, 3, 0, &pi), APR_EINVAL, "part 0 refused");

    obj = calloc(1, rlen);
    for (i = 0; i < 4; i++) {
        apr_pool_t *t;
        apr_pool_create(&t, p);     /* as if on another host */
        lenz_aead_part(&pp, 3, (apr_uint64_t)order[i], &pi);
        buf_reset(&b);
        good &= enc_chunks(t, &pp, pi.first_segment, pi.segments, plain + pi.plain_offset,
                           pi.plain_size, 5, &b) == APR_SUCCESS;
        good &= b.len == pi.cipher_size;
        memcpy(obj + pi.cipher_offset, b.buf, b.len);
        apr_pool_destroy(t);
    }
    ok(good && memcmp(obj, ref, rlen) == 0, "parts sealed out of order (3,1,4,2) concatenate to the object");
    ok(lenz_aead_open_buffer(p, &pp, obj, rlen, &o, &olen) == APR_SUCCESS && olen == P
       && memcmp(o, plain, P) == 0, "  and it decrypts");

    lenz_aead_part(&pp, 3, 2, &pi);
    buf_reset(&b);
    is_int(enc_chunks(p, &pp, pi.first_segment, pi.segments, plain + pi.plain_offset,
                      pi.plain_size - 1, 64, &b), LENZ_EFORMAT, "part one byte short refused");
    buf_reset(&b);
    is_int(enc_chunks(p, &pp, pi.first_segment, pi.segments, plain + pi.plain_offset,
                      pi.plain_size + 1, 64, &b), LENZ_EFORMAT, "part one byte long refused");
    lenz_aead_part(&pp, 3, 4, &pi);
    buf_reset(&b);
    is_int(enc_chunks(p, &pp, pi.first_segment, pi.segments, plain + pi.plain_offset,
                      pi.plain_size - 1, 64, &b), LENZ_EFORMAT, "last part one byte short refused");

    /* The worked example of docs/format.md: 128 segments of 64 KiB a part. */
    vec_params(&pp, 65536, 20 * 1048576 + 5);
    is_int(lenz_aead_part_count(&pp, 128), 3, "docs example: 3 parts");
    ok(lenz_aead_part(&pp, 128, 2, &pi) == APR_SUCCESS && pi.first_segment == 128
       && pi.segments == 128 && pi.plain_offset == 8388608 && pi.plain_size == 8388608
       && pi.cipher_offset == 8390656 && pi.cipher_size == 8390656, "docs example: part 2");
    ok(lenz_aead_part(&pp, 128, 3, &pi) == APR_SUCCESS && pi.first_segment == 256
       && pi.segments == 65 && pi.plain_offset == 16777216 && pi.plain_size == 4194309
       && pi.cipher_offset == 16781312 && pi.cipher_size == 4195349, "docs example: part 3");

    vec_params(&pp, 16, 0);
    ok(lenz_aead_part_count(&pp, 3) == 1 && lenz_aead_part(&pp, 3, 1, &pi) == APR_SUCCESS
       && pi.segments == 1 && pi.plain_size == 0 && pi.cipher_size == 16, "empty file: one part, one segment");
    vec_params(&pp, 16, 48);
    ok(lenz_aead_part_count(&pp, 3) == 1 && lenz_aead_part(&pp, 3, 1, &pi) == APR_SUCCESS
       && pi.plain_size == 48 && pi.cipher_size == 96, "exact fit: one full part");
    free(obj);
    free(plain);
    free(b.buf);
}

static void vec_f(apr_pool_t *p, lenz_aead_params *pp, unsigned char table[14],
                  unsigned char obj[114], int *good)
{
    lenz_aead_part_info pi;
    buf_t b = {0};
    int j;

    vec_params(pp, 16, 50);
    pp->version = LENZ_AEAD_VERSION_PARTS;
    unhex(VEC_F_PREFIX1, table, 7);
    unhex(VEC_F_PREFIX2, table + 7, 7);
    for (j = 1; j <= 2; j++) {
        lenz_aead_part(pp, 2, (apr_uint64_t)j, &pi);
        memcpy(pp->prefix, table + 7 * (j - 1), 7);
        buf_reset(&b);
        *good &= enc_chunks(p, pp, pi.first_segment, pi.segments,
                            (const unsigned char *)VEC_PLAIN + pi.plain_offset, pi.plain_size, 7, &b)
                 == APR_SUCCESS && b.len == pi.cipher_size;
        if (b.len == pi.cipher_size)
            memcpy(obj + pi.cipher_offset, b.buf, b.len);
    }
    free(b.buf);
}

/* The reader's side of v2: every part's prefix from a table. */
static void v2_reader(lenz_aead_params *rd, const lenz_aead_params *pp,
                      const unsigned char *table, apr_uint64_t parts)
{
    *rd = *pp;
    memset(rd->prefix, 0, sizeof(rd->prefix));
    rd->part_prefixes = table;
    rd->segments_per_part = 2;
    rd->part_count = parts;
}

static int xor_equal(const unsigned char *a, const unsigned char *b, const unsigned char *c,
                     const unsigned char *d, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((a[i] ^ b[i]) != (c[i] ^ d[i]))
            return 0;
    return 1;
}

static void test_v2(apr_pool_t *p)
{
    lenz_aead_params pp, rd;
    lenz_aead_span sp;
    unsigned char table[14], swapped[14], obj[114], *c, *o, *ca, *cb;
    const unsigned char *A = (const unsigned char *)VEC_PLAIN;
    unsigned char B[32];
    apr_size_t clen, olen, i;
    buf_t b = {0};
    int good = 1;

    vec_f(p, &pp, table, obj, &good);
    ok(good, "v2 vector f: each part seals alone under its own prefix");
    for (i = 0; i < 4; i++) {
        apr_size_t off = i * 32, n = i < 3 ? 32 : 18;
        is_str(lenz_hex(p, obj + off, n), VEC_F_SEG[i], "v2 vector f segment %d", (int)i);
    }
    v2_reader(&rd, &pp, table, 2);
    ok(lenz_aead_open_buffer(p, &rd, obj, 114, &o, &olen) == APR_SUCCESS && olen == 50
       && memcmp(o, VEC_PLAIN, 50) == 0, "v2 vector f opens with the table of part prefixes");
    lenz_aead_range(&rd, 20, 35, &sp);
    ok(dec_chunks(p, &rd, &sp, obj + sp.cipher_offset, sp.cipher_length, 5, &b) == APR_SUCCESS
       && b.len == 16 && memcmp(b.buf, VEC_PLAIN + 20, 16) == 0, "  a range across the parts' boundary");
    buf_reset(&b);
    lenz_aead_range(&rd, 40, 49, &sp);
    ok(dec_chunks(p, &rd, &sp, obj + sp.cipher_offset, sp.cipher_length, 3, &b) == APR_SUCCESS
       && b.len == 10 && memcmp(b.buf, VEC_PLAIN + 40, 10) == 0, "  a range in part 2 alone");

    /* What must not open. */
    memcpy(swapped, table + 7, 7);
    memcpy(swapped + 7, table, 7);
    v2_reader(&rd, &pp, swapped, 2);
    is_int(try_open(p, &rd, obj, 114), LENZ_EAUTH, "v2: the parts' prefixes swapped fail");
    rd = pp;
    rd.version = LENZ_AEAD_VERSION;
    memcpy(rd.prefix, table, 7);
    is_int(try_open(p, &rd, obj, 114), LENZ_EAUTH, "v2 object read as v1: fails (version in the AAD)");
    vec_params(&rd, 16, 50);
    lenz_aead_seal_buffer(p, &rd, VEC_PLAIN, 50, &c, &clen);
    unhex(VEC_PREFIX, swapped, 7);
    unhex(VEC_PREFIX, swapped + 7, 7);
    v2_reader(&rd, &pp, swapped, 2);
    is_int(try_open(p, &rd, c, clen), LENZ_EAUTH, "v1 object (vector a) read as v2 with its prefix: fails");

    /* The table must hold one prefix per part, for a v2 object only. */
    v2_reader(&rd, &pp, table, 1);
    is_int(lenz_aead_check(&rd), APR_EINVAL, "v2: one prefix for two parts refused");
    v2_reader(&rd, &pp, table, 3);
    is_int(lenz_aead_check(&rd), APR_EINVAL, "v2: three prefixes for two parts refused");
    v2_reader(&rd, &pp, table, 2);
    rd.segments_per_part = 0;
    is_int(lenz_aead_check(&rd), APR_EINVAL, "v2: no segments per part refused");
    v2_reader(&rd, &pp, table, 2);
    rd.version = LENZ_AEAD_VERSION;
    is_int(lenz_aead_check(&rd), APR_EINVAL, "a table of part prefixes on a v1 object refused");
    rd.part_prefixes = NULL;
    rd.version = 3;
    is_int(lenz_aead_check(&rd), APR_EINVAL, "version 3 refused");

    /* Two attempts at part 1 with other bytes: under one prefix (v1) they
     * share the keystream, C_A ^ C_B = A ^ B; under two (v2) they do not. */
    for (i = 0; i < 32; i++)
        B[i] = (unsigned char)(A[i] ^ (0x5a + i));
    for (i = 0; i < 2; i++) {
        lenz_aead_params q = pp;
        q.version = i ? LENZ_AEAD_VERSION_PARTS : LENZ_AEAD_VERSION;
        memcpy(q.prefix, table, 7);
        buf_reset(&b);
        enc_chunks(p, &q, 0, 2, A, 32, 32, &b);
        ca = apr_pmemdup(p, b.buf, b.len);
        if (i)
            memcpy(q.prefix, table + 7, 7);     /* the second attempt's own */
        buf_reset(&b);
        enc_chunks(p, &q, 0, 2, B, 32, 32, &b);
        cb = apr_pmemdup(p, b.buf, b.len);
        /* The ciphertext bytes of segment 0 (the 16 before its tag). */
        if (i)
            ok(!xor_equal(ca, cb, A, B, 16), "v2: two attempts with own prefixes share no keystream");
        else
            ok(xor_equal(ca, cb, A, B, 16), "v1: two attempts under one prefix share the keystream");
    }
    free(b.buf);
}

static apr_status_t discard(void *baton, const unsigned char *data, apr_size_t len)
{
    *(apr_size_t *)baton += len;
    return APR_SUCCESS;
}

static void bench(apr_pool_t *p)
{
    const apr_size_t total = 256u << 20, chunk = 1u << 20;
    lenz_aead_params pp;
    lenz_aead_span all;
    unsigned char *plain = pattern(chunk, 1);
    unsigned char *cipher;
    apr_size_t off, got = 0, clen;
    lenz_aead_enc *e;
    lenz_aead_dec *d;
    apr_time_t t0;
    double secs;

    vec_params(&pp, 65536, total);
    lenz_aead_enc_make(&e, p, &pp, 0, 0, discard, &got);
    t0 = apr_time_now();
    for (off = 0; off < total; off += chunk)
        lenz_aead_enc_feed(e, plain, chunk);
    lenz_aead_enc_finish(e);
    secs = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    diag("seal: %.0f MB/s (256 MiB, 64 KiB segments)", total / 1e6 / secs);

    /* Open the same 1 MiB of segments over and over as a 16-segment range. */
    vec_params(&pp, 65536, chunk);
    lenz_aead_seal_buffer(p, &pp, plain, chunk, &cipher, &clen);
    lenz_aead_range_all(&pp, &all);
    t0 = apr_time_now();
    for (off = 0; off < total; off += chunk) {
        apr_pool_t *t;
        apr_pool_create(&t, p);
        lenz_aead_dec_make(&d, t, &pp, &all, discard, &got);
        lenz_aead_dec_feed(d, cipher, clen);
        lenz_aead_dec_finish(d);
        apr_pool_destroy(t);
    }
    secs = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    diag("open: %.0f MB/s (256 MiB, 64 KiB segments)", total / 1e6 / secs);
    free(plain);
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
    test_vectors(p);
    test_size_math();
    test_round_trips(p);
    test_encryptor_refusals(p);
    test_tamper(p);
    test_ranges(p);
    test_parts(p);
    test_v2(p);
    if (getenv("LENZ_BENCH"))
        bench(p);

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
