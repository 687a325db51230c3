/* listing.h - a folder's children page by page, and search (listing.c). */
#ifndef LENZ_FILES_LISTING_H
#define LENZ_FILES_LISTING_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"
#include "json.h"

extern const lenz_stmt lenz_listing_stmts[];

#define LENZ_LS_LIMIT_DEFAULT 100
#define LENZ_LS_LIMIT_MAX     1000

/* "name" (also NULL or ""), "size", "modified": 0, 1, 2; -1 for others. */
int lenz_ls_sort(const char *s);
/* One page of folder's children into arr; *next: the cursor of the next
 * page, or NULL.  APR_EINVAL for a cursor that is not one of ours. */
apr_status_t lenz_ls_children(lenz_db *db, const char *folder, int sort, int desc, const char *cursor,
                              int limit, lenz_json *arr, const char **next);
/* One page of the owner's items matching q (best first). */
apr_status_t lenz_ls_search(lenz_db *db, const char *owner, const char *q, const char *cursor, int limit,
                            lenz_json *arr, const char **next);

#endif
