/* search/area.h - what the search area gives the area table (../areas.c):
 * /api/v1/search and the search page (/search). */
#ifndef LENZ_SEARCH_AREA_H
#define LENZ_SEARCH_AREA_H

#include "httpd/router.h"

extern const lenz_route lenz_api_search_routes[];
extern const lenz_stmt lenz_search_stmts[];
extern const lenz_area lenz_area_search;

#endif
