/* Unit tests for scrypt password hashes in PHC form (passwd.c), with the
 * vector of docs/format.md and RFC 7914's second vector through the PHC
 * path.  Prints the measured time of one hash at the default parameters. */
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include "tap.h"
#include "passwd.h"
#include "err.h"

#define VEC_PASSWORD "correct horse battery staple"
/* (e) salt 00 01 .. 0f, ln=15 r=8 p=1 (the defaults before ln=17). */
static const char *VEC_PHC =
    "$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg";
/* RFC 7914 section 12: P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64. */
static const char *RFC7914_PHC =
    "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA";

static double ms_since(apr_time_t t0)
{
    return (double)(apr_time_now() - t0) / 1000.0;
}

static void test_default(apr_pool_t *p)
{
    lenz_passwd_params d, v15 = { 15, 8, 1 };
    const char *phc, *phc2;
    unsigned char salt[16];
    apr_time_t t0;
    double hash_ms, verify_ms, dummy_ms;
    int i;

    lenz_passwd_params_default(&d);
    ok(d.ln == 17 && d.r == 8 && d.p == 1, "defaults ln=17 r=8 p=1 (OWASP's scrypt baseline)");
    is_int(lenz_passwd_params_check(&d), APR_SUCCESS, "defaults within the limits");

    for (i = 0; i < 16; i++)
        salt[i] = (unsigned char)i;
    ok(lenz_passwd_hash_salt(p, VEC_PASSWORD, &v15, salt, &phc) == APR_SUCCESS, "hash with a fixed salt");
    is_str(phc, VEC_PHC, "vector (e): PHC string");

    t0 = apr_time_now();
    ok(lenz_passwd_hash(p, "s3cret pass", NULL, &phc) == APR_SUCCESS, "hash at the defaults");
    hash_ms = ms_since(t0);
    ok(strncmp(phc, "$scrypt$ln=17,r=8,p=1$", 22) == 0 && strlen(phc) == 22 + 22 + 1 + 43,
       "PHC shape: 22-char salt, 43-char hash");
    lenz_passwd_hash(p, "s3cret pass", NULL, &phc2);
    ok(strcmp(phc, phc2) != 0, "random salt: two hashes of one password differ");
    t0 = apr_time_now();
    is_int(lenz_passwd_verify(p, "s3cret pass", phc), APR_SUCCESS, "right password verifies");
    verify_ms = ms_since(t0);
    is_int(lenz_passwd_verify(p, "s3cret pasS", phc), LENZ_EAUTH, "wrong password: LENZ_EAUTH");
    is_int(lenz_passwd_verify(p, "", phc), LENZ_EAUTH, "empty password: LENZ_EAUTH");
    is_int(lenz_passwd_verify(p, VEC_PASSWORD, VEC_PHC), APR_SUCCESS, "vector (e) verifies");
    t0 = apr_time_now();
    lenz_passwd_dummy_verify("whoever", NULL);
    dummy_ms = ms_since(t0);
    ok(1, "dummy verify ran");
    diag("scrypt ln=17 r=8 p=1: hash %.0f ms, verify %.0f ms, dummy verify %.0f ms",
         hash_ms, verify_ms, dummy_ms);
}

static void test_vectors(apr_pool_t *p)
{
    is_int(lenz_passwd_verify(p, "password", RFC7914_PHC), APR_SUCCESS,
           "RFC 7914 vector (64-byte hash, 4-byte salt) verifies through the PHC path");
    is_int(lenz_passwd_verify(p, "passwore", RFC7914_PHC), LENZ_EAUTH, "  and not with another password");
    ok(lenz_passwd_needs_rehash(p, RFC7914_PHC, NULL), "  and needs a rehash");
}

static void test_small_params(apr_pool_t *p)
{
    lenz_passwd_params sp = {10, 8, 1}, big = {21, 8, 1};
    const char *phc;
    char *longpw = apr_palloc(p, LENZ_PASSWD_MAX_LEN + 2);

    ok(lenz_passwd_hash(p, "pw", &sp, &phc) == APR_SUCCESS && strncmp(phc, "$scrypt$ln=10,r=8,p=1$", 22) == 0,
       "hash with ln=10");
    is_int(lenz_passwd_verify(p, "pw", phc), APR_SUCCESS, "  verifies with its own parameters");
    ok(lenz_passwd_needs_rehash(p, phc, NULL), "  needs a rehash against the defaults");
    ok(!lenz_passwd_needs_rehash(p, phc, &sp), "  not against its own parameters");
    is_int(lenz_passwd_hash(p, "pw", &big, &phc), LENZ_ETOOBIG, "hash refuses ln=21");

    memset(longpw, 'a', LENZ_PASSWD_MAX_LEN + 1);
    longpw[LENZ_PASSWD_MAX_LEN + 1] = '\0';
    is_int(lenz_passwd_hash(p, longpw, &sp, &phc), LENZ_ETOOBIG, "password over 1024 bytes refused");
    longpw[LENZ_PASSWD_MAX_LEN] = '\0';
    ok(lenz_passwd_hash(p, longpw, &sp, &phc) == APR_SUCCESS
       && lenz_passwd_verify(p, longpw, phc) == APR_SUCCESS, "password of exactly 1024 bytes works");
    {
        lenz_passwd_params q = {15, 8, 1};
        ok(!lenz_passwd_needs_rehash(p, VEC_PHC, &q), "vector at the defaults: no rehash");
        q.r = 16;
        ok(lenz_passwd_needs_rehash(p, VEC_PHC, &q), "other r: rehash");
        q.r = 8;
        q.p = 2;
        ok(lenz_passwd_needs_rehash(p, VEC_PHC, &q), "other p: rehash");
        ok(lenz_passwd_needs_rehash(p, "garbage", &q), "garbage: rehash");
    }
}

