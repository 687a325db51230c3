/* http.c - the only file that calls libcurl. */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <curl/curl.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "http.h"
#include "err.h"

#define MAX_HEADER_BYTES (64 * 1024)
/* curl's receive buffer for streamed response bodies (S3 GetObject): the
 * default 16 KiB costs a recv() and a write callback per 16 KiB; 128 KiB
 * took a fifth off httpd's CPU per GiB downloaded (docs/bench.md).  curl
 * allocates it per transfer; glibc keeps such blocks in the worker
 * thread's arena, so a larger one shows as RSS of every thread. */
#define STREAM_RECV_BUFFER (128 * 1024)
#define STREAM_SEND_BUFFER (256 * 1024)

struct lenz_http {
    CURLSH *share;
#if APR_HAS_THREADS
    apr_thread_mutex_t *locks[CURL_LOCK_DATA_LAST];
    /* Each thread's easy handle, kept between transfers (see take_easy). */
    apr_threadkey_t *easy_key;
#endif
};

apr_status_t lenz_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? APR_SUCCESS : LENZ_ECRYPTO;
}

#if APR_HAS_THREADS
static void share_lock(CURL *e, curl_lock_data d, curl_lock_access a, void *u)
{
    lenz_http *h = u;
    if (d < CURL_LOCK_DATA_LAST && h->locks[d])
        apr_thread_mutex_lock(h->locks[d]);
}

static void share_unlock(CURL *e, curl_lock_data d, void *u)
{
    lenz_http *h = u;
    if (d < CURL_LOCK_DATA_LAST && h->locks[d])
        apr_thread_mutex_unlock(h->locks[d]);
}
#endif

/* A thread's easy handle: curl_easy_perform keeps its internal multi handle
 * (with a socketpair) and its buffers in the easy handle, so a handle made
 * and freed per transfer cost ~10 system calls and a few allocations of up
 * to 256 KiB each time.  One handle per thread, reset before each use, is
 * freed when the thread ends.  `busy` covers a transfer started from inside
 * another one's callback on the same thread: it gets a handle of its own. */
typedef struct {
    CURL *curl;
    int busy;
} easy_slot;

static void easy_destroy(void *data)
{
    easy_slot *e = data;
    if (e) {
        if (e->curl)
            curl_easy_cleanup(e->curl);
        free(e);
    }
}

static CURL *take_easy(lenz_http *h, easy_slot **slotp)
{
#if APR_HAS_THREADS
    easy_slot *e = NULL;
    *slotp = NULL;
    if (h->easy_key && apr_threadkey_private_get((void **)&e, h->easy_key) == APR_SUCCESS) {
        if (!e && (e = calloc(1, sizeof(*e))) != NULL
            && apr_threadkey_private_set(e, h->easy_key) != APR_SUCCESS) {
            free(e);
            e = NULL;
        }
        if (e && !e->busy) {
            if (e->curl)
                curl_easy_reset(e->curl);
            else
                e->curl = curl_easy_init();
            if (e->curl) {
                e->busy = 1;
                *slotp = e;
                return e->curl;
            }
        }
    }
#else
    *slotp = NULL;
#endif
    return curl_easy_init();
}

static void give_easy(CURL *c, easy_slot *e)
{
    if (e)
        e->busy = 0;    /* kept: reset before its next use */
    else
        curl_easy_cleanup(c);
}

#if APR_HAS_THREADS
static apr_status_t key_cleanup(void *data)
{
    apr_threadkey_private_delete(data);
    return APR_SUCCESS;
}

static apr_status_t own_easy_cleanup(void *data)
{
    lenz_http *h = data;
    easy_slot *e = NULL;
    if (apr_threadkey_private_get((void **)&e, h->easy_key) == APR_SUCCESS && e && !e->busy) {
        apr_threadkey_private_set(NULL, h->easy_key);
        easy_destroy(e);
    }
    return APR_SUCCESS;
}
#endif

static apr_status_t share_cleanup(void *data)
{
    curl_share_cleanup((CURLSH *)data);
    return APR_SUCCESS;
}

