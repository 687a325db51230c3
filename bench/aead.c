/* bench/aead.c - throughput of the object format (aead.h) through the
 * streaming encryptor and decryptor, fed the way the module feeds them.
 *
 * For each segment size S: seal TOTAL MiB of plaintext as one object
 * through lenz_aead_enc_* (fed in FEED-byte pieces from a 64 MiB source
 * buffer; the ciphertext is counted and dropped, as if sent to S3), then
 * open: a 64 MiB object sealed once in memory is opened through
 * lenz_aead_dec_* (fed in FEED-byte pieces, as curl hands a body over) as
 * many times as it takes to reach TOTAL.  Throughput is plaintext bytes
 * per second, MB = 10^6 bytes (the unit `openssl speed` uses).
 *
 *   build/bench/aead [-t TOTAL-MiB] [-f FEED-bytes] [S ...]
 *
 * prints "aead S=<S> feed=<FEED> total=<bytes> seal_MBps=<x> open_MBps=<y>"
 * per size (bench/aead.sh turns that into the table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_pools.h>

#include "aead.h"
#include "err.h"

#define SOURCE_BYTES ((apr_size_t)64 << 20)

typedef struct {
    unsigned char *buf;     /* NULL: count only */
    apr_size_t len, cap;
} sink_t;

