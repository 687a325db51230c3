/* totp.c - RFC 6238 TOTP with RFC 4226 dynamic truncation. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_escape.h>

#include "totp.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"

apr_status_t lenz_totp_code(const char *digest, const unsigned char *secret, apr_size_t len,
                            apr_uint64_t counter, int digits, char out[9])
{
    static const apr_uint32_t mod[] = { 1, 10, 100, 1000, 10000, 100000, 1000000,
                                        10000000, 100000000 };
    unsigned char msg[8], mac[64];
    apr_size_t maclen = 0;
    apr_uint32_t bin;
    int i, off;

    if (digits < 6 || digits > 8)
        return APR_EINVAL;
    for (i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
    if (lenz_hmac(digest, secret, len, msg, sizeof(msg), mac, &maclen) != APR_SUCCESS || maclen < 20)
        return LENZ_ECRYPTO;
    off = mac[maclen - 1] & 0x0f;
    bin = ((apr_uint32_t)(mac[off] & 0x7f) << 24) | ((apr_uint32_t)mac[off + 1] << 16)
          | ((apr_uint32_t)mac[off + 2] << 8) | mac[off + 3];
    apr_snprintf(out, 9, "%0*u", digits, bin % mod[digits]);
    return APR_SUCCESS;
}

apr_uint64_t lenz_totp_counter(apr_time_t now)
{
    return (apr_uint64_t)apr_time_sec(now) / 30;
}

apr_status_t lenz_totp_verify(const unsigned char *secret, apr_size_t len, const char *code,
                              apr_time_t now, apr_uint64_t *last_step)
{
    apr_uint64_t t = lenz_totp_counter(now), step;
    apr_status_t rv = LENZ_EAUTH;
    int i;

    if (!code || strlen(code) != 6)
        return LENZ_EAUTH;
    for (i = 0; i < 6; i++)
        if (!apr_isdigit(code[i]))
            return LENZ_EAUTH;
    for (step = t - 1; step <= t + 1; step++) {
        char want[9];
        if (lenz_totp_code("SHA1", secret, len, step, 6, want) != APR_SUCCESS)
            return LENZ_ECRYPTO;
        /* Check every step (same work whatever matches). */
        if (lenz_ct_equal(want, code, 6) && step > *last_step && rv != APR_SUCCESS) {
            *last_step = step;
            rv = APR_SUCCESS;
        }
    }
    return rv;
}

const char *lenz_totp_uri(apr_pool_t *p, const char *issuer, const char *account,
                          const unsigned char *secret, apr_size_t len)
{
    const char *ei = apr_pescape_urlencoded(p, issuer);
    const char *ea = apr_pescape_urlencoded(p, account);
    return apr_psprintf(p, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30",
                        ei, ea, lenz_b32(p, secret, len), ei);
}
