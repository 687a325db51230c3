/* streams.h - the cap on long-lived streams per host and per member
 * (LenzEventStreams; streams.c says how they are counted). */
#ifndef LENZ_STREAMS_H
#define LENZ_STREAMS_H

#include "lenz.h"

#define LENZ_STREAMS_PER_MEMBER_DEFAULT 8

/* post_config: the shared counters.  host/member: the directive's values,
 * 0 for the defaults (a quarter of MaxRequestWorkers; 8). */
apr_status_t lenz_streams_post_config(apr_pool_t *pconf, server_rec *s, int host, int member);
/* child_init: this process's slot. */
void lenz_streams_child_init(apr_pool_t *pchild, server_rec *s);

typedef enum {
    LENZ_STREAM_OK = 0,           /* counted until r->pool goes */
    LENZ_STREAM_HOST_FULL,        /* this host has its most */
    LENZ_STREAM_MEMBER_FULL       /* this member has their most */
} lenz_stream_verdict;

/* A stream of member's is about to start: counts it (until r's pool is
 * destroyed) or says which cap it would pass. */
lenz_stream_verdict lenz_streams_admit(request_rec *r, const char *member);

int lenz_streams_max_host(void);
int lenz_streams_max_member(void);

#endif
