/* aead_pull.c - pull-driven encryption for streamed uploads.
 *
 * A read walks the segments with the encryptor's in-place API: the
 * plaintext the source points at is sealed straight into the caller's
 * buffer, and each segment's tag follows it (in pieces when the buffer
 * ends inside it).
 */
#include <string.h>
#include "aead_pull.h"
#include "crypto.h"
#include "err.h"

struct lenz_aead_pull {
    lenz_aead_enc *enc;
    lenz_aead_peek_fn *peek;
    void *baton;
    /* a copying source, staged */
    lenz_aead_src_fn *src;
    void *src_baton;
    char *stage;
    apr_size_t stage_cap, soff, slen;

    int in_seg;                 /* a segment is begun */
    apr_size_t left;            /* its plaintext still to seal */
    unsigned char tag[LENZ_AEAD_TAG_LEN];
    apr_size_t tag_off;         /* tag bytes handed out; LENZ_AEAD_TAG_LEN = none due */
    apr_uint64_t plain_bytes;
    apr_status_t status;
    int done;
};

static apr_status_t wipe_stage(void *data)
{
    lenz_aead_pull *pl = data;
    lenz_wipe(pl->stage, pl->stage_cap);
    return APR_SUCCESS;
}

/* The copying source behind the peek interface. */
static apr_ssize_t staged_peek(void *baton, const char **data, apr_size_t max)
{
    lenz_aead_pull *pl = baton;
    apr_size_t n;
    if (pl->soff == pl->slen) {
        apr_ssize_t got = pl->src(pl->src_baton, pl->stage, pl->stage_cap);
        if (got <= 0)
            return got;
        pl->soff = 0;
        pl->slen = (apr_size_t)got;
    }
    n = pl->slen - pl->soff;
    if (n > max)
        n = max;
    *data = pl->stage + pl->soff;
    pl->soff += n;
    return (apr_ssize_t)n;
}

apr_status_t lenz_aead_pull_make_peek(lenz_aead_pull **out, apr_pool_t *p,
                                      const lenz_aead_params *pp,
                                      apr_uint64_t first_segment, apr_uint64_t segments,
                                      lenz_aead_peek_fn *peek, void *baton)
{
    lenz_aead_pull *pl = apr_pcalloc(p, sizeof(*pl));
    apr_status_t rv = lenz_aead_enc_make(&pl->enc, p, pp, first_segment, segments, NULL, NULL);
    if (rv != APR_SUCCESS)
        return rv;
    pl->peek = peek;
    pl->baton = baton;
    pl->tag_off = LENZ_AEAD_TAG_LEN;
    *out = pl;
    return APR_SUCCESS;
}

apr_status_t lenz_aead_pull_make(lenz_aead_pull **out, apr_pool_t *p,
                                 const lenz_aead_params *pp,
                                 apr_uint64_t first_segment, apr_uint64_t segments,
                                 lenz_aead_src_fn *src, void *baton)
{
    lenz_aead_pull *pl;
    apr_status_t rv = lenz_aead_pull_make_peek(&pl, p, pp, first_segment, segments,
                                               staged_peek, NULL);
    if (rv != APR_SUCCESS)
        return rv;
    pl->baton = pl;
    pl->src = src;
    pl->src_baton = baton;
    pl->stage_cap = pp->segment_size;
    pl->stage = apr_palloc(p, pl->stage_cap);
    apr_pool_cleanup_register(p, pl, wipe_stage, apr_pool_cleanup_null);
    *out = pl;
    return APR_SUCCESS;
}

/* Past the range: the source must be at its end too. */
static void check_end(lenz_aead_pull *pl)
{
    const char *extra;
    apr_ssize_t n = pl->peek(pl->baton, &extra, 1);
    pl->status = n < 0 ? APR_EGENERAL : n > 0 ? LENZ_EFORMAT : APR_SUCCESS;
    pl->done = 1;
}

apr_ssize_t lenz_aead_pull_read(void *pull, char *buf, apr_size_t len)
{
    lenz_aead_pull *pl = pull;
    apr_size_t got = 0;

    while (got < len) {
        const char *data;
        apr_ssize_t n;

        if (pl->tag_off < LENZ_AEAD_TAG_LEN) {
            apr_size_t t = LENZ_AEAD_TAG_LEN - pl->tag_off;
            if (t > len - got)
                t = len - got;
            memcpy(buf + got, pl->tag + pl->tag_off, t);
            pl->tag_off += t;
            got += t;
            continue;
        }
        if (pl->status != APR_SUCCESS)
            return got ? (apr_ssize_t)got : -1;
        if (pl->done)
            break;
        if (!pl->in_seg) {
            apr_status_t rv = lenz_aead_enc_next(pl->enc, &pl->left);
            if (rv == APR_EOF) {
                if (got)
                    break;      /* the end is checked on the next call */
                check_end(pl);
                continue;
            }
            if ((pl->status = rv) != APR_SUCCESS)
                continue;
            pl->in_seg = 1;
        }
        if (pl->left == 0) {
            pl->status = lenz_aead_enc_tag(pl->enc, pl->tag);
            pl->tag_off = pl->status == APR_SUCCESS ? 0 : LENZ_AEAD_TAG_LEN;
            pl->in_seg = 0;
            continue;
        }
        n = pl->peek(pl->baton, &data, pl->left < len - got ? pl->left : len - got);
        if (n <= 0) {
            pl->status = n < 0 ? APR_EGENERAL : LENZ_EFORMAT;     /* failed / ended short */
            continue;
        }
        pl->status = lenz_aead_enc_piece(pl->enc, data, (apr_size_t)n, buf + got);
        if (pl->status != APR_SUCCESS)
            continue;
        pl->left -= (apr_size_t)n;
        pl->plain_bytes += (apr_uint64_t)n;
        got += (apr_size_t)n;
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
