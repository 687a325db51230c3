/* Names of files and folders (lenz_name_problem): what a member may name
 * an item, byte by byte, and why the rest is refused. */
#include <string.h>
#include "tap.h"
#include "names.h"

int main(void)
{
    static const char *const good[] = {
        "a", "report.pdf", "Ferien \xc3\xa4.jpg", "\xe6\x97\xa5\xe6\x9c\xac.txt", "...", ".hidden",
        "a b", "100% done_now", "\xf0\x9f\x98\x80 smile", "\xef\xbf\xbd", "e\xcc\x81t\xc3\xa9",
    };
    static const struct { const char *in, *why; } bad[] = {
        { "", "empty" }, { ".", "'.'" }, { "..", "'..'" },
        { "a/b", "'/'" }, { "a\\b", "'\\'" }, { "a\tb", "control" }, { "a\nb", "control" },
        { "\x7f", "control" }, { "a\x1b[31m", "control" },
        { "\xc0\xaf", "UTF-8" },                    /* overlong '/' */
        { "\xe0\x80\xaf", "UTF-8" },                /* overlong */
        { "\xed\xa0\x80", "UTF-8" },                /* surrogate */
        { "\xf4\x90\x80\x80", "UTF-8" },            /* past U+10FFFF */
        { "\xc3", "UTF-8" }, { "ab\xe2\x82", "UTF-8" }, { "\xff", "UTF-8" }, { "\x80x", "UTF-8" },
        { "photo\xe2\x80\xaegpj.exe", "bidirectional" },
    };
    char longname[300];
    unsigned i;

    plan((int)(sizeof(good) / sizeof(good[0]) + sizeof(bad) / sizeof(bad[0])) + 3);
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ok(lenz_name_problem(good[i]) == NULL, "good: %s", good[i]);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = lenz_name_problem(bad[i].in);
        ok(why && strstr(why, bad[i].why), "refused (%s): %s", bad[i].why, why ? why : "accepted");
    }
    memset(longname, 'a', 255);
    longname[255] = '\0';
    ok(lenz_name_problem(longname) == NULL, "255 bytes is a name");
    longname[255] = 'a';
    longname[256] = '\0';
    ok(lenz_name_problem(longname) != NULL && strstr(lenz_name_problem(longname), "255"), "256 bytes is not");
    ok(lenz_name_problem(NULL) != NULL, "NULL is not");
    return done_testing();
}
