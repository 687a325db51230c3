/* rooms.h - live rooms: the subscriber that writes what happens in a topic
 * or a conversation to room_events (sql/030) for the event streams
 * subscribed to it (notify/stream.c). */
#ifndef LENZ_ROOMS_H
#define LENZ_ROOMS_H

#include "httpd/lenz.h"
#include "events.h"

extern const lenz_stmt lenz_rooms_stmts[];

/* post.created -> "topic:ID" (event "post"); message.created ->
 * "chat:ID" (event "chat"). */
apr_status_t lenz_rooms_on_event(lenz_eventctx *ec, const lenz_event *ev);

#endif
