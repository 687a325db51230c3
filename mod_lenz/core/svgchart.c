/* svgchart.c - bar charts as SVG (svgchart.h).  Fixed geometry: 760 x 240
 * user units, scaled by the page's CSS; two colours that keep 3:1 against
 * white and each other's shape (solid and hatched) for people who do not
 * tell them apart. */
#include <string.h>
#include <apr_strings.h>

#include "codec.h"

#include "svgchart.h"

#define W      760
#define H      240
#define LEFT   48
#define BOTTOM 28
#define TOP    28

/* A round top for the axis: 1, 2 or 5 times a power of ten. */
static long nice_top(long max)
{
    long step = 1;
    if (max < 1)
        return 1;
    for (;;) {
        if (step >= max) return step;
        if (step * 2 >= max) return step * 2;
        if (step * 5 >= max) return step * 5;
        step *= 10;
    }
}

const char *lenz_svg_bars(apr_pool_t *p, const char *title, const char *const *labels,
                          const long *a, const char *a_name, const long *b, const char *b_name, int n)
{
    long max = 0, top;
    int i, plot_w = W - LEFT - 8, plot_h = H - TOP - BOTTOM;
    double slot, bar;
    char *parts;
    const char *svg;

    if (n < 1 || n > 366 || !title || !a || !b || !labels)
        return NULL;
    for (i = 0; i < n; i++) {
        if (a[i] < 0 || b[i] < 0)
            return NULL;
        if (a[i] > max) max = a[i];
        if (b[i] > max) max = b[i];
    }
    top = nice_top(max);
    slot = (double)plot_w / n;
    bar = slot * 0.4;
    svg = apr_psprintf(p, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" "
                       "aria-labelledby=\"chart-t chart-d\" class=\"chart\"><title id=\"chart-t\">%s</title>"
                       "<desc id=\"chart-d\">%s (dark) and %s (hatched) per day, %s to %s; the largest is %ld. "
                       "The table below gives every value.</desc>"
                       "<defs><pattern id=\"hatch\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\" "
                       "patternTransform=\"rotate(45)\"><rect width=\"4\" height=\"4\" fill=\"#fff\"/>"
                       "<rect width=\"2\" height=\"4\" fill=\"#b3541e\"/></pattern></defs>"
                       "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>"
                       "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%ld</text>"
                       "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">0</text>"
                       "<rect x=\"%d\" y=\"6\" width=\"12\" height=\"12\" fill=\"#1f4e79\"/>"
                       "<text x=\"%d\" y=\"16\" font-size=\"12\">%s</text>"
                       "<rect x=\"%d\" y=\"6\" width=\"12\" height=\"12\" fill=\"url(#hatch)\" stroke=\"#b3541e\"/>"
                       "<text x=\"%d\" y=\"16\" font-size=\"12\">%s</text>",
                       W, H, lenz_xml_escape(p, title), lenz_xml_escape(p, a_name), lenz_xml_escape(p, b_name),
                       lenz_xml_escape(p, labels[0]), lenz_xml_escape(p, labels[n - 1]), max,
                       LEFT, H - BOTTOM, W - 8, H - BOTTOM,
                       LEFT - 4, TOP + 4, top, LEFT - 4, H - BOTTOM,
                       LEFT, LEFT + 16, lenz_xml_escape(p, a_name), LEFT + 160, LEFT + 176, lenz_xml_escape(p, b_name));
    parts = apr_pstrdup(p, "");
    for (i = 0; i < n; i++) {
        double x = LEFT + i * slot + slot * 0.1;
        double ha = (double)a[i] * plot_h / top, hb = (double)b[i] * plot_h / top;
        parts = apr_psprintf(p, "%s<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f4e79\"/>"
                             "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"url(#hatch)\" "
                             "stroke=\"#b3541e\" stroke-width=\"0.5\"/>",
                             parts, x, H - BOTTOM - ha, bar, ha, x + bar, H - BOTTOM - hb, bar, hb);
        if (i % 7 == 0 || i == n - 1)
            parts = apr_psprintf(p, "%s<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
                                 parts, x + bar, H - 10, lenz_xml_escape(p, labels[i]));
    }
    return apr_pstrcat(p, svg, parts, "</svg>", NULL);
}
