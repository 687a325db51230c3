/* links.h - share links: a 256-bit token (stored only as SHA-256) on a
 * transfer, a file, a member's folder (what is in it when the link is
 * used) or a set of files, with expiry, an optional download limit, password
 * and recipient list (the e-mail OTP gate). */
#ifndef LENZ_LINKS_H
#define LENZ_LINKS_H

#include "lenz.h"
#include "router.h"
#include "dbd.h"
#include "json.h"

extern const lenz_stmt lenz_links_stmts[];

typedef struct lenz_link_spec {
    const char *transfer_id;      /* one of these four */
    const char *file_id;
    const char *folder_id;
    apr_array_header_t *file_ids; /* a set of files: const char * ids */
    const char *owner_id;         /* NULL for a guest's link */
    int ttl;                      /* seconds */
    int max_downloads;            /* 0: no limit */
    const char *password_hash;    /* PHC, or NULL */
    apr_array_header_t *recipients;  /* of const char * addresses, or NULL */
} lenz_link_spec;

/* Creates the link in the caller's transaction.  *token is shown once. */
apr_status_t lenz_link_create(request_rec *r, lenz_db *db, const lenz_link_spec *spec,
                              const char **token, const char **link_id, const char **expires_at);

/* A row of the statement "lenz_links_mine" (links.c: a member's links,
 * newest first) as the API's link object. */
void lenz_link_row_json(apr_pool_t *p, const char **row, lenz_json *o);

/* public URL + /download/ + token */
const char *lenz_link_url(request_rec *r, const char *token);

#endif
