/* jobs_admin.h - the job queue in the admin console (h_jobs.c). */
#ifndef LENZ_ADMIN_JOBS_H
#define LENZ_ADMIN_JOBS_H

#include "httpd/router.h"

extern const lenz_stmt lenz_admin_jobs_stmts[];
/* /admin/jobs..., /admin/schedules/{name}/run (pages) */
extern const lenz_route lenz_admin_jobs_routes[];
/* /api/v1/admin/jobs..., /api/v1/admin/schedules/{name}/run */
extern const lenz_route lenz_api_admin_jobs_routes[];

#endif
