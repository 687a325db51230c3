/* Server-drawn bar charts (svgchart.h): an image with a title and a
 * description naming the series and the range, two bars per label whose
 * heights follow the values on a round axis, text escaped, bad input NULL. */
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "svgchart.h"

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (; (s = strstr(s, needle)); s += strlen(needle))
        n++;
    return n;
}

int main(void)
{
    apr_pool_t *p;
    const char *labels[3] = { "12-01", "12-02", "12-03" };
    long up[3] = { 0, 50, 100 }, down[3] = { 10, 0, 25 }, bad[3] = { 1, -1, 2 };
    const char *svg;

    apr_initialize();
    apr_pool_create(&p, NULL);

    svg = lenz_svg_bars(p, "Uploads & <downloads>", labels, up, "Uploads", down, "Downloads", 3);
    ok(svg && strncmp(svg, "<svg ", 5) == 0, "an <svg> element");
    ok(strstr(svg, "role=\"img\"") && strstr(svg, "aria-labelledby=\"chart-t chart-d\""), "an image named by its title and description");
    ok(strstr(svg, "<title id=\"chart-t\">Uploads &amp; &lt;downloads&gt;</title>") != NULL, "the title, escaped");
    ok(strstr(svg, "Uploads (dark) and Downloads (hatched) per day, 12-01 to 12-03; the largest is 100.") != NULL,
       "the description names the series, the range and the largest value");
    /* legend: 2 rects plus the pattern's 2; bars: 6 */
    is_int(count(svg, "fill=\"#1f4e79\"/>"), 1 + 3, "three solid bars and the legend's");
    is_int(count(svg, "fill=\"url(#hatch)\""), 1 + 3, "three hatched bars and the legend's");
    /* plot height 240 - 28 - 28 = 184; axis top 100 */
    ok(strstr(svg, "height=\"184.0\" fill=\"#1f4e79\"") != NULL, "the largest value fills the plot (184 units)");
    ok(strstr(svg, "height=\"92.0\" fill=\"#1f4e79\"") != NULL, "half of it, half the height");
    ok(strstr(svg, "height=\"0.0\" fill=\"#1f4e79\"") != NULL, "zero, no height");
    ok(strstr(svg, "text-anchor=\"end\">100</text>") != NULL, "the axis is labelled 100");
    down[2] = 130;
    svg = lenz_svg_bars(p, "t", labels, up, "a", down, "b", 3);
    ok(strstr(svg, "text-anchor=\"end\">200</text>") != NULL, "130 rounds the axis up to 200");
    ok(lenz_svg_bars(p, "t", labels, bad, "a", down, "b", 3) == NULL, "a negative value: NULL");
    ok(lenz_svg_bars(p, "t", labels, up, "a", down, "b", 0) == NULL, "no values: NULL");
    ok(lenz_svg_bars(p, NULL, labels, up, "a", down, "b", 3) == NULL, "no title: NULL");

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
