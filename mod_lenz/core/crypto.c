/* crypto.c - the only file that calls OpenSSL (libcrypto). */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/err.h>

#include <apr_strings.h>

#include "crypto.h"
#include "err.h"

apr_status_t lenz_random(void *buf, apr_size_t len)
{
    if (len > (apr_size_t)0x7fffffff)
        return APR_EINVAL;
    return RAND_bytes(buf, (int)len) == 1 ? APR_SUCCESS : LENZ_ECRYPTO;
}

int lenz_ct_equal(const void *a, const void *b, apr_size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void lenz_wipe(void *buf, apr_size_t len)
{
    if (buf && len)
        OPENSSL_cleanse(buf, len);
}

void lenz_sha256(const void *data, apr_size_t len, unsigned char out[LENZ_SHA256_LEN])
{
    unsigned int n = 0;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

const char *lenz_sha256_hex(apr_pool_t *p, const void *data, apr_size_t len)
{
    static const char hx[] = "0123456789abcdef";
    unsigned char d[LENZ_SHA256_LEN];
    char *s = apr_palloc(p, 2 * LENZ_SHA256_LEN + 1);
    int i;
    lenz_sha256(data, len, d);
    for (i = 0; i < LENZ_SHA256_LEN; i++) {
        s[2 * i] = hx[d[i] >> 4];
        s[2 * i + 1] = hx[d[i] & 15];
    }
    s[2 * LENZ_SHA256_LEN] = '\0';
    return s;
}

struct lenz_sha256_ctx {
    EVP_MD_CTX *md;
};

static apr_status_t md_cleanup(void *data)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)data);
    return APR_SUCCESS;
}

lenz_sha256_ctx *lenz_sha256_make(apr_pool_t *p)
{
    lenz_sha256_ctx *c = apr_pcalloc(p, sizeof(*c));
    c->md = EVP_MD_CTX_new();
    if (!c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c->md);
        return NULL;
    }
    apr_pool_cleanup_register(p, c->md, md_cleanup, apr_pool_cleanup_null);
    return c;
}

void lenz_sha256_update(lenz_sha256_ctx *c, const void *data, apr_size_t len)
{
    EVP_DigestUpdate(c->md, data, len);
}

void lenz_sha256_final(lenz_sha256_ctx *c, unsigned char out[LENZ_SHA256_LEN])
{
    unsigned int n = 0;
    EVP_DigestFinal_ex(c->md, out, &n);
    EVP_DigestInit_ex(c->md, EVP_sha256(), NULL);
}

void lenz_md5(const void *data, apr_size_t len, unsigned char out[16])
{
    unsigned int n = 0;
    EVP_Digest(data, len, out, &n, EVP_md5(), NULL);
}

apr_status_t lenz_hmac_sha256(const void *key, apr_size_t klen,
                              const void *data, apr_size_t dlen,
                              unsigned char out[LENZ_SHA256_LEN])
{
    size_t outl = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, klen, data, dlen,
                   out, LENZ_SHA256_LEN, &outl) || outl != LENZ_SHA256_LEN)
        return LENZ_ECRYPTO;
    return APR_SUCCESS;
}

apr_status_t lenz_hmac(const char *digest, const void *key, apr_size_t klen,
                       const void *data, apr_size_t dlen, unsigned char out[64],
                       apr_size_t *out_len)
{
    size_t outl = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, key, klen, data, dlen, out, 64, &outl))
        return LENZ_ECRYPTO;
    *out_len = outl;
    return APR_SUCCESS;
}

apr_status_t lenz_hkdf_sha256(const void *ikm, apr_size_t ikm_len,
                              const void *salt, apr_size_t salt_len,
                              const void *info, apr_size_t info_len,
                              unsigned char *out, apr_size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx;
    OSSL_PARAM params[5], *q = params;
    int ok;

    if (!kdf)
        return LENZ_ECRYPTO;
    kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!kctx)
        return LENZ_ECRYPTO;
    *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *q = OSSL_PARAM_construct_end();
    ok = EVP_KDF_derive(kctx, out, out_len, params);
    EVP_KDF_CTX_free(kctx);
    return ok == 1 ? APR_SUCCESS : LENZ_ECRYPTO;
}

