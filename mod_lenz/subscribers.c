/* subscribers.c - who hears about which events: the one place to add a
 * subscriber (its function lives in a file of its own; its statements are
 * listed in areas.c, prepared on every connection).  Patterns:
 * "*" for every event, "file.*" for a prefix, or an exact type.  Each
 * matching subscriber runs, in this order, inside the event's dispatch
 * transaction (see events.h for what a subscriber may do). */
#include "httpd/lenz.h"
#include "jobs/events.h"
#include "jobs/audit.h"
#include "notify/notify.h"
#include "jobs/mailsub.h"
#include "jobs/rooms.h"
#include "collab/area.h"
#include "topics/area.h"

const lenz_subscriber lenz_subscribers[] = {
    { "*", "audit", lenz_audit_on_event },
    { "link.downloaded", "notify", lenz_notify_on_event },
    { "file.uploaded", "notify", lenz_notify_on_event },
    { "user.registered", "mail", lenz_mailsub_on_event },
    { "link.downloaded", "mail", lenz_mailsub_on_event },
    { "file_request.received", "notify", lenz_notify_on_event },
    { "storage.changed", "notify", lenz_notify_on_event },
    { "file_request.received", "mail", lenz_mailsub_on_event },
    { "share.*", "collab", lenz_collab_on_event },
    { "comment.created", "collab", lenz_collab_on_event },
    { "message.created", "collab", lenz_collab_on_event },
    { "storage.changed", "activity", lenz_activity_on_event },
    { "share.*", "activity", lenz_activity_on_event },
    { "comment.created", "activity", lenz_activity_on_event },
    { "post.created", "topics", lenz_topic_on_event },
    { "post.created", "rooms", lenz_rooms_on_event },
    { "message.created", "rooms", lenz_rooms_on_event },
    { NULL }
};
