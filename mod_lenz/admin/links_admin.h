/* links_admin.h - share links and the system in the admin console
 * (h_links.c, h_system.c). */
#ifndef LENZ_ADMIN_LINKS_H
#define LENZ_ADMIN_LINKS_H

#include "httpd/router.h"

extern const lenz_stmt lenz_admin_links_stmts[];
extern const lenz_route lenz_admin_links_routes[];       /* /admin/links... */
extern const lenz_route lenz_api_admin_links_routes[];   /* /api/v1/admin/links... */

extern const lenz_stmt lenz_admin_system_stmts[];
extern const lenz_route lenz_admin_system_routes[];      /* /admin/system */
extern const lenz_route lenz_api_admin_system_routes[];  /* /api/v1/admin/system */

#endif