lenz_http *lenz_http_make(apr_pool_t *p)
{
    lenz_http *h = apr_pcalloc(p, sizeof(*h));
    h->share = curl_share_init();
    if (!h->share)
        return NULL;
#if APR_HAS_THREADS
    {
        int d;
        for (d = CURL_LOCK_DATA_SHARE; d < CURL_LOCK_DATA_LAST; d++)
            apr_thread_mutex_create(&h->locks[d], APR_THREAD_MUTEX_DEFAULT, p);
    }
    curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
#endif
#if APR_HAS_THREADS
    if (apr_threadkey_private_create(&h->easy_key, easy_destroy, p) != APR_SUCCESS)
        h->easy_key = NULL;
    else    /* runs last: a thread that ends later leaks its handle, never
             * frees it into a share that is gone */
        apr_pool_cleanup_register(p, h->easy_key, key_cleanup, apr_pool_cleanup_null);
#endif
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    /* The pool (not a cleanup of ours) owns the mutexes; the share goes
     * first because cleanups run in reverse order of registration. */
    apr_pool_cleanup_register(p, h->share, share_cleanup, apr_pool_cleanup_null);
#if APR_HAS_THREADS
    /* Runs before share_cleanup: the destroying thread's own handle goes
     * first, so the share is not left in use by it (a job runner destroys
     * its lenz_http on its own thread; other threads' handles went when
     * they ended). */
    if (h->easy_key)
        apr_pool_cleanup_register(p, h, own_easy_cleanup, apr_pool_cleanup_null);
#endif
    return h;
}

typedef struct xfer {
    apr_pool_t *pool;
    const lenz_http_req *req;
    lenz_http_resp *resp;
    CURL *curl;
    apr_size_t header_bytes;
    apr_status_t cb_error;          /* error from the caller's callbacks */
    /* collected body */
    char *buf;
    apr_size_t len, cap;
    apr_size_t max;
    const char *rbody;              /* buffer body cursor */
    apr_size_t rleft;
    /* stall timer: time of the last byte moved either way */
    apr_interval_time_t stall;
    apr_time_t last_move;
    curl_off_t last_dl, last_ul;
    int stalled;
} xfer;

static size_t on_header(char *data, size_t size, size_t n, void *u)
{
    xfer *x = u;
    size_t len = size * n;
    const char *colon, *v, *end;
    char *name;
    apr_size_t i;

    x->header_bytes += len;
    if (x->header_bytes > MAX_HEADER_BYTES)
        return 0;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new response (after 100-continue or a redirect): start over. */
        apr_table_clear(x->resp->headers);
        return len;
    }
    colon = memchr(data, ':', len);
    if (!colon)
        return len;
    name = apr_pstrmemdup(x->pool, data, colon - data);
    for (i = 0; name[i]; i++)
        name[i] = (char)tolower((unsigned char)name[i]);
    v = colon + 1;
    end = data + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    apr_table_add(x->resp->headers, name, apr_pstrmemdup(x->pool, v, end - v));
    return len;
}

static apr_status_t collect(xfer *x, const char *data, apr_size_t len)
{
    if (x->len + len > x->max)
        return LENZ_ETOOBIG;
    if (x->len + len + 1 > x->cap) {
        apr_size_t cap = x->cap ? x->cap : 1024;
        char *nb;
        while (cap < x->len + len + 1)
            cap *= 2;
        nb = apr_palloc(x->pool, cap);
        if (x->len)
            memcpy(nb, x->buf, x->len);
        x->buf = nb;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, data, len);
    x->len += len;
    x->buf[x->len] = '\0';
    return APR_SUCCESS;
}

static size_t on_body(char *data, size_t size, size_t n, void *u)
{
    xfer *x = u;
    size_t len = size * n;
    apr_status_t rv;
    int stream = x->req->writer != NULL;

    if (stream && x->req->writer_only_2xx) {
        long code = 0;
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
        stream = code >= 200 && code < 300;
    }
    rv = stream ? x->req->writer(x->req->writer_baton, data, len) : collect(x, data, len);
    if (rv != APR_SUCCESS) {
        x->cb_error = rv;
        return 0;   /* makes curl abort with CURLE_WRITE_ERROR */
    }
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *u)
{
    xfer *x = u;
    size_t want = size * n;
    if (x->req->reader) {
        apr_ssize_t got = x->req->reader(x->req->reader_baton, buf, want);
        if (got < 0) {
            x->cb_error = APR_ECONNABORTED;
            return CURL_READFUNC_ABORT;
        }
        /* Time spent waiting for our own source (a slow client) is not
         * the server's stall. */
        x->last_move = apr_time_now();
        return (size_t)got;
    }
    if (want > x->rleft)
        want = x->rleft;
    memcpy(buf, x->rbody, want);
    x->rbody += want;
    x->rleft -= want;
    return want;
}

/* The stall timeout: no byte moved either way for x->stall.  (curl's
 * LOW_SPEED_TIME averages the speed over its last ~5 s, so after a burst
 * it fires ~5 s late: a 2 s stall setting took 8 s.)  curl calls this
 * often while bytes flow and about once a second while they do not. */
