/* zipnames.h - one name per entry of a ZIP made from files that may share
 * names: the first "a.jpg" keeps its name, the next ones become
 * "a (2).jpg", "a (3).jpg", ... (the number before the extension; none
 * for names without one), skipping any name already taken.
 *
 * Linear: each name remembers the next number to try, so thousands of
 * files of one name cost one look-up each instead of a scan from (2)
 * every time (a candidate is only ever tried once per name). */
#ifndef LENZ_ZIPNAMES_H
#define LENZ_ZIPNAMES_H

#include <apr_pools.h>

typedef struct lenz_zipnames lenz_zipnames;

lenz_zipnames *lenz_zipnames_make(apr_pool_t *p);
/* The entry's name for a file called name (kept, or numbered); the
 * returned string lives in the pool given to lenz_zipnames_make.  name
 * itself must live as long. */
const char *lenz_zipnames_add(lenz_zipnames *z, const char *name);
/* How many names were looked up so far (every candidate counts): for
 * the tests, which hold it to a small multiple of the names added. */
apr_size_t lenz_zipnames_probes(const lenz_zipnames *z);

#endif
