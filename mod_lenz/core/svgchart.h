/* svgchart.h - bar charts drawn on the server as SVG (the admin console's
 * dashboard): no chart library reaches the browser.  The chart is an
 * image with a title and a description; the page shows the same numbers
 * as a table beside it (its text alternative).  Pure function. */
#ifndef LENZ_SVGCHART_H
#define LENZ_SVGCHART_H

#include <apr_pools.h>

/* Two series (a, b) of n values each, one pair of bars per label, a
 * legend naming a_name and b_name, a y axis from 0 to the largest value.
 * title is the chart's accessible name.  Text is escaped here.  NULL for
 * n outside 1..366 or a negative value. */
const char *lenz_svg_bars(apr_pool_t *p, const char *title, const char *const *labels,
                          const long *a, const char *a_name, const long *b, const char *b_name, int n);

#endif
