/* rate.c - sliding-window counters in the shared socache store. */
#include <limits.h>
#include <apr_strings.h>

#include "lenz.h"
#include "rate.h"
#include "shared.h"
#include "problem.h"
#include "netaddr.h"

/* Fixed windows, with the previous window carried over (a "sliding window
 * counter"): the count is this window's events plus the previous window's,
 * scaled by how much of it still lies within the last PERIOD seconds.  A
 * bare fixed window forgets everything at its boundary: five failed
 * sign-ins at 01:44:59 and the sixth at 01:45:00 found a count of one (seen
 * in a test run), and a client could spend twice the limit around it. */
static const char *key_of(request_rec *r, const char *scope, const char *who, apr_int64_t window)
{
    return apr_psprintf(r->pool, "lenz:rate:%s:%s:%" APR_INT64_T_FMT, scope, who, window);
}

static void put_count(const lenz_kv *kv, const char *key, apr_uint32_t count, apr_time_t expiry,
                      apr_pool_t *p)
{
    unsigned char buf[4];
    buf[0] = (unsigned char)(count >> 24);
    buf[1] = (unsigned char)(count >> 16);
    buf[2] = (unsigned char)(count >> 8);
    buf[3] = (unsigned char)count;
    kv->put(kv->baton, key, buf, 4, expiry, p);
}

static apr_uint32_t get_count(const lenz_kv *kv, const char *key, apr_pool_t *p)
{
    unsigned char buf[4];
    apr_size_t len = sizeof(buf);
    if (kv->get(kv->baton, key, buf, &len, p) != APR_SUCCESS || len != 4)
        return 0;
    return (apr_uint32_t)buf[0] << 24 | (apr_uint32_t)buf[1] << 16 | (apr_uint32_t)buf[2] << 8 | buf[3];
}

/* this window's count + the previous one's share, rounded up (in ms) */
static int estimate(apr_uint32_t prev, apr_uint32_t cur, apr_time_t now, apr_int64_t window, int period)
{
    apr_int64_t len = (apr_int64_t)period * 1000;
    apr_int64_t left = len - (apr_int64_t)apr_time_as_msec(now - apr_time_from_sec(window * period));
    apr_int64_t n = (apr_int64_t)cur + (left > 0 ? ((apr_int64_t)prev * left + len - 1) / len : 0);
    return n > INT_MAX ? INT_MAX : (int)n;
}

int lenz_rate_hit(request_rec *r, const char *scope, const char *who,
                  int limit, int period, int *retry_after)
{
    const lenz_kv *kv = lenz_shared_kv();
    apr_time_t now = apr_time_now();
    apr_int64_t window;
    const char *key;
    apr_uint32_t count, prev;
    int n;

    if (!kv || period <= 0)
        return 1;
    window = apr_time_sec(now) / period;
    key = key_of(r, scope, who, window);
    if (kv->lock)
        kv->lock(kv->baton);
    prev = get_count(kv, key_of(r, scope, who, window - 1), r->pool);
    count = get_count(kv, key, r->pool);
    if (count < 0xffffffffu)
        count++;
    /* Kept through the next window, which still counts part of it. */
    put_count(kv, key, count, apr_time_from_sec((window + 2) * period), r->pool);
    if (kv->unlock)
        kv->unlock(kv->baton);
    n = estimate(prev, count, now, window, period);
    if (n > limit) {
        *retry_after = (int)((window + 1) * period - apr_time_sec(now));
        if (*retry_after < 1)
            *retry_after = 1;
        return 0;
    }
    return 1;
}

void lenz_rate_undo(request_rec *r, const char *scope, const char *who, int period)
{
    const lenz_kv *kv = lenz_shared_kv();
    apr_int64_t window;
    const char *key;
    apr_uint32_t count;

    if (!kv || period <= 0)
        return;
    window = apr_time_sec(apr_time_now()) / period;
    key = key_of(r, scope, who, window);
    if (kv->lock)
        kv->lock(kv->baton);
    /* Counted in the window before (it just ended): that one is left. */
    if ((count = get_count(kv, key, r->pool)) > 0)
        put_count(kv, key, count - 1, apr_time_from_sec((window + 2) * period), r->pool);
    if (kv->unlock)
        kv->unlock(kv->baton);
}

void lenz_rate_clear(request_rec *r, const char *scope, const char *who, int period)
{
    const lenz_kv *kv = lenz_shared_kv();
    apr_int64_t window;
    if (!kv || period <= 0)
        return;
    window = apr_time_sec(apr_time_now()) / period;
    if (kv->lock)
        kv->lock(kv->baton);
    put_count(kv, key_of(r, scope, who, window), 0, apr_time_from_sec((window + 2) * period), r->pool);
    put_count(kv, key_of(r, scope, who, window - 1), 0, apr_time_from_sec((window + 1) * period), r->pool);
    if (kv->unlock)
        kv->unlock(kv->baton);
}

const char *lenz_rate_addr(request_rec *r)
{
    return lenz_addr_rate_key(r->pool, r->useragent_ip);
}

int lenz_rate_count(request_rec *r, const char *scope, const char *who, int period)
{
    const lenz_kv *kv = lenz_shared_kv();
    apr_time_t now = apr_time_now();
    apr_int64_t window;
    if (!kv || period <= 0)
        return 0;
    window = apr_time_sec(now) / period;
    return estimate(get_count(kv, key_of(r, scope, who, window - 1), r->pool),
                    get_count(kv, key_of(r, scope, who, window), r->pool), now, window, period);
}

int lenz_rate_check(request_rec *r, const char *scope, const char *who,
                    int limit, int period)
{
    int after = 1;
    if (lenz_rate_hit(r, scope, who, limit, period, &after))
        return 1;
    apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, after));
    lenz_fail(r, APLOG_INFO, LENZLOGNO(0400), HTTP_TOO_MANY_REQUESTS, "rate-limited",
              "Too many requests", apr_psprintf(r->pool, "limit of %d per %d s reached for %s; "
                                                "try again in %d s", limit, period, scope, after));
    return 0;
}
