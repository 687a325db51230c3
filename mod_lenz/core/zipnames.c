/* zipnames.c - unique entry names for a ZIP (zipnames.h).
 *
 * taken: every name handed out.  next: for each name asked for more than
 * once, the number to try next.  Numbers below it were all handed out or
 * found taken, and names are never given back, so starting there gives
 * the same names as scanning from (2) would, and a candidate "stem (k)ext"
 * is tried at most once for its name: the lookups stay below three per
 * name added, whatever the names (a candidate string is the candidate of
 * one name and number only). */
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>

#include "zipnames.h"

struct lenz_zipnames {
    apr_pool_t *pool;
    apr_hash_t *taken, *next;
    apr_size_t probes;
};

lenz_zipnames *lenz_zipnames_make(apr_pool_t *p)
{
    lenz_zipnames *z = apr_pcalloc(p, sizeof(*z));
    z->pool = p;
    z->taken = apr_hash_make(p);
    z->next = apr_hash_make(p);
    return z;
}

static int taken(lenz_zipnames *z, const char *name)
{
    z->probes++;
    return apr_hash_get(z->taken, name, APR_HASH_KEY_STRING) != NULL;
}

const char *lenz_zipnames_add(lenz_zipnames *z, const char *name)
{
    const char *dot = strrchr(name, '.'), *cand = name;
    int *next;

    if (taken(z, name)) {
        next = apr_hash_get(z->next, name, APR_HASH_KEY_STRING);
        if (!next) {
            next = apr_palloc(z->pool, sizeof(*next));
            *next = 2;
            apr_hash_set(z->next, name, APR_HASH_KEY_STRING, next);
        }
        do {
            cand = dot && dot != name
                   ? apr_psprintf(z->pool, "%.*s (%d)%s", (int)(dot - name), name, *next, dot)
                   : apr_psprintf(z->pool, "%s (%d)", name, *next);
            ++*next;
        } while (taken(z, cand));
    }
    apr_hash_set(z->taken, cand, APR_HASH_KEY_STRING, cand);
    return cand;
}

apr_size_t lenz_zipnames_probes(const lenz_zipnames *z)
{
    return z->probes;
}
