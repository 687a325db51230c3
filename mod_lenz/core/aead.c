/* aead.c - segmented AES-256-GCM, object formats v1 and v2 (see aead.h and
 * docs/format.md).  The cipher itself is crypto.h's; this file only frames
 * segments, derives nonces and keeps the stream honest about sizes. */
#include <string.h>
#include <apr_strings.h>

#include "aead.h"
#include "crypto.h"
#include "err.h"

/* ------------------------------------------------------------------ */
/* Size math                                                           */

apr_uint64_t lenz_aead_segment_count(apr_uint64_t plain_size, apr_uint32_t seg)
{
    if (seg == 0)
        return 0;
    if (plain_size == 0)
        return 1;
    return plain_size / seg + (plain_size % seg != 0);
}

apr_uint64_t lenz_aead_cipher_size(apr_uint64_t plain_size, apr_uint32_t seg)
{
    return plain_size + LENZ_AEAD_TAG_LEN * lenz_aead_segment_count(plain_size, seg);
}

apr_uint64_t lenz_aead_segment_plain(apr_uint64_t plain_size, apr_uint32_t seg,
                                     apr_uint64_t index)
{
    apr_uint64_t n = lenz_aead_segment_count(plain_size, seg);
    if (index >= n)
        return 0;
    if (index < n - 1)
        return seg;
    return plain_size - (n - 1) * seg;
}

