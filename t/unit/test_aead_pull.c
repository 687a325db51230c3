/* The pull adapter gives byte-for-byte the same object as the one-shot
 * sealer, for whole files and for parts, read in any chunk size, and
 * refuses sources that are too long or too short. */
#include <apr_general.h>
#include "tap.h"
#include "aead_pull.h"
#include "err.h"

typedef struct { const unsigned char *data; apr_size_t len, pos, step; int fail_at; } src;

static apr_ssize_t src_read(void *b, char *buf, apr_size_t len)
{
    src *s = b;
    apr_size_t n = s->len - s->pos;
    if (s->fail_at >= 0 && s->pos >= (apr_size_t)s->fail_at)
        return -1;
    if (n > len) n = len;
    if (s->step && n > s->step) n = s->step;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (apr_ssize_t)n;
}

/* The zero-copy source: pieces of at most `step` bytes; each piece's
 * memory is scribbled over on the next call, as a body reader's bucket
 * would be freed, so a pull that kept a pointer too long makes a wrong
 * object. */
typedef struct { src s; unsigned char piece[4096]; } psrc;

static apr_ssize_t src_peek(void *b, const char **data, apr_size_t max)
{
    psrc *ps = b;
    apr_ssize_t n;
    memset(ps->piece, 0xEE, sizeof(ps->piece));
    n = src_read(&ps->s, (char *)ps->piece, max < sizeof(ps->piece) ? max : sizeof(ps->piece));
    *data = (const char *)ps->piece;
    return n;
}

/* Reads the whole pulled stream with reads of `chunk` bytes. */
static apr_status_t drain(lenz_aead_pull *pl, apr_size_t chunk,
                          unsigned char *out, apr_size_t cap, apr_size_t *got)
{
    apr_ssize_t n;
    while ((n = lenz_aead_pull_read(pl, (char *)out + *got,
                                    cap - *got < chunk ? cap - *got : chunk)) > 0)
        *got += (apr_size_t)n;
    return n < 0 ? lenz_aead_pull_status(pl) : APR_SUCCESS;
}

static apr_status_t pull_peek_all(apr_pool_t *p, const lenz_aead_params *pp, apr_uint64_t first,
                                  apr_uint64_t count, psrc *ps, apr_size_t chunk,
                                  unsigned char *out, apr_size_t cap, apr_size_t *got)
{
    lenz_aead_pull *pl;
    apr_status_t rv = lenz_aead_pull_make_peek(&pl, p, pp, first, count, src_peek, ps);
    *got = 0;
    return rv != APR_SUCCESS ? rv : drain(pl, chunk, out, cap, got);
}

static apr_status_t pull_all(apr_pool_t *p, const lenz_aead_params *pp, apr_uint64_t first,
                             apr_uint64_t count, src *s, apr_size_t chunk,
                             unsigned char *out, apr_size_t cap, apr_size_t *got)
{
    lenz_aead_pull *pl;
    apr_status_t rv = lenz_aead_pull_make(&pl, p, pp, first, count, src_read, s);
    *got = 0;
    return rv != APR_SUCCESS ? rv : drain(pl, chunk, out, cap, got);
}

