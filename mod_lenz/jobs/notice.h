/* notice.h - a notification row for a member, made by an event's
 * subscriber inside the dispatch transaction (the notify area's and the
 * collaboration area's subscribers share it).  The row's insert trigger
 * wakes the member's open streams (sql/006, notify/notify.h). */
#ifndef LENZ_NOTICE_H
#define LENZ_NOTICE_H

#include "httpd/lenz.h"
#include "events.h"
#include "json.h"

extern const lenz_stmt lenz_notice_stmts[];

/* A notice for user (NULL: nobody, success) about ev.  kind: the
 * preference it falls under (sql/019: the member may turn it off in the
 * app), or NULL (always).  live: a live change for open pages (sql/015),
 * never listed nor unread.  Sets ec->error on failure. */
apr_status_t lenz_notice_add(lenz_eventctx *ec, const lenz_event *ev, const char *user, const char *kind,
                             const char *title, const lenz_json *body, int live);

#endif
