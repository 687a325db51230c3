/* files/area.h - what the files area gives the area table (../areas.c):
 * the members' storage under /api/v1 (folders, files, trash, search). */
#ifndef LENZ_FILES_AREA_H
#define LENZ_FILES_AREA_H

#include "httpd/router.h"

extern const lenz_route lenz_api_files_routes[];
/* lenz-files: the file manager's pages (/files). */
extern const lenz_area lenz_area_files;
extern const lenz_stmt lenz_files_stmts[];
extern const lenz_stmt lenz_listing_stmts[];
extern const lenz_stmt lenz_copy_stmts[];
/* The link dialog, the Shared page, bulk actions (h_share_page.c). */
extern const lenz_route lenz_share_page_routes[];
extern const lenz_stmt lenz_share_page_stmts[];
/* /api/v1/file-requests (h_requests.c). */
extern const lenz_route lenz_api_request_routes[];
extern const lenz_stmt lenz_requests_api_stmts[];
/* A store outcome (store.h's lenz_fs_rc) answered as problem+json: 404,
 * 409 name-taken with suggested_name, ... (h_files.c). */
int lenz_files_fail(request_rec *r, int rc, const char *what, const char *suggested);
/* POST /api/v1/files/{id}/copy (copy.c). */
int lenz_files_copy(request_rec *r, lenz_req *lr);

#endif
