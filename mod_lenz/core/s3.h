/* s3.h - an S3 client for any S3-compatible store (AWS, Wasabi, MinIO,
 * Ceph RGW), over http.h and sigv4.h.  Object bodies are always streamed
 * through callbacks; only small XML answers are collected (bounded).
 */
#ifndef LENZ_S3_H
#define LENZ_S3_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "http.h"
#include "breaker.h"

/* S3's own limits, enforced here before calling so users get a clear error
 * at once instead of a late one from S3. */
#define LENZ_S3_MIN_PART    ((apr_uint64_t)5 * 1024 * 1024)
#define LENZ_S3_MAX_PART    ((apr_uint64_t)5 * 1024 * 1024 * 1024)
#define LENZ_S3_MAX_PARTS   10000
#define LENZ_S3_MAX_OBJECT  ((apr_uint64_t)5 * 1024 * 1024 * 1024 * 1024)

typedef struct lenz_s3_conf {
    const char *endpoint;          /* http(s)://host[:port] (no path) */
    const char *bucket;
    const char *region;
    const char *access_key;
    const char *secret_key;
    int path_style;                /* 1: endpoint/bucket/key; 0: bucket.host/key */
    long connect_timeout_ms;
    long op_timeout_ms;            /* whole-call limit for non-streaming calls */
    long stall_seconds;            /* streaming calls: abort after this long without progress */
    int max_attempts;              /* retries of idempotent calls (default 3, 1 = none) */
} lenz_s3_conf;

typedef struct lenz_s3 lenz_s3;

/* What went wrong, for logs and for mapping to HTTP answers. */
typedef struct lenz_s3_error {
    int http_status;               /* S3's status, 0 when no answer came */
    const char *code;              /* S3 <Code> ("NoSuchKey", "SlowDown"...) or
                                      "Transport" / "Timeout" / "BadResponse" */
    const char *message;           /* S3 <Message> or the transport error (may be "") */
    const char *request_id;
    int retry_after;               /* seconds, when the breaker is open */
} lenz_s3_error;

typedef struct lenz_s3_part {
    int number;
    const char *etag;              /* with its quotes, as S3 gives it */
    apr_off_t size;
} lenz_s3_part;

typedef struct lenz_s3_upload {
    const char *key;
    const char *upload_id;
    apr_time_t initiated;
} lenz_s3_upload;

typedef struct lenz_s3_object {
    const char *key;
    apr_off_t size;                /* Content-Length of the answer (HEAD/GET) or object size (LIST) */
    apr_off_t total_size;          /* whole object size (from Content-Range on a ranged GET) */
    const char *etag;
    const char *content_type;
    apr_time_t last_modified;
    apr_table_t *meta;             /* x-amz-meta-* without the prefix, lower-case */
} lenz_s3_object;

/* One key of a DeleteObjects answer. */
typedef struct lenz_s3_deleted {
    const char *key;
    const char *code;              /* NULL: deleted; else S3's <Code> for this key
                                      ("NoSuchKey", "AccessDenied", "InternalError"...) */
    const char *message;           /* S3's <Message> for it, or "" */
} lenz_s3_deleted;

typedef struct lenz_s3_list {
    apr_array_header_t *objects;   /* of lenz_s3_object */
    const char *next_token;        /* NULL when this was the last page */
} lenz_s3_list;

/* Observer for metrics: called after every S3 call. */
typedef void lenz_s3_observe_fn(void *baton, const char *op, double seconds, int status);

/* Validates conf (endpoint URL, region, bucket name) and keeps a copy. */
apr_status_t lenz_s3_make(apr_pool_t *p, const lenz_s3_conf *conf, lenz_s3 **out,
                          const char **why);
void lenz_s3_set_observer(lenz_s3 *s3, lenz_s3_observe_fn *fn, void *baton);
/* Every call asks the breaker first (fails fast with LENZ_EUNAVAIL, code
 * "BreakerOpen" and retry_after while it is open) and reports to it:
 * transport errors and 5xx count as failures, other answers as success. */
void lenz_s3_set_breaker(lenz_s3 *s3, lenz_breaker *b);
lenz_breaker *lenz_s3_breaker(const lenz_s3 *s3);

/* Can an object of size bytes go up in parts of part_size bytes (the last
 * part smaller)?  APR_SUCCESS, or LENZ_ETOOBIG / APR_EINVAL with *why. */
apr_status_t lenz_s3_check_plan(apr_uint64_t size, apr_uint64_t part_size, const char **why);

/* A configuration problem rather than an outage (wrong keys, unknown
 * bucket): the log should say which setting to check. */
int lenz_s3_error_is_config(const lenz_s3_error *err);
const lenz_s3_conf *lenz_s3_conf_of(const lenz_s3 *s3);

/* Every call returns APR_SUCCESS or an error code (LENZ_ENOTFOUND for
 * NoSuchKey/NoSuchUpload/NoSuchBucket, LENZ_EUNAVAIL for 5xx/SlowDown or an
 * unreachable server, LENZ_ETIMEOUT, LENZ_EUPSTREAM otherwise) with *err
 * filled in. */
