/* err.h - status codes shared by the httpd-free core.
 *
 * Core functions return apr_status_t.  Failures specific to mod_lenz use
 * codes above APR_OS_START_USERERR so callers can map them to HTTP answers;
 * a human-readable reason (never containing a secret) is returned through
 * an optional `const char **why` argument, allocated from the call's pool
 * or pointing to a static string.
 */
#ifndef LENZ_ERR_H
#define LENZ_ERR_H

#include <apr_errno.h>

#define LENZ_E_BASE      (APR_OS_START_USERERR + 7700)
#define LENZ_EAUTH       (LENZ_E_BASE + 1)  /* authentication tag / MAC / token check failed */
#define LENZ_EFORMAT     (LENZ_E_BASE + 2)  /* malformed input (encoding, framing, syntax) */
#define LENZ_ETOOBIG     (LENZ_E_BASE + 3)  /* a configured or format limit was exceeded */
#define LENZ_EEXPIRED    (LENZ_E_BASE + 4)  /* token or grant past its expiry */
#define LENZ_ECRYPTO     (LENZ_E_BASE + 5)  /* the crypto library failed (not the input) */
#define LENZ_EUPSTREAM   (LENZ_E_BASE + 6)  /* S3 / SMTP / DB answered with an error */
#define LENZ_ETIMEOUT    (LENZ_E_BASE + 7)  /* an outside call timed out or stalled */
#define LENZ_ENOTFOUND   (LENZ_E_BASE + 8)  /* the thing asked for does not exist */
#define LENZ_ECONFLICT   (LENZ_E_BASE + 9)  /* state does not allow the operation */
#define LENZ_EUNAVAIL    (LENZ_E_BASE + 10) /* a dependency is down (breaker open, no DB) */

/* A short name for a LENZ_E* or APR code, for logs and tests. */
const char *lenz_strerror(apr_status_t rv);

#endif
