/* crypto.h - the project's only door to OpenSSL.
 *
 * Every primitive comes from OpenSSL 3 EVP; nothing here implements one.
 * Contexts made with a pool are freed by that pool's cleanup.
 */
#ifndef LENZ_CRYPTO_H
#define LENZ_CRYPTO_H

#include <apr_pools.h>

#define LENZ_SHA256_LEN   32
#define LENZ_AES256_KEY   32
#define LENZ_GCM_NONCE    12
#define LENZ_GCM_TAG      16

/* Random bytes from OpenSSL's CSPRNG. */
apr_status_t lenz_random(void *buf, apr_size_t len);

/* Constant-time comparison: 1 when equal. */
int lenz_ct_equal(const void *a, const void *b, apr_size_t len);
/* Wipe a secret so the compiler cannot elide it. */
void lenz_wipe(void *buf, apr_size_t len);

/* SHA-256. */
void lenz_sha256(const void *data, apr_size_t len, unsigned char out[LENZ_SHA256_LEN]);
/* Lower-case hex of SHA-256 of data, from p. */
const char *lenz_sha256_hex(apr_pool_t *p, const void *data, apr_size_t len);

typedef struct lenz_sha256_ctx lenz_sha256_ctx;
lenz_sha256_ctx *lenz_sha256_make(apr_pool_t *p);
void lenz_sha256_update(lenz_sha256_ctx *c, const void *data, apr_size_t len);
/* Finishes and resets the context for reuse. */
void lenz_sha256_final(lenz_sha256_ctx *c, unsigned char out[LENZ_SHA256_LEN]);

/* MD5 (S3 Content-MD5 and ETag checks only; not for security). */
void lenz_md5(const void *data, apr_size_t len, unsigned char out[16]);

/* HMAC-SHA-256. */
apr_status_t lenz_hmac_sha256(const void *key, apr_size_t klen,
                              const void *data, apr_size_t dlen,
                              unsigned char out[LENZ_SHA256_LEN]);

/* HMAC with a named digest ("SHA1", "SHA256", "SHA512"): RFC 6238 needs
 * all three.  *out_len receives the MAC length (out has 64 bytes room). */
apr_status_t lenz_hmac(const char *digest, const void *key, apr_size_t klen,
                       const void *data, apr_size_t dlen, unsigned char out[64],
                       apr_size_t *out_len);

/* HKDF-SHA-256 (RFC 5869), extract and expand. */
apr_status_t lenz_hkdf_sha256(const void *ikm, apr_size_t ikm_len,
                              const void *salt, apr_size_t salt_len,
                              const void *info, apr_size_t info_len,
                              unsigned char *out, apr_size_t out_len);

/* scrypt (RFC 7914) through EVP_PKEY_SCRYPT.  maxmem_mb bounds memory. */
apr_status_t lenz_scrypt(const char *pass, apr_size_t pass_len,
                         const unsigned char *salt, apr_size_t salt_len,
                         apr_uint64_t N, apr_uint32_t r, apr_uint32_t p,
                         unsigned char *out, apr_size_t out_len);

/* AES-256-GCM with a context kept for many messages under one key. */
typedef struct lenz_gcm lenz_gcm;
lenz_gcm *lenz_gcm_make(apr_pool_t *p, const unsigned char key[LENZ_AES256_KEY]);
/* out may equal in.  tag receives LENZ_GCM_TAG bytes. */
apr_status_t lenz_gcm_seal(lenz_gcm *g, const unsigned char nonce[LENZ_GCM_NONCE],
                           const void *aad, apr_size_t aad_len,
                           const void *in, apr_size_t len,
                           void *out, unsigned char tag[LENZ_GCM_TAG]);
/* Returns LENZ_EAUTH when the tag does not verify; out is then wiped. */
apr_status_t lenz_gcm_open(lenz_gcm *g, const unsigned char nonce[LENZ_GCM_NONCE],
                           const void *aad, apr_size_t aad_len,
                           const void *in, apr_size_t len,
                           const unsigned char tag[LENZ_GCM_TAG], void *out);

/* The same in pieces, for a message that arrives in parts: begin (nonce
 * and AAD), update any number of times (each piece's output is written at
 * once, in order), then end.  Opening: nothing of the output may be used
 * before open_end returned APR_SUCCESS; on LENZ_EAUTH the caller wipes
 * what it wrote. */
apr_status_t lenz_gcm_seal_begin(lenz_gcm *g, const unsigned char nonce[LENZ_GCM_NONCE],
                                 const void *aad, apr_size_t aad_len);
apr_status_t lenz_gcm_seal_update(lenz_gcm *g, const void *in, apr_size_t len, void *out);
apr_status_t lenz_gcm_seal_end(lenz_gcm *g, unsigned char tag[LENZ_GCM_TAG]);
apr_status_t lenz_gcm_open_begin(lenz_gcm *g, const unsigned char nonce[LENZ_GCM_NONCE],
                                 const void *aad, apr_size_t aad_len);
apr_status_t lenz_gcm_open_update(lenz_gcm *g, const void *in, apr_size_t len, void *out);
apr_status_t lenz_gcm_open_end(lenz_gcm *g, const unsigned char tag[LENZ_GCM_TAG]);

/* Certificates in a PEM text (a CA bundle), read as OpenSSL reads
 * libcurl's CURLOPT_CAINFO: text outside BEGIN/END blocks is skipped.
 * *count receives their number; LENZ_EFORMAT when a block is malformed
 * (*why says how). */
apr_status_t lenz_pem_cert_count(apr_pool_t *p, const char *pem, apr_size_t len,
                                 int *count, const char **why);

#endif
