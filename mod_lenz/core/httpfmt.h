/* httpfmt.h - HTTP field formats mod_lenz parses or writes itself:
 * byte ranges (RFC 9110 section 14) and Content-Disposition with a UTF-8
 * filename (RFC 6266, RFC 8187).  Pure functions, fuzzed. */
#ifndef LENZ_HTTPFMT_H
#define LENZ_HTTPFMT_H

#include <apr_pools.h>

typedef struct lenz_range {
    apr_uint64_t first, last;      /* inclusive, clamped to the size */
} lenz_range;

#define LENZ_RANGES_MAX 16

/* Parses a Range header for a representation of size bytes.
 *   APR_SUCCESS     *n (1..max) satisfiable ranges, in the order given
 *   APR_NOTFOUND    not a bytes range (another unit): serve it whole
 *   LENZ_EFORMAT    malformed, or more than max ranges
 *   APR_EINVAL      well formed but none satisfiable (416) */
apr_status_t lenz_range_parse(const char *header, apr_uint64_t size, lenz_range *out,
                              int max, int *n);

/* attachment; filename="<ASCII fallback>"; filename*=UTF-8''<pct-encoded>,
 * with bidirectional controls replaced by '_' (names.h). */
const char *lenz_content_disposition(apr_pool_t *p, const char *type, const char *name);

#endif