apr_status_t lenz_aead_check(const lenz_aead_params *pp)
{
    apr_uint64_t n;
    if (!pp || pp->segment_size < LENZ_AEAD_SEGMENT_MIN
        || pp->segment_size > LENZ_AEAD_SEGMENT_MAX)
        return APR_EINVAL;
    /* n <= 2^32; computed without overflow since S <= 2^24. */
    n = lenz_aead_segment_count(pp->plain_size, pp->segment_size);
    if (n > LENZ_AEAD_MAX_SEGMENTS)
        return LENZ_ETOOBIG;
    if (pp->version < 0 || pp->version > LENZ_AEAD_VERSION_PARTS)
        return APR_EINVAL;
    if (pp->part_prefixes) {
        /* One prefix for each part, no more, no fewer. */
        if (pp->version != LENZ_AEAD_VERSION_PARTS || pp->segments_per_part == 0
            || pp->part_count != n / pp->segments_per_part + (n % pp->segments_per_part != 0))
            return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_uint64_t seg_start(const lenz_aead_params *pp, apr_uint64_t index)
{
    return index * ((apr_uint64_t)pp->segment_size + LENZ_AEAD_TAG_LEN);
}

apr_status_t lenz_aead_range(const lenz_aead_params *pp, apr_uint64_t first,
                             apr_uint64_t last, lenz_aead_span *out)
{
    apr_uint64_t S, fs, ls;
    apr_status_t rv = lenz_aead_check(pp);
    if (rv != APR_SUCCESS)
        return rv;
    if (last >= pp->plain_size)
        last = pp->plain_size - 1;      /* harmless wrap for P = 0: first fails below */
    if (pp->plain_size == 0 || first >= pp->plain_size || first > last)
        return APR_EINVAL;
    S = pp->segment_size;
    fs = first / S;
    ls = last / S;
    out->first_segment = fs;
    out->segments = ls - fs + 1;
    out->cipher_offset = seg_start(pp, fs);
    out->cipher_length = seg_start(pp, ls)
        + lenz_aead_segment_plain(pp->plain_size, pp->segment_size, ls)
        + LENZ_AEAD_TAG_LEN - out->cipher_offset;
    out->skip = first - fs * S;
    out->length = last - first + 1;
    return APR_SUCCESS;
}

apr_status_t lenz_aead_range_all(const lenz_aead_params *pp, lenz_aead_span *out)
{
    apr_status_t rv = lenz_aead_check(pp);
    if (rv != APR_SUCCESS)
        return rv;
    out->first_segment = 0;
    out->segments = lenz_aead_segment_count(pp->plain_size, pp->segment_size);
    out->cipher_offset = 0;
    out->cipher_length = lenz_aead_cipher_size(pp->plain_size, pp->segment_size);
    out->skip = 0;
    out->length = pp->plain_size;
    return APR_SUCCESS;
}

apr_uint64_t lenz_aead_part_count(const lenz_aead_params *pp,
                                  apr_uint32_t segments_per_part)
{
    apr_uint64_t n;
    if (lenz_aead_check(pp) != APR_SUCCESS || segments_per_part == 0)
        return 0;
    n = lenz_aead_segment_count(pp->plain_size, pp->segment_size);
    return n / segments_per_part + (n % segments_per_part != 0);
}

apr_status_t lenz_aead_part(const lenz_aead_params *pp, apr_uint32_t segments_per_part,
                            apr_uint64_t part_no, lenz_aead_part_info *out)
{
    apr_uint64_t n, first, count, S;
    if (part_no == 0 || part_no > lenz_aead_part_count(pp, segments_per_part))
        return APR_EINVAL;
    S = pp->segment_size;
    n = lenz_aead_segment_count(pp->plain_size, pp->segment_size);
    first = (part_no - 1) * segments_per_part;
    count = n - first < segments_per_part ? n - first : segments_per_part;
    out->first_segment = first;
    out->segments = count;
    out->plain_offset = first * S;
    /* All segments of a part are full except possibly the file's last. */
    out->plain_size = (count - 1) * S
        + lenz_aead_segment_plain(pp->plain_size, pp->segment_size, first + count - 1);
    out->cipher_offset = seg_start(pp, first);
    out->cipher_size = out->plain_size + LENZ_AEAD_TAG_LEN * count;
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Shared stream state                                                 */

typedef struct {
    lenz_gcm *gcm;
    unsigned char aad[LENZ_AEAD_AAD_LEN];
    unsigned char prefix[LENZ_AEAD_PREFIX_LEN];
    const unsigned char *parts; /* v2 reading: each part's prefix, or NULL */
    apr_uint32_t per_part;      /* v2 reading: segments in a part */
    apr_uint32_t seg;           /* S */
    apr_uint64_t plain_size;    /* P */
    apr_uint64_t count;         /* n, segments in the whole object */
    apr_uint64_t idx;           /* next segment to seal or open */
    apr_uint64_t end;           /* one past the range's last segment */
    unsigned char *buf;         /* one segment: plaintext or ciphertext || tag */
    apr_size_t cap;
    apr_size_t fill;            /* bytes of the current segment taken in */
    int begun;                  /* the current segment's GCM is under way in pieces */
    unsigned char tag[LENZ_AEAD_TAG_LEN];   /* a tag arriving in pieces */
    lenz_aead_emit_fn *emit;
    void *baton;
    apr_status_t failed;        /* sticky: first failure */
} stream;

static void put_be32(unsigned char *b, apr_uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* The segment buffer holds plaintext at some point: wipe it with the pool. */
static apr_status_t stream_cleanup(void *data)
{
    stream *s = data;
    lenz_wipe(s->buf, s->cap);
    return APR_SUCCESS;
}

static apr_status_t stream_init(stream *s, apr_pool_t *p, const lenz_aead_params *pp,
                                apr_uint64_t first, apr_uint64_t segments,
                                lenz_aead_emit_fn *emit, void *baton)
{
    apr_status_t rv = lenz_aead_check(pp);
    if (rv != APR_SUCCESS)
        return rv;
    s->seg = pp->segment_size;
    s->plain_size = pp->plain_size;
    s->count = lenz_aead_segment_count(pp->plain_size, pp->segment_size);
    if (first >= s->count || segments > s->count - first)
        return APR_EINVAL;
    s->idx = first;
    s->end = segments ? first + segments : s->count;
    memcpy(s->prefix, pp->prefix, LENZ_AEAD_PREFIX_LEN);
    s->parts = pp->part_prefixes;
    s->per_part = pp->segments_per_part;
    memcpy(s->aad, "LENZ", 4);
    s->aad[4] = (unsigned char)(pp->version ? pp->version : LENZ_AEAD_VERSION);
    put_be32(s->aad + 5, pp->segment_size);
    memcpy(s->aad + 9, pp->file_id, LENZ_AEAD_FILE_ID_LEN);
    s->gcm = lenz_gcm_make(p, pp->key);
    if (!s->gcm)
        return LENZ_ECRYPTO;
    /* Without emit, the in-place API (next/piece/tag) is the only use:
     * no segment buffer. */
    s->cap = emit ? (apr_size_t)pp->segment_size + LENZ_AEAD_TAG_LEN : 0;
    s->buf = emit ? apr_palloc(p, s->cap) : NULL;
    s->emit = emit;
    s->baton = baton;
    apr_pool_cleanup_register(p, s, stream_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

static void stream_nonce(const stream *s, unsigned char nonce[LENZ_AEAD_NONCE_LEN])
{
    if (s->parts)       /* v2: the prefix of the part holding segment idx */
        memcpy(nonce, s->parts + (s->idx / s->per_part) * LENZ_AEAD_PREFIX_LEN,
               LENZ_AEAD_PREFIX_LEN);
    else
        memcpy(nonce, s->prefix, LENZ_AEAD_PREFIX_LEN);
    put_be32(nonce + 7, (apr_uint32_t)s->idx);
    nonce[11] = s->idx == s->count - 1 ? 0x01 : 0x00;
}

static apr_size_t want_plain(const stream *s)
{
    return (apr_size_t)lenz_aead_segment_plain(s->plain_size, s->seg, s->idx);
}

static apr_status_t stream_fail(stream *s, apr_status_t rv)
{
    s->failed = rv;
    s->fill = 0;
    s->begun = 0;
    lenz_wipe(s->buf, s->cap);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Encryptor                                                           */

struct lenz_aead_enc {
    stream s;
};

apr_status_t lenz_aead_enc_make(lenz_aead_enc **out, apr_pool_t *p,
                                const lenz_aead_params *pp,
                                apr_uint64_t first_segment, apr_uint64_t segments,
                                lenz_aead_emit_fn *emit, void *baton)
{
    lenz_aead_enc *e = apr_pcalloc(p, sizeof(*e));
    apr_status_t rv = stream_init(&e->s, p, pp, first_segment, segments, emit, baton);
    if (rv != APR_SUCCESS)
        return rv;
    *out = e;
    return APR_SUCCESS;
}

/* Seal segment s->idx from in (len bytes, which may be s->buf itself) into
 * s->buf, emit ciphertext || tag, advance. */
static apr_status_t seal_one(stream *s, const unsigned char *in, apr_size_t len)
{
    unsigned char nonce[LENZ_AEAD_NONCE_LEN];
    apr_status_t rv;

    stream_nonce(s, nonce);
    rv = lenz_gcm_seal(s->gcm, nonce, s->aad, LENZ_AEAD_AAD_LEN, in, len,
                       s->buf, s->buf + len);
    if (rv != APR_SUCCESS)
        return stream_fail(s, rv);
    rv = s->emit(s->baton, s->buf, len + LENZ_AEAD_TAG_LEN);
    if (rv != APR_SUCCESS)
        return stream_fail(s, rv);
    s->idx++;
    s->fill = 0;
    return APR_SUCCESS;
}

static apr_status_t seal_begin(stream *s)
{
    unsigned char nonce[LENZ_AEAD_NONCE_LEN];
    apr_status_t rv;
    stream_nonce(s, nonce);
    if ((rv = lenz_gcm_seal_begin(s->gcm, nonce, s->aad, LENZ_AEAD_AAD_LEN)) != APR_SUCCESS)
        return stream_fail(s, rv);
    s->begun = 1;
    return APR_SUCCESS;
}

/* The segment sealed in pieces is complete: its tag after it, send it. */
static apr_status_t seal_end(stream *s)
{
    apr_status_t rv = lenz_gcm_seal_end(s->gcm, s->buf + s->fill);
    if (rv != APR_SUCCESS)
        return stream_fail(s, rv);
    rv = s->emit(s->baton, s->buf, s->fill + LENZ_AEAD_TAG_LEN);
    if (rv != APR_SUCCESS)
        return stream_fail(s, rv);
    s->idx++;
    s->fill = 0;
    s->begun = 0;
    return APR_SUCCESS;
}

apr_status_t lenz_aead_enc_feed(lenz_aead_enc *e, const void *data, apr_size_t len)
{
    stream *s = &e->s;
    const unsigned char *in = data;
    apr_status_t rv;

    if (s->failed)
        return s->failed;
    if (!s->emit)
        return stream_fail(s, APR_EINVAL);
    while (len > 0) {
        apr_size_t want, take;
        if (s->idx >= s->end)
            return stream_fail(s, LENZ_EFORMAT);    /* more than the range holds */
        want = want_plain(s);
        if (s->fill == 0 && want == s->seg && len >= want) {
            /* A whole segment at hand: seal straight from the input. */
            if ((rv = seal_one(s, in, want)) != APR_SUCCESS)
                return rv;
            in += want;
            len -= want;
            continue;
        }
        if (s->fill == want)
            return stream_fail(s, LENZ_EFORMAT);    /* past a short final segment */
        /* A segment arriving in pieces is sealed piece by piece into the
         * buffer (no copy of the plaintext first) and sent whole. */
        if (!s->begun && (rv = seal_begin(s)) != APR_SUCCESS)
            return rv;
        take = want - s->fill < len ? want - s->fill : len;
        if ((rv = lenz_gcm_seal_update(s->gcm, in, take, s->buf + s->fill)) != APR_SUCCESS)
            return stream_fail(s, rv);
        s->fill += take;
        in += take;
        len -= take;
        /* Full segments go out now; a short one can only be the final and
         * waits for finish(), which proves nothing more follows. */
        if (s->fill == s->seg && (rv = seal_end(s)) != APR_SUCCESS)
            return rv;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_aead_enc_finish(lenz_aead_enc *e)
{
    stream *s = &e->s;
    apr_status_t rv;

    if (s->failed)
        return s->failed;
    if (!s->emit)
        return stream_fail(s, APR_EINVAL);
    if (s->idx < s->end && s->idx == s->count - 1 && s->fill == want_plain(s)
        && ((!s->begun && (rv = seal_begin(s)) != APR_SUCCESS) || (rv = seal_end(s)) != APR_SUCCESS))
        return rv;
    if (s->idx != s->end || s->fill != 0)
        return stream_fail(s, LENZ_EFORMAT);        /* range ended short */
    return APR_SUCCESS;
}

/* In-place sealing: the caller walks the segments itself (next, pieces,
 * tag) and GCM writes the ciphertext straight into the caller's buffer,
 * so a pull stream copies nothing (aead_pull.c). */
apr_status_t lenz_aead_enc_next(lenz_aead_enc *e, apr_size_t *plain_len)
{
    stream *s = &e->s;
    apr_status_t rv;

    if (s->failed)
        return s->failed;
    if (s->begun)
        return stream_fail(s, APR_EGENERAL);        /* the last one has no tag yet */
    if (s->idx >= s->end)
        return APR_EOF;
    if ((rv = seal_begin(s)) != APR_SUCCESS)
        return rv;
    s->fill = 0;
    *plain_len = want_plain(s);
    return APR_SUCCESS;
}

apr_status_t lenz_aead_enc_piece(lenz_aead_enc *e, const void *in, apr_size_t len, void *out)
{
    stream *s = &e->s;
    apr_status_t rv;

    if (s->failed)
        return s->failed;
    if (!s->begun || len > want_plain(s) - s->fill)
        return stream_fail(s, LENZ_EFORMAT);
    if ((rv = lenz_gcm_seal_update(s->gcm, in, len, out)) != APR_SUCCESS)
        return stream_fail(s, rv);
    s->fill += len;
    return APR_SUCCESS;
}

apr_status_t lenz_aead_enc_tag(lenz_aead_enc *e, unsigned char tag[LENZ_AEAD_TAG_LEN])
{
    stream *s = &e->s;
    apr_status_t rv;

    if (s->failed)
        return s->failed;
    if (!s->begun || s->fill != want_plain(s))
        return stream_fail(s, LENZ_EFORMAT);
    if ((rv = lenz_gcm_seal_end(s->gcm, tag)) != APR_SUCCESS)
        return stream_fail(s, rv);
    s->idx++;
    s->fill = 0;
    s->begun = 0;
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Decryptor                                                           */

struct lenz_aead_dec {
    stream s;
    apr_uint64_t first;
    apr_uint64_t skip;
    apr_uint64_t remaining;     /* plaintext bytes still to emit */
};

apr_status_t lenz_aead_dec_make(lenz_aead_dec **out, apr_pool_t *p,
                                const lenz_aead_params *pp, const lenz_aead_span *span,
                                lenz_aead_emit_fn *emit, void *baton)
{
    lenz_aead_dec *d = apr_pcalloc(p, sizeof(*d));
    apr_uint64_t avail, head;
    apr_status_t rv;

    if (!span || span->segments == 0 || !emit)
        return APR_EINVAL;
    rv = stream_init(&d->s, p, pp, span->first_segment, span->segments, emit, baton);
    if (rv != APR_SUCCESS)
        return rv;
    /* The trim must fit in the plaintext those segments hold (all full
     * but the object's last), and the skip inside the first one. */
    head = lenz_aead_segment_plain(pp->plain_size, pp->segment_size, d->s.idx);
    avail = (d->s.end - 1 - d->s.idx) * pp->segment_size
        + lenz_aead_segment_plain(pp->plain_size, pp->segment_size, d->s.end - 1);
    if ((span->skip != 0 && span->skip >= head) || span->length > avail - span->skip)
        return APR_EINVAL;
    d->first = span->first_segment;
    d->skip = span->skip;
    d->remaining = span->length;
    *out = d;
    return APR_SUCCESS;
}

/* Segment s->idx's plaintext (len bytes) is in s->buf and its tag
 * verified: emit what the span wants of it, advance. */
static apr_status_t emit_opened(lenz_aead_dec *d, apr_size_t len)
{
    stream *s = &d->s;
    apr_size_t from = 0, n;
    apr_status_t rv;

    if (s->idx == d->first)
        from = (apr_size_t)d->skip;     /* < len, checked at make */
    n = len - from;
    if (n > d->remaining)
        n = (apr_size_t)d->remaining;
    if (n > 0) {
        rv = s->emit(s->baton, s->buf + from, n);
        if (rv != APR_SUCCESS)
            return stream_fail(s, rv);
        d->remaining -= n;
    }
    /* No wipe here: the next segment overwrites the buffer, and finish,
     * failure and the pool's cleanup wipe it (a wipe per segment cost
     * 15% of the decryption speed). */
    s->idx++;
    s->fill = 0;
    s->begun = 0;
    return APR_SUCCESS;
}

/* Open segment s->idx from in (ciphertext || tag, whole) into s->buf and
 * emit its trimmed plaintext only once the tag verified. */
static apr_status_t open_one(lenz_aead_dec *d, const unsigned char *in)
{
    stream *s = &d->s;
    unsigned char nonce[LENZ_AEAD_NONCE_LEN];
    apr_size_t len = want_plain(s);
    apr_status_t rv;

    stream_nonce(s, nonce);
    rv = lenz_gcm_open(s->gcm, nonce, s->aad, LENZ_AEAD_AAD_LEN, in, len,
                       in + len, s->buf);
    if (rv != APR_SUCCESS)
        return stream_fail(s, rv);
    return emit_opened(d, len);
}

/* A segment arriving in pieces: each ciphertext piece is decrypted into
 * s->buf as it comes (no copy of the ciphertext first), the tag gathered
 * apart; nothing of the plaintext leaves before the tag verified. */
static apr_status_t open_piece(lenz_aead_dec *d, const unsigned char *in, apr_size_t take)
{
    stream *s = &d->s;
    apr_size_t plain = want_plain(s), ct = 0;
    apr_status_t rv;

    if (!s->begun) {
        unsigned char nonce[LENZ_AEAD_NONCE_LEN];
        stream_nonce(s, nonce);
        if ((rv = lenz_gcm_open_begin(s->gcm, nonce, s->aad, LENZ_AEAD_AAD_LEN)) != APR_SUCCESS)
            return stream_fail(s, rv);
        s->begun = 1;
    }
    if (s->fill < plain) {
        ct = plain - s->fill < take ? plain - s->fill : take;
        if ((rv = lenz_gcm_open_update(s->gcm, in, ct, s->buf + s->fill)) != APR_SUCCESS)
            return stream_fail(s, rv);
    }
    if (take > ct)
        memcpy(s->tag + (s->fill + ct - plain), in + ct, take - ct);
    s->fill += take;
    if (s->fill < plain + LENZ_AEAD_TAG_LEN)
        return APR_SUCCESS;
    if ((rv = lenz_gcm_open_end(s->gcm, s->tag)) != APR_SUCCESS)
        return stream_fail(s, rv);          /* wipes what was decrypted */
    return emit_opened(d, plain);
}

apr_status_t lenz_aead_dec_feed(lenz_aead_dec *d, const void *data, apr_size_t len)
{
    stream *s = &d->s;
    const unsigned char *in = data;
    apr_status_t rv;

    if (s->failed)
        return s->failed;
    while (len > 0) {
        apr_size_t want, take;
        if (s->idx >= s->end)
            return stream_fail(s, LENZ_EFORMAT);    /* extension */
        want = want_plain(s) + LENZ_AEAD_TAG_LEN;
        if (s->fill == 0 && len >= want) {
            if ((rv = open_one(d, in)) != APR_SUCCESS)
                return rv;
            in += want;
            len -= want;
            continue;
        }
        take = want - s->fill < len ? want - s->fill : len;
        if ((rv = open_piece(d, in, take)) != APR_SUCCESS)
            return rv;
        in += take;
        len -= take;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_aead_dec_finish(lenz_aead_dec *d)
{
    stream *s = &d->s;
    if (s->failed)
        return s->failed;
    if (s->idx != s->end || s->fill != 0)
        return stream_fail(s, LENZ_EFORMAT);        /* truncated */
    lenz_wipe(s->buf, s->cap);
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* One-shot helpers                                                    */

typedef struct {
    unsigned char *buf;
    apr_size_t len;
    apr_size_t cap;
} sink;

static apr_status_t sink_emit(void *baton, const unsigned char *data, apr_size_t len)
{
    sink *k = baton;
    if (len > k->cap - k->len)
        return LENZ_EFORMAT;
    memcpy(k->buf + k->len, data, len);
    k->len += len;
    return APR_SUCCESS;
}

apr_status_t lenz_aead_seal_buffer(apr_pool_t *p, const lenz_aead_params *pp,
                                   const void *plain, apr_size_t len,
                                   unsigned char **out, apr_size_t *out_len)
{
    apr_pool_t *tmp;
    lenz_aead_enc *e;
    sink k;
    apr_status_t rv = lenz_aead_check(pp);

    if (rv != APR_SUCCESS)
        return rv;
    if (len != pp->plain_size)
        return LENZ_EFORMAT;
    k.cap = (apr_size_t)lenz_aead_cipher_size(pp->plain_size, pp->segment_size);
    k.buf = apr_palloc(p, k.cap ? k.cap : 1);
    k.len = 0;
    /* The cipher context and segment buffer die with this call. */
    if ((rv = apr_pool_create(&tmp, p)) != APR_SUCCESS)
        return rv;
    rv = lenz_aead_enc_make(&e, tmp, pp, 0, 0, sink_emit, &k);
    if (rv == APR_SUCCESS)
        rv = lenz_aead_enc_feed(e, plain, len);
    if (rv == APR_SUCCESS)
        rv = lenz_aead_enc_finish(e);
    apr_pool_destroy(tmp);
    if (rv != APR_SUCCESS)
        return rv;
    *out = k.buf;
    *out_len = k.len;
    return APR_SUCCESS;
}

static apr_status_t wipe_sink(void *data)
{
    sink *k = data;
    lenz_wipe(k->buf, k->cap);
    return APR_SUCCESS;
}

apr_status_t lenz_aead_open_buffer(apr_pool_t *p, const lenz_aead_params *pp,
                                   const void *cipher, apr_size_t len,
                                   unsigned char **out, apr_size_t *out_len)
{
    apr_pool_t *tmp;
    lenz_aead_dec *d;
    lenz_aead_span all;
    sink *k;
    apr_status_t rv = lenz_aead_range_all(pp, &all);

    if (rv != APR_SUCCESS)
        return rv;
    if (len != all.cipher_length)
        return LENZ_EFORMAT;
    k = apr_pcalloc(p, sizeof(*k));
    k->cap = (apr_size_t)pp->plain_size;
    k->buf = apr_palloc(p, k->cap ? k->cap : 1);
    if ((rv = apr_pool_create(&tmp, p)) != APR_SUCCESS)
        return rv;
    rv = lenz_aead_dec_make(&d, tmp, pp, &all, sink_emit, k);
    if (rv == APR_SUCCESS)
        rv = lenz_aead_dec_feed(d, cipher, len);
    if (rv == APR_SUCCESS)
        rv = lenz_aead_dec_finish(d);
    apr_pool_destroy(tmp);
    if (rv != APR_SUCCESS) {
        /* Earlier segments verified, but a failed object gives nothing. */
        lenz_wipe(k->buf, k->cap);
        return rv;
    }
    apr_pool_cleanup_register(p, k, wipe_sink, apr_pool_cleanup_null);
    *out = k->buf;
    *out_len = k->len;
    return APR_SUCCESS;
}
