/* The content filter (core/textfilter.c): refused words as whole words
 * without regard to case, and the cap on links. */
#include <apr_general.h>
#include <apr_pools.h>

#include "tap.h"
#include "textfilter.h"

static const char *const words[] = { "spam", "scam" };

static const struct { const char *text; int links; int refused; const char *why; } cases[] = {
    { "a plain note", 5, 0, "no word, no link" },
    { "buy SPAM now", 5, 1, "a refused word in capitals" },
    { "Spam.", 5, 1, "... before a full stop" },
    { "(scam)", 5, 1, "... in brackets" },
    { "spammer and scampi", 5, 0, "inside a longer word: not refused" },
    { "antispam", 5, 0, "... at the end of one" },
    { "naïvespam", 5, 0, "... after a non-ASCII letter" },
    { "see https://a.example and http://b.example", 2, 0, "two links, two allowed" },
    { "see https://a.example, http://b.example and www.c.example", 2, 1, "three links, two allowed" },
    { "[x](https://a.example) [y](https://b.example)", 1, 1, "Markdown links count" },
    { "https://a.example/https://b.example", 1, 0, "a link inside a link's path is one link" },
    { "no links at all", 0, 0, "a cap of 0 and no link" },
    { "one link www.a.example", 0, 1, "a cap of 0 and one link" },
    { "", 5, 0, "empty text" },
};

int main(void)
{
    apr_pool_t *p;
    unsigned i;
    apr_initialize();
    apr_pool_create(&p, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = lenz_text_refused(p, cases[i].text, words, 2, cases[i].links);
        ok((why != NULL) == cases[i].refused, "%s", cases[i].why);
    }
    ok(!strcmp(lenz_text_refused(p, "spam", words, 2, 5), "it contains a refused word"), "the reason for a word");
    ok(!strcmp(lenz_text_refused(p, "http://a http://b", words, 0, 1), "it has more than 1 link"),
       "the reason for links, with the cap");
    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
