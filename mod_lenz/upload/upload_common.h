/* upload_common.h - what the upload files share: the upload token's
 * contents and the checks every call makes.  Internal to uploads.c,
 * upload_init.c and upload_part.c. */
#ifndef LENZ_UPLOAD_COMMON_H
#define LENZ_UPLOAD_COMMON_H

#include "httpd/lenz.h"
#include "httpd/router.h"
#include "httpd/dbd.h"
#include "s3.h"

#define LENZ_UPLOAD_TOKEN_TTL (24 * 3600)

/* Who uploads (the `who` of uploads.h's calls). */
#define LENZ_UP_GUEST   0
#define LENZ_UP_MEMBER  1
#define LENZ_UP_REQUEST 2         /* anyone holding a file request's link */

/* A file request's link, once opened by h_request.c (lr->ctx). */
typedef struct lenz_up_fr {
    const char *id, *owner_id, *folder_id, *title, *message;
    const char *owner_name, *folder_name, *expires_at, *password_hash;
    apr_int64_t max_bytes, max_files;         /* 0: no limit */
    apr_int64_t bytes_received, files_received;
    const char *token;
} lenz_up_fr;

/* The account the file goes to: the member, a request's owner, or NULL
 * (a guest's). */
const char *lenz_up_owner(lenz_req *lr, int who);

typedef struct lenz_up {
    const char *file_id;
    const char *transfer_id;
    const char *key;              /* S3 object key */
    const char *upload_id;        /* S3 multipart upload id */
    apr_int64_t size;             /* plaintext bytes of the file */
    apr_int64_t part_size;        /* plaintext bytes per part */
    int part_count;
    int encrypted;
    int segment_size;
    int no_link;                  /* into a folder shared with the member: the owner's, no link */
} lenz_up;

/* Opens the token from ?token= (or a JSON member when body is given),
 * checking it belongs to this caller.  Answers 4xx and returns NULL when
 * it does not. */
lenz_up *lenz_up_token(request_rec *r, lenz_req *lr, int member, const char *token);

/* Plaintext bytes of part n (1-based). */
apr_int64_t lenz_up_part_len(const lenz_up *u, int n);

/* The sealed-token subject for this caller: "user:<id>" or "guest". */
const char *lenz_up_subject(request_rec *r, lenz_req *lr, int member);

/* Answers 503 when no DB connection can be had. */
lenz_db *lenz_up_db(request_rec *r);

#endif
