/* mustache.h - Mustache templates rendered over lenz_json values.
 *
 * Implements the Mustache spec (interpolation, sections, inverted sections,
 * comments, partials with standalone indentation, set-delimiter) and the
 * optional template inheritance (blocks {{$name}} and parents {{<name}}),
 * without lambdas.  Choices the spec leaves open:
 *
 *   - {{x}} escapes & < > " and ' (as &#39;); {{{x}}} and {{&x}} do not.
 *   - Truthiness is lenz_json_bool()'s: false, null, 0, "" and [] are
 *     falsey; everything else (including {}) is truthy.
 *   - Integers print plainly, doubles in the shortest form that reads back
 *     exactly (1.210 -> "1.21"), booleans as true/false; null, arrays and
 *     objects print nothing.
 *   - Lines of an inline (non-standalone) partial, parent or block are not
 *     indented; standalone ones get the tag's indentation on every line.
 *
 * A compiled template is immutable and may be shared between threads; it
 * lives as long as the pool it was compiled in.  Rendering is bounded: 64
 * levels of sections/partials/blocks, 2^20 expansions (section passes,
 * partials, parents, blocks) per render; past either it stops with
 * LENZ_ETOOBIG.
 */
#ifndef LENZ_MUSTACHE_H
#define LENZ_MUSTACHE_H

#include <apr_pools.h>
#include "json.h"

typedef struct lenz_mst lenz_mst;   /* a compiled template */

/* Compile src (len bytes; copied).  On a syntax error (unclosed tag or
 * section, mismatched close, bad delimiter, nesting too deep) returns NULL
 * and sets *why (if why is not NULL) to "name:line: reason". */
lenz_mst *lenz_mst_compile(apr_pool_t *p, const char *name, const char *src,
                           apr_size_t len, const char **why);

/* The template's name as given to lenz_mst_compile(). */
const char *lenz_mst_name(const lenz_mst *t);

/* Partials and parents: the renderer asks this loader for a compiled
 * template by name; NULL means "no such partial" (renders as empty). */
typedef const lenz_mst *lenz_mst_partial_fn(void *baton, const char *name);

/* Output sink; a non-APR_SUCCESS return stops rendering and is returned. */
typedef apr_status_t lenz_mst_write_fn(void *baton, const char *buf, apr_size_t len);

/* Render t against ctx (may be NULL), streaming the output to write in
 * pieces of at most a few KiB (longer literal text is passed whole).
 * partial may be NULL.  scratch holds one small buffer for the call. */
apr_status_t lenz_mst_render(const lenz_mst *t, const lenz_json *ctx,
                             lenz_mst_partial_fn *partial, void *pbaton,
                             lenz_mst_write_fn *write, void *wbaton,
                             apr_pool_t *scratch);

/* Convenience for tests and small strings: the whole output in a string
 * allocated from p (*out is set only on success). */
apr_status_t lenz_mst_render_string(apr_pool_t *p, const lenz_mst *t,
                                    const lenz_json *ctx,
                                    lenz_mst_partial_fn *partial, void *pbaton,
                                    const char **out);

#endif
