/* home/area.h - what the home area gives the area table (../areas.c). */
#ifndef LENZ_HOME_AREA_H
#define LENZ_HOME_AREA_H

#include "httpd/router.h"

/* lenz-home: the site's front page ("/"). */
extern const lenz_area lenz_area_home;

#endif
