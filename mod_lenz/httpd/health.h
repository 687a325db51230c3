/* health.h - the host's last health probe, shared by its processes
 * (health.c): lenz-status probes and stores, and answers /health from
 * it; the admin console reads it. */
#ifndef LENZ_HEALTH_H
#define LENZ_HEALTH_H

#include "lenz.h"

/* When, and each service up (1) or down (0). */
typedef struct {
    apr_time_t at;
    unsigned char db, s3, smtp;
} lenz_health_result;

/* The last result: 1, or 0 when there is none yet. */
int lenz_health_last(request_rec *r, lenz_health_result *p);
/* Claims the next probe for this request: 1, or 0 when another holds it. */
int lenz_health_claim(request_rec *r, apr_time_t now);
/* Stores a probe's result (kept a minute) and releases the claim. */
void lenz_health_store(request_rec *r, const lenz_health_result *p);

#endif
