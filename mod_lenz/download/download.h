/* download.h - share links as a visitor meets them: look-up by token,
 * the gates (password, e-mail one-time code), grants that record which
 * gates were passed, and the files behind the link. */
#ifndef LENZ_DOWNLOAD_H
#define LENZ_DOWNLOAD_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "httpd/dbd.h"

extern const lenz_stmt lenz_download_stmts[];

/* The most files one link serves (a folder's at any depth): its list is
 * read whole before the first byte is sent. */
#define LENZ_LINK_MAX_FILES 10000

typedef struct lenz_dfile {
    const char *id, *name, *content_type, *storage, *s3_key;
    apr_int64_t size;
    apr_time_t modified;
    int segment_size;
    const char *prefix_hex, *wrapped_hex, *kek_user;
    int kek_version;
    const char *kek_wrapped_hex, *kek_master_version;   /* the user key's row, or NULL */
    int format_version;                 /* encrypted: 1, or 2 (a nonce prefix per part) */
    int segments_per_part;              /* format 2 */
    const char *part_prefixes_hex;      /* format 2: every part's prefix, in part order */
    const char *crypt_id;               /* the id its encryption binds (a copy keeps its original's) */
    int inline_view;                    /* shown in the browser (a preview), not saved */
    const char *dir;                    /* a folder link's: the path below the folder, or NULL */
} lenz_dfile;

/* A row of DFILE_COLS (download.c) into f. */
void lenz_dfile_from_row(const char **row, lenz_dfile *f);

typedef struct lenz_link {
    const char *id;
    const char *transfer_id, *file_id, *owner_id;
    const char *folder_id, *folder_name;    /* a folder link's folder */
    int file_set;                   /* a link to a set of files (link_files) */
    const char *expires_at;         /* ISO 8601 */
    int expired, revoked;
    int max_downloads, downloads;   /* max 0: no limit */
    apr_int64_t bytes_served;       /* of a limited link's budget (budget.h) */
    const char *password_hash;
    int has_recipients;
    const char *token;
    apr_array_header_t *files;      /* of lenz_dfile, ready ones */
    apr_int64_t total_size;
    /* gates passed, from the request's grant */
    int pw_ok, otp_ok;
    const char *grant_email;
} lenz_link;

/* The link for token with its files; NULL after answering 404/410. */
lenz_link *lenz_link_open(request_rec *r, lenz_req *lr, lenz_db *db, const char *token);

/* Reads a grant (cookie, ?grant= or Authorization: Grant) into l. */
void lenz_grant_read(request_rec *r, lenz_req *lr, lenz_link *l);
/* Issues a grant with the gates passed so far (plus the new ones), sets
 * the cookie and returns the grant text. */
const char *lenz_grant_issue(request_rec *r, lenz_req *lr, lenz_link *l, int pw, int otp,
                             const char *email);

/* Are the link's gates all passed? */
int lenz_link_open_to_caller(const lenz_link *l);

/* A link without a limit: counts a completed download. */
int lenz_link_count(request_rec *r, lenz_db *db, const lenz_link *l);
/* Emits link.downloaded (downloads: the count now) inside db's open
 * transaction. */
apr_status_t lenz_link_event(request_rec *r, lenz_db *db, const lenz_link *l, apr_int64_t downloads);

/* What a limited link still allows: new downloads (each from the first
 * byte, each also needing a whole copy's bytes) and bytes of its budget
 * (max_downloads x total_size).  Both 0 for a link without a limit. */
void lenz_link_left(const lenz_link *l, apr_int64_t *downloads, apr_int64_t *bytes);

#endif
