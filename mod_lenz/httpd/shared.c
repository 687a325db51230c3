/* shared.c - the socache-backed store behind breakers and (later) rate
 * limits and caches. */
#include <apr_strings.h>
#include <ap_provider.h>
#include <ap_socache.h>
#include <ap_mpm.h>
#include <util_mutex.h>

#include "lenz.h"
#include "shared.h"
#include "crypto.h"

#define MUTEX_TYPE "lenz-shared"

/* One store per configuration generation (re-made on every restart). */
static struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *inst;
    apr_global_mutex_t *mutex;
    server_rec *s;
    lenz_kv kv;
    int ready;
} store;

static apr_status_t forget(void *data)
{
    if (store.inst && store.provider && store.ready)
        store.provider->destroy(store.inst, store.s);
    memset(&store, 0, sizeof(store));
    return APR_SUCCESS;
}

void lenz_shared_pre_config(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

const char *lenz_shared_check(apr_pool_t *pconf, apr_pool_t *ptemp, const char *spec)
{
    const char *sep = strchr(spec, ':');
    const char *name = sep ? apr_pstrmemdup(ptemp, spec, sep - spec) : spec;
    const char *err;

    memset(&store, 0, sizeof(store));
    store.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                        AP_SOCACHE_PROVIDER_VERSION);
    if (!store.provider)
        return apr_psprintf(ptemp, "no socache provider '%s' (load mod_socache_%s)", name, name);
    err = store.provider->create(&store.inst, sep ? sep + 1 : NULL, ptemp, pconf);
    if (err)
        return apr_psprintf(ptemp, "socache '%s': %s", spec, err);
    apr_pool_cleanup_register(pconf, NULL, forget, apr_pool_cleanup_null);
    return NULL;
}

static void kv_lock(void *baton)
{
    if (store.mutex)
        apr_global_mutex_lock(store.mutex);
}

static void kv_unlock(void *baton)
{
    if (store.mutex)
        apr_global_mutex_unlock(store.mutex);
}

/* memcache keys hold at most 250 bytes, and mod_socache_memcache writes an
 * id in hex after its "lenz:" tag: an id over ~120 bytes was refused, with
 * no message, by every store and lookup -- a long e-mail address in a
 * sign-in counter's key escaped the brute-force limits on hosts sharing a
 * memcache (t/two_hosts.t).  Ids longer than MAX_ID go by their SHA-256. */
#define MAX_ID 96

static const char *id_of(const char *key, apr_pool_t *p)
{
    apr_size_t n = strlen(key);
    return n <= MAX_ID ? key : apr_pstrcat(p, "lenz:h:", lenz_sha256_hex(p, key, n), NULL);
}

static apr_status_t kv_get(void *baton, const char *key, unsigned char *buf,
                           apr_size_t *len, apr_pool_t *p)
{
    unsigned int n = (unsigned int)*len;
    apr_status_t rv;
    key = id_of(key, p);
    rv = store.provider->retrieve(store.inst, store.s, (const unsigned char *)key,
                                  (unsigned int)strlen(key), buf, &n, p);
    if (rv == APR_SUCCESS)
        *len = n;
    return rv;
}

static apr_status_t kv_put(void *baton, const char *key, const unsigned char *buf,
                           apr_size_t len, apr_time_t expiry, apr_pool_t *p)
{
    key = id_of(key, p);
    return store.provider->store(store.inst, store.s, (const unsigned char *)key,
                                 (unsigned int)strlen(key), expiry, (unsigned char *)buf,
                                 (unsigned int)len, p);
}

apr_status_t lenz_shared_post_config(apr_pool_t *pconf, server_rec *s)
{
    struct ap_socache_hints hints = { 64, 64, 600 };
    apr_status_t rv;

    if (!store.provider || !store.inst)
        return APR_SUCCESS;
    store.s = s;
    if (store.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&store.mutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         LENZLOGNO(0020) "cannot create the %s mutex", MUTEX_TYPE);
            return rv;
        }
    }
    rv = store.provider->init(store.inst, "lenz", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     LENZLOGNO(0021) "cannot initialise the shared cache (%s)", store.provider->name);
        return rv;
    }
    store.ready = 1;
    store.kv.get = kv_get;
    store.kv.put = kv_put;
    store.kv.lock = kv_lock;
    store.kv.unlock = kv_unlock;
    store.kv.baton = NULL;
    return APR_SUCCESS;
}

void lenz_shared_child_init(apr_pool_t *pchild, server_rec *s)
{
    if (store.mutex) {
        apr_status_t rv = apr_global_mutex_child_init(&store.mutex,
                                                      apr_global_mutex_lockfile(store.mutex), pchild);
        if (rv != APR_SUCCESS)
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         LENZLOGNO(0022) "cannot attach to the %s mutex", MUTEX_TYPE);
    }
}

const lenz_kv *lenz_shared_kv(void)
{
    return store.ready ? &store.kv : NULL;
}
