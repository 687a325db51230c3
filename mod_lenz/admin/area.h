/* admin/area.h - what the admin area gives the area table (../areas.c). */
#ifndef LENZ_ADMIN_AREA_H
#define LENZ_ADMIN_AREA_H

#include "httpd/router.h"

/* /api/v1/admin. */
extern const lenz_route lenz_api_admin_routes[];
extern const lenz_stmt lenz_api_admin_stmts[];

#endif
