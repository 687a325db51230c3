/* h_notify.c - a member's notifications: /api/v1/notifications (list,
 * mark read) and lenz-events, the live stream of them as Server-Sent
 * Events (mounted at /events: GET /events/stream).
 *
 * A stream holds one worker thread for its life, so streams are capped per
 * host and per member (LenzEventStreams, httpd/streams.c) below the
 * workers: past the cap a stream is answered 503 with Retry-After and
 * ordinary requests keep their threads (docs/jobs.md, "Live
 * notifications").  Per
 * stream memory is bounded: each round's query and output live in a
 * subpool cleared before the next round; at most PAGE rows per round.
 */
#include <apr_strings.h>
#include <ap_mpm.h>
#include <apr_poll.h>
#include <http_core.h>
#include <sys/socket.h>

#include "httpd/lenz.h"
#include "area.h"
#include "notify.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/dbd.h"
#include "httpd/problem.h"
#include "httpd/metrics.h"
#include "httpd/streams.h"
#include "httpd/directives.h"

#define PAGE        50
#define HEARTBEAT   apr_time_from_sec(15)
#define POLL        apr_time_from_sec(5)     /* without runners to wake us */
#define STREAM_MAX  apr_time_from_sec(3600)  /* then the client reconnects */
#define FULL_RETRY  30                       /* Retry-After when the cap is reached */

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2400), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "try again shortly");
}

static apr_int64_t id_arg(const char *s)
{
    char *end;
    apr_int64_t v;
    if (!s || !*s)
        return 0;
    v = apr_strtoi64(s, &end, 10);
    return (*end || v < 0) ? -1 : v;
}

static void row_json(lenz_json *o, const char **row, apr_pool_t *p)
{
    lenz_json *body = lenz_json_parse(p, row[3], strlen(row[3]), 0, NULL);
    lenz_json_set_int(o, "id", apr_atoi64(row[0]));
    lenz_json_set_str(o, "type", row[1]);
    lenz_json_set_str(o, "title", row[2]);
    if (body)
        lenz_json_set_copy(o, "body", body);
    lenz_json_set_str(o, "created_at", row[4]);
    lenz_json_set_bool(o, "read", row[5][0] == 't');
}

static int list(request_rec *r, lenz_req *lr)
{
    apr_int64_t after = id_arg(lenz_query(r, "after"));
    const char *args[5];
    lenz_json *out, *arr;
    lenz_rows rows, unread;
    lenz_db *db;
    int i;

    if (after < 0)
        return lenz_field_bad(r, "after", "a notification id"), OK;
    if (!(db = lenz_db_open(r)))
        return unavailable(r);
    args[0] = lr->user->id;
    args[1] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, after);
    args[2] = lenz_query(r, "unread") ? "1" : NULL;
    args[3] = NULL;             /* no live changes in the list */
    args[4] = "100";
    if (lenz_db_select(db, "lenz_notify_after", &rows, 5, args) != APR_SUCCESS
        || lenz_db_select(db, "lenz_notify_unread", &unread, 1, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_int(out, "unread", apr_atoi64(unread.rows[0][0]));
    arr = lenz_json_obj_add_array(out, "notifications");
    for (i = 0; i < rows.nrows; i++)
        row_json(lenz_json_arr_add_object(arr), rows.rows[i], r->pool);
    return lenz_send_json(r, HTTP_OK, out);
}

static int mark(request_rec *r, lenz_req *lr, const char *label, int nargs, const char *id)
{
    const char *args[2] = { lr->user->id, id };
    lenz_db *db = lenz_db_open(r);
    int n = 0;
    if (!db)
        return unavailable(r);
    if (lenz_db_exec(db, label, &n, nargs, args) != APR_SUCCESS) {
        lenz_db_close(db);
        return unavailable(r);
    }
    lenz_db_close(db);
    if (nargs == 2 && n != 1)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2401), HTTP_NOT_FOUND, "not-found", "Not found",
                         "no such unread notification of yours");
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int read_one(request_rec *r, lenz_req *lr)
{
    if (id_arg(lenz_param(lr, "id")) <= 0)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2401), HTTP_NOT_FOUND, "not-found", "Not found",
                         "no such notification");
    return mark(r, lr, "lenz_notify_read", 2, lenz_param(lr, "id"));
}

