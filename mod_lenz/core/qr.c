/* qr.c - QR codes as SVG (qr.h).  One <path> for the dark modules: runs of
 * dark modules in a row become one rectangle ("M x y h n v1 h-n z"), so
 * a 33x33 code for an otpauth URI is a few kilobytes. */
#include <string.h>
#include <qrencode.h>
#include <apr_strings.h>

#include "codec.h"

#include "qr.h"

#define QUIET 4

const char *lenz_qr_svg(apr_pool_t *p, const char *text, int scale, const char *label)
{
    QRcode *q;
    apr_size_t cap, len = 0;
    char *path;
    int x, y, w, size;
    const char *svg;

    if (!text || !*text || scale < 1 || scale > 64 || !label)
        return NULL;
    q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (!q)
        return NULL;
    w = q->width;
    /* At most one run per two modules in a row, ~24 bytes each. */
    cap = (apr_size_t)w * (apr_size_t)(w / 2 + 1) * 28 + 1;
    path = apr_palloc(p, cap);
    for (y = 0; y < w; y++) {
        for (x = 0; x < w; ) {
            int run = 0;
            while (x + run < w && (q->data[y * w + x + run] & 1))
                run++;
            if (run) {
                len += (apr_size_t)apr_snprintf(path + len, cap - len, "M%d %dh%dv1h-%dz",
                                                x + QUIET, y + QUIET, run, run);
                x += run;
            }
            else {
                x++;
            }
        }
    }
    path[len] = '\0';
    size = w + 2 * QUIET;
    svg = apr_psprintf(p, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"%s\" "
                       "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">"
                       "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                       "<path fill=\"#000\" d=\"%s\"/></svg>",
                       lenz_xml_escape(p, label), size * scale, size * scale, size, size, size, size, path);
    QRcode_free(q);
    return svg;
}
