/* netread.c - our socket bucket (see netread.h).  Its read follows APR's
 * socket bucket: the bucket turns into a heap bucket holding what was read
 * and a new socket bucket goes in after it; at EOF it turns into an empty
 * immortal bucket. */
#include "lenz.h"
#include <http_core.h>
#include <http_ssl.h>
#include <sys/socket.h>
#include "netread.h"
#include "config.h"

typedef struct {
    apr_socket_t *sock;
    apr_size_t max;             /* LenzNetworkRead */
    apr_size_t next;            /* the next read's size */
    int lowat;                  /* SO_RCVLOWAT as set now (1: the default) */
    int slow;                   /* a wait for it ran out: not again this request */
    request_rec *armed;         /* the request whose pool resets both */
} netsock;

/* How long a read waits for SO_RCVLOWAT bytes before it reads what comes:
 * a whole 256 KiB takes a client at loopback or LAN rates a millisecond;
 * one that is slower is read as it sends, so the wait never runs into the
 * Timeout or mod_reqtimeout's minimum rate (256 KiB at 20 KB/s is 13 s). */
#define PATIENCE apr_time_from_msec(100)

static void set_lowat(netsock *ns, int want);

static apr_bucket *net_bucket_create(netsock *ns, apr_bucket_alloc_t *list);

static apr_status_t net_read(apr_bucket *a, const char **str, apr_size_t *len,
                             apr_read_type_e block)
{
    netsock *ns = a->data;
    apr_interval_time_t timeout = 0;
    apr_size_t size = ns->next;
    apr_status_t rv;
    char *buf;

    if (block == APR_NONBLOCK_READ) {
        apr_socket_timeout_get(ns->sock, &timeout);
        apr_socket_timeout_set(ns->sock, 0);
    }
    *str = NULL;
    *len = size;
    buf = apr_bucket_alloc(size, a->list);
    if (block == APR_BLOCK_READ && ns->lowat > 1) {
        apr_socket_timeout_get(ns->sock, &timeout);
        if (timeout < 0 || timeout > PATIENCE) {
            apr_socket_timeout_set(ns->sock, PATIENCE);
            rv = apr_socket_recv(ns->sock, buf, len);
            apr_socket_timeout_set(ns->sock, timeout);
            if (!APR_STATUS_IS_TIMEUP(rv))
                goto got;
        }
        /* too slow for the wait (or too little time left to try it) */
        set_lowat(ns, 1);
        ns->slow = 1;
        *len = size;
    }
    rv = apr_socket_recv(ns->sock, buf, len);
got:
    if (block == APR_NONBLOCK_READ)
        apr_socket_timeout_set(ns->sock, timeout);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        apr_bucket_free(buf);
        return rv;
    }
    if (*len > 0) {
        apr_bucket_heap *h;
        /* A full read: more is queued, read more next time.  A small one
         * (a request line, a slow client): back to httpd's size. */
        if (*len == size)
            ns->next = size * 2 < ns->max ? size * 2 : ns->max;
        else if (*len <= APR_BUCKET_BUFF_SIZE)
            ns->next = APR_BUCKET_BUFF_SIZE;
        a = apr_bucket_heap_make(a, buf, *len, apr_bucket_free);
        h = a->data;
        h->alloc_len = size;
        *str = buf;
        APR_BUCKET_INSERT_AFTER(a, net_bucket_create(ns, a->list));
    }
    else {
        apr_bucket_free(buf);
        a = apr_bucket_immortal_make(a, "", 0);
        *str = a->data;
    }
    return APR_SUCCESS;
}

static const apr_bucket_type_t net_bucket_type = {
    "LENZ_SOCKET", 5, APR_BUCKET_DATA,
    apr_bucket_destroy_noop,
    net_read,
    apr_bucket_setaside_notimpl,
    apr_bucket_split_notimpl,
    apr_bucket_copy_notimpl
};

static apr_bucket *net_bucket_create(netsock *ns, apr_bucket_alloc_t *list)
{
    apr_bucket *b = apr_bucket_alloc(sizeof(*b), list);
    APR_BUCKET_INIT(b);
    b->free = apr_bucket_free;
    b->list = list;
    b->type = &net_bucket_type;
    b->length = (apr_size_t)(-1);
    b->start = -1;
    b->data = ns;
    return b;
}

/* SO_RCVLOWAT: poll() reports the socket readable only once that many
 * bytes are queued (or at EOF or an error).  A non-blocking read still
 * takes whatever is there, so only waiting changes (bounded by PATIENCE in
 * net_read). */
static void set_lowat(netsock *ns, int want)
{
    apr_os_sock_t fd;
    if (want == ns->lowat || apr_os_sock_get(&fd, ns->sock) != APR_SUCCESS)
        return;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof(want)) == 0)
        ns->lowat = want;
}

static apr_status_t lowat_reset(void *data)
{
    netsock *ns = data;
    set_lowat(ns, 1);
    ns->slow = 0;
    ns->armed = NULL;
    return APR_SUCCESS;
}

void lenz_net_expect(request_rec *r, apr_off_t n)
{
    netsock *ns = ap_get_module_config(r->connection->conn_config, &lenz_module);
    apr_off_t want = n;

    /* Not our socket (an HTTP/2 stream), or one whose bytes are not the
     * body's (TLS: a record read in part would leave fewer bytes to come
     * than the body has left, and the wait would run into the timeout). */
    if (!ns || r->connection->master || ap_ssl_conn_is_ssl(r->connection))
        return;
    if (ns->slow && n > 0)
        return;                 /* this client is read as it sends */
    if (want > (apr_off_t)ns->max)
        want = (apr_off_t)ns->max;
    if (want < 1)
        want = 1;
    if (want > 1 && ns->armed != r) {
        /* back to 1 before the next request's headers are read */
        apr_pool_cleanup_register(r->pool, ns, lowat_reset, apr_pool_cleanup_null);
        ns->armed = r;
    }
    set_lowat(ns, (int)want);
    /* No need to grow the reads from 8000 bytes up: that much is coming. */
    if ((apr_size_t)want > ns->next)
        ns->next = (apr_size_t)want;
}

apr_status_t lenz_net_insert(conn_rec *c, apr_bucket_brigade *bb, apr_socket_t *sock)
{
    const lenz_srv_cfg *cfg = lenz_srv(c->base_server);
    apr_off_t max;
    netsock *ns;

    if (!cfg || !cfg->enabled || (max = lenz_cfg_net_read(cfg)) == 0)
        return AP_DECLINED;
    ns = apr_palloc(c->pool, sizeof(*ns));
    ns->sock = sock;
    ns->max = (apr_size_t)max;
    ns->next = APR_BUCKET_BUFF_SIZE;
    ns->lowat = 1;
    ap_set_module_config(c->conn_config, &lenz_module, ns);
    APR_BRIGADE_INSERT_TAIL(bb, net_bucket_create(ns, c->bucket_alloc));
    return APR_SUCCESS;
}
