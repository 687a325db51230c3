/* aead_pull.c - pull-driven encryption for streamed uploads. */
#include <string.h>
#include "aead_pull.h"
#include "crypto.h"
#include "err.h"

struct lenz_aead_pull {
    lenz_aead_enc *enc;
    lenz_aead_src_fn *src;
    void *baton;
    apr_size_t seg;             /* S */
    char *stage;                /* plaintext being gathered (S bytes) */
    unsigned char *pending;     /* one sealed segment waiting to be read */
    apr_size_t plen, poff;
    apr_uint64_t plain_bytes;
    apr_status_t status;
    int done;
};

static apr_status_t take(void *baton, const unsigned char *data, apr_size_t len)
{
    lenz_aead_pull *pl = baton;
    /* Only whole segments are fed, one at a time, into an empty pending
     * buffer: at most one sealed segment arrives per feed/finish. */
    if (pl->plen - pl->poff != 0 || len > pl->seg + LENZ_AEAD_TAG_LEN)
        return APR_EGENERAL;
    memcpy(pl->pending, data, len);
    pl->plen = len;
    pl->poff = 0;
    return APR_SUCCESS;
}

static apr_status_t wipe_stage(void *data)
{
    lenz_aead_pull *pl = data;
    lenz_wipe(pl->stage, pl->seg);
    return APR_SUCCESS;
}

apr_status_t lenz_aead_pull_make(lenz_aead_pull **out, apr_pool_t *p,
                                 const lenz_aead_params *pp,
                                 apr_uint64_t first_segment, apr_uint64_t segments,
                                 lenz_aead_src_fn *src, void *baton)
{
    lenz_aead_pull *pl = apr_pcalloc(p, sizeof(*pl));
    apr_status_t rv;

    pl->src = src;
    pl->baton = baton;
    pl->seg = pp->segment_size;
    rv = lenz_aead_enc_make(&pl->enc, p, pp, first_segment, segments, take, pl);
    if (rv != APR_SUCCESS)
        return rv;
    pl->stage = apr_palloc(p, pl->seg);
    pl->pending = apr_palloc(p, pl->seg + LENZ_AEAD_TAG_LEN);
    apr_pool_cleanup_register(p, pl, wipe_stage, apr_pool_cleanup_null);
    *out = pl;
    return APR_SUCCESS;
}

/* Gathers up to one segment of plaintext and seals it; at the source's
 * end, finishes the encryptor (which checks the total length). */
static void refill(lenz_aead_pull *pl)
{
    apr_size_t have = 0;
    int eof = 0;

    while (have < pl->seg) {
        apr_ssize_t n = pl->src(pl->baton, pl->stage + have, pl->seg - have);
        if (n < 0) {
            pl->status = APR_EGENERAL;
            return;
        }
        if (n == 0) {
            eof = 1;
            break;
        }
        have += (apr_size_t)n;
    }
    pl->plain_bytes += have;
    if (have) {
        pl->status = lenz_aead_enc_feed(pl->enc, pl->stage, have);
        if (pl->status != APR_SUCCESS)
            return;
    }
    if (eof) {
        /* A full segment may already have been sealed by feed; finish()
         * then seals nothing more but still checks the length. */
        if (pl->plen - pl->poff != 0) {
            /* Deliver what is pending first; come back for finish(). */
            pl->done = 2;
            return;
        }
        pl->status = lenz_aead_enc_finish(pl->enc);
        pl->done = 1;
    }
}

/* Fills buf as far as the stream goes (sealing as many segments as that
 * takes), so an HTTP client sends full buffers: handing over one segment
 * at a time made curl send a 64 KiB buffer and then the segment's last
 * 16 bytes on their own.  An error after some bytes were copied is
 * reported by the next call. */
apr_ssize_t lenz_aead_pull_read(void *pull, char *buf, apr_size_t len)
{
    lenz_aead_pull *pl = pull;
    apr_size_t got = 0, n;

    while (got < len) {
        if (pl->plen == pl->poff) {
            if (pl->status != APR_SUCCESS)
                return got ? (apr_ssize_t)got : -1;
            if (pl->done == 1)
                break;
            if (pl->done == 2) {
                pl->status = lenz_aead_enc_finish(pl->enc);
                pl->done = 1;
                continue;
            }
            refill(pl);
            continue;
        }
        n = pl->plen - pl->poff;
        if (n > len - got)
            n = len - got;
        memcpy(buf + got, pl->pending + pl->poff, n);
        pl->poff += n;
        got += n;
    }
    return (apr_ssize_t)got;
}

apr_status_t lenz_aead_pull_status(const lenz_aead_pull *pl)
{
    return pl->status;
}

apr_uint64_t lenz_aead_pull_plain_bytes(const lenz_aead_pull *pl)
{
    return pl->plain_bytes;
}
