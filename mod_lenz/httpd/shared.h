/* shared.h - state shared by every httpd process (and, with a
 * distributed socache provider such as memcache, every host): an socache
 * instance chosen by LenzSharedCache, behind a global mutex when the
 * provider needs one.  Exposed to the core as a lenz_kv store.
 */
#ifndef LENZ_SHARED_H
#define LENZ_SHARED_H

#include "lenz.h"
#include "breaker.h"

/* pre_config: registers the "lenz-shared" mutex (Mutex directive). */
void lenz_shared_pre_config(apr_pool_t *pconf);
/* check_config: finds the provider and creates the instance from spec
 * ("shmcb", "shmcb:/path(size)", "memcache:host:port,...").  Returns an
 * error text, or NULL. */
const char *lenz_shared_check(apr_pool_t *pconf, apr_pool_t *ptemp, const char *spec);
/* post_config: initialises the instance and the mutex. */
apr_status_t lenz_shared_post_config(apr_pool_t *pconf, server_rec *s);
void lenz_shared_child_init(apr_pool_t *pchild, server_rec *s);

/* The store, or NULL when none is configured (single process state). */
const lenz_kv *lenz_shared_kv(void);

#endif
