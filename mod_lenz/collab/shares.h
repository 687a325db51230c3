/* shares.h - shared folders (shares.c).  Each function answers an error
 * itself (a problem for the API, a page for browsers: httpd/problem.h)
 * and returns 0; 1 when the caller answers. */
#ifndef LENZ_COLLAB_SHARES_H
#define LENZ_COLLAB_SHARES_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "httpd/dbd.h"
#include "json.h"

/* *row: id, email, role, status. */
int lenz_share_invite(request_rec *r, lenz_req *lr, const char *folder, const char *email, const char *role,
                      const char ***row);
/* *frow: the folder (id, name, owner id, the caller's rank, is root,
 * owner's e-mail, owner's name); shares: rows for lenz_share_json. */
int lenz_share_list(request_rec *r, lenz_req *lr, const char *folder, const char ***frow, lenz_rows *shares);
/* *row: for lenz_share_json. */
int lenz_share_change(request_rec *r, lenz_req *lr, const char *id, const char *role, const char ***row);
/* Revoked by an owner or co-owner, or left (declined) by its person;
 * *folder (optional): the share's folder. */
int lenz_share_remove(request_rec *r, lenz_req *lr, const char *id, const char **folder);
/* Accept (1) or decline (0); *row: for lenz_share_incoming_json. */
int lenz_share_respond(request_rec *r, lenz_req *lr, const char *id, int accept, const char ***row);
/* The caller's invitations and shares (rows for lenz_share_incoming_json). */
int lenz_share_incoming(request_rec *r, lenz_req *lr, lenz_rows *rows);

/* The event of a share's change (share.*), in the change's transaction:
 * {"share_id","folder_id","folder_name","owner_id","email","user_id",
 * "role","by"}; the actor is the caller. */
apr_status_t lenz_share_event(lenz_db *db, lenz_req *lr, const char *type, const char *share,
                              const char *folder, const char *folder_name, const char *owner,
                              const char *email, const char *user, const char *role);

/* {"id","email","role","status","name","created_at"} */
void lenz_share_json(lenz_json *o, const char **row);
/* {"id","folder_id","folder_name","role","status","owner","owner_email"} */
void lenz_share_incoming_json(lenz_json *o, const char **row);

#endif