static void test_malformed(apr_pool_t *p)
{
    /* salt "AAECAwQFBgcICQoLDA0ODw" = 16 bytes, hash H = 32 bytes. */
#define S "AAECAwQFBgcICQoLDA0ODw"
#define H "eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg"
    static const struct { const char *phc; apr_status_t want; const char *what; } cases[] = {
        {"", LENZ_EFORMAT, "empty"},
        {"$scrypt$", LENZ_EFORMAT, "prefix only"},
        {"$argon2id$v=19$m=65536,t=3,p=4$" S "$" H, LENZ_EFORMAT, "another algorithm"},
        {"$scrypt$ln=10,r=8,p=1$" S, LENZ_EFORMAT, "no hash"},
        {"$scrypt$ln=10,r=8,p=1$" S "$", LENZ_EFORMAT, "empty hash"},
        {"$scrypt$ln=10,r=8,p=1$$" H, LENZ_EFORMAT, "empty salt"},
        {"$scrypt$ln=10,r=8,p=1$" S "$" H "$", LENZ_EFORMAT, "trailing $"},
        {"$scrypt$ln=10,r=8,p=1$" S "$" H "=", LENZ_EFORMAT, "padding"},
        {"$scrypt$ln=10,r=8,p=1$" S "$" H " ", LENZ_EFORMAT, "trailing space"},
        {"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0OD-$" H, LENZ_EFORMAT, "url alphabet"},
        {"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODx$" H, LENZ_EFORMAT, "non-canonical base64"},
        {"$scrypt$ln=10,r=8,p=1$AAEC$" H, LENZ_EFORMAT, "3-byte salt"},
        {"$scrypt$ln=10,r=8,p=1$" S "$AAECAwQFBgcICQoLDA0O", LENZ_EFORMAT, "15-byte hash"},
        {"$scrypt$ln=010,r=8,p=1$" S "$" H, LENZ_EFORMAT, "leading zero"},
        {"$scrypt$ln=1000,r=8,p=1$" S "$" H, LENZ_EFORMAT, "4 digits"},
        {"$scrypt$ln=+10,r=8,p=1$" S "$" H, LENZ_EFORMAT, "sign"},
        {"$scrypt$r=8,ln=10,p=1$" S "$" H, LENZ_EFORMAT, "fields out of order"},
        {"$scrypt$ln=10,r=8$" S "$" H, LENZ_EFORMAT, "missing p"},
        {"$scrypt$ln=10,r=8,p=1,x=1$" S "$" H, LENZ_EFORMAT, "extra field"},
        {"$scrypt$ln=10, r=8,p=1$" S "$" H, LENZ_EFORMAT, "space in parameters"},
        {"$scrypt$ln=0,r=8,p=1$" S "$" H, LENZ_EFORMAT, "ln=0 (leading zero rule)"},
        {"$scrypt$ln=21,r=8,p=1$" S "$" H, LENZ_ETOOBIG, "ln=21"},
        {"$scrypt$ln=10,r=33,p=1$" S "$" H, LENZ_ETOOBIG, "r=33"},
        {"$scrypt$ln=10,r=8,p=17$" S "$" H, LENZ_ETOOBIG, "p=17"},
        {"$scrypt$ln=20,r=8,p=1$" S "$" H, LENZ_ETOOBIG, "ln=20 r=8: 1 GiB"},
        {"$scrypt$ln=18,r=8,p=4$" S "$" H, LENZ_ETOOBIG, "work N*r*p = 2^23"},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        is_int(lenz_passwd_verify(p, "pw", cases[i].phc), cases[i].want, "malformed: %s", cases[i].what);
    is_int(lenz_passwd_verify(p, "pw", NULL), LENZ_EFORMAT, "malformed: NULL");
    is_int(lenz_passwd_verify(p, "pw", "$scrypt$ln=4,r=1,p=1$" S "$" H), LENZ_EAUTH,
           "well-formed with tiny parameters: checked (LENZ_EAUTH)");
#undef S
#undef H
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_default(p);
    test_vectors(p);
    test_small_params(p);
    test_malformed(p);
    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
