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

/* Repeats coalesced (sql/026): an unread notice of ev's type about object
 * made in the last LENZ_NOTICE_WINDOW seconds is replaced by one counting
 * both, titled many_before, the count, many_after ("report.pdf was
 * downloaded " 65 " times"); the first is titled title_one.  object NULL:
 * lenz_notice_add. */
#define LENZ_NOTICE_WINDOW 600
apr_status_t lenz_notice_add_counted(lenz_eventctx *ec, const lenz_event *ev, const char *user, const char *kind,
                                     const char *object, const char *title_one, const char *many_before,
                                     const char *many_after, const lenz_json *body);

#endif
