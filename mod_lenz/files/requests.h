/* requests.h - file requests as the files area makes them, for the API
 * (h_requests.c) and the Shared page (h_share_page.c). */
#ifndef LENZ_FILES_REQUESTS_H
#define LENZ_FILES_REQUESTS_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"
#include "store.h"
#include "json.h"

#define LENZ_FR_DEFAULT_TTL (7 * 86400)
#define LENZ_FR_MAX_TTL     (365 * 86400)

typedef struct lenz_fr_spec {
    const char *folder;             /* a folder id of the owner's, or "root" */
    const char *title;              /* NULL: the folder's name ("Files" for the root) */
    const char *message;            /* or NULL */
    apr_int64_t ttl;                /* seconds */
    apr_int64_t max_bytes, max_files;   /* 0: no limit */
    const char *password_hash;      /* PHC, or NULL */
} lenz_fr_spec;

/* Makes the request: *row is its row for lenz_fr_json(), *token its
 * token (shown once).  LENZ_FS_NOT_FOUND for a folder not the owner's
 * live one. */
lenz_fs_rc lenz_fr_make(request_rec *r, lenz_db *db, const char *owner, const lenz_fr_spec *spec,
                        const char ***row, const char **token);
/* A request's row (lenz_fr_new, lenz_fr_mine) as the API's object. */
void lenz_fr_json(lenz_json *o, const char **row);
/* The link to hand out: public URL + /upload/request/ + token. */
const char *lenz_fr_url(request_rec *r, const char *token);

#endif