apr_status_t lenz_scrypt(const char *pass, apr_size_t pass_len,
                         const unsigned char *salt, apr_size_t salt_len,
                         apr_uint64_t N, apr_uint32_t r, apr_uint32_t p,
                         unsigned char *out, apr_size_t out_len)
{
    /* Memory needed is about 128 * N * r bytes; allow twice that. */
    apr_uint64_t maxmem = 2 * 128 * N * (apr_uint64_t)r + (1u << 20);
    if (N < 2 || (N & (N - 1)) != 0 || r == 0 || p == 0)
        return APR_EINVAL;
    if (EVP_PBE_scrypt(pass, pass_len, salt, salt_len, N, r, p, maxmem,
                       out, out_len) != 1)
        return LENZ_ECRYPTO;
    return APR_SUCCESS;
}

struct lenz_gcm {
    EVP_CIPHER_CTX *enc;
    EVP_CIPHER_CTX *dec;
};

static apr_status_t gcm_cleanup(void *data)
{
    lenz_gcm *g = data;
    EVP_CIPHER_CTX_free(g->enc);
    EVP_CIPHER_CTX_free(g->dec);
    return APR_SUCCESS;
}

lenz_gcm *lenz_gcm_make(apr_pool_t *p, const unsigned char key[LENZ_AES256_KEY])
{
    lenz_gcm *g = apr_pcalloc(p, sizeof(*g));
    g->enc = EVP_CIPHER_CTX_new();
    g->dec = EVP_CIPHER_CTX_new();
    if (!g->enc || !g->dec
        || EVP_EncryptInit_ex(g->enc, EVP_aes_256_gcm(), NULL, key, NULL) != 1
        || EVP_DecryptInit_ex(g->dec, EVP_aes_256_gcm(), NULL, key, NULL) != 1) {
        gcm_cleanup(g);
        return NULL;
    }
    apr_pool_cleanup_register(p, g, gcm_cleanup, apr_pool_cleanup_null);
    return g;
}

apr_status_t lenz_gcm_seal(lenz_gcm *g, const unsigned char nonce[LENZ_GCM_NONCE],
                           const void *aad, apr_size_t aad_len,
                           const void *in, apr_size_t len,
                           void *out, unsigned char tag[LENZ_GCM_TAG])
{
    int n = 0;
    if (len > 0x7fffffff || aad_len > 0x7fffffff)
        return APR_EINVAL;
    if (EVP_EncryptInit_ex(g->enc, NULL, NULL, NULL, nonce) != 1)
        return LENZ_ECRYPTO;
    if (aad_len && EVP_EncryptUpdate(g->enc, NULL, &n, aad, (int)aad_len) != 1)
        return LENZ_ECRYPTO;
    if (len && EVP_EncryptUpdate(g->enc, out, &n, in, (int)len) != 1)
        return LENZ_ECRYPTO;
    if (EVP_EncryptFinal_ex(g->enc, (unsigned char *)out + (len ? n : 0), &n) != 1)
        return LENZ_ECRYPTO;
    if (EVP_CIPHER_CTX_ctrl(g->enc, EVP_CTRL_GCM_GET_TAG, LENZ_GCM_TAG, tag) != 1)
        return LENZ_ECRYPTO;
    return APR_SUCCESS;
}

