/* Known-answer tests for the OpenSSL wrapper and the codecs:
 * FIPS 180-2 (SHA-256), RFC 4231 (HMAC), RFC 5869 (HKDF), RFC 7914 (scrypt),
 * the GCM spec's test case 2/3 (AES-256 variants from McGrew & Viega). */
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"

static unsigned char *H(apr_pool_t *p, const char *hex, apr_size_t *n)
{
    apr_size_t len = strlen(hex) / 2;
    unsigned char *b = apr_palloc(p, len + 1);
    if (lenz_unhex(hex, strlen(hex), b, len) != APR_SUCCESS) return NULL;
    if (n) *n = len;
    return b;
}

/* A self-signed P-256 certificate (openssl req -x509), for the PEM reader. */
static const char CERT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBijCCATGgAwIBAgIURX7tujtlBKSytn0VaTGxn9lreoswCgYIKoZIzj0EAwIw\n"
    "GzEZMBcGA1UEAwwQbGVueiB0ZXN0IHZlY3RvcjAeFw0yNjExMjIwMjAwMjZaFw0z\n"
    "NjExMTkwMjAwMjZaMBsxGTAXBgNVBAMMEGxlbnogdGVzdCB2ZWN0b3IwWTATBgcq\n"
    "hkjOPQIBBggqhkjOPQMBBwNCAATUtv3w+tqAjBqwcE9epXZSSo4yf6+/DfDzB54x\n"
    "g554mHYu4oc/ESu/QovU/0FsVtUafsgazdd38d0PJxpkgM9io1MwUTAdBgNVHQ4E\n"
    "FgQUuZwxpMG47+Vpx0MmNAVugEFTDvMwHwYDVR0jBBgwFoAUuZwxpMG47+Vpx0Mm\n"
    "NAVugEFTDvMwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiB7NGak\n"
    "ZDv6XcArZvJ4jGwPrmdthbIAtZZhu1hxulBI3gIgPwF/JaoK8SXAIdleEV7o89m5\n"
    "r3ygEXogEerJgceZnC4=\n"
    "-----END CERTIFICATE-----\n";

