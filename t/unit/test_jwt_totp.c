/* JWT access tokens (HS256, kid = master key version, algorithm fixed) and
 * TOTP (the RFC 6238 appendix B vectors), base32 (RFC 4648 vectors). */
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "jwt.h"
#include "totp.h"
#include "codec.h"
#include "keys.h"
#include "err.h"

#define K1 "1:0000000000000000000000000000000000000000000000000000000000000001\n"
#define K2 "2:0000000000000000000000000000000000000000000000000000000000000002\n"

static const char *forge(apr_pool_t *p, const char *hdr, const char *payload, const char *sig)
{
    return apr_pstrcat(p, lenz_b64url(p, hdr, strlen(hdr)), ".",
                       lenz_b64url(p, payload, strlen(payload)), ".", sig, NULL);
}

int main(void)
{
    apr_pool_t *p;
    lenz_keyring *kr1, *kr12, *kr2, *other;
    lenz_json *cl, *out;
    const char *tok, *why, *payload;
    apr_time_t now = apr_time_from_sec(1700000000);
    apr_size_t n;
    unsigned char *d;
    char code[9];
    int i;

    apr_initialize();
    apr_pool_create(&p, NULL);
    kr1 = lenz_keyring_parse(p, K1, strlen(K1), "k1", &why);
    kr12 = lenz_keyring_parse(p, K1 K2, strlen(K1 K2), "k12", &why);
    kr2 = lenz_keyring_parse(p, K2, strlen(K2), "k2", &why);
    other = lenz_keyring_parse(p, "1:ff00000000000000000000000000000000000000000000000000000000000001\n",
                               67, "other", &why);

    cl = lenz_json_new_object(p);
    lenz_json_set_str(cl, "iss", "https://files.example.org");
    lenz_json_set_str(cl, "sub", "5693e6ba-3581-4c3d-95b6-a2d29291b997");
    lenz_json_set_int(cl, "iat", 1700000000);
    lenz_json_set_int(cl, "exp", 1700000900);
    ok(lenz_jwt_sign(p, kr1, cl, &tok) == APR_SUCCESS, "sign");
    ok(lenz_jwt_verify(p, kr1, tok, now, "https://files.example.org", &out) == APR_SUCCESS,
       "verify");
    is_str(lenz_json_string(lenz_json_get(out, "sub")), "5693e6ba-3581-4c3d-95b6-a2d29291b997", "claims back");
    {
        const char *dot = strchr(tok, '.');
        d = lenz_unb64url(p, tok, (apr_size_t)(dot - tok), &n);
        is_str(apr_pstrmemdup(p, (char *)d, n), "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"mk1\"}", "header");
    }
    ok(lenz_jwt_verify(p, kr1, tok, now + apr_time_from_sec(900), NULL, &out) == LENZ_EEXPIRED, "expired");
    ok(lenz_jwt_verify(p, kr1, tok, now, "https://evil.example", &out) == LENZ_EAUTH, "wrong issuer");
    ok(lenz_jwt_verify(p, kr12, tok, now, NULL, &out) == APR_SUCCESS, "a v1 token verifies while v1 is held");
    ok(lenz_jwt_verify(p, kr2, tok, now, NULL, &out) == LENZ_EAUTH, "... and not after v1 is retired");
    ok(lenz_jwt_verify(p, other, tok, now, NULL, &out) == LENZ_EAUTH, "another master key: refused");
    ok(lenz_jwt_sign(p, kr12, cl, &tok) == APR_SUCCESS && strstr(tok, ".") &&
       lenz_jwt_verify(p, kr12, tok, now, NULL, &out) == APR_SUCCESS, "signed with the newest version");

    /* Every byte of the token matters. */
    {
        int all = 1;
        apr_size_t len = strlen(tok);
        for (i = 0; i < (int)len; i++) {
            char *t = apr_pstrdup(p, tok);
            if (t[i] == '.')
                continue;
            t[i] = t[i] == 'A' ? 'B' : 'A';
            if (lenz_jwt_verify(p, kr12, t, now, NULL, &out) == APR_SUCCESS)
                all = 0;
        }
        ok(all, "any changed character is refused");
    }

    /* Algorithm confusion. */
    payload = "{\"sub\":\"x\",\"exp\":1700000900}";
    ok(lenz_jwt_verify(p, kr1, forge(p, "{\"alg\":\"none\",\"kid\":\"mk1\"}", payload, ""), now, NULL, &out)
       == LENZ_EFORMAT, "alg none with an empty signature: refused");
    ok(lenz_jwt_verify(p, kr1, forge(p, "{\"alg\":\"none\",\"kid\":\"mk1\"}", payload, "AAAA"), now, NULL, &out)
       == LENZ_EAUTH, "alg none: refused");
    ok(lenz_jwt_verify(p, kr1, forge(p, "{\"alg\":\"HS512\",\"kid\":\"mk1\"}", payload, "AAAA"), now, NULL, &out)
       == LENZ_EAUTH, "alg HS512: refused");
    ok(lenz_jwt_verify(p, kr1, forge(p, "{\"alg\":\"RS256\",\"kid\":\"mk1\"}", payload, "AAAA"), now, NULL, &out)
       == LENZ_EAUTH, "alg RS256: refused");
    ok(lenz_jwt_verify(p, kr1, forge(p, "{\"alg\":\"HS256\"}", payload, "AAAA"), now, NULL, &out)
       == LENZ_EAUTH, "no kid: refused");
    ok(lenz_jwt_verify(p, kr1, forge(p, "{\"alg\":\"HS256\",\"kid\":\"mk9\"}", payload, "AAAA"), now, NULL, &out)
       == LENZ_EAUTH, "unknown kid: refused");
    ok(lenz_jwt_verify(p, kr1, "abc", now, NULL, &out) == LENZ_EFORMAT, "not a JWT");
    ok(lenz_jwt_verify(p, kr1, "a.b.c.d", now, NULL, &out) == LENZ_EFORMAT, "four parts");
    ok(lenz_jwt_verify(p, kr1, "..", now, NULL, &out) == LENZ_EFORMAT, "empty parts");
    {
        char *big = apr_palloc(p, LENZ_JWT_MAX + 2);
        memset(big, 'a', LENZ_JWT_MAX + 1);
        big[LENZ_JWT_MAX + 1] = '\0';
        ok(lenz_jwt_verify(p, kr1, big, now, NULL, &out) == LENZ_EFORMAT, "oversized token");
    }
    {
        /* A correctly signed token without exp is refused. */
        lenz_json *c2 = lenz_json_new_object(p);
        lenz_json_set_str(c2, "sub", "x");
        lenz_jwt_sign(p, kr1, c2, &tok);
        ok(lenz_jwt_verify(p, kr1, tok, now, NULL, &out) == LENZ_EAUTH, "no exp: refused");
        lenz_json_set_int(c2, "exp", 1700000900);
        lenz_json_set_int(c2, "nbf", 1700001000);
        lenz_jwt_sign(p, kr1, c2, &tok);
        ok(lenz_jwt_verify(p, kr1, tok, now, NULL, &out) == LENZ_EAUTH, "not yet valid: refused");
    }

    /* RFC 4648 base32. */
    is_str(lenz_b32(p, "foobar", 6), "MZXW6YTBOI", "base32 foobar");
    is_str(lenz_b32(p, "f", 1), "MY", "base32 f");
    d = lenz_unb32(p, "mzxw6ytboi", &n);
    ok(d && n == 6 && memcmp(d, "foobar", 6) == 0, "base32 decode, lower case");
    ok(lenz_unb32(p, "MZ1", &n) == NULL, "base32: '1' refused");

    /* RFC 6238 appendix B (8 digits). */
    {
        static const struct { apr_int64_t t; const char *c1, *c256, *c512; } v[] = {
            { 59, "94287082", "46119246", "90693936" },
            { 1111111109, "07081804", "68084774", "25091201" },
            { 1111111111, "14050471", "67062674", "99943326" },
            { 1234567890, "89005924", "91819424", "93441116" },
            { 2000000000, "69279037", "90698825", "38618901" },
            { 20000000000LL, "65353130", "77737706", "47863826" },
        };
        const char *s1 = "12345678901234567890";
        const char *s256 = "12345678901234567890123456789012";
        const char *s512 = "1234567890123456789012345678901234567890123456789012345678901234";
        for (i = 0; i < 6; i++) {
            apr_uint64_t ctr = lenz_totp_counter(apr_time_from_sec(v[i].t));
            lenz_totp_code("SHA1", (const unsigned char *)s1, 20, ctr, 8, code);
            is_str(code, v[i].c1, "RFC 6238 SHA1 T=%lld", (long long)v[i].t);
            lenz_totp_code("SHA256", (const unsigned char *)s256, 32, ctr, 8, code);
            is_str(code, v[i].c256, "RFC 6238 SHA256 T=%lld", (long long)v[i].t);
            lenz_totp_code("SHA512", (const unsigned char *)s512, 64, ctr, 8, code);
            is_str(code, v[i].c512, "RFC 6238 SHA512 T=%lld", (long long)v[i].t);
        }
        /* Six digits are the last six of the eight. */
        lenz_totp_code("SHA1", (const unsigned char *)s1, 20, lenz_totp_counter(apr_time_from_sec(59)), 6, code);
        is_str(code, "287082", "6-digit code");
        {
            apr_uint64_t last = 0;
            apr_time_t t = apr_time_from_sec(59);
            ok(lenz_totp_verify((const unsigned char *)s1, 20, "287082", t, &last) == APR_SUCCESS
               && last == 1, "verify the current step");
            ok(lenz_totp_verify((const unsigned char *)s1, 20, "287082", t, &last) == LENZ_EAUTH,
               "the same code again is a replay");
            ok(lenz_totp_verify((const unsigned char *)s1, 20, "287082", t + apr_time_from_sec(30), &last)
               == LENZ_EAUTH, "... also a step later");
            last = 0;
            ok(lenz_totp_verify((const unsigned char *)s1, 20, "287082", t + apr_time_from_sec(25), &last)
               == APR_SUCCESS, "one step of clock drift is accepted");
            last = 0;
            ok(lenz_totp_verify((const unsigned char *)s1, 20, "287082", t + apr_time_from_sec(95), &last)
               == LENZ_EAUTH, "three steps late is refused");
            ok(lenz_totp_verify((const unsigned char *)s1, 20, "28708", t, &last) == LENZ_EAUTH
               && lenz_totp_verify((const unsigned char *)s1, 20, "28708a", t, &last) == LENZ_EAUTH,
               "malformed codes refused");
        }
        ok(strncmp(lenz_totp_uri(p, "Lenzeye", "a@b.org", (const unsigned char *)s1, 20),
                   "otpauth://totp/Lenzeye:a%40b.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Lenzeye", 85) == 0,
           "otpauth URI");
    }

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
