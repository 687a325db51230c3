/* health.c - the host's last health probe (lenz-status's /health), kept
 * in the shared store per machine and virtual host (per process without
 * one), so /health answers from it and the admin console shows it
 * (health.h). */
#include <apr_strings.h>
#include <pthread.h>
#include <apr_network_io.h>

#include "lenz.h"
#include "health.h"
#include "shared.h"

#define KEEP  apr_time_from_sec(60)    /* kept this long for answers while a probe runs */
#define CLAIM apr_time_from_sec(10)    /* a probe's claim; a probe that died frees it then */

/* Without a shared store: this process's own. */
static lenz_health_result local_result;
static apr_time_t local_claim;
static pthread_mutex_t local_mtx = PTHREAD_MUTEX_INITIALIZER;

static void put_time(unsigned char *buf, apr_time_t t)
{
    int i;
    for (i = 0; i < 8; i++)
        buf[i] = (unsigned char)((apr_uint64_t)t >> (56 - 8 * i));
}

static apr_time_t get_time(const unsigned char *buf)
{
    apr_uint64_t t = 0;
    int i;
    for (i = 0; i < 8; i++)
        t = t << 8 | buf[i];
    return (apr_time_t)t;
}

static void encode(const lenz_health_result *p, unsigned char buf[11])
{
    put_time(buf, p->at);
    buf[8] = p->db;
    buf[9] = p->s3;
    buf[10] = p->smtp;
}

static int decode(const unsigned char *buf, apr_size_t len, lenz_health_result *p)
{
    if (len != 11)
        return 0;
    p->at = get_time(buf);
    p->db = buf[8];
    p->s3 = buf[9];
    p->smtp = buf[10];
    return 1;
}

/* Per machine and per virtual host (each may reach other services): the
 * machine's name, and where the vhost is defined. */
static const char *key_of(request_rec *r, const char *what)
{
    static char machine[APRMAXHOSTLEN + 1];
    if (!machine[0] && apr_gethostname(machine, sizeof(machine) - 1, r->pool) != APR_SUCCESS)
        apr_cpystrn(machine, "?", sizeof(machine));
    return apr_psprintf(r->pool, "lenz-health:%s:%s:%s:%s:%u", what, machine, r->server->server_hostname,
                        r->server->defn_name ? r->server->defn_name : "-", r->server->defn_line_number);
}

/* The last result (0 when there is none). */
int lenz_health_last(request_rec *r, lenz_health_result *p)
{
    const lenz_kv *kv = lenz_shared_kv();
    unsigned char buf[11];
    apr_size_t len = sizeof(buf);
    if (!kv) {
        pthread_mutex_lock(&local_mtx);
        *p = local_result;
        pthread_mutex_unlock(&local_mtx);
        return p->at != 0;
    }
    return kv->get(kv->baton, key_of(r, "result"), buf, &len, r->pool) == APR_SUCCESS && decode(buf, len, p);
}

/* Claims the next probe for this request; 0 when another holds it. */
/* The claim holds a time: held until then (0: released). */
int lenz_health_claim(request_rec *r, apr_time_t now)
{
    const lenz_kv *kv = lenz_shared_kv();
    unsigned char buf[8];
    apr_size_t len = sizeof(buf);
    const char *k;
    int mine;
    if (!kv) {
        pthread_mutex_lock(&local_mtx);
        mine = local_claim < now;
        if (mine)
            local_claim = now + CLAIM;
        pthread_mutex_unlock(&local_mtx);
        return mine;
    }
    k = key_of(r, "claim");
    if (kv->lock)
        kv->lock(kv->baton);
    /* A store without a lock (memcache) may let two probes through at
     * once: still at most a few a second, never one per hit. */
    mine = kv->get(kv->baton, k, buf, &len, r->pool) != APR_SUCCESS || len != 8 || get_time(buf) < now;
    if (mine) {
        put_time(buf, now + CLAIM);
        kv->put(kv->baton, k, buf, 8, now + CLAIM, r->pool);
    }
    if (kv->unlock)
        kv->unlock(kv->baton);
    return mine;
}

void lenz_health_store(request_rec *r, const lenz_health_result *p)
{
    const lenz_kv *kv = lenz_shared_kv();
    unsigned char buf[11];
    if (!kv) {
        pthread_mutex_lock(&local_mtx);
        local_result = *p;
        local_claim = 0;
        pthread_mutex_unlock(&local_mtx);
        return;
    }
    encode(p, buf);
    kv->put(kv->baton, key_of(r, "result"), buf, sizeof(buf), p->at + KEEP, r->pool);
    put_time(buf, 0);           /* released */
    kv->put(kv->baton, key_of(r, "claim"), buf, 8, p->at + CLAIM, r->pool);
}

