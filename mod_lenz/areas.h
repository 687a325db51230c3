/* areas.h - the feature areas (one content handler each). */
#ifndef LENZ_AREAS_H
#define LENZ_AREAS_H

#include "router.h"

extern const lenz_area lenz_area_status;
extern const lenz_area lenz_area_api;
extern const lenz_area lenz_area_account;
extern const lenz_area lenz_area_upload;
extern const lenz_area lenz_area_download;
extern const lenz_area lenz_area_events;

/* Route tables that areas gather. */
extern const lenz_route lenz_api_auth_routes[];
extern const lenz_route lenz_api_upload_routes[];
extern const lenz_route lenz_api_link_routes[];
extern const lenz_stmt lenz_api_links_stmts[];
extern const lenz_route lenz_api_admin_routes[];
extern const lenz_route lenz_api_notify_routes[];
extern const lenz_stmt lenz_api_admin_stmts[];

#endif
