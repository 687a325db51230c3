/* audit_admin.h - the audit log in the admin console (h_audit.c). */
#ifndef LENZ_ADMIN_AUDIT_H
#define LENZ_ADMIN_AUDIT_H

#include "httpd/router.h"

extern const lenz_stmt lenz_admin_audit_stmts[];
/* /admin/audit, /admin/audit.csv (pages) */
extern const lenz_route lenz_admin_audit_routes[];
/* /api/v1/admin/audit */
extern const lenz_route lenz_api_admin_audit_routes[];

#endif