static int on_progress(void *u, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    xfer *x = u;
    apr_time_t now = apr_time_now();
    if (dlnow != x->last_dl || ulnow != x->last_ul) {
        x->last_dl = dlnow;
        x->last_ul = ulnow;
        x->last_move = now;
    }
    else if (now - x->last_move >= x->stall) {
        x->stalled = 1;
        return 1;       /* CURLE_ABORTED_BY_CALLBACK */
    }
    return 0;
}

#define SETOPT(c, opt, val) do { \
        if (curl_easy_setopt((c), (opt), (val)) != CURLE_OK) { rv = LENZ_EFORMAT; goto done; } \
    } while (0)

static apr_status_t map_curl_error(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return LENZ_ETIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        return LENZ_EUNAVAIL;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return LENZ_EFORMAT;
    default:
        return LENZ_EUPSTREAM;
    }
}

apr_status_t lenz_http_perform(lenz_http *h, apr_pool_t *p,
                               const lenz_http_req *req, lenz_http_resp *resp)
{
    xfer x;
    CURL *c;
    CURLcode cc;
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE];
    apr_status_t rv = APR_SUCCESS;
    int i;
    int has_body = req->reader ? req->reader_len >= 0 : req->body != NULL;

    easy_slot *slot;

    memset(resp, 0, sizeof(*resp));
    resp->headers = apr_table_make(p, 16);
    memset(&x, 0, sizeof(x));
    x.pool = p;
    x.req = req;
    x.resp = resp;
    x.max = req->max_body ? req->max_body : 1024 * 1024;
    x.rbody = req->body;
    x.rleft = req->body_len;
    errbuf[0] = '\0';

    c = take_easy(h, &slot);
    if (!c)
        return APR_ENOMEM;
    x.curl = c;
    SETOPT(c, CURLOPT_URL, req->url);
    SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(c, CURLOPT_NOSIGNAL, 1L);
    SETOPT(c, CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(c, CURLOPT_SHARE, h->share);
    SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms ? req->connect_timeout_ms : 10000L);
    if (req->timeout_ms)
        SETOPT(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    x.stall = apr_time_from_sec(req->stall_seconds ? req->stall_seconds : 30L);
    x.last_move = apr_time_now();
    SETOPT(c, CURLOPT_NOPROGRESS, 0L);
    SETOPT(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    SETOPT(c, CURLOPT_XFERINFODATA, &x);
    SETOPT(c, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(c, CURLOPT_HEADERDATA, &x);
    SETOPT(c, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(c, CURLOPT_WRITEDATA, &x);
    SETOPT(c, CURLOPT_TCP_KEEPALIVE, 1L);

    if (req->head) {
        SETOPT(c, CURLOPT_NOBODY, 1L);
    }
    else if (has_body) {
        curl_off_t len = req->reader ? (curl_off_t)req->reader_len : (curl_off_t)req->body_len;
        SETOPT(c, CURLOPT_UPLOAD, 1L);
        SETOPT(c, CURLOPT_READFUNCTION, on_read);
        SETOPT(c, CURLOPT_READDATA, &x);
        SETOPT(c, CURLOPT_INFILESIZE_LARGE, len);
        /* A streamed body (an encrypted part) is produced straight into
         * curl's send buffer: a bigger one means fewer, larger sends. */
        if (req->reader)
            SETOPT(c, CURLOPT_UPLOAD_BUFFERSIZE, (long)STREAM_SEND_BUFFER);
    }
    if (req->writer)
        SETOPT(c, CURLOPT_BUFFERSIZE, (long)STREAM_RECV_BUFFER);
    SETOPT(c, CURLOPT_CUSTOMREQUEST, req->method);

    /* curl adds "Expect: 100-continue" to uploads; S3 servers handle it but
     * it costs a round trip, and a signed request must not grow headers. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (has_body && !req->head)
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding:");
    for (i = 0; req->headers && i < req->headers->nelts; i++)
        hdrs = curl_slist_append(hdrs, APR_ARRAY_IDX(req->headers, i, const char *));
    SETOPT(c, CURLOPT_HTTPHEADER, hdrs);

    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &resp->seconds);
    resp->body = x.buf;
    resp->body_len = x.len;
    if (cc != CURLE_OK) {
        resp->error = apr_pstrdup(p, errbuf[0] ? errbuf : curl_easy_strerror(cc));
        if (x.cb_error != APR_SUCCESS) {
            rv = x.cb_error;
        }
        else if (x.stalled) {
            rv = LENZ_ETIMEOUT;
            resp->error = apr_psprintf(p, "no data moved for %ld s (stall timeout)",
                                       (long)apr_time_sec(x.stall));
        }
        else {
            rv = map_curl_error(cc);
        }
    }

done:
    /* The handle keeps pointers to hdrs and errbuf until its next reset. */
    curl_slist_free_all(hdrs);
    give_easy(c, slot);
    return rv;
}

/* SMTP ------------------------------------------------------------------ */

/* Peer and host-name verification stay at libcurl's defaults (on); they
 * are never turned off here.  A CA file replaces the system store - the
 * bundle and the directory libcurl was built with - so a private CA named
 * by the operator is the only one trusted. */
static apr_status_t smtp_common(CURL *c, const char *url, const char *ca_file,
                                long timeout_ms, char *errbuf)
{
    if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK
        || curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK
        || curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK
        || curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK
        || curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) != CURLE_OK
        || curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK)
        return LENZ_EFORMAT;
    if (ca_file
        && (curl_easy_setopt(c, CURLOPT_CAINFO, ca_file) != CURLE_OK
            || curl_easy_setopt(c, CURLOPT_CAPATH, (char *)NULL) != CURLE_OK))
        return LENZ_EFORMAT;
    return APR_SUCCESS;
}

apr_status_t lenz_smtp_probe(lenz_http *h, apr_pool_t *p, const char *url,
                             const char *ca_file, long timeout_ms, const char **why)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = curl_easy_init();
    CURLcode cc;
    apr_status_t rv;

    if (!c)
        return APR_ENOMEM;
    rv = smtp_common(c, url, ca_file, timeout_ms ? timeout_ms : 5000L, errbuf);
    /* CONNECT_ONLY stops after the protocol's connect phase, which for
     * SMTP is the greeting and EHLO: exactly a liveness check. */
    if (rv == APR_SUCCESS && curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK)
        rv = LENZ_EFORMAT;
    if (rv == APR_SUCCESS) {
        cc = curl_easy_perform(c);
        if (cc != CURLE_OK) {
            rv = map_curl_error(cc);
            if (why)
                *why = apr_pstrdup(p, errbuf[0] ? errbuf : curl_easy_strerror(cc));
        }
    }
    curl_easy_cleanup(c);
    return rv;
}