apr_status_t lenz_s3_head_bucket(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                 lenz_s3_error *err);

apr_status_t lenz_s3_create_multipart(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                      const char *key, const char *content_type,
                                      apr_table_t *meta, const char **upload_id,
                                      lenz_s3_error *err);
/* The body comes from reader: exactly len bytes.  payload_sha256 is the
 * body's hex SHA-256 when known in advance, else NULL (UNSIGNED-PAYLOAD). */
apr_status_t lenz_s3_upload_part(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                 const char *key, const char *upload_id, int part,
                                 apr_off_t len, lenz_http_read_fn *reader, void *baton,
                                 const char *payload_sha256, const char **etag,
                                 lenz_s3_error *err);
/* parts must be in ascending part number order.  S3's "200 with an <Error>
 * body" answer is an error here. */
apr_status_t lenz_s3_complete_multipart(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                        const char *key, const char *upload_id,
                                        const lenz_s3_part *parts, int nparts,
                                        const char **etag, lenz_s3_error *err);
apr_status_t lenz_s3_abort_multipart(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                     const char *key, const char *upload_id,
                                     lenz_s3_error *err);
/* All parts (follows pagination); array of lenz_s3_part. */
apr_status_t lenz_s3_list_parts(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                const char *key, const char *upload_id,
                                apr_array_header_t **parts, lenz_s3_error *err);
/* All open uploads under prefix (follows pagination); array of lenz_s3_upload. */
apr_status_t lenz_s3_list_multipart_uploads(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                            const char *prefix,
                                            apr_array_header_t **uploads,
                                            lenz_s3_error *err);
/* Streams the object (or bytes first..last, last = -1 for the end) to
 * writer.  info (optional) is filled from the answer's headers before the
 * first body byte reaches the writer. */
apr_status_t lenz_s3_get_object(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                const char *key, apr_off_t first, apr_off_t last,
                                lenz_http_write_fn *writer, void *baton,
                                lenz_s3_object *info, lenz_s3_error *err);
apr_status_t lenz_s3_head_object(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                 const char *key, lenz_s3_object *info,
                                 lenz_s3_error *err);
/* Server-side copy with metadata REPLACE. */
apr_status_t lenz_s3_copy_object(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                 const char *src_key, const char *dst_key,
                                 const char *content_type, apr_table_t *meta,
                                 lenz_s3_error *err);
apr_status_t lenz_s3_delete_object(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                   const char *key, lenz_s3_error *err);
/* DeleteObjects takes at most this many keys per request. */
#define LENZ_S3_MAX_DELETE  1000
/* DeleteObjects: 1 to LENZ_S3_MAX_DELETE keys in one POST /?delete, with
 * Content-MD5 (S3 requires it) and Quiet off, so every key deleted is
 * named.  *results: a lenz_s3_deleted for each key the answer names, and
 * only for keys that were asked for; a key the answer does not name may or
 * may not be gone.  APR_EINVAL before anything is sent for no keys, too
 * many, or a key an XML body cannot carry (lenz_s3xml_key_ok); S3's "200
 * with an <Error> body" is an error. */
apr_status_t lenz_s3_delete_objects(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                    const char *const *keys, int nkeys,
                                    apr_array_header_t **results, lenz_s3_error *err);
/* One page of ListObjectsV2 (max_keys 1..1000); pass the previous
 * next_token to continue. */
apr_status_t lenz_s3_list_objects(lenz_s3 *s3, lenz_http *h, apr_pool_t *p,
                                  const char *prefix, const char *token, int max_keys,
                                  lenz_s3_list *out, lenz_s3_error *err);

/* Presigned URL for a browser-direct request, e.g. UploadPart:
 * method "PUT", query "partNumber=3&uploadId=...". */
apr_status_t lenz_s3_presign(lenz_s3 *s3, apr_pool_t *p, const char *method,
                             const char *key, const char *query, int expires,
                             apr_time_t now, const char **url);
/* The same, signing extra headers (of lenz_sigv4_hdr) the client must send
 * with exactly these values.  An x-amz-content-sha256 among them is the
 * payload hash: S3 then refuses a body with any other SHA-256. */
apr_status_t lenz_s3_presign_hdrs(lenz_s3 *s3, apr_pool_t *p, const char *method,
                                  const char *key, const char *query,
                                  apr_array_header_t *headers, int expires,
                                  apr_time_t now, const char **url);

/* The origin every request and presigned URL goes to: scheme://host[:port],
 * the bucket in the host for virtual-hosted style (what a browser PUTs
 * parts to, so what a page's CSP connect-src names). */
const char *lenz_s3_origin(const lenz_s3 *s3);

/* Object keys are percent-encoded per segment ('/' kept). */
const char *lenz_s3_key_path(lenz_s3 *s3, apr_pool_t *p, const char *key);

#endif
