/* sigv4.h - AWS Signature Version 4 (header signing and S3 presigned URLs).
 *
 * Pure string work over APR plus the crypto wrapper: nothing here opens a
 * connection, so the S3 client, the unit tests and lenzctl share it.
 *
 * Two rule sets exist.  The generic one (flags 0) is what the AWS SigV4 test
 * suite checks: the path is normalised ("." / ".." segments and duplicate
 * slashes removed) and then URI-encoded again, so an already-encoded "%20"
 * is signed as "%2520".  S3 (LENZ_SIGV4_S3) signs the path exactly as sent
 * (LENZ_SIGV4_RAW_PATH): no normalisation (a key may really contain "//" or
 * "/../") and no second encoding; only bytes that were not encoded at all
 * are encoded once.
 *
 * Errors: APR_EINVAL when the call breaks its contract (NULL argument, no
 * host header, x-amz-date not matching `now`, expiry out of range), and
 * LENZ_EFORMAT when a value cannot be put on the wire as given (CR/LF or
 * another control byte in a header, a header name that is not a token, a
 * malformed URL).
 */
#ifndef LENZ_SIGV4_H
#define LENZ_SIGV4_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

typedef struct {
    const char *access_key;
    const char *secret_key;
    const char *region;
    const char *service;        /* "s3" for S3 */
    const char *session_token;  /* temporary (STS) credentials, else NULL */
} lenz_sigv4_creds;

typedef struct {
    const char *name;
    const char *value;
} lenz_sigv4_hdr;

typedef struct {
    const char *method;
    const char *path;              /* as sent on the wire (already percent-encoded) */
    const char *query;             /* as sent, without '?', or NULL */
    apr_array_header_t *headers;   /* of lenz_sigv4_hdr, as sent; must contain host */
    const char *payload_hash;      /* lower-case hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
} lenz_sigv4_req;

/* flags */
#define LENZ_SIGV4_RAW_PATH       0x1  /* sign the path as sent: no normalisation,
                                          no second encoding */
#define LENZ_SIGV4_CONTENT_SHA256 0x2  /* x-amz-content-sha256 must be signed */
/* S3 rules: both of the above (S3 refuses a request without the header). */
#define LENZ_SIGV4_S3 (LENZ_SIGV4_RAW_PATH | LENZ_SIGV4_CONTENT_SHA256)

#define LENZ_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define LENZ_SIGV4_EXPIRES_MAX      604800   /* 7 days, the SigV4 limit */

/* "YYYYMMDDTHHMMSSZ" (UTC) for now, the x-amz-date value. */
const char *lenz_sigv4_amz_date(apr_pool_t *p, apr_time_t now);

/* The Authorization header value for req at time now.
 *
 * Every header in req->headers is signed (the caller leaves out hop-by-hop
 * headers and anything a proxy may rewrite).  Before signing, the caller adds
 * x-amz-date = lenz_sigv4_amz_date(now) (or a Date header), for S3
 * x-amz-content-sha256 = req->payload_hash (LENZ_SIGV4_CONTENT_SHA256), and
 * with a session token x-amz-security-token; when present these must match
 * `now`, the payload hash and c->session_token (APR_EINVAL otherwise).
 *
 * creq and sts, when not NULL, receive the canonical request and the string
 * to sign (for tests and debugging; they hold no secret). */
apr_status_t lenz_sigv4_sign(apr_pool_t *p, const lenz_sigv4_creds *c, int flags,
                             const lenz_sigv4_req *req, apr_time_t now,
                             const char **authorization,
                             const char **creq, const char **sts);

/* A presigned URL (S3 rules, query-string auth, UNSIGNED-PAYLOAD).
 *
 * url is scheme://host[:port]/path with the path already encoded and no
 * query; extra_query (or NULL) carries the operation's parameters as the
 * caller would send them, e.g. "partNumber=3&uploadId=...".  They come out
 * re-encoded in the canonical way, in the order given, followed by
 * X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders
 * (-Security-Token) and -Signature, the layout botocore produces.
 * extra_headers (of lenz_sigv4_hdr, or NULL) are signed besides host; the
 * client must then send them with exactly these values.
 * expires is in seconds, 1..LENZ_SIGV4_EXPIRES_MAX. */
apr_status_t lenz_sigv4_presign(apr_pool_t *p, const lenz_sigv4_creds *c,
                                const char *method, const char *url,
                                const char *extra_query,
                                apr_array_header_t *extra_headers,
                                apr_time_t now, int expires,
                                const char **out_url);

/* RFC 3986 percent-encoding as SigV4 wants it: A-Za-z0-9 - . _ ~ kept, every
 * other byte as %XX with upper-case hex (space is %20, never '+').  '/' is
 * kept unless encode_slash; build S3 object paths with encode_slash 0 and
 * query names and values with encode_slash 1. */
char *lenz_sigv4_uri_encode(apr_pool_t *p, const char *s, apr_size_t len,
                            int encode_slash);

#endif
