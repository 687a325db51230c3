/* messages.h - messages between members (messages.c).  Each function
 * answers an error itself (a problem for the API, a page for browsers)
 * and returns 0; 1 when the caller answers. */
#ifndef LENZ_COLLAB_MESSAGES_H
#define LENZ_COLLAB_MESSAGES_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "httpd/dbd.h"
#include "json.h"

#define LENZ_MSG_BODY_MAX 5000

/* A conversation with members (a JSON array of e-mail addresses) and its
 * first message; a pair's one conversation is reused.  *conv: its id. */
int lenz_msg_start(request_rec *r, lenz_req *lr, const lenz_json *members, const char *body, const char **conv);
/* A message in a conversation of the caller's; *id: its id. */
int lenz_msg_send(request_rec *r, lenz_req *lr, const char *conv, const char *body, const char **id);
/* The caller's conversations, the latest first: id, members (JSON), last
 * message (JSON or NULL), unread. */
int lenz_msg_conversations(request_rec *r, lenz_req *lr, lenz_rows *rows);
/* A conversation (*one: id, members JSON, unread) and its messages after
 * `after` (id, author id, author name, body, created_at). */
int lenz_msg_thread(request_rec *r, lenz_req *lr, const char *conv, const char *after, long limit,
                    const char ***one, lenz_rows *rows);
/* The caller's read marker (never moved back). */
int lenz_msg_mark(request_rec *r, lenz_req *lr, const char *conv, apr_int64_t last, apr_int64_t *last_read,
                  apr_int64_t *unread);
/* members JSON text into o["members"]. */
void lenz_msg_members_json(apr_pool_t *p, lenz_json *o, const char *text);

#endif
