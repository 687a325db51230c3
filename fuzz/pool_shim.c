/* pool_shim.c - makes APR pool memory visible to AddressSanitizer.
 *
 * apr_palloc() hands out slices of 8 KiB blocks, so reading or writing a
 * few bytes past one allocation lands in the next and ASan says nothing.
 * Linked into the fuzz harnesses (and exported with --export-dynamic-symbol
 * so libapr's and libaprutil's own calls come here too), this apr_palloc()
 * gives every allocation a malloc() block of exactly the size asked for,
 * and frees them all when the pool is cleared or destroyed, after the
 * pool's other cleanups, as APR would.  apr_pcalloc() is a macro over
 * apr_palloc() in non-debug APR, so it is covered as well.
 *
 * Bookkeeping: a list of blocks per pool, found through a small table of
 * live pools.  The "free everything" cleanup is registered when the pool
 * is created (apr_pool_create_ex is wrapped too), so it is the first one
 * registered and therefore the last one run; pools made elsewhere (APR's
 * global pool) get it at their first allocation.  Single-threaded, like
 * libFuzzer's harness loop.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <apr_pools.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* 16 bytes, so what follows keeps malloc()'s alignment. */
typedef struct block {
    struct block *next;
    void *pad;
} block;

typedef struct track {
    apr_pool_t *pool;
    block *blocks;
    struct track *next;
} track;

static track *live;
static int busy;     /* inside the shim: APR's own allocations go to APR */

typedef void *palloc_fn(apr_pool_t *, apr_size_t);
typedef apr_status_t create_fn(apr_pool_t **, apr_pool_t *, apr_abortfunc_t,
                               apr_allocator_t *);

static palloc_fn *real_palloc(void)
{
    static palloc_fn *fn;
    if (!fn && !(fn = (palloc_fn *)dlsym(RTLD_NEXT, "apr_palloc")))
        abort();
    return fn;
}

static apr_status_t free_all(void *data)
{
    track *t = data, **pp;
    block *b = t->blocks;
    while (b) {
        block *n = b->next;
        free(b);
        b = n;
    }
    for (pp = &live; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    free(t);
    return APR_SUCCESS;
}

static track *track_of(apr_pool_t *p)
{
    track *t;
    for (t = live; t; t = t->next)
        if (t->pool == p)
            return t;
    if (!(t = calloc(1, sizeof(*t))))
        abort();
    t->pool = p;
    t->next = live;
    live = t;
    busy++;
    apr_pool_cleanup_register(p, t, free_all, apr_pool_cleanup_null);
    busy--;
    return t;
}

SHIM_EXPORT apr_status_t apr_pool_create_ex(apr_pool_t **newpool, apr_pool_t *parent,
                                            apr_abortfunc_t abort_fn,
                                            apr_allocator_t *allocator)
{
    static create_fn *real;
    apr_status_t rv;
    if (!real && !(real = (create_fn *)dlsym(RTLD_NEXT, "apr_pool_create_ex")))
        abort();
    rv = real(newpool, parent, abort_fn, allocator);
    if (rv == APR_SUCCESS && !busy)
        track_of(*newpool);
    return rv;
}

SHIM_EXPORT void *apr_palloc(apr_pool_t *p, apr_size_t size)
{
    block *b;
    track *t;
    if (busy)
        return real_palloc()(p, size);
    t = track_of(p);
    /* The block header sits in front; ASan's redzone right after size. */
    b = malloc(sizeof(block) + size);
    if (!b)
        abort();
    b->next = t->blocks;
    t->blocks = b;
    return b + 1;
}
