/* admin/area.h - what the admin area gives the area table (../areas.c). */
#ifndef LENZ_ADMIN_AREA_H
#define LENZ_ADMIN_AREA_H

#include "httpd/router.h"

/* /admin: the console's pages (h_admin.c, h_jobs.c). */
extern const lenz_area lenz_area_admin;
extern const lenz_stmt lenz_admin_page_stmts[];
extern const lenz_stmt lenz_admin_users_stmts[];
extern const lenz_stmt lenz_admin_jobs_stmts[];
extern const lenz_route lenz_api_admin_jobs_routes[];
extern const lenz_stmt lenz_admin_audit_stmts[];
extern const lenz_route lenz_api_admin_audit_routes[];
extern const lenz_stmt lenz_admin_links_stmts[];
extern const lenz_route lenz_api_admin_links_routes[];
extern const lenz_stmt lenz_admin_system_stmts[];
extern const lenz_route lenz_api_admin_system_routes[];

/* /api/v1/admin. */
extern const lenz_route lenz_api_admin_routes[];
extern const lenz_stmt lenz_api_admin_stmts[];

#endif
