/* comments.h - comments on files and folders (comments.c).  Each function
 * answers an error itself (a problem for the API, a page for browsers)
 * and returns 0; 1 when the caller answers.  kind: "file" or "folder". */
#ifndef LENZ_COLLAB_COMMENTS_H
#define LENZ_COLLAB_COMMENTS_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "httpd/dbd.h"
#include "json.h"

/* A comment (reply: a comment of the item, or NULL); *id: the new one's. */
int lenz_comment_add(request_rec *r, lenz_req *lr, const char *kind, const char *item, const char *body,
                     const char *reply, const char **id);
/* The item's comments, each top one followed by its replies; *item: the
 * caller's rank, live, name, owner id, folder id. */
int lenz_comment_list(request_rec *r, lenz_req *lr, const char *kind, const char *item, const char ***itrow,
                      lenz_rows *rows);
/* The author's edit within 15 minutes; *row: for lenz_comment_json. */
int lenz_comment_edit(request_rec *r, lenz_req *lr, const char *id, const char *body, const char ***row);
/* By the author, the owner or a co-owner. */
int lenz_comment_delete(request_rec *r, lenz_req *lr, const char *id);

/* {"id","parent_id","author":{"id","name"},"body","created_at","edited_at","can_edit"} */
void lenz_comment_json(lenz_json *o, const char **row, const char *me);

#endif
