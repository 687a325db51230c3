/* notify/area.h - what the notify area gives the area table (../areas.c). */
#ifndef LENZ_NOTIFY_AREA_H
#define LENZ_NOTIFY_AREA_H

#include "httpd/router.h"

extern const lenz_area lenz_area_events;
/* /api/v1/notifications. */
extern const lenz_route lenz_api_notify_routes[];

#endif
