/* stream.c - GET /events/stream: a member's notifications and live
 * changes as Server-Sent Events (docs/api.md).  A worker thread serves
 * each stream, sleeping on the process's wake-up (jobs/wake.c, fed by the
 * one LISTEN per process) between rounds; LenzEventStreams caps how many
 * (httpd/streams.c) so ordinary requests keep their threads.
 *
 * Why not suspended between events (issue 17): on Debian 12's httpd
 * 2.4.71 there is no callback for a socket becoming readable or writable
 * (ap_mpm_register_poll_callback_timeout is gone since 2.4.63), and a
 * request that returns SUSPENDED after ap_mpm_register_timed_callback()
 * is never called back: measured with this module (the timer registered,
 * APR_SUCCESS, never ran) and with httpd's own mod_dialup (30,000 bytes
 * at 7,000 a second: the first 7,000 came, then nothing for 10 s).
 *
 * Rooms (?room=topic:ID&room=chat:ID, sql/030): the stream also sends
 * what is new in those rooms, each row's access checked as it is read;
 * event ids are then "N.M" (notifications, room events) so Last-Event-ID
 * resumes both.
 *
 * A stream queries only when woken for it: its member's notification, an
 * event in one of its rooms (each read by its own query), or "look" when
 * a runner's LISTEN comes up; between pokes it costs no query while a
 * runner of its process listens (bench/rooms: 2,000 idle streams made
 * 400 queries a second when every 5 s round read both).
 *
 * Per stream memory is bounded: each round's query and output live in a
 * subpool cleared before the next round; at most PAGE rows per round.
 */
#include <apr_strings.h>
#include <ap_mpm.h>
#include <apr_poll.h>
#include <http_core.h>
#include <sys/socket.h>

#include "httpd/lenz.h"
#include "notify.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/dbd.h"
#include "httpd/problem.h"
#include "httpd/metrics.h"
#include "httpd/streams.h"
#include "httpd/directives.h"
#include "codec.h"

#define PAGE        50
#define HEARTBEAT   apr_time_from_sec(15)
#define POLL        apr_time_from_sec(5)     /* without runners to wake us */
#define STREAM_MAX  apr_time_from_sec(3600)  /* then the client reconnects */
#define FULL_RETRY  30                       /* Retry-After when the cap is reached */
#define MAX_ROOMS   20                       /* ?room= a stream may name */
#define ALL         (LENZ_WAKE_MINE | LENZ_WAKE_ROOM)

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2400), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "try again shortly");
}

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

/* The stream's position as an event id: the last notification's id, and
 * with rooms the last room event's after a dot ("41.7"). */
static const char *event_id(apr_pool_t *p, apr_int64_t last, const char *rooms, apr_int64_t rlast)
{
    return rooms ? apr_psprintf(p, "%" APR_INT64_T_FMT ".%" APR_INT64_T_FMT, last, rlast)
                 : apr_psprintf(p, "%" APR_INT64_T_FMT, last);
}

/* What is new in the stream's rooms since *rlast (access checked for each
 * row: a member who lost access gets nothing more of that room). */
static int send_rooms(request_rec *r, lenz_req *lr, apr_pool_t *p, lenz_db *db, apr_bucket_brigade *bb,
                      const char *rooms, apr_int64_t last, apr_int64_t *rlast)
{
    const char *args[4];
    lenz_rows rows;
    int i;
    args[0] = rooms;
    args[1] = apr_psprintf(p, "%" APR_INT64_T_FMT, *rlast);
    args[2] = lr->user->id;
    args[3] = apr_itoa(p, PAGE);
    if (lenz_db_select(db, "lenz_notify_rooms_after", &rows, 4, args) != APR_SUCCESS)
        return 0;
    for (i = 0; i < rows.nrows; i++) {
        *rlast = apr_atoi64(rows.rows[i][0]);
        apr_brigade_printf(bb, NULL, NULL, "id: %s\nevent: %s\ndata: %s\n\n", event_id(p, last, rooms, *rlast),
                           rows.rows[i][1], rows.rows[i][2]);
    }
    (void)r;
    return rows.nrows;
}

/* Sends what is new since *last (and *rlast in rooms); returns the
 * client's state. */