typedef struct {
    const char *data;
    apr_size_t left;
} smtp_src;

static size_t smtp_read(char *buf, size_t size, size_t n, void *u)
{
    smtp_src *s = u;
    size_t want = size * n;
    if (want > s->left)
        want = s->left;
    memcpy(buf, s->data, want);
    s->data += want;
    s->left -= want;
    return want;
}

static long use_ssl(lenz_starttls t)
{
    switch (t) {
    case LENZ_STARTTLS_REQUIRED:
        return (long)CURLUSESSL_ALL;
    case LENZ_STARTTLS_NEVER:
        return (long)CURLUSESSL_NONE;
    default:
        return (long)CURLUSESSL_TRY;
    }
}

apr_status_t lenz_smtp_send(lenz_http *h, apr_pool_t *p, const lenz_smtp_msg *m,
                            long *code, const char **why)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *rcpt = NULL;
    smtp_src src = { m->data, m->data_len };
    CURL *c = curl_easy_init();
    CURLcode cc = CURLE_OK;
    apr_status_t rv;
    int i;

    if (!c)
        return APR_ENOMEM;
    rv = smtp_common(c, m->url, m->ca_file, m->timeout_ms ? m->timeout_ms : 30000L, errbuf);
    for (i = 0; m->rcpt && i < m->rcpt->nelts; i++)
        rcpt = curl_slist_append(rcpt, APR_ARRAY_IDX(m->rcpt, i, const char *));
    if (rv == APR_SUCCESS
        && (curl_easy_setopt(c, CURLOPT_MAIL_FROM, m->from) != CURLE_OK
            || curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt) != CURLE_OK
            || curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) != CURLE_OK
            || curl_easy_setopt(c, CURLOPT_READFUNCTION, smtp_read) != CURLE_OK
            || curl_easy_setopt(c, CURLOPT_READDATA, &src) != CURLE_OK
            || curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->data_len) != CURLE_OK
            || curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl(m->starttls)) != CURLE_OK))
        rv = LENZ_EFORMAT;
    if (rv == APR_SUCCESS && m->user
        && (curl_easy_setopt(c, CURLOPT_USERNAME, m->user) != CURLE_OK
            || curl_easy_setopt(c, CURLOPT_PASSWORD, m->password ? m->password : "") != CURLE_OK))
        rv = LENZ_EFORMAT;
    if (code)
        *code = 0;
    if (rv == APR_SUCCESS) {
        cc = curl_easy_perform(c);
        if (code)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
        if (cc != CURLE_OK) {
            rv = map_curl_error(cc);
            if (why)
                *why = apr_pstrdup(p, errbuf[0] ? errbuf : curl_easy_strerror(cc));
        }
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return rv;
}
