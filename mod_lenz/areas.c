/* h_api.c - lenz-api: the REST API for mobile and script clients,
 * mounted at /api/v1.  Each resource's routes live in their own file. */
#include "lenz.h"
#include "areas.h"

static const lenz_route *const tables[] = {
    lenz_api_auth_routes,
    lenz_api_upload_routes,
    lenz_api_link_routes,
    lenz_api_admin_routes,
    lenz_api_notify_routes,
    NULL
};

/* An API area: every error is problem+json. */
const lenz_area lenz_area_api = { "lenz-api", "api", tables, NULL, 1 };