static apr_status_t send_new(request_rec *r, lenz_req *lr, apr_pool_t *p, apr_bucket_brigade *bb,
                             apr_int64_t *last, const char *rooms, apr_int64_t *rlast, int want, int *more)
{
    const char *args[5];
    lenz_rows rows;
    lenz_db *db = lenz_db_open_in(r, p);
    int i, rn = 0;

    *more = 0;
    if (!db)
        return APR_SUCCESS;         /* logged; try again next round */
    args[0] = lr->user->id;
    args[1] = apr_psprintf(p, "%" APR_INT64_T_FMT, *last);
    args[2] = NULL;
    args[3] = "1";              /* live changes too */
    args[4] = apr_itoa(p, PAGE);
    rows.nrows = 0;
    if ((want & LENZ_WAKE_MINE) && lenz_db_select(db, "lenz_notify_after", &rows, 5, args) != APR_SUCCESS)
        rows.nrows = 0;
    for (i = 0; i < rows.nrows; i++) {
        lenz_json *o = lenz_json_new_object(p);
        const char *eid = event_id(p, apr_atoi64(rows.rows[i][0]), rooms, *rlast);
        lenz_notify_row_json(o, rows.rows[i], p);
        lenz_notify_row_count(o, rows.rows[i]);
        /* A live row (no notice to show): a change to folders ("event:
         * storage": what changed, where) or a message ("event: message"). */
        if (rows.rows[i][6][0] == 't')
            apr_brigade_printf(bb, NULL, NULL, "id: %s\nevent: %s\ndata: %s\n\n", eid,
                               strcmp(rows.rows[i][1], "message.created") ? "storage" : "message",
                               lenz_json_dump(p, lenz_json_get(o, "body")));
        else
            apr_brigade_printf(bb, NULL, NULL, "id: %s\nevent: notification\ndata: %s\n\n",
                               eid, lenz_json_dump(p, o));
        *last = apr_atoi64(rows.rows[i][0]);
    }
    if (rooms && (want & LENZ_WAKE_ROOM))
        rn = send_rooms(r, lr, p, db, bb, rooms, *last, rlast);
    lenz_db_close(db);
    *more = rows.nrows == PAGE || rn == PAGE;
    return rows.nrows || rn ? flush(r, bb) : APR_SUCCESS;
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

typedef struct sse {
    request_rec *r;
    lenz_req *lr;
    apr_pool_t *round;          /* cleared every round */
    apr_bucket_brigade *bb;
    apr_int64_t last;           /* the last id sent */
    const char *rooms;          /* the rooms subscribed to, as a text[] literal, or NULL */
    apr_int64_t rlast;          /* the last room event sent */
    apr_time_t end, beat;
    apr_uint32_t uh, gen;       /* the member's wake-up hash; the generation last looked at */
    apr_uint32_t room_h[MAX_ROOMS];     /* the rooms' wake-up hashes */
    int nrooms;
    int more;                   /* a full page came: look again at once */
} sse;

/* One round: what is new (want: which of the two to read, LENZ_WAKE_*),
 * then a ping if one is due.  0 when the client went away. */
static int sse_round(sse *s, int want)
{
    apr_time_t now;
    apr_pool_clear(s->round);
    s->gen = lenz_wake_generation();         /* a poke after this wakes the next round */
    if (want && send_new(s->r, s->lr, s->round, s->bb, &s->last, s->rooms, &s->rlast, want, &s->more)
                != APR_SUCCESS)
        return 0;
    now = apr_time_now();
    if (now >= s->beat) {
        apr_brigade_puts(s->bb, NULL, NULL, ": ping\n\n");
        if (flush(s->r, s->bb) != APR_SUCCESS)
            return 0;
        s->beat = now + HEARTBEAT;
    }
    return 1;
}

static int sse_over(sse *s)
{
    return apr_time_now() >= s->end || stopping() || client_gone(s->r);
}

/* ?room=topic:ID&room=chat:ID (at most MAX_ROOMS, lower-cased as
 * room_events.room holds them) as a text[] literal, and their wake-up
 * hashes; NULL when none; 0 after answering 400. */
static int rooms_of(request_rec *r, const char **out, apr_uint32_t *hashes, int *count)
{
    char *args = r->args ? apr_pstrdup(r->pool, r->args) : NULL, *last, *kv;
    const char *lit = NULL;
    int n = 0;
    *out = NULL;
    for (kv = args ? apr_strtok(args, "&", &last) : NULL; kv; kv = apr_strtok(NULL, "&", &last)) {
        char *v;
        if (strncmp(kv, "room=", 5))
            continue;
        v = kv + 5;
        if (ap_unescape_url(v) != OK || (strncmp(v, "topic:", 6) && strncmp(v, "chat:", 5))
            || !lenz_uuid_ok(strchr(v, ':') + 1) || ++n > MAX_ROOMS)
            return lenz_field_bad(r, "room", apr_psprintf(r->pool, "topic:ID or chat:ID, at most %d", MAX_ROOMS)), 0;
        ap_str_tolower(v);
        hashes[n - 1] = lenz_wake_room_hash(v);
        lit = apr_pstrcat(r->pool, lit ? lit : "{", lit ? "," : "", v, NULL);
    }
    *count = n;
    if (lit)
        *out = apr_pstrcat(r->pool, lit, "}", NULL);
    return 1;
}

int lenz_notify_stream(request_rec *r, lenz_req *lr)
{
    const char *leid = apr_table_get(r->headers_in, "Last-Event-ID"), *given, *dot, *rooms;
    apr_int64_t last, rlast = -1;
    apr_uint32_t room_h[MAX_ROOMS];
    int nrooms = 0;
    sse *s;

    if (!rooms_of(r, &rooms, room_h, &nrooms))
        return OK;
    given = leid ? leid : lenz_query(r, "last_event_id");
    /* "N", or with rooms "N.M" (the last notification, the last room event). */
    dot = given ? strchr(given, '.') : NULL;
    last = lenz_notify_id_arg(dot ? apr_pstrmemdup(r->pool, given, dot - given) : given);
    if (dot && (rlast = lenz_notify_id_arg(dot + 1)) < 0)
        last = -1;
    if (last < 0)
        return lenz_field_bad(r, "Last-Event-ID", "a notification id (N, or N.M with rooms)"), OK;
    if (rooms) {
        /* Access per room at subscribe time (and again for every row). */
        const char *args[2] = { rooms, lr->user->id };
        lenz_rows rows;
        lenz_db *db = lenz_db_open(r);
        if (!db)
            return unavailable(r);
        if (lenz_db_select(db, "lenz_notify_rooms_denied", &rows, 2, args) != APR_SUCCESS) {
            lenz_db_close(db);
            return unavailable(r);
        }
        if (rows.nrows) {
            lenz_db_close(db);
            return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "not-found", "No such room",
                             apr_pstrcat(r->pool, "room: no such room: ", rows.rows[0][0], NULL));
        }
        if (rlast < 0) {
            /* Rooms start from now, unless the id says where. */
            if (lenz_db_select(db, "lenz_notify_rooms_latest", &rows, 0, args) != APR_SUCCESS || rows.nrows != 1) {
                lenz_db_close(db);
                return unavailable(r);
            }
            rlast = apr_atoi64(rows.rows[0][0]);
        }
        lenz_db_close(db);
    }
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
    s = apr_pcalloc(r->pool, sizeof(*s));
    s->r = r;
    s->lr = lr;
    s->last = last;
    s->rooms = rooms;
    s->rlast = rlast < 0 ? 0 : rlast;
    s->uh = lenz_wake_user_hash(lr->user->id);
    memcpy(s->room_h, room_h, sizeof(room_h));
    s->nrooms = nrooms;
    s->end = apr_time_now() + STREAM_MAX;
    s->beat = apr_time_now() + HEARTBEAT;
    s->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_pool_create(&s->round, r->pool);
    lenz_metrics_add(LENZ_CNT_STREAMS_OPENED, 1);
    apr_pool_cleanup_register(r->pool, NULL, stream_closed, apr_pool_cleanup_null);
    apr_brigade_puts(s->bb, NULL, NULL, ": lenz notifications\nretry: 3000\n\n");
    if (flush(r, s->bb) != APR_SUCCESS || !sse_round(s, ALL))
        return OK;
    /* Sleep on the wake-up until a notification for the member or an event
     * in one of the rooms is committed, the next heartbeat is due, or
     * POLL (to see a closed client).  While a runner of this process
     * listens, only a poke makes a query, and only the one it is for; with
     * none listening, every round reads both. */
    while (!sse_over(s)) {
        int want = ALL;
        if (!s->more) {
            apr_time_t wait = s->beat - apr_time_now();
            apr_uint32_t gen = s->gen;
            if (wait > POLL)
                wait = POLL;
            want = wait > 0 ? lenz_wake_wait(&gen, s->uh, s->room_h, s->nrooms, wait) : 0;
            if (!want && !lenz_wake_listening())
                want = ALL;
        }
        if (!sse_round(s, want))
            break;
    }
    return OK;
}