int main(void)
{
    apr_pool_t *p;
    unsigned char out[64], tag[16];
    apr_size_t n, kl, dl, sl, il;
    unsigned char *k, *d, *s, *i;
    lenz_gcm *g;

    apr_initialize();
    apr_pool_create(&p, NULL);

    /* SHA-256 */
    is_str(lenz_sha256_hex(p, "abc", 3),
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256(abc)");
    {
        lenz_sha256_ctx *c = lenz_sha256_make(p);
        lenz_sha256_update(c, "a", 1);
        lenz_sha256_update(c, "bc", 2);
        lenz_sha256_final(c, out);
        is_str(lenz_hex(p, out, 32),
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 streamed");
    }

    /* HMAC-SHA-256, RFC 4231 test case 2 */
    lenz_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
    is_str(lenz_hex(p, out, 32),
           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "hmac rfc4231 #2");

    /* HKDF, RFC 5869 test case 1 */
    k = H(p, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", &kl);
    s = H(p, "000102030405060708090a0b0c", &sl);
    i = H(p, "f0f1f2f3f4f5f6f7f8f9", &il);
    ok(lenz_hkdf_sha256(k, kl, s, sl, i, il, out, 42) == APR_SUCCESS, "hkdf runs");
    is_str(lenz_hex(p, out, 42),
           "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
           "hkdf rfc5869 #1");

    /* scrypt, RFC 7914 section 12, second vector */
    ok(lenz_scrypt("password", 8, (const unsigned char *)"NaCl", 4, 1024, 8, 16, out, 64) == APR_SUCCESS,
       "scrypt runs");
    is_str(lenz_hex(p, out, 64),
           "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
           "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640", "scrypt rfc7914");
    ok(lenz_scrypt("x", 1, (const unsigned char *)"s", 1, 1000, 8, 1, out, 32) == APR_EINVAL,
       "scrypt refuses N not a power of two");

    /* AES-256-GCM, GCM spec test case 14 (zero key, zero IV, one zero block) */
    k = H(p, "0000000000000000000000000000000000000000000000000000000000000000", NULL);
    i = H(p, "000000000000000000000000", NULL);
    g = lenz_gcm_make(p, k);
    memset(out, 0, 16);
    ok(lenz_gcm_seal(g, i, NULL, 0, out, 16, out, tag) == APR_SUCCESS, "gcm seal");
    is_str(lenz_hex(p, out, 16), "cea7403d4d606b6e074ec5d3baf39d18", "gcm #14 ciphertext");
    is_str(lenz_hex(p, tag, 16), "d0d1c8a799996bf0265b98b5d48ab919", "gcm #14 tag");
    ok(lenz_gcm_open(g, i, NULL, 0, out, 16, tag, out) == APR_SUCCESS, "gcm open");
    is_str(lenz_hex(p, out, 16), "00000000000000000000000000000000", "gcm round trip");

    /* GCM spec test case 16: AAD + 60-byte plaintext */
    k = H(p, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", NULL);
    i = H(p, "cafebabefacedbaddecaf888", NULL);
    d = H(p, "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
             "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", &dl);
    s = H(p, "feedfacedeadbeeffeedfacedeadbeefabaddad2", &sl);
    g = lenz_gcm_make(p, k);
    {
        unsigned char ct[60];
        ok(lenz_gcm_seal(g, i, s, sl, d, dl, ct, tag) == APR_SUCCESS, "gcm #16 seal");
        is_str(lenz_hex(p, ct, 60),
               "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
               "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662", "gcm #16 ciphertext");
        is_str(lenz_hex(p, tag, 16), "76fc6ece0f4e1768cddf8853bb2d551b", "gcm #16 tag");
        ct[7] ^= 1;
        ok(lenz_gcm_open(g, i, s, sl, ct, 60, tag, ct) == LENZ_EAUTH, "gcm flipped bit -> EAUTH");
    }

    /* constant-time compare */
    ok(lenz_ct_equal("abcd", "abcd", 4), "ct_equal equal");
    ok(!lenz_ct_equal("abcd", "abce", 4), "ct_equal differs");

    /* codecs */
    is_str(lenz_b64url(p, "\xfb\xff\xbe", 3), "-_--", "b64url alphabet");
    is_str(lenz_b64url(p, "ab", 2), "YWI", "b64url no padding");
    d = lenz_unb64url(p, "YWI", 3, &n);
    ok(d && n == 2 && memcmp(d, "ab", 2) == 0, "unb64url round trip");
    ok(lenz_unb64url(p, "YW+", 3, &n) == NULL, "unb64url refuses '+'");
    ok(lenz_unb64url(p, "YWJ", 3, &n) == NULL, "unb64url refuses non-canonical tail");
    ok(lenz_unb64url(p, "Y", 1, &n) == NULL, "unb64url refuses impossible length");
    d = lenz_unb64(p, "YWJj", &n);
    ok(d && n == 3 && memcmp(d, "abc", 3) == 0, "unb64 standard");
    is_str(lenz_b64(p, "abcd", 4), "YWJjZA==", "b64 padded");
    ok(lenz_unhex("zz", 2, out, 1) == LENZ_EFORMAT, "unhex refuses non-hex");

    /* PEM certificates (LenzSMTPCAFile) */
    {
        const char *why = NULL, *two, *bad;
        apr_status_t rv;
        int count = -1;
        ok(lenz_pem_cert_count(p, CERT_PEM, strlen(CERT_PEM), &count, &why) == APR_SUCCESS
           && count == 1, "pem: one certificate");
        two = apr_pstrcat(p, "# a bundle\n", CERT_PEM, "text between\n", CERT_PEM, NULL);
        ok(lenz_pem_cert_count(p, two, strlen(two), &count, &why) == APR_SUCCESS && count == 2,
           "pem: two certificates, text around them skipped");
        ok(lenz_pem_cert_count(p, "no pem here\n", 12, &count, &why) == APR_SUCCESS && count == 0,
           "pem: plain text holds none");
        bad = apr_pstrdup(p, CERT_PEM);
        memcpy(strstr(bad, "MIIB"), "!!!!", 4);
        why = NULL;
        rv = lenz_pem_cert_count(p, bad, strlen(bad), &count, &why);
        ok(rv == LENZ_EFORMAT && why && count == 0, "pem: a broken block is an error (%s)",
           why ? why : "");
    }

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
