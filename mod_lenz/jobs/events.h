/* events.h - domain events through a transactional outbox.
 *
 * A change emits its events with lenz_event_emit() on its own connection,
 * inside its own transaction: the events exist if and only if the change
 * committed.  The runners dispatch each event to the subscribers whose
 * pattern matches its type (subscribers.c, the one place to add one),
 * in a transaction of its own that also marks it dispatched.  Subscribers
 * do database work only, on the connection they are given and never in a
 * transaction of their own, so their effects commit exactly once together
 * with the mark; anything outside the database (a mail) goes through a
 * job they enqueue on that connection.  An event whose subscriber fails
 * is rolled back whole and retried with backoff, never dropped.
 */
#ifndef LENZ_EVENTS_H
#define LENZ_EVENTS_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"
#include "httpd/outbox.h"
#include "json.h"

extern const lenz_stmt lenz_events_stmts[];

typedef struct lenz_event {
    apr_int64_t id;
    const char *type;
    const char *actor;            /* uuid text or NULL */
    const char *subject;          /* or NULL */
    lenz_json *payload;           /* an object */
    const char *created;          /* timestamptz text */
} lenz_event;

typedef struct lenz_eventctx {
    apr_pool_t *pool;             /* cleared after the event */
    server_rec *s;
    lenz_db *db;                  /* inside the dispatch transaction */
    const char *error;            /* why a subscriber failed */
} lenz_eventctx;

/* APR_SUCCESS, or an error (set ec->error) to roll the dispatch back. */
typedef apr_status_t lenz_subscriber_fn(lenz_eventctx *ec, const lenz_event *ev);

typedef struct lenz_subscriber {
    const char *pattern;          /* "*", "file.*" (a prefix) or an exact type */
    const char *name;             /* for logs */
    lenz_subscriber_fn *fn;       /* its statements are listed in areas.c */
} lenz_subscriber;

/* subscribers.c: every subscriber, ending with { NULL }. */
extern const lenz_subscriber lenz_subscribers[];

int lenz_event_matches(const char *pattern, const char *type);

/* The runner's side: dispatches the oldest pending event.  1 when one was
 * handled (dispatched or failed and rescheduled), 0 when none is pending,
 * -1 on a database error. */
int lenz_events_dispatch_one(lenz_db *db, apr_pool_t *p, server_rec *s);

#endif
