/* budget.h - a limited share link's downloads and bytes, reserved before
 * a response's first byte and settled at its end (docs/security.md,
 * "Download limits").  A link without a limit reserves nothing: its
 * downloads are counted when they complete, as before (serve.c). */
#ifndef LENZ_DL_BUDGET_H
#define LENZ_DL_BUDGET_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"
#include "download.h"

extern const lenz_stmt lenz_dl_limit_stmts[];

/* What one request reserved. */
typedef struct lenz_dl_claim {
    int download;           /* one of the link's downloads */
    apr_int64_t bytes;      /* bytes of the link's budget */
} lenz_dl_claim;

/* Does a request for this much of the link start a download?  The whole
 * of what the link shares from its first byte: the ZIP, or the file of a
 * one-file link (a full GET, or a Range from byte 0).  One file of a
 * transfer takes bytes only, from the same budget. */
int lenz_dl_starts_download(const lenz_link *l, int zip, apr_uint64_t first);

/* Reserves, on db (still open: before the first byte), one download when
 * download is set and bytes of the budget; a link without a limit
 * reserves nothing.  A download reserved emits link.downloaded in the
 * same transaction.  1: go ahead; 0: answered (410 when the link has too
 * little left, 503 when the database failed). */
int lenz_dl_reserve(request_rec *r, lenz_db *db, const lenz_link *l, int download,
                    apr_int64_t bytes, lenz_dl_claim *c);

/* After the response: gives back the reserved bytes beyond sent (what
 * was handed to the client, a failed last pass included), and the
 * download too when not one byte of a non-empty body was (the server
 * failed before it began).  Opens a connection only when there is
 * something to give back. */
void lenz_dl_settle(request_rec *r, const lenz_link *l, const lenz_dl_claim *c, apr_int64_t sent);

#endif
