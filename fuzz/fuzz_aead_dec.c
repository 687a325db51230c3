/* fuzz_aead_dec.c - the segmented AEAD decryptor (aead.h) on object bytes
 * it did not make.
 *
 * Fixed key, prefix and file id, 64-byte segments; the plaintext size, an
 * optional byte range and a chunk-size seed come from the first 8 input
 * bytes (fixtures.h), the rest is fed as object bytes in random chunk
 * sizes, each in its own malloc block.  Every object sealed under this key
 * has fuzz_plain_at(offset) as its plaintext (fuzz/gen_corpus.c makes the
 * seeds that way), so:
 *
 *   - every byte the decryptor emits must equal fuzz_plain_at() at the
 *     offset it stands for: anything else is unauthenticated or misplaced
 *     output (abort);
 *   - it must never emit more than the span's length, nor anything after
 *     a failure; failures are LENZ_EAUTH or LENZ_EFORMAT and sticky;
 *   - a stream it accepts must be exactly span->cipher_length bytes, give
 *     exactly span->length bytes, and be byte for byte what the encryptor
 *     makes for those segments (nothing malleable gets through);
 *   - lenz_aead_range() agrees with the format's size math;
 *   - lenz_aead_open_buffer() obeys the same rules on whole objects.
 */
#include "fuzz.h"
#include "aead.h"
#include "err.h"
#include "fixtures.h"

typedef struct {
    uint64_t next;      /* plaintext offset of the next byte emitted */
    uint64_t emitted;
    uint64_t limit;     /* span.length */
    int failed;         /* the stream already failed: no more output */
} watch;

static apr_status_t check_emit(void *baton, const unsigned char *d, apr_size_t n)
{
    watch *w = baton;
    apr_size_t i;

    FUZZ_CHECK(!w->failed, "output after the stream failed");
    FUZZ_CHECK(n <= w->limit - w->emitted, "emitted past the span: %llu + %zu > %llu",
               (unsigned long long)w->emitted, n, (unsigned long long)w->limit);
    for (i = 0; i < n; i++)
        FUZZ_CHECK(d[i] == fuzz_plain_at(w->next + i),
                   "plaintext byte at offset %llu is not the sealed one: "
                   "unauthenticated or misplaced output",
                   (unsigned long long)(w->next + i));
    w->next += n;
    w->emitted += n;
    return APR_SUCCESS;
}

typedef struct {
    unsigned char *buf;
    apr_size_t len, cap;
} collect_t;

static apr_status_t collect(void *baton, const unsigned char *d, apr_size_t n)
{
    collect_t *c = baton;
    FUZZ_CHECK(n <= c->cap - c->len, "encryptor emitted more than the span holds");
    memcpy(c->buf + c->len, d, n);
    c->len += n;
    return APR_SUCCESS;
}

/* What the encryptor makes for the span's segments. */
static void sealed_span(apr_pool_t *p, const lenz_aead_params *pp, const lenz_aead_span *sp,
                        collect_t *c)
{
    apr_uint64_t from = sp->first_segment * FUZZ_AEAD_SEG, i;
    apr_uint64_t to = from, k;
    unsigned char *plain;
    lenz_aead_enc *e;

    for (k = 0; k < sp->segments; k++)
        to += lenz_aead_segment_plain(pp->plain_size, FUZZ_AEAD_SEG, sp->first_segment + k);
    plain = malloc(to - from + 1);
    for (i = from; i < to; i++)
        plain[i - from] = fuzz_plain_at(i);
    c->cap = (apr_size_t)sp->cipher_length;
    c->buf = apr_palloc(p, c->cap + 1);
    c->len = 0;
    FUZZ_CHECK(lenz_aead_enc_make(&e, p, pp, sp->first_segment, sp->segments, collect, c)
               == APR_SUCCESS, "enc_make failed");
    FUZZ_CHECK(lenz_aead_enc_feed(e, plain, (apr_size_t)(to - from)) == APR_SUCCESS,
               "enc_feed failed");
    FUZZ_CHECK(lenz_aead_enc_finish(e) == APR_SUCCESS, "enc_finish failed");
    FUZZ_CHECK(c->len == c->cap, "encryptor made %zu bytes for a span of %zu", c->len, c->cap);
    free(plain);
}

static void check_span(const lenz_aead_params *pp, const fuzz_aead_hdr *h,
                       const lenz_aead_span *sp)
{
    const apr_uint64_t S = FUZZ_AEAD_SEG, P = pp->plain_size;
    apr_uint64_t k, bytes = 0, last;

    FUZZ_CHECK(sp->segments >= 1, "span without segments");
    FUZZ_CHECK(sp->first_segment + sp->segments <= lenz_aead_segment_count(P, FUZZ_AEAD_SEG),
               "span past the last segment");
    FUZZ_CHECK(sp->cipher_offset == sp->first_segment * (S + LENZ_AEAD_TAG_LEN),
               "cipher offset is not the first segment's");
    for (k = 0; k < sp->segments; k++)
        bytes += lenz_aead_segment_plain(P, FUZZ_AEAD_SEG, sp->first_segment + k)
            + LENZ_AEAD_TAG_LEN;
    FUZZ_CHECK(sp->cipher_length == bytes, "cipher length %llu, segments hold %llu",
               (unsigned long long)sp->cipher_length, (unsigned long long)bytes);
    if (!h->ranged) {
        FUZZ_CHECK(sp->skip == 0 && sp->length == P, "whole-object span trims");
        return;
    }
    last = h->last < P - 1 ? h->last : P - 1;
    FUZZ_CHECK(sp->first_segment == h->first / S && sp->skip == h->first % S,
               "range does not start at its first byte");
    FUZZ_CHECK(sp->length == last - h->first + 1, "range length");
    FUZZ_CHECK(sp->first_segment + sp->segments - 1 == last / S, "range does not end at its last byte");
}

