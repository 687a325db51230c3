/* subscribers.c - who hears about which events: the one place to add a
 * subscriber (its function lives in a file of its own).  Patterns: "*"
 * for every event, "file.*" for a prefix, or an exact type.  Each
 * matching subscriber runs, in this order, inside the event's dispatch
 * transaction (see events.h for what a subscriber may do). */
#include "lenz.h"
#include "events.h"
#include "audit.h"

const lenz_subscriber lenz_subscribers[] = {
    { "*", "audit", lenz_audit_on_event },
    /* In-app notifications (issue 4, item 6) go here, e.g.
     * { "link.downloaded", "notify", lenz_notify_on_event }, */
    { NULL }
};
