/* passwd.c - scrypt password hashes in PHC form (see passwd.h). */
#include <string.h>
#include <apr_strings.h>

#include "passwd.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"

#define PHC_PREFIX   "$scrypt$"
#define SALT_MIN     4
#define SALT_MAX     64
#define HASH_MIN     16
#define HASH_MAX     64

typedef struct {
    lenz_passwd_params pp;
    unsigned char *salt;
    apr_size_t salt_len;
    unsigned char *hash;
    apr_size_t hash_len;
} phc_t;

void lenz_passwd_params_default(lenz_passwd_params *pp)
{
    pp->ln = LENZ_PASSWD_LN_DEFAULT;
    pp->r = LENZ_PASSWD_R_DEFAULT;
    pp->p = LENZ_PASSWD_P_DEFAULT;
}

apr_status_t lenz_passwd_params_check(const lenz_passwd_params *pp)
{
    apr_uint64_t N;
    if (pp->ln < 1 || pp->ln > LENZ_PASSWD_MAX_LN || pp->r < 1 || pp->r > LENZ_PASSWD_MAX_R
        || pp->p < 1 || pp->p > LENZ_PASSWD_MAX_P)
        return LENZ_ETOOBIG;
    N = (apr_uint64_t)1 << pp->ln;
    if (128 * N * pp->r > LENZ_PASSWD_MAX_MEM || N * pp->r * pp->p > LENZ_PASSWD_MAX_WORK)
        return LENZ_ETOOBIG;
    return APR_SUCCESS;
}

static apr_status_t derive(const char *password, const lenz_passwd_params *pp,
                           const unsigned char *salt, apr_size_t salt_len,
                           unsigned char *out, apr_size_t out_len)
{
    apr_size_t pl = strnlen(password, LENZ_PASSWD_MAX_LEN + 1);
    if (pl > LENZ_PASSWD_MAX_LEN)
        return LENZ_ETOOBIG;
    return lenz_scrypt(password, pl, salt, salt_len, (apr_uint64_t)1 << pp->ln,
                       pp->r, pp->p, out, out_len);
}

/* Standard base64, unpadded (the PHC convention). */
static char *b64_nopad(apr_pool_t *p, const unsigned char *d, apr_size_t len)
{
    char *s = lenz_b64(p, d, len), *eq = strchr(s, '=');
    if (eq)
        *eq = '\0';
    return s;
}

/* Strict unpadded standard base64: only [A-Za-z0-9+/], canonical. */
static unsigned char *unb64_nopad(apr_pool_t *p, const char *s, apr_size_t len,
                                  apr_size_t *out_len)
{
    char *u = apr_pstrmemdup(p, s, len);
    apr_size_t i;
    for (i = 0; i < len; i++) {
        char c = u[i];
        if (c == '+')
            u[i] = '-';
        else if (c == '/')
            u[i] = '_';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return NULL;
    }
    return lenz_unb64url(p, u, len, out_len);
}

/* "<name>=<decimal>" with 1..3 digits, no leading zero; advances *s. */
static int param(const char **s, const char *name, unsigned *out)
{
    apr_size_t nl = strlen(name);
    unsigned v = 0;
    int digits = 0;
    if (strncmp(*s, name, nl) != 0 || (*s)[nl] != '=')
        return 0;
    *s += nl + 1;
    if (**s == '0')
        return 0;
    while (**s >= '0' && **s <= '9' && digits < 3) {
        v = v * 10 + (unsigned)(**s - '0');
        (*s)++;
        digits++;
    }
    if (digits == 0 || (**s >= '0' && **s <= '9'))
        return 0;
    *out = v;
    return 1;
}

/* LENZ_EFORMAT for anything but the exact shape, LENZ_ETOOBIG for
 * parameters beyond the limits. */
