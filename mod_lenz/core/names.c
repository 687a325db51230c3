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

/* The length of the valid UTF-8 sequence s starts with, or 0. */
static apr_size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (s[0] == 0xe0 && s[1] < 0xa0)                        /* overlong */
            return 0;
        if (s[0] == 0xed && s[1] >= 0xa0)                       /* surrogates */
            return 0;
        return 3;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
            return 0;                                           /* overlong, > U+10FFFF */
        return 4;
    }
    return 0;
}

const char *lenz_name_problem(const char *name)
{
    const unsigned char *s;
    apr_size_t n;
    if (!name || !*name)
        return "must not be empty";
    if (strlen(name) > 255)
        return "at most 255 bytes of UTF-8";
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return "'.' and '..' are not names";
    for (s = (const unsigned char *)name; *s; s += n) {
        if (*s < 0x20 || *s == 0x7f)
            return "no control characters";
        if (*s == '/' || *s == '\\')
            return "no '/' or '\\'";
        if (bidi_len(s))
            return "no bidirectional text controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069)";
        if (!(n = utf8_len(s)))
            return "not valid UTF-8";
    }
    return NULL;
}
