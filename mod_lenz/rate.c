/* rate.c - fixed-window counters in the shared socache store. */
#include <apr_strings.h>

#include "lenz.h"
#include "rate.h"
#include "shared.h"
#include "problem.h"

int lenz_rate_hit(request_rec *r, const char *scope, const char *who,
                  int limit, int period, int *retry_after)
{
    const lenz_kv *kv = lenz_shared_kv();
    apr_time_t now = apr_time_now();
    apr_int64_t window = apr_time_sec(now) / period;
    const char *key;
    unsigned char buf[4];
    apr_size_t len = sizeof(buf);
    apr_uint32_t count = 0;

    if (!kv || period <= 0)
        return 1;
    key = apr_psprintf(r->pool, "lenz:rate:%s:%s:%" APR_INT64_T_FMT, scope, who, window);
    if (kv->lock)
        kv->lock(kv->baton);
    if (kv->get(kv->baton, key, buf, &len, r->pool) == APR_SUCCESS && len == 4)
        count = (apr_uint32_t)buf[0] << 24 | (apr_uint32_t)buf[1] << 16
                | (apr_uint32_t)buf[2] << 8 | buf[3];
    if (count < 0xffffffffu)
        count++;
    buf[0] = (unsigned char)(count >> 24);
    buf[1] = (unsigned char)(count >> 16);
    buf[2] = (unsigned char)(count >> 8);
    buf[3] = (unsigned char)count;
    kv->put(kv->baton, key, buf, 4, apr_time_from_sec((window + 1) * period), r->pool);
    if (kv->unlock)
        kv->unlock(kv->baton);
    if ((int)count > limit) {
        *retry_after = (int)((window + 1) * period - apr_time_sec(now));
        if (*retry_after < 1)
            *retry_after = 1;
        return 0;
    }
    return 1;
}

int lenz_rate_count(request_rec *r, const char *scope, const char *who, int period)
{
    const lenz_kv *kv = lenz_shared_kv();
    apr_int64_t window = apr_time_sec(apr_time_now()) / period;
    unsigned char buf[4];
    apr_size_t len = sizeof(buf);
    const char *key;
    if (!kv || period <= 0)
        return 0;
    key = apr_psprintf(r->pool, "lenz:rate:%s:%s:%" APR_INT64_T_FMT, scope, who, window);
    if (kv->get(kv->baton, key, buf, &len, r->pool) != APR_SUCCESS || len != 4)
        return 0;
    return (int)((apr_uint32_t)buf[0] << 24 | (apr_uint32_t)buf[1] << 16
                 | (apr_uint32_t)buf[2] << 8 | buf[3]);
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
