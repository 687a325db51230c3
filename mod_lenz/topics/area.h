/* topics/area.h - what the topics area gives the area table (../areas.c):
 * topics and posts under /api/v1, the pages (/topics) and the subscriber
 * that tells a topic's members of new posts (../subscribers.c). */
#ifndef LENZ_TOPICS_AREA_H
#define LENZ_TOPICS_AREA_H

#include "httpd/router.h"
#include "jobs/events.h"

extern const lenz_route lenz_api_topic_routes[];
extern const lenz_stmt lenz_topics_stmts[];
extern const lenz_stmt lenz_topic_sub_stmts[];
/* lenz-topics: the topic list and topic pages (h_topic_pages.c). */
extern const lenz_area lenz_area_topics;

apr_status_t lenz_topic_on_event(lenz_eventctx *ec, const lenz_event *ev);

#endif
