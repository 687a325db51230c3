/* idem.h - Idempotency-Key on the API's mutations (POST, PATCH, DELETE
 * under lenz-api, for a signed-in caller).  The first request with a key
 * runs and its answer (status, type, Location, body) is kept for a day in
 * idempotency_keys; a retry with the same key and the same request
 * (method, path, JSON body) gets that answer again with
 * "Idempotent-Replayed: true" and nothing runs twice.  The same key with
 * another request: 422 idempotency-key-reused; while the first is still
 * running: 409 idempotency-in-progress (Retry-After: 1).  Answers of 5xx
 * are not kept (a retry runs again), nor bodies over 64 KiB.  Requests
 * whose body is not JSON (an upload's part) ignore the header: they are
 * idempotent by themselves. */
#ifndef LENZ_IDEM_H
#define LENZ_IDEM_H

#include "lenz.h"
#include "router.h"

extern const lenz_stmt lenz_idem_stmts[];

/* Before the route runs: 1 to run it, 0 when this answered (a replay, or
 * 4xx/409 for the key). */
int lenz_idem_begin(request_rec *r, lenz_req *lr);
/* After the route ran (rc: what it returned): keeps its answer for the
 * key, if there is one. */
void lenz_idem_finish(request_rec *r, lenz_req *lr, int rc);
/* problem.c's JSON answers tell the key what they sent. */
void lenz_idem_capture(request_rec *r, int status, const char *type, const char *text, apr_size_t len);

#endif
