/* collab.h - what the collaboration area's files share: the ranks of
 * lenz_access() (sql/024_shares.sql) and the content filter's check. */
#ifndef LENZ_COLLAB_H
#define LENZ_COLLAB_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "httpd/config.h"
#include "httpd/dbd.h"

#define LENZ_COLLAB_VIEWER    1
#define LENZ_COLLAB_COMMENTER 2
#define LENZ_COLLAB_EDITOR    3
#define LENZ_COLLAB_COOWNER   4
#define LENZ_COLLAB_OWNER     5

/* "viewer" .. "owner" (NULL for 0). */
const char *lenz_collab_role_name(int rank);

/* What a member writes (field: the JSON field named in the answer),
 * through LenzContentWords and LenzContentLinks, and their hourly
 * LenzCollabLimits of kind: 1 to go on, 0 after answering 422 (the
 * reason) or 429. */
int lenz_collab_text_ok(request_rec *r, lenz_req *lr, const char *field, const char *text,
                        lenz_collab_limit kind);

/* The folder's newest activity rows (h_activity.c), at most limit, for
 * its page; 0 after answering. */
int lenz_activity_recent(request_rec *r, lenz_req *lr, const char *folder, int limit, lenz_rows *rows);

#endif
