/* breaker.h - a circuit breaker whose state lives in a store shared by
 * every process (and host) that talks to the same backend, so when the
 * backend is down they all fail fast, and one probe at a time finds out
 * when it is back.
 *
 *   closed    calls go ahead; `threshold` failures in a row open it
 *   open      calls fail at once (LENZ_EUNAVAIL + Retry-After) until the
 *             cool-down has passed
 *   half-open one caller probes; success closes, failure re-opens
 *
 * The store is a small key-value interface (the httpd glue backs it with
 * an socache provider, lenzctl with process memory).
 */
#ifndef LENZ_BREAKER_H
#define LENZ_BREAKER_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct lenz_kv {
    /* buf has *len bytes of room; on success *len is the value's length.
     * APR_NOTFOUND when the key is absent or expired. */
    apr_status_t (*get)(void *baton, const char *key, unsigned char *buf, apr_size_t *len,
                        apr_pool_t *p);
    apr_status_t (*put)(void *baton, const char *key, const unsigned char *buf,
                        apr_size_t len, apr_time_t expiry, apr_pool_t *p);
    /* Optional: serialise read-modify-write (NULL when the store does). */
    void (*lock)(void *baton);
    void (*unlock)(void *baton);
    void *baton;
} lenz_kv;

typedef struct lenz_breaker_conf {
    int threshold;                      /* failures in a row that open it (default 5) */
    apr_interval_time_t cooldown;       /* open for this long (default 30 s) */
    apr_interval_time_t probe_timeout;  /* a half-open probe may take this long (default 30 s) */
} lenz_breaker_conf;

typedef enum {
    LENZ_BREAKER_CLOSED = 0,
    LENZ_BREAKER_OPEN = 1,
    LENZ_BREAKER_HALF_OPEN = 2
} lenz_breaker_state;

typedef struct lenz_breaker lenz_breaker;

/* name identifies the backend in the store (e.g. the S3 endpoint + bucket).
 * kv NULL: state kept in this process only. */
lenz_breaker *lenz_breaker_make(apr_pool_t *p, const char *name,
                                const lenz_breaker_conf *conf, const lenz_kv *kv);
void lenz_breaker_set_store(lenz_breaker *b, const lenz_kv *kv);

/* APR_SUCCESS: go ahead (possibly as the half-open probe).  LENZ_EUNAVAIL:
 * do not call; *retry_after says in how many seconds to try again. */
apr_status_t lenz_breaker_allow(lenz_breaker *b, apr_time_t now, apr_pool_t *p,
                                int *retry_after);
/* Tell the breaker how the call went (ok: the backend answered sanely). */
void lenz_breaker_report(lenz_breaker *b, int ok, apr_time_t now, apr_pool_t *p);

lenz_breaker_state lenz_breaker_state_of(lenz_breaker *b, apr_time_t now, apr_pool_t *p);
const char *lenz_breaker_name(const lenz_breaker *b);

#endif
