/* topics.h - topics and posts (topics.c).  Each function answers an error
 * itself (a problem for the API, a page for browsers) and returns 0; 1
 * when the caller answers. */
#ifndef LENZ_TOPICS_H
#define LENZ_TOPICS_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "httpd/dbd.h"
#include "json.h"

#define LENZ_POST_MAX 20000       /* characters of Markdown in a post or a topic's body */
#define LENZ_TOPIC_NCOLS 18       /* a topic row's columns (then, in lists, its cursor key) */

extern const lenz_stmt lenz_topics_stmts[];

/* tags (a JSON array, or NULL) as a PostgreSQL array literal in *out. */
int lenz_topic_tags(request_rec *r, const lenz_json *arr, const char **out);
/* A new topic (folder: a shared folder's members', or NULL: the site's);
 * its author joins it. */
int lenz_topic_create(request_rec *r, lenz_req *lr, const char *title, const char *body, const char *tags,
                      const char *folder, const char **id);
/* A topic the caller sees (a row for lenz_topic_json). */
int lenz_topic_get(request_rec *r, lenz_req *lr, lenz_db *db, const char *id, const char ***row);
/* ... and its posts (rows for lenz_post_json). */
int lenz_topic_read(request_rec *r, lenz_req *lr, const char *id, const char ***topic, lenz_rows *posts);
/* The topics the caller sees, pinned first, then by recent activity or
 * votes; cursor: a lenz_topic_cursor of the last row seen, or NULL. */
int lenz_topic_list(request_rec *r, lenz_req *lr, int by_votes, const char *tag, const char *folder,
                    const char *cursor, int limit, lenz_rows *rows);
const char *lenz_topic_cursor(apr_pool_t *p, const char **row);

typedef struct {
    const char *title, *body, *tags;      /* the author's (NULL: unchanged) */
    const char *pinned, *locked;          /* moderators': "true"/"false" or NULL */
    int remove;
} lenz_topic_edit;
int lenz_topic_change(request_rec *r, lenz_req *lr, const char *id, const lenz_topic_edit *e);

int lenz_post_create(request_rec *r, lenz_req *lr, const char *topic, const char *body, const char *reply_to,
                     const char **id);
/* The author edits (body) or deletes (remove); a moderator deletes. */
int lenz_post_change(request_rec *r, lenz_req *lr, const char *id, const char *body, int remove);
/* Up-votes (up) or takes one back, on a post or a topic; *votes after. */
int lenz_topic_vote(request_rec *r, lenz_req *lr, int post, const char *id, int up, apr_int64_t *votes);
int lenz_topic_membership(request_rec *r, lenz_req *lr, const char *id, int join);

void lenz_topic_json(apr_pool_t *p, lenz_json *o, const char **row, int full);
void lenz_post_json(lenz_json *o, const char **row, const char *me);

#endif