static apr_status_t sink(void *baton, const unsigned char *data, apr_size_t len)
{
    sink_t *k = baton;
    if (k->buf) {
        if (len > k->cap - k->len)
            return LENZ_EFORMAT;
        memcpy(k->buf + k->len, data, len);
    }
    else if (len) {
        /* Touch the output so the work cannot be skipped. */
        volatile unsigned char c = data[len - 1];
        (void)c;
    }
    k->len += len;
    return APR_SUCCESS;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void params(lenz_aead_params *pp, apr_uint32_t seg, apr_uint64_t plain_size)
{
    unsigned i;
    memset(pp, 0, sizeof(*pp));
    pp->segment_size = seg;
    pp->plain_size = plain_size;
    for (i = 0; i < sizeof(pp->key); i++)
        pp->key[i] = (unsigned char)(i * 13 + 1);
    for (i = 0; i < sizeof(pp->prefix); i++)
        pp->prefix[i] = (unsigned char)(0xa0 + i);
    for (i = 0; i < sizeof(pp->file_id); i++)
        pp->file_id[i] = (unsigned char)(0x11 * i);
}

static void die(const char *what, apr_status_t rv)
{
    fprintf(stderr, "bench/aead: %s failed: %s\n", what, lenz_strerror(rv));
    exit(1);
}

/* Seal total bytes of src (cycled) as one object; returns seconds. */
static double seal(apr_pool_t *p, apr_uint32_t seg, apr_uint64_t total,
                   const unsigned char *src, apr_size_t feed)
{
    lenz_aead_params pp;
    lenz_aead_enc *e;
    sink_t k = { NULL, 0, 0 };
    apr_uint64_t done = 0;
    apr_size_t at = 0;
    apr_status_t rv;
    double t0;

    params(&pp, seg, total);
    t0 = now();
    if ((rv = lenz_aead_enc_make(&e, p, &pp, 0, 0, sink, &k)) != APR_SUCCESS)
        die("enc_make", rv);
    while (done < total) {
        apr_size_t n = feed;
        if (n > total - done)
            n = (apr_size_t)(total - done);
        if (n > SOURCE_BYTES - at)
            n = SOURCE_BYTES - at;
        if ((rv = lenz_aead_enc_feed(e, src + at, n)) != APR_SUCCESS)
            die("enc_feed", rv);
        done += n;
        at = (at + n) % SOURCE_BYTES;
    }
    if ((rv = lenz_aead_enc_finish(e)) != APR_SUCCESS)
        die("enc_finish", rv);
    t0 = now() - t0;
    if (k.len != lenz_aead_cipher_size(total, seg)) {
        fprintf(stderr, "bench/aead: sealed %zu bytes, expected %llu\n", k.len,
                (unsigned long long)lenz_aead_cipher_size(total, seg));
        exit(1);
    }
    return t0;
}

/* Open the object obj (of src's SOURCE_BYTES) rounds times; returns seconds. */
static double open_rounds(apr_pool_t *p, apr_uint32_t seg, const unsigned char *obj,
                          apr_size_t obj_len, int rounds, apr_size_t feed)
{
    lenz_aead_params pp;
    lenz_aead_span all;
    double t0 = now();
    int r;

    params(&pp, seg, SOURCE_BYTES);
    if (lenz_aead_range_all(&pp, &all) != APR_SUCCESS)
        die("range_all", APR_EINVAL);
    for (r = 0; r < rounds; r++) {
        apr_pool_t *sub;
        lenz_aead_dec *d;
        sink_t k = { NULL, 0, 0 };
        apr_size_t at = 0;
        apr_status_t rv;

        apr_pool_create(&sub, p);
        if ((rv = lenz_aead_dec_make(&d, sub, &pp, &all, sink, &k)) != APR_SUCCESS)
            die("dec_make", rv);
        while (at < obj_len) {
            apr_size_t n = feed < obj_len - at ? feed : obj_len - at;
            if ((rv = lenz_aead_dec_feed(d, obj + at, n)) != APR_SUCCESS)
                die("dec_feed", rv);
            at += n;
        }
        if ((rv = lenz_aead_dec_finish(d)) != APR_SUCCESS)
            die("dec_finish", rv);
        if (k.len != SOURCE_BYTES)
            die("open (short output)", LENZ_EFORMAT);
        apr_pool_destroy(sub);
    }
    return now() - t0;
}

int main(int argc, char **argv)
{
    apr_uint64_t total = (apr_uint64_t)512 << 20;
    apr_size_t feed = 16384, i, obj_len;
    apr_pool_t *p;
    unsigned char *src, *obj;
    apr_uint64_t x = 0x9e3779b97f4a7c15ull;
    int a, nseg = 0;
    apr_uint32_t segs[16];

    for (a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "-t") && a + 1 < argc)
            total = (apr_uint64_t)strtoull(argv[++a], NULL, 10) << 20;
        else if (!strcmp(argv[a], "-f") && a + 1 < argc)
            feed = (apr_size_t)strtoull(argv[++a], NULL, 10);
        else if (nseg < 16 && strtoul(argv[a], NULL, 10) > 0)
            segs[nseg++] = (apr_uint32_t)strtoul(argv[a], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [-t TOTAL-MiB] [-f FEED-bytes] [SEGMENT-SIZE ...]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!nseg)
        segs[nseg++] = LENZ_AEAD_SEGMENT_DEFAULT;
    if (feed == 0 || total == 0)
        return 2;

    apr_initialize();
    apr_pool_create(&p, NULL);
    src = malloc(SOURCE_BYTES);
    if (!src)
        return 1;
    for (i = 0; i < SOURCE_BYTES; i += 8) {   /* incompressible, cheap to make */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(src + i, &x, 8);
    }

    for (a = 0; a < nseg; a++) {
        apr_uint32_t S = segs[a];
        lenz_aead_params pp;
        sink_t k;
        lenz_aead_enc *e;
        apr_pool_t *sub;
        double ts, to;
        int rounds = (int)((total + SOURCE_BYTES - 1) / SOURCE_BYTES);
        apr_status_t rv;

        params(&pp, S, total);
        if ((rv = lenz_aead_check(&pp)) != APR_SUCCESS)
            die("segment size", rv);
        apr_pool_create(&sub, p);
        ts = seal(sub, S, total, src, feed);

        /* The object to open: SOURCE_BYTES sealed once. */
        obj_len = (apr_size_t)lenz_aead_cipher_size(SOURCE_BYTES, S);
        obj = malloc(obj_len);
        k.buf = obj;
        k.len = 0;
        k.cap = obj_len;
        params(&pp, S, SOURCE_BYTES);
        if ((rv = lenz_aead_enc_make(&e, sub, &pp, 0, 0, sink, &k)) != APR_SUCCESS
            || (rv = lenz_aead_enc_feed(e, src, SOURCE_BYTES)) != APR_SUCCESS
            || (rv = lenz_aead_enc_finish(e)) != APR_SUCCESS)
            die("sealing the object to open", rv);
        to = open_rounds(sub, S, obj, obj_len, rounds, feed);

        printf("aead S=%u feed=%zu total=%llu seal_MBps=%.1f open_MBps=%.1f\n", S, feed,
               (unsigned long long)total, (double)total / ts / 1e6,
               (double)SOURCE_BYTES * rounds / to / 1e6);
        fflush(stdout);
        free(obj);
        apr_pool_destroy(sub);
    }
    free(src);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
