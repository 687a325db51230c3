/* The circuit breaker's state machine, over the process-local store and
 * over a kv store (as the httpd glue's socache), with a controlled clock;
 * and the S3 limits checked before calling S3. */
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include "tap.h"
#include "breaker.h"
#include "s3.h"
#include "err.h"

#define SEC(n) apr_time_from_sec(n)

typedef struct { apr_hash_t *h; apr_pool_t *p; int gets, puts, locks, unlocks; } store;

static apr_status_t kv_get(void *b, const char *key, unsigned char *buf, apr_size_t *len, apr_pool_t *p)
{
    store *s = b;
    const char *v = apr_hash_get(s->h, key, APR_HASH_KEY_STRING);
    s->gets++;
    if (!v) return APR_NOTFOUND;
    if ((apr_size_t)(unsigned char)v[0] > *len) return APR_ENOSPC;
    *len = (unsigned char)v[0];
    memcpy(buf, v + 1, *len);
    return APR_SUCCESS;
}

static apr_status_t kv_put(void *b, const char *key, const unsigned char *buf, apr_size_t len,
                           apr_time_t expiry, apr_pool_t *p)
{
    store *s = b;
    char *v = apr_palloc(s->p, len + 1);
    v[0] = (char)len;
    memcpy(v + 1, buf, len);
    apr_hash_set(s->h, apr_pstrdup(s->p, key), APR_HASH_KEY_STRING, v);
    s->puts++;
    return APR_SUCCESS;
}

static void kv_lock(void *b) { ((store *)b)->locks++; }
static void kv_unlock(void *b) { ((store *)b)->unlocks++; }

static void machine(apr_pool_t *p, const char *what, const lenz_kv *kv)
{
    lenz_breaker_conf conf = { 3, SEC(10), SEC(5) };
    lenz_breaker *b = lenz_breaker_make(p, "s3:test", &conf, kv);
    apr_time_t t = SEC(1000);
    int ra = 0;

    ok(lenz_breaker_allow(b, t, p, &ra) == APR_SUCCESS, "%s: closed at first", what);
    lenz_breaker_report(b, 0, t, p);
    lenz_breaker_report(b, 0, t, p);
    ok(lenz_breaker_state_of(b, t, p) == LENZ_BREAKER_CLOSED, "%s: 2 failures: still closed", what);
    lenz_breaker_report(b, 1, t, p);
    lenz_breaker_report(b, 0, t, p);
    lenz_breaker_report(b, 0, t, p);
    ok(lenz_breaker_state_of(b, t, p) == LENZ_BREAKER_CLOSED, "%s: a success resets the count", what);
    lenz_breaker_report(b, 0, t, p);
    ok(lenz_breaker_state_of(b, t, p) == LENZ_BREAKER_OPEN, "%s: 3 in a row: open", what);
    ok(lenz_breaker_allow(b, t + SEC(1), p, &ra) == LENZ_EUNAVAIL && ra == 9,
       "%s: open: calls refused, retry after 9 s (%d)", what, ra);
    ok(lenz_breaker_allow(b, t + SEC(10), p, &ra) == APR_SUCCESS, "%s: after the cool-down one probe goes", what);
    ok(lenz_breaker_state_of(b, t, p) == LENZ_BREAKER_HALF_OPEN, "%s: half-open", what);
    ok(lenz_breaker_allow(b, t + SEC(11), p, &ra) == LENZ_EUNAVAIL && ra == 1,
       "%s: a second caller waits for the probe", what);
    lenz_breaker_report(b, 0, t + SEC(11), p);
    ok(lenz_breaker_state_of(b, t, p) == LENZ_BREAKER_OPEN, "%s: a failed probe re-opens", what);
    ok(lenz_breaker_allow(b, t + SEC(12), p, &ra) == LENZ_EUNAVAIL && ra == 9,
       "%s: for a whole new cool-down", what);
    ok(lenz_breaker_allow(b, t + SEC(21), p, &ra) == APR_SUCCESS, "%s: next probe", what);
    ok(lenz_breaker_allow(b, t + SEC(27), p, &ra) == APR_SUCCESS,
       "%s: a probe that never reported is replaced after its timeout", what);
    lenz_breaker_report(b, 1, t + SEC(27), p);
    ok(lenz_breaker_state_of(b, t, p) == LENZ_BREAKER_CLOSED, "%s: a good probe closes", what);
    ok(lenz_breaker_allow(b, t + SEC(27), p, &ra) == APR_SUCCESS, "%s: calls flow again", what);
}

int main(void)
{
    apr_pool_t *p;
    store st;
    lenz_kv kv;
    const char *why;

    apr_initialize();
    apr_pool_create(&p, NULL);

    machine(p, "local", NULL);

    memset(&st, 0, sizeof(st));
    st.h = apr_hash_make(p);
    st.p = p;
    kv.get = kv_get;
    kv.put = kv_put;
    kv.lock = kv_lock;
    kv.unlock = kv_unlock;
    kv.baton = &st;
    machine(p, "kv", &kv);
    ok(st.gets > 0 && st.puts > 0, "state went through the store (%d gets, %d puts)", st.gets, st.puts);
    ok(st.locks == st.unlocks && st.locks > 0, "every lock was released");
    {
        /* Two breakers (two processes) over one store share the state. */
        lenz_breaker_conf conf = { 1, SEC(10), SEC(5) };
        lenz_breaker *a = lenz_breaker_make(p, "shared", &conf, &kv);
        lenz_breaker *b = lenz_breaker_make(p, "shared", &conf, &kv);
        int ra;
        lenz_breaker_report(a, 0, SEC(50), p);
        ok(lenz_breaker_allow(b, SEC(51), p, &ra) == LENZ_EUNAVAIL, "a failure seen by one process opens it for another");
        /* A garbage record reads as closed. */
        apr_hash_set(st.h, "lenz:breaker:shared", APR_HASH_KEY_STRING, "\x03xyz");
        ok(lenz_breaker_allow(b, SEC(52), p, &ra) == APR_SUCCESS, "an unreadable record counts as closed");
    }

    /* S3's limits.  (The call runs before ok(): argument order is unspecified.) */
#define PLAN(size, part, want, ...) do { apr_status_t rv_ = lenz_s3_check_plan((size), (part), &why); \
        ok(rv_ == (want), __VA_ARGS__); } while (0)
    PLAN(0, LENZ_S3_MIN_PART, APR_SUCCESS, "empty object: one part");
    PLAN(100, 100, APR_SUCCESS, "a small single part");
    PLAN(LENZ_S3_MIN_PART * 2, LENZ_S3_MIN_PART, APR_SUCCESS, "two 5 MiB parts");
    PLAN(LENZ_S3_MIN_PART * 2, LENZ_S3_MIN_PART - 1, APR_EINVAL, "parts under 5 MiB refused: %s", why);
    PLAN(LENZ_S3_MAX_OBJECT + 1, LENZ_S3_MAX_PART, LENZ_ETOOBIG, "over 5 TiB refused: %s", why);
    PLAN(LENZ_S3_MIN_PART * 10001, LENZ_S3_MIN_PART, LENZ_ETOOBIG, "over 10000 parts refused: %s", why);
    PLAN(LENZ_S3_MIN_PART, LENZ_S3_MAX_PART + 1, APR_EINVAL, "parts over 5 GiB refused: %s", why);
    PLAN(LENZ_S3_MAX_OBJECT, LENZ_S3_MAX_OBJECT / 10000 + 1, APR_SUCCESS, "5 TiB in 10000 parts is fine");

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
