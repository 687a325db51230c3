/* transfer.h - a shared folder's ownership passed to one of its members
 * (transfer.c; docs/collab.md "Transferring ownership").  Each function
 * answers an error itself (a problem for the API, a page for browsers)
 * and returns 0; 1 when the caller answers. */
#ifndef LENZ_COLLAB_TRANSFER_H
#define LENZ_COLLAB_TRANSFER_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "httpd/dbd.h"
#include "json.h"

/* At most this many files move in one transfer (one transaction). */
#define LENZ_TRANSFER_MAX_FILES 10000

extern const lenz_stmt lenz_transfer_stmts[];

/* The owner offers the folder to an active member of its shares (by
 * e-mail); a new offer replaces the one pending.  *out:
 * {"folder_id","email","status":"offered","created_at"}. */
int lenz_transfer_offer(request_rec *r, lenz_req *lr, const char *folder, const char *email, lenz_json **out);
/* The pending offer on a folder the caller sees: 1 with *out as above,
 * 0 and 404 "no-offer" (or an error) otherwise.  quiet: answer nothing
 * when there is none (for pages and the share list). */
int lenz_transfer_get(request_rec *r, lenz_req *lr, const char *folder, int quiet, lenz_json **out);
/* Withdrawn by the owner or declined by the member offered. */
int lenz_transfer_cancel(request_rec *r, lenz_req *lr, const char *folder);
/* The member offered takes the folder: its files' keys re-wrapped under
 * their KEK, its tree, files, links, requests their own, the former
 * owner a co-owner.  *out: {"folder_id","name","files","bytes",
 * "previous_owner"}. */
int lenz_transfer_accept(request_rec *r, lenz_req *lr, const char *folder, lenz_json **out);

#endif
