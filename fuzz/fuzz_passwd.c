/* fuzz_passwd.c - lenz_passwd_verify() on arbitrary PHC strings.
 *
 * Input: "<password>\n<phc>" (no newline: the password is "password" and
 * the whole input is the PHC string).  The parser runs on every input,
 * through lenz_passwd_needs_rehash(); scrypt itself only where it is
 * cheap: a string whose ln/r/p would cost more than CHEAP_WORK
 * (N * r * p) or CHEAP_MEM bytes is not verified, only parsed, so the
 * fuzzer stays fast without skipping the parser or the limit checks.
 *
 * Checked: the statuses are the documented ones; parameters beyond the
 * LENZ_PASSWD_MAX_* limits are refused (LENZ_ETOOBIG) before any work; a
 * string that verifies is one needs_rehash() can parse; verification is
 * deterministic.
 */
#include "fuzz.h"
#include "passwd.h"
#include "err.h"

#define CHEAP_WORK (1u << 12)
#define CHEAP_MEM  (1u << 20)

/* The parameters phc_parse() would read ("ln=" etc. after the same
 * prefix) and their cost; 0 when the string does not have that shape,
 * which the parser refuses before any scrypt work anyway. */
static int cost(const char *s, lenz_passwd_params *pp, apr_uint64_t *work, apr_uint64_t *mem)
{
    unsigned long ln, r, p;
    char *end;

    if (strncmp(s, "$scrypt$ln=", 11) != 0)
        return 0;
    ln = strtoul(s + 11, &end, 10);
    if (strncmp(end, ",r=", 3) != 0)
        return 0;
    r = strtoul(end + 3, &end, 10);
    if (strncmp(end, ",p=", 3) != 0)
        return 0;
    p = strtoul(end + 3, &end, 10);
    pp->ln = ln > 1000 ? 1000 : (unsigned)ln;
    pp->r = r > 100000 ? 100000 : (unsigned)r;
    pp->p = p > 100000 ? 100000 : (unsigned)p;
    if (ln > 40) {
        *work = *mem = UINT64_MAX;
        return 1;
    }
    *work = ((apr_uint64_t)1 << ln) * pp->r * pp->p;
    *mem = 128 * ((apr_uint64_t)1 << ln) * pp->r;
    return 1;
}

static int parsed_ok(apr_status_t rv)
{
    return rv == APR_SUCCESS || rv == LENZ_EAUTH;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *in = fuzz_cstr(data, size), *nl = memchr(in, '\n', size);
    const char *password = "password", *phc = in;
    apr_uint64_t work = 0, mem = 0;
    lenz_passwd_params pp;
    apr_status_t rv, rv2;
    int rehash;

    if (nl) {
        *nl = '\0';
        password = in;
        phc = nl + 1;
    }

    /* The whole parser and the limit checks, never scrypt. */
    rehash = lenz_passwd_needs_rehash(p, phc, NULL);
    FUZZ_CHECK(rehash == 0 || rehash == 1, "needs_rehash: %d", rehash);
    lenz_passwd_params_default(&pp);
    FUZZ_CHECK(lenz_passwd_params_check(&pp) == APR_SUCCESS, "defaults out of limits");

    if (cost(phc, &pp, &work, &mem) && (work > CHEAP_WORK || mem > CHEAP_MEM)) {
        /* Too dear to verify here; the limits must still refuse it when
         * it is past them (then verify returns before any work). */
        if (work > LENZ_PASSWD_MAX_WORK || mem > LENZ_PASSWD_MAX_MEM || pp.ln > LENZ_PASSWD_MAX_LN
            || pp.r > LENZ_PASSWD_MAX_R || pp.p > LENZ_PASSWD_MAX_P)
            FUZZ_CHECK(lenz_passwd_params_check(&pp) == LENZ_ETOOBIG,
                       "ln=%u r=%u p=%u passes the limits", pp.ln, pp.r, pp.p);
        /* Refused parameters cost nothing: verify must stop at the parse. */
        if (lenz_passwd_params_check(&pp) == LENZ_ETOOBIG) {
            rv = lenz_passwd_verify(p, password, phc);
            FUZZ_CHECK(rv == LENZ_EFORMAT || rv == LENZ_ETOOBIG,
                       "verify of refused parameters: status %d", rv);
        }
    }
    else {
        rv = lenz_passwd_verify(p, password, phc);
        FUZZ_CHECK(rv == APR_SUCCESS || rv == LENZ_EAUTH || rv == LENZ_EFORMAT
                   || rv == LENZ_ETOOBIG, "verify: status %d", rv);
        if (parsed_ok(rv))
            FUZZ_CHECK(strlen(password) <= LENZ_PASSWD_MAX_LEN, "over-long password verified");
        if (rv == APR_SUCCESS) {
            rv2 = lenz_passwd_verify(p, password, phc);
            FUZZ_CHECK(rv2 == APR_SUCCESS, "verification not deterministic");
            /* A wrong password must not verify against the same string. */
            rv2 = lenz_passwd_verify(p, "not the password", phc);
            FUZZ_CHECK(rv2 == LENZ_EAUTH || strcmp(password, "not the password") == 0,
                       "another password verifies too");
        }
    }

    free(in);
    apr_pool_destroy(p);
    return 0;
}