static apr_status_t phc_parse(apr_pool_t *p, const char *s, phc_t *h)
{
    const char *salt, *dollar;
    if (!s || strncmp(s, PHC_PREFIX, strlen(PHC_PREFIX)) != 0)
        return LENZ_EFORMAT;
    s += strlen(PHC_PREFIX);
    if (!param(&s, "ln", &h->pp.ln) || *s++ != ','
        || !param(&s, "r", &h->pp.r) || *s++ != ','
        || !param(&s, "p", &h->pp.p) || *s++ != '$')
        return LENZ_EFORMAT;
    salt = s;
    if (!(dollar = strchr(salt, '$')))
        return LENZ_EFORMAT;
    h->salt = unb64_nopad(p, salt, (apr_size_t)(dollar - salt), &h->salt_len);
    h->hash = unb64_nopad(p, dollar + 1, strlen(dollar + 1), &h->hash_len);
    if (!h->salt || !h->hash || h->salt_len < SALT_MIN || h->salt_len > SALT_MAX
        || h->hash_len < HASH_MIN || h->hash_len > HASH_MAX)
        return LENZ_EFORMAT;
    return lenz_passwd_params_check(&h->pp);
}

apr_status_t lenz_passwd_hash_salt(apr_pool_t *p, const char *password,
                                   const lenz_passwd_params *pp,
                                   const unsigned char salt[LENZ_PASSWD_SALT_LEN],
                                   const char **phc)
{
    lenz_passwd_params def;
    unsigned char out[LENZ_PASSWD_HASH_LEN];
    apr_status_t rv;

    if (!pp) {
        lenz_passwd_params_default(&def);
        pp = &def;
    }
    if (!password)
        return APR_EINVAL;
    if ((rv = lenz_passwd_params_check(pp)) != APR_SUCCESS)
        return rv;
    rv = derive(password, pp, salt, LENZ_PASSWD_SALT_LEN, out, sizeof(out));
    if (rv == APR_SUCCESS)
        *phc = apr_psprintf(p, PHC_PREFIX "ln=%u,r=%u,p=%u$%s$%s", pp->ln, pp->r, pp->p,
                            b64_nopad(p, salt, LENZ_PASSWD_SALT_LEN),
                            b64_nopad(p, out, sizeof(out)));
    lenz_wipe(out, sizeof(out));
    return rv;
}

apr_status_t lenz_passwd_hash(apr_pool_t *p, const char *password,
                              const lenz_passwd_params *pp, const char **phc)
{
    unsigned char salt[LENZ_PASSWD_SALT_LEN];
    apr_status_t rv = lenz_random(salt, sizeof(salt));
    if (rv != APR_SUCCESS)
        return rv;
    return lenz_passwd_hash_salt(p, password, pp, salt, phc);
}

apr_status_t lenz_passwd_verify(apr_pool_t *p, const char *password, const char *phc)
{
    phc_t h;
    unsigned char out[HASH_MAX];
    apr_status_t rv;

    if (!password)
        return APR_EINVAL;
    if ((rv = phc_parse(p, phc, &h)) != APR_SUCCESS)
        return rv;
    rv = derive(password, &h.pp, h.salt, h.salt_len, out, h.hash_len);
    if (rv == APR_SUCCESS && !lenz_ct_equal(out, h.hash, h.hash_len))
        rv = LENZ_EAUTH;
    lenz_wipe(out, sizeof(out));
    return rv;
}

int lenz_passwd_needs_rehash(apr_pool_t *p, const char *phc, const lenz_passwd_params *cur)
{
    lenz_passwd_params def;
    phc_t h;
    if (!cur) {
        lenz_passwd_params_default(&def);
        cur = &def;
    }
    if (phc_parse(p, phc, &h) != APR_SUCCESS)
        return 1;
    return h.pp.ln != cur->ln || h.pp.r != cur->r || h.pp.p != cur->p
        || h.salt_len != LENZ_PASSWD_SALT_LEN || h.hash_len != LENZ_PASSWD_HASH_LEN;
}

void lenz_passwd_dummy_verify(const char *password, const lenz_passwd_params *cur)
{
    static const unsigned char salt[LENZ_PASSWD_SALT_LEN] = "lenz-dummy-salt";
    lenz_passwd_params def;
    unsigned char out[LENZ_PASSWD_HASH_LEN];
    if (!cur) {
        lenz_passwd_params_default(&def);
        cur = &def;
    }
    if (lenz_passwd_params_check(cur) != APR_SUCCESS)
        return;
    /* Same KDF, same parameters, same output length as a real check. */
    derive(password ? password : "", cur, salt, sizeof(salt), out, sizeof(out));
    lenz_wipe(out, sizeof(out));
}