int main(void)
{
    apr_pool_t *p;
    lenz_aead_params pp;
    static unsigned char plain[70000], out[100000];
    unsigned char *ref;
    apr_size_t ref_len, got, i;
    static const apr_size_t sizes[] = { 0, 1, 63, 64, 65, 640, 1000, 70000 };
    static const apr_size_t chunks[] = { 1, 7, 80, 65536 };
    src s;

    apr_initialize();
    apr_pool_create(&p, NULL);
    for (i = 0; i < sizeof(plain); i++)
        plain[i] = (unsigned char)(i * 7 + 3);
    memset(&pp, 0, sizeof(pp));
    pp.segment_size = 64;
    memset(pp.key, 0x42, sizeof(pp.key));
    memset(pp.prefix, 0x17, sizeof(pp.prefix));
    memset(pp.file_id, 0x99, sizeof(pp.file_id));

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        apr_size_t c;
        pp.plain_size = sizes[i];
        lenz_aead_seal_buffer(p, &pp, plain, sizes[i], &ref, &ref_len);
        for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            apr_status_t rv;
            s = (src){ plain, sizes[i], 0, chunks[c] == 7 ? 5 : 0, -1 };
            rv = pull_all(p, &pp, 0, 0, &s, chunks[c], out, sizeof(out), &got);
            ok(rv == APR_SUCCESS && got == ref_len && memcmp(out, ref, got) == 0,
               "P=%zu read in %zu-byte chunks: same object as the one-shot sealer", sizes[i], chunks[c]);
        }
    }

    /* The same through the zero-copy source, in pieces of 1, 5, 64 and
     * 100 bytes (inside, at and across segment borders), read in buffers
     * that end inside tags. */
    {
        static const apr_size_t steps[] = { 1, 5, 64, 100 };
        static const apr_size_t reads[] = { 3, 17, 80, 4096 };
        psrc ps;
        int all = 1, cases = 0;
        for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            apr_size_t c, st;
            pp.plain_size = sizes[i];
            lenz_aead_seal_buffer(p, &pp, plain, sizes[i], &ref, &ref_len);
            for (st = 0; st < 4; st++)
                for (c = 0; c < 4; c++) {
                    ps.s = (src){ plain, sizes[i], 0, steps[st], -1 };
                    cases++;
                    if (pull_peek_all(p, &pp, 0, 0, &ps, reads[c], out, sizeof(out), &got)
                        != APR_SUCCESS || got != ref_len || memcmp(out, ref, got) != 0) {
                        diag("P=%zu step %zu read %zu: differs", sizes[i], steps[st], reads[c]);
                        all = 0;
                    }
                }
        }
        ok(all, "zero-copy source: %d size/piece/read combinations give the one-shot object", cases);

        pp.plain_size = 1000;
        ps.s = (src){ plain, 1001, 0, 64, -1 };
        ok(pull_peek_all(p, &pp, 0, 0, &ps, 100, out, sizeof(out), &got) == LENZ_EFORMAT
           && got == 1000 + 16 * 16, "zero-copy source one byte too long: the whole object, then LENZ_EFORMAT");
        ps.s = (src){ plain, 999, 0, 64, -1 };
        ok(pull_peek_all(p, &pp, 0, 0, &ps, 100, out, sizeof(out), &got) == LENZ_EFORMAT
           && got < 1000 + 16 * 16, "zero-copy source one byte short: LENZ_EFORMAT, the object incomplete");
        ps.s = (src){ plain, 1000, 0, 64, 500 };
        ok(pull_peek_all(p, &pp, 0, 0, &ps, 100, out, sizeof(out), &got) == APR_EGENERAL,
           "zero-copy source failing: APR_EGENERAL");
    }

    /* The in-place API refuses misuse. */
    {
        lenz_aead_enc *e;
        apr_size_t want;
        unsigned char tag[16], ct[64];
        pp.plain_size = 100;
        lenz_aead_enc_make(&e, p, &pp, 0, 0, NULL, NULL);
        ok(lenz_aead_enc_feed(e, plain, 10) == APR_EINVAL, "an encryptor without emit refuses feed");
        lenz_aead_enc_make(&e, p, &pp, 0, 0, NULL, NULL);
        ok(lenz_aead_enc_next(e, &want) == APR_SUCCESS && want == 64, "next: the first segment takes 64");
        ok(lenz_aead_enc_piece(e, plain, 65, ct) == LENZ_EFORMAT, "a piece longer than the segment: LENZ_EFORMAT");
        ok(lenz_aead_enc_next(e, &want) == LENZ_EFORMAT, "... and the failure is sticky");
        lenz_aead_enc_make(&e, p, &pp, 0, 0, NULL, NULL);
        lenz_aead_enc_next(e, &want);
        lenz_aead_enc_piece(e, plain, 10, ct);
        ok(lenz_aead_enc_tag(e, tag) == LENZ_EFORMAT, "a tag before the segment is complete: LENZ_EFORMAT");
        lenz_aead_enc_make(&e, p, &pp, 0, 0, NULL, NULL);
        lenz_aead_enc_next(e, &want);
        ok(lenz_aead_enc_next(e, &want) == APR_EGENERAL, "next before the last segment's tag: refused");
        lenz_aead_seal_buffer(p, &pp, plain, 100, &ref, &ref_len);
        lenz_aead_enc_make(&e, p, &pp, 1, 1, NULL, NULL);
        ok(lenz_aead_enc_next(e, &want) == APR_SUCCESS && want == 36
           && lenz_aead_enc_piece(e, plain + 64, 20, ct) == APR_SUCCESS
           && lenz_aead_enc_piece(e, plain + 84, 16, ct + 20) == APR_SUCCESS
           && lenz_aead_enc_tag(e, tag) == APR_SUCCESS
           && memcmp(ct, ref + 80, 36) == 0 && memcmp(tag, ref + 116, 16) == 0
           && lenz_aead_enc_next(e, &want) == APR_EOF,
           "the final short segment alone, in two pieces: the one-shot bytes and tag, then APR_EOF");
    }

    /* Parts of 3 segments, pulled separately and out of order. */
    pp.plain_size = 1000;
    lenz_aead_seal_buffer(p, &pp, plain, 1000, &ref, &ref_len);
    {
        apr_uint64_t np = lenz_aead_part_count(&pp, 3), j;
        int all = 1;
        for (j = np; j >= 1; j--) {
            lenz_aead_part_info pi;
            lenz_aead_part(&pp, 3, j, &pi);
            s = (src){ plain + pi.plain_offset, (apr_size_t)pi.plain_size, 0, 0, -1 };
            if (pull_all(p, &pp, pi.first_segment, pi.segments, &s, 100, out, sizeof(out), &got)
                != APR_SUCCESS || got != pi.cipher_size
                || memcmp(out, ref + pi.cipher_offset, got) != 0)
                all = 0;
        }
        ok(all, "%d parts pulled alone, last first, match the whole object", (int)np);

        /* A part whose source is one byte long or short is refused. */
        {
            lenz_aead_part_info pi;
            lenz_aead_part(&pp, 3, 2, &pi);
            s = (src){ plain + pi.plain_offset, (apr_size_t)pi.plain_size + 1, 0, 0, -1 };
            ok(pull_all(p, &pp, pi.first_segment, pi.segments, &s, 100, out, sizeof(out), &got)
               == LENZ_EFORMAT, "a part source one byte too long: LENZ_EFORMAT");
            ok(got <= pi.cipher_size, "... and no more than the part was produced");
            s = (src){ plain + pi.plain_offset, (apr_size_t)pi.plain_size - 1, 0, 0, -1 };
            ok(pull_all(p, &pp, pi.first_segment, pi.segments, &s, 100, out, sizeof(out), &got)
               == LENZ_EFORMAT, "a part source one byte short: LENZ_EFORMAT");
            ok(got < pi.cipher_size, "... and the part is incomplete");
            s = (src){ plain + pi.plain_offset, (apr_size_t)pi.plain_size, 0, 0, 100 };
            ok(pull_all(p, &pp, pi.first_segment, pi.segments, &s, 100, out, sizeof(out), &got)
               == APR_EGENERAL, "a failing source: the read fails");
        }
    }

    /* A read is filled across segments, so an HTTP client never sends a
     * buffer's worth and then a segment's tag on its own. */
    {
        lenz_aead_pull *pl;
        apr_ssize_t n1, n2, n3;
        pp.plain_size = 1000;
        lenz_aead_seal_buffer(p, &pp, plain, 1000, &ref, &ref_len);
        s = (src){ plain, 1000, 0, 7, -1 };
        lenz_aead_pull_make(&pl, p, &pp, 0, 0, src_read, &s);
        n1 = lenz_aead_pull_read(pl, (char *)out, 200);
        n2 = lenz_aead_pull_read(pl, (char *)out + 200, sizeof(out) - 200);
        n3 = lenz_aead_pull_read(pl, (char *)out + 200 + (n2 > 0 ? n2 : 0), 10);
        ok(n1 == 200 && n2 == (apr_ssize_t)ref_len - 200 && n3 == 0
           && memcmp(out, ref, ref_len) == 0,
           "reads are filled across segments: 200, then the other %zu bytes, then the end",
           ref_len - 200);
    }

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
