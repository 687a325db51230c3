/* Markdown through libcmark (core/markdown.c): what renders and how, and
 * what is refused (raw HTML, unsafe link schemes, deep nesting). */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "tap.h"
#include "markdown.h"

static const struct { const char *in, *want; } good[] = {
    { "**bold** and _it_", "<p><strong>bold</strong> and <em>it</em></p>\n" },
    { "[site](https://example.org/a?b=c)", "<p><a href=\"https://example.org/a?b=c\">site</a></p>\n" },
    { "[rel](/files/folder)", "<p><a href=\"/files/folder\">rel</a></p>\n" },
    { "<https://example.org>", "<p><a href=\"https://example.org\">https://example.org</a></p>\n" },
    { "a < b & c > d", "<p>a &lt; b &amp; c &gt; d</p>\n" },
    { "> quoted\n> > twice", "<blockquote>\n<p>quoted</p>\n<blockquote>\n<p>twice</p>\n</blockquote>\n</blockquote>\n" },
    { "`<script>`", "<p><code>&lt;script&gt;</code></p>\n" },
    { "mail [me](mailto:a@example.org)", "<p>mail <a href=\"mailto:a@example.org\">me</a></p>\n" },
};
static const struct { const char *in, *why; } bad[] = {
    { "<script>alert(1)</script>", "raw HTML is not allowed; write Markdown" },
    { "hello <b>there</b>", "raw HTML is not allowed; write Markdown" },
    { "[x](javascript:alert(1))", "links may only be http, https or mailto" },
    { "[x](JavaScript:alert(1))", "links may only be http, https or mailto" },
    { "![x](data:image/png;base64,AAAA)", "links may only be http, https or mailto" },
    { "[x](vbscript:msgbox)", "links may only be http, https or mailto" },
};

int main(void)
{
    apr_pool_t *p;
    const char *html, *why;
    unsigned i;
    char *deep;
    apr_size_t n;
    apr_initialize();
    apr_pool_create(&p, NULL);
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        apr_status_t rv = lenz_md_render(p, good[i].in, strlen(good[i].in), &html, &why);
        if (!ok(rv == APR_SUCCESS && !strcmp(html, good[i].want), "renders case %u", i))
            printf("#   got %s\n", rv == APR_SUCCESS ? html : why);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        apr_status_t rv = lenz_md_render(p, bad[i].in, strlen(bad[i].in), &html, &why);
        if (!ok(rv == APR_EINVAL && why && !strcmp(why, bad[i].why), "refuses %s: %s", bad[i].in, bad[i].why))
            printf("#   got %s\n", rv == APR_SUCCESS ? html : why);
    }
    /* 10,000 nested quotes: refused before parsing. */
    n = 10000 * 2 + 1;
    deep = apr_palloc(p, n + 1);
    for (i = 0; i < 10000; i++) {
        deep[2 * i] = '>';
        deep[2 * i + 1] = ' ';
    }
    deep[n - 1] = 'x';
    deep[n] = '\0';
    ok(lenz_md_render(p, deep, n, &html, &why) == APR_EINVAL && strstr(why, "nested"), "10,000 nested quotes: refused");
    /* Lists nested deeper than the bound (no quote markers). */
    {
        char *s = "";
        for (i = 0; i < 20; i++)
            s = apr_pstrcat(p, s, apr_psprintf(p, "%*s- item\n", (int)(i * 2), ""), NULL);
        ok(lenz_md_render(p, s, strlen(s), &html, &why) == APR_EINVAL && strstr(why, "nested"),
           "lists 20 deep: refused");
    }
    ok(lenz_md_render(p, "\xff\xfe bad", 6, &html, &why) == APR_SUCCESS && strstr(html, "\xef\xbf\xbd"),
       "invalid UTF-8 is replaced, not passed on");
    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
