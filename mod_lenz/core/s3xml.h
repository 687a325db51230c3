/* s3xml.h - parsing S3's XML answers with APR-util's apr_xml.
 * Every function takes untrusted bytes and either fills its output or
 * returns LENZ_EFORMAT; none of them can read past len. */
#ifndef LENZ_S3XML_H
#define LENZ_S3XML_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "s3.h"

/* <Error><Code/><Message/><RequestId/></Error>; APR_NOTFOUND when the body
 * is well-formed XML but not an Error document. */
apr_status_t lenz_s3xml_error(apr_pool_t *p, const char *xml, apr_size_t len,
                              lenz_s3_error *err);
/* InitiateMultipartUploadResult/UploadId */
apr_status_t lenz_s3xml_upload_id(apr_pool_t *p, const char *xml, apr_size_t len,
                                  const char **upload_id);
/* CompleteMultipartUploadResult/ETag (may be empty: RGW) */
apr_status_t lenz_s3xml_complete(apr_pool_t *p, const char *xml, apr_size_t len,
                                 const char **etag);
/* ListPartsResult: appends lenz_s3_part to parts; *next_marker is set
 * when the answer is truncated. */
apr_status_t lenz_s3xml_parts(apr_pool_t *p, const char *xml, apr_size_t len,
                              apr_array_header_t *parts, const char **next_marker);
/* ListMultipartUploadsResult: appends lenz_s3_upload; next markers when truncated. */
apr_status_t lenz_s3xml_uploads(apr_pool_t *p, const char *xml, apr_size_t len,
                                apr_array_header_t *uploads, const char **next_key,
                                const char **next_upload);
/* ListBucketResult (V2): appends lenz_s3_object; *next_token when truncated. */
apr_status_t lenz_s3xml_objects(apr_pool_t *p, const char *xml, apr_size_t len,
                                apr_array_header_t *objects, const char **next_token);
/* CopyObjectResult: success when the root is CopyObjectResult. */
apr_status_t lenz_s3xml_copy(apr_pool_t *p, const char *xml, apr_size_t len);

/* DeleteResult: appends a lenz_s3_deleted for every <Deleted> (code
 * NULL) and every <Error> (its Code and Message) naming a key. */
apr_status_t lenz_s3xml_deleted(apr_pool_t *p, const char *xml, apr_size_t len,
                                apr_array_header_t *results);

/* Request bodies ------------------------------------------------------- */

/* Can key travel in an XML 1.0 body?  Not when it is empty, is not valid
 * UTF-8, or holds a control character other than TAB, LF and CR (XML 1.0
 * has no way to write those) or U+FFFE/U+FFFF. */
int lenz_s3xml_key_ok(const char *key);
/* The DeleteObjects request:
 *   <Delete><Quiet>false</Quiet><Object><Key>KEY</Key></Object>...</Delete>
 * with & < > " ' escaped and TAB, LF, CR written as character references
 * (a parser would turn a raw CR into LF).  NULL, and *bad the index of the
 * first key that is not lenz_s3xml_key_ok, when one is not. */
const char *lenz_s3xml_delete_body(apr_pool_t *p, const char *const *keys, int nkeys,
                                   apr_size_t *len, int *bad);

/* ISO 8601 "2026-11-22T00:14:46.000Z" to apr_time_t; 0 on failure. */
apr_time_t lenz_s3xml_time(const char *s);

#endif
