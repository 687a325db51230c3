/* passwd.h - password hashes: scrypt (OpenSSL, through crypto.h) in the
 * PHC string format
 *
 *   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>
 *
 * salt and hash in standard base64 without padding.  New hashes use a
 * 16-byte random salt, a 32-byte hash and the given parameters (default
 * ln=17, r=8, p=1, OWASP's baseline for scrypt: 128 MiB and about 0.4 s a
 * hash on this project's 2-core machines; hashes made at ln=15 before are
 * upgraded at the next sign-in).  The httpd glue bounds how many run at
 * once per process (LenzPasswordHashes, httpd/pwgate.c).  Verification also
 * accepts salts of 4..64 and hashes of 16..64 bytes made elsewhere, but
 * refuses parameters beyond LENZ_PASSWD_MAX_* so a stored string cannot
 * make the server burn unbounded CPU or memory.
 */
#ifndef LENZ_PASSWD_H
#define LENZ_PASSWD_H

#include <apr_pools.h>

#define LENZ_PASSWD_LN_DEFAULT  17
#define LENZ_PASSWD_R_DEFAULT   8
#define LENZ_PASSWD_P_DEFAULT   1
#define LENZ_PASSWD_SALT_LEN    16
#define LENZ_PASSWD_HASH_LEN    32
#define LENZ_PASSWD_MAX_LEN     1024                  /* password bytes */
#define LENZ_PASSWD_MAX_LN      20
#define LENZ_PASSWD_MAX_R       32
#define LENZ_PASSWD_MAX_P       16
#define LENZ_PASSWD_MAX_MEM     (256u * 1024 * 1024)   /* 128 * r * N bytes */
#define LENZ_PASSWD_MAX_WORK    (1u << 22)             /* N * r * p (default 2^20) */

typedef struct {
    unsigned ln;    /* N = 2^ln */
    unsigned r;
    unsigned p;
} lenz_passwd_params;

void lenz_passwd_params_default(lenz_passwd_params *pp);
/* APR_SUCCESS or LENZ_ETOOBIG when beyond the limits above (or zero). */
apr_status_t lenz_passwd_params_check(const lenz_passwd_params *pp);

/* A new PHC string in *phc (from p).  pp NULL means the defaults.
 * LENZ_ETOOBIG for a password over LENZ_PASSWD_MAX_LEN bytes. */
apr_status_t lenz_passwd_hash(apr_pool_t *p, const char *password,
                              const lenz_passwd_params *pp, const char **phc);
/* Test vectors only: salt given instead of drawn. */
apr_status_t lenz_passwd_hash_salt(apr_pool_t *p, const char *password,
                                   const lenz_passwd_params *pp,
                                   const unsigned char salt[LENZ_PASSWD_SALT_LEN],
                                   const char **phc);

/* APR_SUCCESS when password matches (constant-time compare), LENZ_EAUTH
 * when it does not, LENZ_EFORMAT for a malformed string, LENZ_ETOOBIG for
 * parameters or a password beyond the limits. */
apr_status_t lenz_passwd_verify(apr_pool_t *p, const char *password, const char *phc);

/* 1 when phc should be replaced at the next successful login: other
 * parameters than cur (NULL: defaults), other salt or hash length, or
 * not parseable at all. */
int lenz_passwd_needs_rehash(apr_pool_t *p, const char *phc, const lenz_passwd_params *cur);

/* Spend the work of one verification at cur (NULL: defaults) and discard
 * it: called for an unknown user so the answer time does not tell. */
void lenz_passwd_dummy_verify(const char *password, const lenz_passwd_params *cur);

#endif
