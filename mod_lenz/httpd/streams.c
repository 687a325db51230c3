/* streams.c - the cap on long-lived streams (the live notification
 * stream, and the rooms collaboration adds): how many may be open at once
 * on this host, and per member.
 *
 * Each open stream holds a worker thread for its life (until the
 * connections issue parks them), so without a cap enough open pages take
 * every worker and the site stops answering anything else.  The counts
 * live in one shared memory segment per server generation, as the
 * metrics' do (metrics.c): one slot per child process, claimed at
 * child_init by the process's pid, holding its streams in total and per
 * member (by a hash of the member's id into BUCKETS counters).  A new
 * stream adds itself to its process's slot, then sums every live slot:
 * past either cap it takes itself back out and is refused.  Two streams
 * racing for the last place may both be refused; neither cap is ever
 * exceeded.  A process that dies leaves its slot's counts behind only
 * until the sum sees it is gone (kill(pid, 0)) and a new child claims the
 * slot and zeroes it.  (Hand-made shared memory rather than a socache
 * provider: a counter that must be given back by the process that took
 * it, and forgotten when that process dies, is not a cache entry.)
 */
#include <apr_shm.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "lenz.h"
#include "streams.h"
#include "directives.h"

#define BUCKETS 1024            /* per-member counters per slot (a hash of the id) */

typedef struct {
    apr_uint32_t pid;           /* the process holding the slot; 0: free */
    apr_uint32_t total;
    apr_uint32_t member[BUCKETS];
} slot;

/* Set in post_config (the parent), inherited by the children. */
static slot *slots;
static int nslots, max_host, max_member;
/* This child's slot. */
static slot *mine;

static int alive(apr_uint32_t pid)
{
    return pid != 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static int mpm_query(int what)
{
    int v = 0;
    return ap_mpm_query(what, &v) == APR_SUCCESS ? v : 0;
}

apr_status_t lenz_streams_post_config(apr_pool_t *pconf, server_rec *s, int host_cfg, int member_cfg)
{
    apr_shm_t *shm;
    apr_status_t rv;
    int threads = mpm_query(AP_MPMQ_MAX_THREADS), daemons = mpm_query(AP_MPMQ_MAX_DAEMONS);
    int workers = (daemons > 0 ? daemons : 1) * (threads > 0 ? threads : 1);

    /* Old and new children of a graceful restart never share a segment
     * (one per generation), but each generation may have as many
     * processes as the hard limit. */
    nslots = mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS);
    if (nslots < 1)
        nslots = 1;
    nslots *= 2;
    max_host = host_cfg > 0 ? host_cfg : (workers / 4 > 0 ? workers / 4 : 1);
    max_member = member_cfg > 0 ? member_cfg : LENZ_STREAMS_PER_MEMBER_DEFAULT;
    rv = apr_shm_create(&shm, sizeof(slot) * (apr_size_t)nslots, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     LENZLOGNO(0030) "cannot create the shared memory that counts open streams");
        slots = NULL;
        return rv;
    }
    slots = apr_shm_baseaddr_get(shm);
    memset(slots, 0, sizeof(slot) * (apr_size_t)nslots);
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_NOTICE, 0, s,
                 LENZLOGNO(0031) "live streams: at most %d open at once on this host (%s%d "
                 "workers), %d per member; past either, 503 with Retry-After",
                 max_host, host_cfg > 0 ? LENZ_D_EVENT_STREAMS "; " : "a quarter of ", workers,
                 max_member);
    /* Which mode the long-lived areas run in (issue 17): one worker thread
     * each, under every MPM, since this httpd cannot call a suspended
     * request back (notify/stream.c); over HTTP/2 the connection is
     * mod_http2's and the stream is one of its workers. */
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_NOTICE, 0, s,
                 LENZLOGNO(0032) "connections: MPM %s (%s); lenz-events streams and lenz-download "
                 "transfers hold a worker thread each while open (threaded mode: no suspend and resume "
                 "in this httpd); the other areas answer and return their thread",
                 ap_show_mpm(), mpm_query(AP_MPMQ_IS_ASYNC) ? "asynchronous" : "a thread per connection");
    return APR_SUCCESS;
}

void lenz_streams_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_uint32_t me = (apr_uint32_t)getpid();
    int i;
    mine = NULL;
    for (i = 0; slots && i < nslots && !mine; i++) {
        apr_uint32_t held = apr_atomic_read32(&slots[i].pid);
        if ((held == 0 || !alive(held)) && apr_atomic_cas32(&slots[i].pid, me, held) == held) {
            mine = &slots[i];
            apr_atomic_set32(&mine->total, 0);
            memset(mine->member, 0, sizeof(mine->member));
        }
    }
    if (slots && !mine)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     LENZLOGNO(0032) "no free slot to count this process's streams in: "
                     "its streams are not capped");
}

static apr_uint32_t bucket_of(const char *member)
{
    apr_uint32_t h = 2166136261u;           /* FNV-1a */
    for (; member && *member; member++)
        h = (h ^ (unsigned char)*member) * 16777619u;
    return h % BUCKETS;
}

typedef struct {
    slot *at;
    apr_uint32_t bucket;
} held;

static apr_status_t give_back(void *data)
{
    held *h = data;
    apr_atomic_dec32(&h->at->member[h->bucket]);
    apr_atomic_dec32(&h->at->total);
    return APR_SUCCESS;
}

lenz_stream_verdict lenz_streams_admit(request_rec *r, const char *member)
{
    held *h;
    apr_uint32_t b = bucket_of(member), total = 0, same = 0;
    int i;

    if (!mine)
        return LENZ_STREAM_OK;          /* not counted (see child_init) */
    apr_atomic_inc32(&mine->total);
    apr_atomic_inc32(&mine->member[b]);
    for (i = 0; i < nslots; i++) {
        slot *sl = &slots[i];
        apr_uint32_t t = apr_atomic_read32(&sl->total);
        if (t == 0 || (sl != mine && !alive(apr_atomic_read32(&sl->pid))))
            continue;
        total += t;
        same += apr_atomic_read32(&sl->member[b]);
    }
    if (total > (apr_uint32_t)max_host || same > (apr_uint32_t)max_member) {
        apr_atomic_dec32(&mine->member[b]);
        apr_atomic_dec32(&mine->total);
        return total > (apr_uint32_t)max_host ? LENZ_STREAM_HOST_FULL : LENZ_STREAM_MEMBER_FULL;
    }
    h = apr_palloc(r->pool, sizeof(*h));
    h->at = mine;
    h->bucket = b;
    apr_pool_cleanup_register(r->pool, h, give_back, apr_pool_cleanup_null);
    return LENZ_STREAM_OK;
}

int lenz_streams_max_host(void)
{
    return max_host;
}

int lenz_streams_max_member(void)
{
    return max_member;
}
