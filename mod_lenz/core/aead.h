/* aead.h - the encryption-at-rest object format, versions 1 and 2.
 *
 * An object is the plaintext cut into segments of S bytes, each sealed on
 * its own with AES-256-GCM under the file's data key (DEK):
 *
 *   object    = seg_0 || seg_1 || ... || seg_{n-1}
 *   seg_i     = ciphertext_i (same length as plaintext_i) || tag_i (16)
 *   n         = max(1, ceil(P / S)); the last segment holds 1..S bytes,
 *               an empty file is one empty final segment
 *   nonce_i   = prefix (7) || i as uint32 BE || (i == n-1 ? 0x01 : 0x00)
 *   AAD       = "LENZ" || version || S as uint32 BE || file id (16 raw bytes)
 *
 * Version 1 has one prefix per file.  Version 2 has one per S3 part (k
 * segments each): segment i takes the prefix of part floor(i/k)+1, drawn
 * at random for each attempt at sealing that part, so a part sealed again
 * with other bytes never reuses a (key, nonce) pair.
 *
 * Segment i starts at ciphertext offset i*(S+16) and the object holds
 * P + 16*n bytes.  The plaintext size P comes from the database and is
 * authoritative: it fixes n, every segment's length and which one carries
 * the final flag, so reordering, truncation, extension, bit flips and
 * segments or objects from another file all fail to open.  docs/format.md
 * is the full description with test vectors.
 *
 * The streaming encryptor and decryptor hold one segment buffer whatever
 * the input size; the size helpers let a Range request fetch only the
 * segments it needs and let any S3 part (a whole number of segments) be
 * sealed alone, in any order, on any host.
 */
#ifndef LENZ_AEAD_H
#define LENZ_AEAD_H

#include <apr_pools.h>

#define LENZ_AEAD_VERSION         1     /* one nonce prefix per file */
#define LENZ_AEAD_VERSION_PARTS   2     /* one nonce prefix per S3 part */
#define LENZ_AEAD_KEY_LEN         32
#define LENZ_AEAD_PREFIX_LEN      7
#define LENZ_AEAD_FILE_ID_LEN     16
#define LENZ_AEAD_TAG_LEN         16
#define LENZ_AEAD_NONCE_LEN       12
#define LENZ_AEAD_AAD_LEN         25
#define LENZ_AEAD_SEGMENT_DEFAULT 65536
/* What the format accepts.  Tiny segments exist for test vectors; the
 * configuration should ask for LENZ_AEAD_SEGMENT_CONF_MIN or more. */
#define LENZ_AEAD_SEGMENT_MIN     16
#define LENZ_AEAD_SEGMENT_CONF_MIN 4096
#define LENZ_AEAD_SEGMENT_MAX     (16u * 1024 * 1024)
/* The segment index is a 32-bit counter. */
#define LENZ_AEAD_MAX_SEGMENTS    ((apr_uint64_t)1 << 32)

/* Everything that defines one object.  The caller wipes key when done
 * (the encryptor and decryptor keep no copy of it).  Zeroed fields beyond
 * plain_size mean version 1, so a memset params struct is a v1 one.
 *
 * Version 2: to seal one part, set prefix to that attempt's prefix and
 * leave part_prefixes NULL (every segment of the range then takes
 * prefix); to read, give every part's prefix in part_prefixes (part 1
 * first, 7 bytes each, part_count of them, valid while the encryptor or
 * decryptor lives) and segments_per_part. */
typedef struct {
    apr_uint32_t  segment_size;                  /* S */
    unsigned char key[LENZ_AEAD_KEY_LEN];        /* the file's DEK */
    unsigned char prefix[LENZ_AEAD_PREFIX_LEN];  /* v1: random per file */
    unsigned char file_id[LENZ_AEAD_FILE_ID_LEN];/* raw UUID bytes */
    apr_uint64_t  plain_size;                    /* P */
    int           version;                       /* 0 or 1: v1; 2: per part */
    apr_uint32_t  segments_per_part;             /* v2 with part_prefixes: k */
    const unsigned char *part_prefixes;          /* v2: 7 bytes per part, or NULL */
    apr_uint64_t  part_count;                    /* entries in part_prefixes */
} lenz_aead_params;

/* APR_SUCCESS, APR_EINVAL for a segment size out of bounds, an unknown
 * version, or part prefixes that are not exactly one per part of a v2
 * object; LENZ_ETOOBIG when P needs more than 2^32 segments. */
apr_status_t lenz_aead_check(const lenz_aead_params *pp);

/* Size math.  S must be valid (see lenz_aead_check); 0 yields 0. */
apr_uint64_t lenz_aead_segment_count(apr_uint64_t plain_size, apr_uint32_t seg);
apr_uint64_t lenz_aead_cipher_size(apr_uint64_t plain_size, apr_uint32_t seg);
/* Plaintext bytes in segment index (0 when index is past the end). */
apr_uint64_t lenz_aead_segment_plain(apr_uint64_t plain_size, apr_uint32_t seg,
                                     apr_uint64_t index);

/* What a byte range costs: which segments to fetch and decrypt, and how to
 * trim the plaintext they give.  Also the decryptor's instructions. */
