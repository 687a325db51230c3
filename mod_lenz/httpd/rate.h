/* rate.h - rate limits counted in the shared store (so every process and,
 * with memcache, every host counts together): fixed windows per key, the
 * previous window counted in proportion to its overlap with the last period. */
#ifndef LENZ_RATE_H
#define LENZ_RATE_H

#include "lenz.h"

/* Counts one event for scope/who.  1 when within limit events per period
 * seconds; 0 when over (and *retry_after says when the window ends). */
int lenz_rate_hit(request_rec *r, const char *scope, const char *who,
                  int limit, int period, int *retry_after);

/* The events counted within about the last period (nothing is added). */
int lenz_rate_count(request_rec *r, const char *scope, const char *who, int period);

/* lenz_rate_hit() that answers 429 with Retry-After when over; returns 1
 * when the caller may go on, 0 when the answer is written. */
int lenz_rate_check(request_rec *r, const char *scope, const char *who,
                    int limit, int period);

/* Takes back one event counted by lenz_rate_hit() in this window (a
 * sign-in counted before its password was checked, which succeeded). */
void lenz_rate_undo(request_rec *r, const char *scope, const char *who, int period);

/* Forgets every event counted for scope/who (this window and the last). */
void lenz_rate_clear(request_rec *r, const char *scope, const char *who, int period);

/* The client's address as a rate-limit key: IPv4 whole, IPv6 by its /64
 * (core/netaddr.h). */
const char *lenz_rate_addr(request_rec *r);

#endif
