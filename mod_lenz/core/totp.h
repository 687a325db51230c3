/* totp.h - time-based one-time passwords (RFC 6238 over RFC 4226 HOTP). */
#ifndef LENZ_TOTP_H
#define LENZ_TOTP_H

#include <apr_pools.h>
#include <apr_time.h>

#define LENZ_TOTP_SECRET_LEN 20     /* 160 bits, as RFC 4226 recommends */

/* The code for time counter t (digits 6..8, digest "SHA1"/"SHA256"/"SHA512"). */
apr_status_t lenz_totp_code(const char *digest, const unsigned char *secret, apr_size_t len,
                            apr_uint64_t counter, int digits, char out[9]);
/* The counter of time now with a 30 s step. */
apr_uint64_t lenz_totp_counter(apr_time_t now);
/* Checks a 6-digit SHA1 code against the steps now-1..now+1 (clock drift);
 * never accepts a step <= *last_step (replay), and on success sets
 * *last_step.  APR_SUCCESS or LENZ_EAUTH.  Constant time per step. */
apr_status_t lenz_totp_verify(const unsigned char *secret, apr_size_t len, const char *code,
                              apr_time_t now, apr_uint64_t *last_step);
/* otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=... for authenticator apps. */
const char *lenz_totp_uri(apr_pool_t *p, const char *issuer, const char *account,
                          const unsigned char *secret, apr_size_t len);

#endif
