/* httpfmt.c - Range and Content-Disposition. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpfmt.h"
#include "names.h"
#include "err.h"

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Digits only, no sign, no overflow. */
static const char *number(const char *s, apr_uint64_t *v, int *ok)
{
    apr_uint64_t x = 0;
    int digits = 0;
    while (apr_isdigit(*s)) {
        apr_uint64_t d = (apr_uint64_t)(*s - '0');
        if (x > (APR_UINT64_MAX - d) / 10) {
            *ok = 0;
            return s;
        }
        x = x * 10 + d;
        s++;
        digits++;
    }
    *ok = digits > 0;
    *v = x;
    return s;
}

apr_status_t lenz_range_parse(const char *h, apr_uint64_t size, lenz_range *out,
                              int max, int *n)
{
    const char *s;
    int count = 0, specs = 0;

    *n = 0;
    if (!h)
        return APR_NOTFOUND;
    s = skip_ws(h);
    if (strncasecmp(s, "bytes", 5) != 0 || (s[5] != '=' && s[5] != ' ' && s[5] != '\t'))
        return APR_NOTFOUND;        /* another unit ("bytesx=", "items="): ignored */
    s = skip_ws(s + 5);
    if (*s != '=')
        return LENZ_EFORMAT;
    s++;
    for (;;) {
        apr_uint64_t a = 0, b = 0;
        int ok, has_a, has_b;
        s = skip_ws(s);
        if (*s == ',') {            /* empty list elements are allowed */
            s++;
            continue;
        }
        if (!*s)
            break;
        if (++specs > max)
            return LENZ_EFORMAT;
        s = number(s, &a, &ok);
        has_a = ok;
        if (!ok && apr_isdigit(*s))
            return LENZ_EFORMAT;    /* overflow */
        s = skip_ws(s);
        if (*s != '-')
            return LENZ_EFORMAT;
        s = skip_ws(s + 1);
        s = number(s, &b, &ok);
        has_b = ok;
        if (!ok && apr_isdigit(*s))
            return LENZ_EFORMAT;
        s = skip_ws(s);
        if (*s && *s != ',')
            return LENZ_EFORMAT;
        if (!has_a && !has_b)
            return LENZ_EFORMAT;
        if (has_a && has_b && b < a)
            return LENZ_EFORMAT;
        if (!has_a) {
            /* suffix: the last b bytes */
            if (b == 0 || size == 0)
                continue;
            out[count].first = b >= size ? 0 : size - b;
            out[count].last = size - 1;
            count++;
        }
        else if (a < size) {
            out[count].first = a;
            out[count].last = has_b && b < size ? b : size - 1;
            count++;
        }
    }
    if (specs == 0)
        return LENZ_EFORMAT;
    *n = count;
    return count ? APR_SUCCESS : APR_EINVAL;
}

/* RFC 8187 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~" */
static int attr_char(unsigned char c)
{
    return apr_isalnum(c) || (c && strchr("!#$&+-.^_`|~", c));
}

const char *lenz_content_disposition(apr_pool_t *p, const char *type, const char *name)
{
    apr_size_t n, i;
    char *ascii, *enc, *e;
    static const char hx[] = "0123456789ABCDEF";

    /* A browser shows filename* decoded: no bidi control may reorder it. */
    name = lenz_name_neutral(p, name);
    n = strlen(name);
    ascii = apr_palloc(p, n + 1);
    enc = e = apr_palloc(p, 3 * n + 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        /* The fallback: printable ASCII without quote or backslash. */
        ascii[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '_';
        if (attr_char(c)) {
            *e++ = (char)c;
        }
        else {
            *e++ = '%';
            *e++ = hx[c >> 4];
            *e++ = hx[c & 15];
        }
    }
    ascii[n] = '\0';
    *e = '\0';
    return apr_psprintf(p, "%s; filename=\"%s\"; filename*=UTF-8''%s", type, ascii, enc);
}
