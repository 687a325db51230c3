/* names.c - bidirectional controls in names (see names.h). */
#include <string.h>
#include <apr_strings.h>

#include "names.h"

/* The length of the bidi control s starts with, or 0.  Each byte is read
 * only when the one before matched (so never past the terminating NUL). */
static apr_size_t bidi_len(const unsigned char *s)
{
    if (s[0] == 0xd8 && s[1] == 0x9c)                          /* U+061C */
        return 2;
    if (s[0] != 0xe2)
        return 0;
    if (s[1] == 0x80 && (s[2] == 0x8e || s[2] == 0x8f           /* U+200E, U+200F */
                         || (s[2] >= 0xaa && s[2] <= 0xae)))    /* U+202A-U+202E */
        return 3;
    if (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)          /* U+2066-U+2069 */
        return 3;
    return 0;
}

int lenz_name_has_bidi(const char *name)
{
    const unsigned char *s;
    for (s = (const unsigned char *)name; s && *s; s++)
        if (bidi_len(s))
            return 1;
    return 0;
}

const char *lenz_name_neutral(apr_pool_t *p, const char *name)
{
    const unsigned char *s;
    char *out, *o;
    apr_size_t n;

    if (!lenz_name_has_bidi(name))
        return name;
    out = o = apr_palloc(p, strlen(name) + 1);
    for (s = (const unsigned char *)name; *s; ) {
        if ((n = bidi_len(s)) != 0) {
            *o++ = '_';
            s += n;
        }
        else
            *o++ = (char)*s++;
    }
    *o = '\0';
    return out;
}