apr_status_t lenz_gcm_open(lenz_gcm *g, const unsigned char nonce[LENZ_GCM_NONCE],
                           const void *aad, apr_size_t aad_len,
                           const void *in, apr_size_t len,
                           const unsigned char tag[LENZ_GCM_TAG], void *out)
{
    int n = 0, ok;
    unsigned char t[LENZ_GCM_TAG];
    if (len > 0x7fffffff || aad_len > 0x7fffffff)
        return APR_EINVAL;
    memcpy(t, tag, LENZ_GCM_TAG);
    if (EVP_DecryptInit_ex(g->dec, NULL, NULL, NULL, nonce) != 1)
        return LENZ_ECRYPTO;
    if (aad_len && EVP_DecryptUpdate(g->dec, NULL, &n, aad, (int)aad_len) != 1)
        return LENZ_ECRYPTO;
    if (len && EVP_DecryptUpdate(g->dec, out, &n, in, (int)len) != 1)
        return LENZ_ECRYPTO;
    if (EVP_CIPHER_CTX_ctrl(g->dec, EVP_CTRL_GCM_SET_TAG, LENZ_GCM_TAG, t) != 1)
        return LENZ_ECRYPTO;
    ok = EVP_DecryptFinal_ex(g->dec, (unsigned char *)out + (len ? n : 0), &n);
    if (ok != 1) {
        if (len)
            OPENSSL_cleanse(out, len);
        return LENZ_EAUTH;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_gcm_seal_begin(lenz_gcm *g, const unsigned char nonce[LENZ_GCM_NONCE],
                                 const void *aad, apr_size_t aad_len)
{
    int n = 0;
    if (aad_len > 0x7fffffff)
        return APR_EINVAL;
    if (EVP_EncryptInit_ex(g->enc, NULL, NULL, NULL, nonce) != 1
        || (aad_len && EVP_EncryptUpdate(g->enc, NULL, &n, aad, (int)aad_len) != 1))
        return LENZ_ECRYPTO;
    return APR_SUCCESS;
}

apr_status_t lenz_gcm_seal_update(lenz_gcm *g, const void *in, apr_size_t len, void *out)
{
    int n = 0;
    if (len > 0x7fffffff)
        return APR_EINVAL;
    /* GCM is a stream mode: every byte in gives a byte out at once. */
    if (len && (EVP_EncryptUpdate(g->enc, out, &n, in, (int)len) != 1 || (apr_size_t)n != len))
        return LENZ_ECRYPTO;
    return APR_SUCCESS;
}

apr_status_t lenz_gcm_seal_end(lenz_gcm *g, unsigned char tag[LENZ_GCM_TAG])
{
    unsigned char none[16];
    int n = 0;
    if (EVP_EncryptFinal_ex(g->enc, none, &n) != 1
        || EVP_CIPHER_CTX_ctrl(g->enc, EVP_CTRL_GCM_GET_TAG, LENZ_GCM_TAG, tag) != 1)
        return LENZ_ECRYPTO;
    return APR_SUCCESS;
}

apr_status_t lenz_gcm_open_begin(lenz_gcm *g, const unsigned char nonce[LENZ_GCM_NONCE],
                                 const void *aad, apr_size_t aad_len)
{
    int n = 0;
    if (aad_len > 0x7fffffff)
        return APR_EINVAL;
    if (EVP_DecryptInit_ex(g->dec, NULL, NULL, NULL, nonce) != 1
        || (aad_len && EVP_DecryptUpdate(g->dec, NULL, &n, aad, (int)aad_len) != 1))
        return LENZ_ECRYPTO;
    return APR_SUCCESS;
}

apr_status_t lenz_gcm_open_update(lenz_gcm *g, const void *in, apr_size_t len, void *out)
{
    int n = 0;
    if (len > 0x7fffffff)
        return APR_EINVAL;
    if (len && (EVP_DecryptUpdate(g->dec, out, &n, in, (int)len) != 1 || (apr_size_t)n != len))
        return LENZ_ECRYPTO;
    return APR_SUCCESS;
}

apr_status_t lenz_gcm_open_end(lenz_gcm *g, const unsigned char tag[LENZ_GCM_TAG])
{
    unsigned char t[LENZ_GCM_TAG], none[16];
    int n = 0;
    memcpy(t, tag, LENZ_GCM_TAG);
    if (EVP_CIPHER_CTX_ctrl(g->dec, EVP_CTRL_GCM_SET_TAG, LENZ_GCM_TAG, t) != 1)
        return LENZ_ECRYPTO;
    return EVP_DecryptFinal_ex(g->dec, none, &n) == 1 ? APR_SUCCESS : LENZ_EAUTH;
}

apr_status_t lenz_pem_cert_count(apr_pool_t *p, const char *pem, apr_size_t len,
                                 int *count, const char **why)
{
    BIO *b;
    STACK_OF(X509_INFO) *infos;
    int i, n = 0;

    *count = 0;
    if (len > 0x7fffffff)
        return LENZ_ETOOBIG;
    b = BIO_new_mem_buf(pem, (int)len);
    if (!b)
        return APR_ENOMEM;
    ERR_clear_error();
    infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!infos) {
        unsigned long e = ERR_peek_last_error();
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        ERR_clear_error();
        if (why)
            *why = apr_pstrdup(p, e ? buf : "unreadable PEM");
        return LENZ_EFORMAT;
    }
    for (i = 0; i < sk_X509_INFO_num(infos); i++)
        if (sk_X509_INFO_value(infos, i)->x509)
            n++;
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    ERR_clear_error();
    *count = n;
    return APR_SUCCESS;
}
