/* breaker.c - the breaker's state machine over a shared store. */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "breaker.h"
#include "err.h"

#define REC_LEN 28
#define REC_VERSION 1

typedef struct {
    apr_uint32_t state;
    apr_uint32_t failures;
    apr_time_t open_until;
    apr_time_t probe_until;
} rec;

struct lenz_breaker {
    const char *key;
    lenz_breaker_conf conf;
    lenz_kv kv;
    int have_kv;
    /* Process-local fallback store. */
    unsigned char local[REC_LEN];
    apr_size_t local_len;
#if APR_HAS_THREADS
    apr_thread_mutex_t *mutex;
#endif
};

/* Big-endian, so hosts of any byte order can share a memcache. */
static void put32(unsigned char *b, apr_uint32_t v)
{
    b[0] = (unsigned char)(v >> 24); b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);  b[3] = (unsigned char)v;
}

static apr_uint32_t get32(const unsigned char *b)
{
    return (apr_uint32_t)b[0] << 24 | (apr_uint32_t)b[1] << 16 | (apr_uint32_t)b[2] << 8 | b[3];
}

static void put64(unsigned char *b, apr_uint64_t v)
{
    put32(b, (apr_uint32_t)(v >> 32));
    put32(b + 4, (apr_uint32_t)v);
}

static apr_uint64_t get64(const unsigned char *b)
{
    return (apr_uint64_t)get32(b) << 32 | get32(b + 4);
}

static void lock(lenz_breaker *b)
{
    if (b->have_kv) {
        if (b->kv.lock)
            b->kv.lock(b->kv.baton);
    }
#if APR_HAS_THREADS
    else if (b->mutex) {
        apr_thread_mutex_lock(b->mutex);
    }
#endif
}

static void unlock(lenz_breaker *b)
{
    if (b->have_kv) {
        if (b->kv.unlock)
            b->kv.unlock(b->kv.baton);
    }
#if APR_HAS_THREADS
    else if (b->mutex) {
        apr_thread_mutex_unlock(b->mutex);
    }
#endif
}

static void load(lenz_breaker *b, apr_pool_t *p, rec *r)
{
    unsigned char buf[REC_LEN];
    apr_size_t len = sizeof(buf);
    apr_status_t rv;

    memset(r, 0, sizeof(*r));
    if (b->have_kv) {
        rv = b->kv.get(b->kv.baton, b->key, buf, &len, p);
    }
    else {
        rv = b->local_len ? APR_SUCCESS : APR_NOTFOUND;
        memcpy(buf, b->local, sizeof(buf));
        len = b->local_len;
    }
    /* Absent, unreadable or foreign: start closed. */
    if (rv != APR_SUCCESS || len != REC_LEN || get32(buf) != REC_VERSION)
        return;
    r->state = get32(buf + 4);
    r->failures = get32(buf + 8);
    r->open_until = (apr_time_t)get64(buf + 12);
    r->probe_until = (apr_time_t)get64(buf + 20);
    if (r->state > LENZ_BREAKER_HALF_OPEN)
        memset(r, 0, sizeof(*r));
}

static void save(lenz_breaker *b, apr_pool_t *p, const rec *r, apr_time_t now)
{
    unsigned char buf[REC_LEN];
    put32(buf, REC_VERSION);
    put32(buf + 4, r->state);
    put32(buf + 8, r->failures);
    put64(buf + 12, (apr_uint64_t)r->open_until);
    put64(buf + 20, (apr_uint64_t)r->probe_until);
    if (b->have_kv) {
        /* Keep the record a while after the last event; absent = closed. */
        b->kv.put(b->kv.baton, b->key, buf, sizeof(buf),
                  now + b->conf.cooldown + b->conf.probe_timeout + apr_time_from_sec(600), p);
    }
    else {
        memcpy(b->local, buf, sizeof(buf));
        b->local_len = sizeof(buf);
    }
}

lenz_breaker *lenz_breaker_make(apr_pool_t *p, const char *name,
                                const lenz_breaker_conf *conf, const lenz_kv *kv)
{
    lenz_breaker *b = apr_pcalloc(p, sizeof(*b));
    b->key = apr_pstrcat(p, "lenz:breaker:", name, NULL);
    if (conf)
        b->conf = *conf;
    if (b->conf.threshold <= 0)
        b->conf.threshold = 5;
    if (b->conf.cooldown <= 0)
        b->conf.cooldown = apr_time_from_sec(30);
    if (b->conf.probe_timeout <= 0)
        b->conf.probe_timeout = apr_time_from_sec(30);
#if APR_HAS_THREADS
    apr_thread_mutex_create(&b->mutex, APR_THREAD_MUTEX_DEFAULT, p);
#endif
    lenz_breaker_set_store(b, kv);
    return b;
}

void lenz_breaker_set_store(lenz_breaker *b, const lenz_kv *kv)
{
    if (kv) {
        b->kv = *kv;
        b->have_kv = 1;
    }
    else {
        b->have_kv = 0;
    }
}

static int secs_until(apr_time_t t, apr_time_t now)
{
    apr_time_t d = t - now;
    int s = (int)((d + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);
    return s < 1 ? 1 : s;
}

apr_status_t lenz_breaker_allow(lenz_breaker *b, apr_time_t now, apr_pool_t *p,
                                int *retry_after)
{
    rec r;
    apr_status_t rv = APR_SUCCESS;

    lock(b);
    load(b, p, &r);
    switch (r.state) {
    case LENZ_BREAKER_OPEN:
        if (now < r.open_until) {
            *retry_after = secs_until(r.open_until, now);
            rv = LENZ_EUNAVAIL;
            break;
        }
        /* Cool-down over: this caller probes. */
        r.state = LENZ_BREAKER_HALF_OPEN;
        r.probe_until = now + b->conf.probe_timeout;
        save(b, p, &r, now);
        break;
    case LENZ_BREAKER_HALF_OPEN:
        if (now < r.probe_until) {
            /* Someone else's probe is under way. */
            *retry_after = 1;
            rv = LENZ_EUNAVAIL;
            break;
        }
        /* That probe never reported: probe again. */
        r.probe_until = now + b->conf.probe_timeout;
        save(b, p, &r, now);
        break;
    default:
        break;
    }
    unlock(b);
    return rv;
}

void lenz_breaker_report(lenz_breaker *b, int ok, apr_time_t now, apr_pool_t *p)
{
    rec r;
    lock(b);
    load(b, p, &r);
    if (ok) {
        if (r.state != LENZ_BREAKER_CLOSED || r.failures) {
            memset(&r, 0, sizeof(r));
            save(b, p, &r, now);
        }
    }
    else {
        r.failures++;
        if (r.state == LENZ_BREAKER_HALF_OPEN || (int)r.failures >= b->conf.threshold) {
            r.state = LENZ_BREAKER_OPEN;
            r.open_until = now + b->conf.cooldown;
            r.probe_until = 0;
        }
        save(b, p, &r, now);
    }
    unlock(b);
}

lenz_breaker_state lenz_breaker_state_of(lenz_breaker *b, apr_time_t now, apr_pool_t *p)
{
    rec r;
    lock(b);
    load(b, p, &r);
    unlock(b);
    return (lenz_breaker_state)r.state;
}

const char *lenz_breaker_name(const lenz_breaker *b)
{
    return b->key + 13;
}
