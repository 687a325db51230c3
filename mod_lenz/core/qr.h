/* qr.h - a QR code drawn as SVG, from libqrencode (Debian's
 * libqrencode-dev): for the two-factor set-up's otpauth:// URI, so the
 * page needs no script and the secret never leaves the server but in the
 * page itself.  Pure function; nothing logged. */
#ifndef LENZ_QR_H
#define LENZ_QR_H

#include <apr_pools.h>

/* An <svg> element (from p) showing text as a QR code, error correction
 * level M, byte mode, a quiet zone of 4 modules, each module `scale` CSS
 * pixels; role="img" with aria-label `label` (escaped here).  NULL when
 * the text cannot be encoded (too long for a QR code: over ~2,300 bytes
 * at level M) or arguments are bad. */
const char *lenz_qr_svg(apr_pool_t *p, const char *text, int scale, const char *label);

#endif