static void whole_buffer(apr_pool_t *p, const lenz_aead_params *pp,
                         const uint8_t *body, apr_size_t blen)
{
    unsigned char *out = NULL;
    apr_size_t out_len = 0, i;
    apr_status_t rv = lenz_aead_open_buffer(p, pp, body, blen, &out, &out_len);

    FUZZ_CHECK(rv == APR_SUCCESS || rv == LENZ_EAUTH || rv == LENZ_EFORMAT,
               "open_buffer: status %d", rv);
    if (rv != APR_SUCCESS)
        return;
    FUZZ_CHECK(blen == lenz_aead_cipher_size(pp->plain_size, FUZZ_AEAD_SEG),
               "open_buffer accepted a wrong object size");
    FUZZ_CHECK(out_len == pp->plain_size, "open_buffer gave %zu bytes of %llu", out_len,
               (unsigned long long)pp->plain_size);
    for (i = 0; i < out_len; i++)
        FUZZ_CHECK(out[i] == fuzz_plain_at(i), "open_buffer: wrong plaintext at %zu", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    lenz_aead_params pp;
    lenz_aead_span span;
    lenz_aead_dec *d;
    fuzz_aead_hdr h;
    const uint8_t *body;
    apr_size_t blen, off = 0;
    apr_status_t rv, first_err = APR_SUCCESS;
    apr_uint64_t P;
    fuzz_rng r;
    watch w;
    int valid;

    if (size < FUZZ_AEAD_HDR)
        return 0;
    fuzz_aead_hdr_read(data, &h);
    body = data + FUZZ_AEAD_HDR;
    blen = size - FUZZ_AEAD_HDR;
    fuzz_aead_params(&pp, h.plain_size);
    P = h.plain_size;
    p = fuzz_pool();

    if (h.ranged) {
        rv = lenz_aead_range(&pp, h.first, h.last, &span);
        valid = P > 0 && h.first < P && h.first <= h.last;
        FUZZ_CHECK((rv == APR_SUCCESS) == valid, "range %llu-%llu of %llu: status %d",
                   (unsigned long long)h.first, (unsigned long long)h.last,
                   (unsigned long long)P, rv);
    }
    else {
        rv = lenz_aead_range_all(&pp, &span);
        FUZZ_CHECK(rv == APR_SUCCESS, "range_all: status %d", rv);
    }
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(p);
        return 0;
    }
    check_span(&pp, &h, &span);

    memset(&w, 0, sizeof(w));
    w.next = span.first_segment * FUZZ_AEAD_SEG + span.skip;
    w.limit = span.length;
    rv = lenz_aead_dec_make(&d, p, &pp, &span, check_emit, &w);
    FUZZ_CHECK(rv == APR_SUCCESS, "dec_make refused a span range() made: %d", rv);

    r.s = 0x9e3779b97f4a7c15ull * (h.chunk_seed + 1);
    while (off < blen) {
        apr_size_t n = fuzz_rng_chunk(&r, blen - off);
        void *piece = fuzz_dup(body + off, n);
        rv = lenz_aead_dec_feed(d, piece, n);
        free(piece);
        off += n;
        if (first_err != APR_SUCCESS)
            FUZZ_CHECK(rv == first_err, "failure not sticky: %d after %d", rv, first_err);
        else if (rv != APR_SUCCESS) {
            first_err = rv;
            w.failed = 1;
        }
    }
    rv = lenz_aead_dec_finish(d);
    if (first_err != APR_SUCCESS)
        FUZZ_CHECK(rv == first_err, "finish forgot the failure: %d after %d", rv, first_err);
    else if (rv != APR_SUCCESS)
        w.failed = 1;
    FUZZ_CHECK(rv == APR_SUCCESS || rv == LENZ_EAUTH || rv == LENZ_EFORMAT, "status %d", rv);

    if (rv == APR_SUCCESS) {
        collect_t c;
        FUZZ_CHECK(blen == span.cipher_length, "accepted %zu object bytes for a span of %llu",
                   blen, (unsigned long long)span.cipher_length);
        FUZZ_CHECK(w.emitted == span.length, "emitted %llu bytes of %llu",
                   (unsigned long long)w.emitted, (unsigned long long)span.length);
        sealed_span(p, &pp, &span, &c);
        FUZZ_CHECK(memcmp(c.buf, body, blen) == 0,
                   "accepted object bytes the encryptor did not make");
        /* Sticky the other way too: nothing more is taken once complete. */
        FUZZ_CHECK(lenz_aead_dec_feed(d, "x", 1) == LENZ_EFORMAT, "took bytes past the span");
    }
    else
        FUZZ_CHECK(lenz_aead_dec_feed(d, "x", 1) == rv, "feed after a failed finish");

    if (!h.ranged)
        whole_buffer(p, &pp, body, blen);

    apr_pool_destroy(p);
    return 0;
}
