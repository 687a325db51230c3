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

/* Reads the whole pulled stream with reads of `chunk` bytes. */
static apr_status_t pull_all(apr_pool_t *p, const lenz_aead_params *pp, apr_uint64_t first,
                             apr_uint64_t count, src *s, apr_size_t chunk,
                             unsigned char *out, apr_size_t cap, apr_size_t *got)
{
    lenz_aead_pull *pl;
    apr_status_t rv = lenz_aead_pull_make(&pl, p, pp, first, count, src_read, s);
    apr_ssize_t n;
    *got = 0;
    if (rv != APR_SUCCESS)
        return rv;
    while ((n = lenz_aead_pull_read(pl, (char *)out + *got,
                                    cap - *got < chunk ? cap - *got : chunk)) > 0)
        *got += (apr_size_t)n;
    return n < 0 ? lenz_aead_pull_status(pl) : APR_SUCCESS;
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
