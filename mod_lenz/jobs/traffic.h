/* traffic.h - bytes served per day, written by the job runners
 * (traffic.c). */
#ifndef LENZ_TRAFFIC_H
#define LENZ_TRAFFIC_H

#include "httpd/dbd.h"

extern const lenz_stmt lenz_traffic_stmts[];

/* Adds what this host sent since the last call to today's row. */
void lenz_traffic_flush(lenz_db *db);

#endif
