/* uploads.h - the upload flows behind /upload/guest/..., /upload/member/...
 * and /api/v1/uploads/...:
 *
 *   plain:      initiate -> presigned part URLs (the browser PUTs parts
 *               straight to S3) -> complete (checked against ListParts)
 *   encrypted:  initiate -> upload-part (httpd streams each part through
 *               the segmented AEAD into S3 UploadPart) -> complete
 *
 * State between calls is a sealed upload token (any process or host can
 * take any call) plus the rows in files/uploads/upload_parts.
 */
#ifndef LENZ_UPLOADS_H
#define LENZ_UPLOADS_H

#include "httpd/lenz.h"
#include "httpd/router.h"

extern const lenz_stmt lenz_uploads_stmts[];

/* who: LENZ_UP_GUEST, LENZ_UP_MEMBER (the route's access says which) or
 * LENZ_UP_REQUEST (h_request.c opened a file request's link into lr->ctx). */
int lenz_up_initiate(request_rec *r, lenz_req *lr, int who, int encrypted);
int lenz_up_presign(request_rec *r, lenz_req *lr, int who);
int lenz_up_part(request_rec *r, lenz_req *lr, int who);
int lenz_up_complete(request_rec *r, lenz_req *lr, int who, int encrypted);
int lenz_up_parts(request_rec *r, lenz_req *lr, int who);
int lenz_up_abort(request_rec *r, lenz_req *lr, int who);

/* File requests (h_request.c): the page, the password gate and the upload
 * routes under /upload/request/{token}. */
extern const lenz_stmt lenz_request_stmts[];
extern const lenz_route lenz_request_routes[];

#endif
