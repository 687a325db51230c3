/* QR codes as SVG (qr.h): the path drawn is exactly the module matrix
 * libqrencode made, inside a quiet zone of 4; the label is escaped;
 * text too long for a QR code and bad arguments give NULL.  (That a
 * reader decodes it: t/settings.t reads the page's code with zbarimg.) */
#include <stdlib.h>
#include <string.h>
#include <qrencode.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "qr.h"

/* Paints the path's "M x y h n v1 h-n z" runs into a size x size grid. */
static int paint(const char *svg, unsigned char *grid, int size)
{
    const char *d = strstr(svg, " d=\"");
    int runs = 0;
    if (!d)
        return -1;
    d += 4;
    while (*d == 'M') {
        int x, y, n, n2, used = 0;
        if (sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &n, &n2, &used) != 4 || n != n2 || used == 0)
            return -1;
        if (x < 0 || y < 0 || n < 1 || x + n > size || y >= size)
            return -1;
        memset(grid + y * size + x, 1, (size_t)n);
        d += used;
        runs++;
    }
    return *d == '"' ? runs : -1;
}

int main(void)
{
    apr_pool_t *p;
    const char *uri = "otpauth://totp/Lenzeye:petra%40example.org?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
                      "&issuer=Lenzeye&algorithm=SHA1&digits=6&period=30";
    const char *svg;
    QRcode *q;
    unsigned char *grid;
    int size, x, y, same = 1, runs;
    char *big;

    apr_initialize();
    apr_pool_create(&p, NULL);
    plan(13);

    svg = lenz_qr_svg(p, uri, 4, "QR code <for> \"the\" app & more");
    ok(svg != NULL, "an otpauth URI encodes");
    q = QRcode_encodeString8bit(uri, 0, QR_ECLEVEL_M);
    ok(q && q->width >= 21 && (q->width - 17) % 4 == 0, "libqrencode's matrix: %d modules a side", q ? q->width : 0);
    size = q->width + 8;
    ok(strstr(svg, apr_psprintf(p, "viewBox=\"0 0 %d %d\"", size, size)) != NULL, "viewBox: the code and a quiet zone of 4");
    ok(strstr(svg, apr_psprintf(p, "width=\"%d\" height=\"%d\"", size * 4, size * 4)) != NULL, "4 pixels a module");
    grid = calloc((size_t)size * size, 1);
    runs = paint(svg, grid, size);
    ok(runs > 0, "the path is runs of dark modules (%d)", runs);
    for (y = 0; y < size; y++)
        for (x = 0; x < size; x++) {
            int want = x >= 4 && y >= 4 && x < size - 4 && y < size - 4
                       ? (q->data[(y - 4) * q->width + (x - 4)] & 1) : 0;
            if (grid[y * size + x] != want)
                same = 0;
        }
    ok(same, "the path paints exactly libqrencode's dark modules, the quiet zone light");
    ok(grid[4 * size + 4] && grid[4 * size + 10] && !grid[5 * size + 5],
       "the top-left finder pattern is where it belongs");
    ok(strstr(svg, "aria-label=\"QR code &lt;for&gt; &quot;the&quot; app &amp; more\"") != NULL,
       "the label is escaped");
    ok(strstr(svg, "role=\"img\"") != NULL && strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0,
       "an <svg> element with role img");
    QRcode_free(q);
    free(grid);

    big = apr_palloc(p, 3001);
    memset(big, 'a', 3000);
    big[3000] = '\0';
    ok(lenz_qr_svg(p, big, 4, "x") == NULL, "3,000 bytes do not fit a QR code at level M: NULL");
    ok(lenz_qr_svg(p, "", 4, "x") == NULL && lenz_qr_svg(p, NULL, 4, "x") == NULL, "empty or no text: NULL");
    ok(lenz_qr_svg(p, "x", 0, "x") == NULL && lenz_qr_svg(p, "x", 65, "x") == NULL, "a scale out of 1..64: NULL");
    ok(lenz_qr_svg(p, "x", 4, NULL) == NULL, "no label: NULL");

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