static int read_all(request_rec *r, lenz_req *lr)
{
    return mark(r, lr, "lenz_notify_read_all", 1, NULL);
}

/* Server-Sent Events ---------------------------------------------------------- */

static apr_status_t flush(request_rec *r, apr_bucket_brigade *bb)
{
    apr_status_t rv;
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(r->connection->bucket_alloc));
    rv = ap_pass_brigade(r->output_filters, bb);
    apr_brigade_cleanup(bb);
    return rv == APR_SUCCESS && !r->connection->aborted ? APR_SUCCESS : APR_ECONNABORTED;
}

/* A graceful restart or stop waits for running requests: a stream ends
 * then, and its client reconnects (with Last-Event-ID) to the new
 * generation. */
static int stopping(void)
{
    int state = AP_MPMQ_RUNNING;
    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS && state == AP_MPMQ_STOPPING;
}

/* Sends what is new since *last; returns the client's state. */
static apr_status_t send_new(request_rec *r, lenz_req *lr, apr_pool_t *p, apr_bucket_brigade *bb,
                             apr_int64_t *last, int *more)
{
    const char *args[5];
    lenz_rows rows;
    lenz_db *db = lenz_db_open_in(r, p);
    int i;

    *more = 0;
    if (!db)
        return APR_SUCCESS;         /* logged; try again next round */
    args[0] = lr->user->id;
    args[1] = apr_psprintf(p, "%" APR_INT64_T_FMT, *last);
    args[2] = NULL;
    args[3] = "1";              /* live changes too */
    args[4] = apr_itoa(p, PAGE);
    if (lenz_db_select(db, "lenz_notify_after", &rows, 5, args) != APR_SUCCESS)
        rows.nrows = 0;
    lenz_db_close(db);
    for (i = 0; i < rows.nrows; i++) {
        lenz_json *o = lenz_json_new_object(p);
        row_json(o, rows.rows[i], p);
        /* A live change: what changed, where (no notice to show). */
        if (rows.rows[i][6][0] == 't')
            apr_brigade_printf(bb, NULL, NULL, "id: %s\nevent: storage\ndata: %s\n\n",
                               rows.rows[i][0], lenz_json_dump(p, lenz_json_get(o, "body")));
        else
            apr_brigade_printf(bb, NULL, NULL, "id: %s\nevent: notification\ndata: %s\n\n",
                               rows.rows[i][0], lenz_json_dump(p, o));
        *last = apr_atoi64(rows.rows[i][0]);
    }
    *more = rows.nrows == PAGE;
    return rows.nrows ? flush(r, bb) : APR_SUCCESS;
}

/* A client that closed its end is seen without writing to it: the socket
 * turns readable and a peek finds the end of the stream (an EventSource
 * sends nothing after its request, and the connection is not kept). */
static int client_gone(request_rec *r)
{
    apr_socket_t *sock = ap_get_conn_socket(r->connection);
    apr_pollfd_t pfd;
    apr_int32_t n = 0;
    apr_sockaddr_t from;
    apr_size_t len = 1;
    char c;

    if (r->connection->aborted)
        return 1;
    if (!sock)
        return 0;
    memset(&pfd, 0, sizeof(pfd));
    pfd.desc_type = APR_POLL_SOCKET;
    pfd.desc.s = sock;
    pfd.reqevents = APR_POLLIN;
    if (apr_poll(&pfd, 1, &n, 0) != APR_SUCCESS || n == 0)
        return 0;
    if (pfd.rtnevents & (APR_POLLHUP | APR_POLLERR))
        return 1;
    return apr_socket_recvfrom(&from, sock, MSG_PEEK, &c, &len) == APR_EOF || len == 0;
}

/* Past the cap (httpd/streams.c): 503 and Retry-After, logged at most
 * once a minute per process (a full site would log every retry). */
static int refuse_full(request_rec *r, lenz_stream_verdict v)
{
    static apr_time_t logged;
    apr_time_t now = apr_time_now();
    int host = v == LENZ_STREAM_HOST_FULL;
    const char *why = host
        ? apr_psprintf(r->pool, "this host has its most open streams (%d)", lenz_streams_max_host())
        : apr_psprintf(r->pool, "this member has their most open streams (%d)", lenz_streams_max_member());

    if (now - logged >= apr_time_from_sec(60)) {
        logged = now;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, LENZLOGNO(2402)
                      "live stream refused: %s (" LENZ_D_EVENT_STREAMS "; further refusals "
                      "are not logged for a minute)", why);
    }
    apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, FULL_RETRY));
    return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_SERVICE_UNAVAILABLE,
                     host ? "streams-full" : "member-streams-full", "Too many open streams",
                     apr_pstrcat(r->pool, why, "; try again later", NULL));
}

