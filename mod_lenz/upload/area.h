/* upload/area.h - what the upload area gives the area table (../areas.c). */
#ifndef LENZ_UPLOAD_AREA_H
#define LENZ_UPLOAD_AREA_H

#include "httpd/router.h"

extern const lenz_area lenz_area_upload;
/* /api/v1/uploads. */
extern const lenz_route lenz_api_upload_routes[];

#endif
