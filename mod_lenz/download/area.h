/* download/area.h - what the download area gives the area table (../areas.c). */
#ifndef LENZ_DOWNLOAD_AREA_H
#define LENZ_DOWNLOAD_AREA_H

#include "httpd/router.h"

extern const lenz_area lenz_area_download;
/* /api/v1/links. */
extern const lenz_route lenz_api_link_routes[];
extern const lenz_stmt lenz_api_links_stmts[];
/* /api/v1/files/{id}/content and /preview: a member's own files. */
extern const lenz_route lenz_api_content_routes[];

#endif