static apr_status_t stream_closed(void *unused)
{
    (void)unused;
    lenz_metrics_add(LENZ_CNT_STREAMS_CLOSED, 1);
    return APR_SUCCESS;
}

static int stream(request_rec *r, lenz_req *lr)
{
    const char *leid = apr_table_get(r->headers_in, "Last-Event-ID");
    apr_int64_t last = id_arg(leid ? leid : lenz_query(r, "last_event_id"));
    apr_time_t end = apr_time_now() + STREAM_MAX, beat = apr_time_now() + HEARTBEAT;
    apr_bucket_brigade *bb;
    apr_pool_t *round;
    apr_uint32_t uh = lenz_wake_user_hash(lr->user->id);
    int more = 0;

    if (last < 0)
        return lenz_field_bad(r, "Last-Event-ID", "a notification id"), OK;
    {
        lenz_stream_verdict v = lenz_streams_admit(r, lr->user->id);
        if (v != LENZ_STREAM_OK)
            return refuse_full(r, v);
    }
    if (!leid && !lenz_query(r, "last_event_id")) {
        /* A first connection starts from now; the list API has the past. */
        const char *args[1] = { lr->user->id };
        lenz_rows rows;
        lenz_db *db = lenz_db_open(r);
        if (!db)
            return unavailable(r);
        if (lenz_db_select(db, "lenz_notify_latest", &rows, 1, args) == APR_SUCCESS && rows.nrows == 1)
            last = apr_atoi64(rows.rows[0][0]);
        lenz_db_close(db);
    }
    ap_set_content_type(r, "text/event-stream; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
    r->connection->keepalive = AP_CONN_CLOSE;
    if (r->header_only)
        return OK;
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_pool_create(&round, r->pool);
    lenz_metrics_add(LENZ_CNT_STREAMS_OPENED, 1);
    apr_pool_cleanup_register(r->pool, NULL, stream_closed, apr_pool_cleanup_null);
    apr_brigade_puts(bb, NULL, NULL, ": lenz notifications\nretry: 3000\n\n");
    if (flush(r, bb) != APR_SUCCESS) {
        apr_pool_destroy(round);
        return OK;
    }
    while (apr_time_now() < end && !stopping() && !client_gone(r)) {
        apr_uint32_t gen = lenz_wake_generation();
        apr_status_t rv;
        apr_pool_clear(round);
        rv = send_new(r, lr, round, bb, &last, &more);
        if (rv != APR_SUCCESS)
            break;                  /* the client went away */
        if (more)
            continue;
        if (apr_time_now() >= beat) {
            apr_brigade_puts(bb, NULL, NULL, ": ping\n\n");
            if (flush(r, bb) != APR_SUCCESS)
                break;
            beat = apr_time_now() + HEARTBEAT;
        }
        /* Sleep until a notification is committed somewhere, the next
         * heartbeat is due, or (no runners here) the poll interval. */
        {
            apr_time_t wait = beat - apr_time_now();
            if (wait > POLL)
                wait = POLL;
            if (wait > 0)
                lenz_wake_wait(&gen, uh, wait);
        }
    }
    apr_pool_destroy(round);
    return OK;
}

const lenz_route lenz_api_notify_routes[] = {
    { LENZ_GET, "/notifications", list, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/notifications/read-all", read_all, LENZ_ACCESS_MEMBER },
    { LENZ_POST, "/notifications/{id}/read", read_one, LENZ_ACCESS_MEMBER },
    { 0 }
};

static const lenz_route routes[] = {
    { LENZ_GET, "/stream", stream, LENZ_ACCESS_MEMBER },
    { 0 }
};

static const lenz_route *const tables[] = { routes, NULL };

/* A stream is no page: a sign-in is asked with 401, not a redirect. */
const lenz_area lenz_area_events = { "lenz-events", "events", tables, NULL, 1 };