typedef struct {
    apr_uint64_t first_segment;
    apr_uint64_t segments;       /* how many, from first_segment */
    apr_uint64_t cipher_offset;  /* first object byte to fetch */
    apr_uint64_t cipher_length;  /* object bytes to fetch from there */
    apr_uint64_t skip;           /* plaintext bytes dropped from the first segment */
    apr_uint64_t length;         /* plaintext bytes output */
} lenz_aead_span;

/* Plaintext bytes first..last inclusive (HTTP Range semantics: last is
 * clamped to P-1, so APR_UINT64_MAX means "to the end").  APR_EINVAL
 * when first > last or first >= P (unsatisfiable; always so for P = 0). */
apr_status_t lenz_aead_range(const lenz_aead_params *pp, apr_uint64_t first,
                             apr_uint64_t last, lenz_aead_span *out);
/* The whole object (also valid for P = 0). */
apr_status_t lenz_aead_range_all(const lenz_aead_params *pp, lenz_aead_span *out);

/* S3 multipart: part j (1-based) holds segments_per_part segments, the
 * last part what remains.  An empty file is one part of one segment. */
typedef struct {
    apr_uint64_t first_segment;
    apr_uint64_t segments;
    apr_uint64_t plain_offset;
    apr_uint64_t plain_size;
    apr_uint64_t cipher_offset;
    apr_uint64_t cipher_size;
} lenz_aead_part_info;

apr_uint64_t lenz_aead_part_count(const lenz_aead_params *pp,
                                  apr_uint32_t segments_per_part);
/* APR_EINVAL for part 0, a part past the end or segments_per_part 0. */
apr_status_t lenz_aead_part(const lenz_aead_params *pp, apr_uint32_t segments_per_part,
                            apr_uint64_t part_no, lenz_aead_part_info *out);

/* Receives output.  data is valid only during the call (the decryptor
 * reuses its buffer for the next segment and wipes it when the stream
 * ends, fails or its pool goes), so copy what must outlive it.
 * A non-success return stops the stream and is passed back to the caller
 * of feed/finish. */
typedef apr_status_t lenz_aead_emit_fn(void *baton, const unsigned char *data,
                                       apr_size_t len);

/* Encryptor for segments first_segment .. first_segment+segments-1
 * (segments 0: through the last segment of the file).  Each sealed segment
 * (ciphertext || tag) is emitted in one call as soon as its plaintext is
 * complete; finish() seals a short final segment (or the empty one).
 * Plaintext beyond what P allots to the range, or a range that ends short
 * at finish(), is LENZ_EFORMAT: a wrong part length is never sealed.  Any
 * failure is sticky. */
typedef struct lenz_aead_enc lenz_aead_enc;
apr_status_t lenz_aead_enc_make(lenz_aead_enc **out, apr_pool_t *p,
                                const lenz_aead_params *pp,
                                apr_uint64_t first_segment, apr_uint64_t segments,
                                lenz_aead_emit_fn *emit, void *baton);
apr_status_t lenz_aead_enc_feed(lenz_aead_enc *e, const void *data, apr_size_t len);
apr_status_t lenz_aead_enc_finish(lenz_aead_enc *e);

/* In-place sealing, for a reader that produces ciphertext on demand
 * (aead_pull.c): per segment, next() begins it and says how many
 * plaintext bytes it takes (APR_EOF past the range), piece() seals some of
 * them into out (same length; no more than the segment takes), tag() ends
 * it once all were sealed and gives the 16 bytes that follow them.
 * An encryptor made with emit NULL serves only these three (and holds no
 * segment buffer); feed/finish then fail with APR_EINVAL.  Misuse is
 * LENZ_EFORMAT and, like any failure, sticky. */
apr_status_t lenz_aead_enc_next(lenz_aead_enc *e, apr_size_t *plain_len);
apr_status_t lenz_aead_enc_piece(lenz_aead_enc *e, const void *in, apr_size_t len, void *out);
apr_status_t lenz_aead_enc_tag(lenz_aead_enc *e, unsigned char tag[LENZ_AEAD_TAG_LEN]);

/* Decryptor for span->first_segment and span->segments segments of object
 * bytes, fed in chunks of any size starting at span->cipher_offset.  It
 * emits span->length plaintext bytes after dropping span->skip, each
 * segment's bytes only after its tag verified.  A bad tag is LENZ_EAUTH
 * and nothing of that segment is emitted; bytes beyond the range, or a
 * stream ending inside a segment or short of the count at finish(), are
 * LENZ_EFORMAT.  Any failure is sticky. */
typedef struct lenz_aead_dec lenz_aead_dec;
apr_status_t lenz_aead_dec_make(lenz_aead_dec **out, apr_pool_t *p,
                                const lenz_aead_params *pp, const lenz_aead_span *span,
                                lenz_aead_emit_fn *emit, void *baton);
apr_status_t lenz_aead_dec_feed(lenz_aead_dec *d, const void *data, apr_size_t len);
apr_status_t lenz_aead_dec_finish(lenz_aead_dec *d);

/* One-shot helpers for small data and tests: the whole object in memory.
 * seal wants len == pp->plain_size; results come from p. */
apr_status_t lenz_aead_seal_buffer(apr_pool_t *p, const lenz_aead_params *pp,
                                   const void *plain, apr_size_t len,
                                   unsigned char **out, apr_size_t *out_len);
apr_status_t lenz_aead_open_buffer(apr_pool_t *p, const lenz_aead_params *pp,
                                   const void *cipher, apr_size_t len,
                                   unsigned char **out, apr_size_t *out_len);

#endif
