/* Bidirectional controls in names (names.h): found, and replaced by '_'
 * so "photo<RLO>gpj.exe" can no longer show as "photoexe.jpg". */
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "names.h"

int main(void)
{
    static const char *const controls[] = {
        "\xd8\x9c",                                     /* U+061C ALM */
        "\xe2\x80\x8e", "\xe2\x80\x8f",                 /* U+200E LRM, U+200F RLM */
        "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", /* U+202A-U+202C */
        "\xe2\x80\xad", "\xe2\x80\xae",                 /* U+202D LRO, U+202E RLO */
        "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", /* U+2066-U+2069 */
    };
    /* Neighbours that are not controls: U+200D ZWJ, U+202F NNBSP, U+2065
     * (unassigned), U+206A, U+061B (Arabic semicolon), U+00AE. */
    static const char *const others[] = {
        "\xe2\x80\x8d", "\xe2\x80\xaf", "\xe2\x81\xa5", "\xe2\x81\xaa", "\xd8\x9b", "\xc2\xae",
    };
    apr_pool_t *p;
    const char *plain = "Ferien \xc3\xa4.jpg";
    apr_size_t i;

    apr_initialize();
    apr_pool_create(&p, NULL);

    for (i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
        const char *name = apr_pstrcat(p, "a", controls[i], "b.txt", NULL);
        ok(lenz_name_has_bidi(name), "control %d is found", (int)i);
        is_str(lenz_name_neutral(p, name), "a_b.txt", "control %d becomes one '_'", (int)i);
    }
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        const char *name = apr_pstrcat(p, "a", others[i], "b", NULL);
        ok(!lenz_name_has_bidi(name), "neighbour %d is not a control", (int)i);
        is_str(lenz_name_neutral(p, name), name, "neighbour %d is kept", (int)i);
    }
    is_str(lenz_name_neutral(p, "photo\xe2\x80\xaegpj.exe"), "photo_gpj.exe",
           "the classic: photo<RLO>gpj.exe shows its real extension");
    is_str(lenz_name_neutral(p, "\xe2\x81\xa7\xe2\x80\xae" "x\xe2\x80\xac\xe2\x81\xa9"), "__x__",
           "several, at both ends");
    ok(lenz_name_neutral(p, plain) == plain, "a name without controls is returned as it is");
    ok(!lenz_name_has_bidi(NULL) && lenz_name_neutral(p, NULL) == NULL, "NULL");
    ok(!lenz_name_has_bidi("\xe2") && !lenz_name_has_bidi("\xe2\x80"), "a truncated sequence at the end");
    is_str(lenz_name_neutral(p, "x\xe2\x80"), "x\xe2\x80", "... is kept as it is");

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
