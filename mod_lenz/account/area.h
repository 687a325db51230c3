/* account/area.h - what the account area gives the area table (../areas.c). */
#ifndef LENZ_ACCOUNT_AREA_H
#define LENZ_ACCOUNT_AREA_H

#include "httpd/router.h"

extern const lenz_area lenz_area_account;
/* /api/v1/auth and /me, mounted by the API area. */
extern const lenz_route lenz_api_auth_routes[];
/* /api/v1/me/tokens (h_tokens.c), the settings page (h_settings.c) and
 * /api/v1/me's settings (h_settings.c). */
extern const lenz_route lenz_api_token_routes[];
extern const lenz_route lenz_account_settings_routes[];
extern const lenz_route lenz_api_settings_routes[];
extern const lenz_route lenz_api_prefs_routes[];

#endif
