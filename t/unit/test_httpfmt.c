/* Range parsing (RFC 9110 section 14) and Content-Disposition (RFC 6266). */
#include <apr_general.h>
#include "tap.h"
#include "httpfmt.h"
#include "err.h"

static int rng(const char *h, apr_uint64_t size, int want_rv, int want_n,
               apr_uint64_t f0, apr_uint64_t l0)
{
    lenz_range r[LENZ_RANGES_MAX];
    int n = -1;
    apr_status_t rv = lenz_range_parse(h, size, r, LENZ_RANGES_MAX, &n);
    if (rv != want_rv || n != want_n)
        return 0;
    return want_n == 0 || (r[0].first == f0 && r[0].last == l0);
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);

    ok(rng("bytes=0-99", 1000, APR_SUCCESS, 1, 0, 99), "first 100");
    ok(rng("bytes=100-", 1000, APR_SUCCESS, 1, 100, 999), "open end");
    ok(rng("bytes=-10", 1000, APR_SUCCESS, 1, 990, 999), "suffix");
    ok(rng("bytes=-5000", 1000, APR_SUCCESS, 1, 0, 999), "suffix longer than the file");
    ok(rng("bytes=900-5000", 1000, APR_SUCCESS, 1, 900, 999), "last clamped");
    ok(rng("bytes=0-0", 1, APR_SUCCESS, 1, 0, 0), "one byte of one");
    ok(rng(" bytes = 1 - 2 ", 10, APR_SUCCESS, 1, 1, 2), "spaces");
    ok(rng("BYTES=1-2", 10, APR_SUCCESS, 1, 1, 2), "unit is case-insensitive");
    ok(rng("bytes=0-1,5-6", 10, APR_SUCCESS, 2, 0, 1), "two ranges");
    ok(rng("bytes=,0-1,", 10, APR_SUCCESS, 1, 0, 1), "empty list elements");
    ok(rng("bytes=1000-", 1000, APR_EINVAL, 0, 0, 0), "starts at the end: unsatisfiable");
    ok(rng("bytes=0-", 0, APR_EINVAL, 0, 0, 0), "empty file: unsatisfiable");
    ok(rng("bytes=-0", 1000, APR_EINVAL, 0, 0, 0), "suffix of 0: unsatisfiable");
    ok(rng("bytes=5000-6000,7000-", 1000, APR_EINVAL, 0, 0, 0), "none satisfiable");
    ok(rng("bytes=5000-6000,0-1", 1000, APR_SUCCESS, 1, 0, 1), "the satisfiable one kept");
    ok(rng("items=0-1", 10, APR_NOTFOUND, 0, 0, 0), "another unit: ignored");
    ok(rng("bytesx=0-1", 10, APR_NOTFOUND, 0, 0, 0), "a unit that starts with bytes: ignored");
    ok(rng(NULL, 10, APR_NOTFOUND, 0, 0, 0), "no header");
    ok(rng("bytes=abc", 10, LENZ_EFORMAT, 0, 0, 0), "garbage");
    ok(rng("bytes=", 10, LENZ_EFORMAT, 0, 0, 0), "no spec");
    ok(rng("bytes=5-1", 10, LENZ_EFORMAT, 0, 0, 0), "last before first");
    ok(rng("bytes=-", 10, LENZ_EFORMAT, 0, 0, 0), "dash only");
    ok(rng("bytes=1-2x", 10, LENZ_EFORMAT, 0, 0, 0), "trailing junk");
    ok(rng("bytes=+1-2", 10, LENZ_EFORMAT, 0, 0, 0), "a sign");
    ok(rng("bytes 0-1", 10, LENZ_EFORMAT, 0, 0, 0), "no '='");
    ok(rng("bytes=99999999999999999999-", 10, LENZ_EFORMAT, 0, 0, 0), "overflow");
    ok(rng("bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17,18-19,20-21,22-23,24-25,26-27,28-29,30-31,32-33",
           100, LENZ_EFORMAT, 0, 0, 0), "more than 16 ranges");

    is_str(lenz_content_disposition(p, "attachment", "report.pdf"),
           "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf", "ASCII name");
    is_str(lenz_content_disposition(p, "attachment", "Ferien \xc3\xa4 \"x\".jpg"),
           "attachment; filename=\"Ferien __ _x_.jpg\"; filename*=UTF-8''Ferien%20%C3%A4%20%22x%22.jpg",
           "UTF-8, spaces and quotes");
    is_str(lenz_content_disposition(p, "attachment", "a;b\\c\r\n"),
           "attachment; filename=\"a;b_c__\"; filename*=UTF-8''a%3Bb%5Cc%0D%0A",
           "separators and control characters cannot break out");
    is_str(lenz_content_disposition(p, "attachment", "photo\xe2\x80\xaegpj.exe"),
           "attachment; filename=\"photo_gpj.exe\"; filename*=UTF-8''photo_gpj.exe",
           "a bidi control (U+202E) cannot reorder the name a browser shows");

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
