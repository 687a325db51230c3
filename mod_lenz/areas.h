/* areas.h - the feature areas (one content handler each). */
#ifndef LENZ_AREAS_H
#define LENZ_AREAS_H

#include "router.h"

extern const lenz_area lenz_area_status;

#endif
