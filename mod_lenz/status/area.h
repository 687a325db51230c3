/* status/area.h - what the status area gives the area table (../areas.c). */
#ifndef LENZ_STATUS_AREA_H
#define LENZ_STATUS_AREA_H

#include "httpd/router.h"

extern const lenz_area lenz_area_status;

#endif
