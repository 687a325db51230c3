/* mustache_int.h - what mustache.c (compilation) and mustache_render.c
 * (rendering) share: the node tree of a compiled template and the limits.
 * Private to the core; not part of the mustache.h API.
 */
#ifndef LENZ_MUSTACHE_INT_H
#define LENZ_MUSTACHE_INT_H

#include <apr_pools.h>
#include "mustache.h"

#define MST_MAX_NEST   64          /* open sections/blocks/parents at compile */
#define MST_MAX_DEPTH  64          /* sections + expansions while rendering */
#define MST_MAX_EXPAND (1UL << 20) /* section passes and partial/parent/block
                                    * expansions a render */
#define MST_MAX_DELIM  16          /* bytes in a custom delimiter */
#define MST_BUFSZ      4096        /* output buffer in front of the writer */

typedef struct {
    const char *s;
    apr_size_t n;
} span;

typedef enum {
    N_TEXT, N_VAR, N_SECTION, N_INVERTED, N_PARTIAL, N_BLOCK, N_PARENT
} node_kind;

typedef struct node node;
struct node {
    node_kind kind;
    unsigned bol : 1;        /* starts a template line: indentation goes first */
    unsigned raw : 1;        /* VAR: {{{x}}} or {{&x}}, no escaping */
    unsigned site : 1;       /* PARTIAL/BLOCK/PARENT: standalone, expansion is
                              * indented with the current indentation + ind;
                              * otherwise it is inline and not indented */
    unsigned skip_first : 1; /* BLOCK: its first line follows literal text */
    const char *s;           /* TEXT: the bytes; other kinds: the name */
    apr_size_t n;
    span ind;                /* indentation added at a site */
    const char **path;       /* VAR/SECTION: dotted name; npath 0 is "." */
    int npath;
    node *kids, *next;
};

struct lenz_mst {
    const char *name;
    node *root;
};

#endif
