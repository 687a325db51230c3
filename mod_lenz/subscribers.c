/* subscribers.c - who hears about which events: the one place to add a
 * subscriber (its function and statements live in a file of its own; the
 * statements listed here are prepared on every connection).  Patterns:
 * "*" for every event, "file.*" for a prefix, or an exact type.  Each
 * matching subscriber runs, in this order, inside the event's dispatch
 * transaction (see events.h for what a subscriber may do). */
#include "lenz.h"
#include "events.h"
#include "audit.h"
#include "notify.h"
#include "mailsub.h"

const lenz_subscriber lenz_subscribers[] = {
    { "*", "audit", lenz_audit_on_event, lenz_audit_stmts },
    { "link.downloaded", "notify", lenz_notify_on_event, lenz_notify_stmts },
    { "file.uploaded", "notify", lenz_notify_on_event, NULL },
    { "user.registered", "mail", lenz_mailsub_on_event, lenz_mailsub_stmts },
    { "link.downloaded", "mail", lenz_mailsub_on_event, NULL },
    { NULL }
};
