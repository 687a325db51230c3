/* collab/area.h - what the collaboration area gives the area table
 * (../areas.c): shared folders, comments and activity under /api/v1, and
 * the subscribers that tell people (../subscribers.c). */
#ifndef LENZ_COLLAB_AREA_H
#define LENZ_COLLAB_AREA_H

#include "httpd/router.h"
#include "jobs/events.h"

extern const lenz_route lenz_api_share_routes[];
extern const lenz_stmt lenz_shares_stmts[];
extern const lenz_stmt lenz_transfer_stmts[];
extern const lenz_route lenz_api_comment_routes[];
extern const lenz_stmt lenz_comments_stmts[];
extern const lenz_route lenz_api_activity_routes[];
extern const lenz_stmt lenz_activity_stmts[];
extern const lenz_route lenz_api_message_routes[];
extern const lenz_stmt lenz_messages_stmts[];

/* lenz-collab: the collaboration pages (/collab, h_pages.c). */
extern const lenz_area lenz_area_collab;

/* share.*, comment.created -> notices and mails (subscriber.c). */
apr_status_t lenz_collab_on_event(lenz_eventctx *ec, const lenz_event *ev);
/* storage.changed, share.*, comment.created -> the shared folders'
 * activity (activity.c). */
apr_status_t lenz_activity_on_event(lenz_eventctx *ec, const lenz_event *ev);

#endif
