/* fuzz_httpfmt.c - the HTTP field formats of httpfmt.h: the Range parser
 * (the header comes from the client) and Content-Disposition (the file
 * name comes from whoever uploaded the file).
 *
 * The same bytes are a Range header, tried against sizes from 0 to
 * 2^64-1 and with room for 16 ranges and for 1, and a file name.  Checked:
 *   - Range: the documented statuses; on success 1..max ranges, each
 *     first <= last < size, none written past max (out is a malloc block
 *     of exactly max entries); otherwise *n is 0; a header that does not
 *     start with the unit "bytes" is APR_NOTFOUND;
 *   - Content-Disposition: one header line (no CR, LF or other control
 *     byte), the quoted fallback holds no quote or backslash, the
 *     filename* value is attr-chars and %XX only and decodes back to the
 *     name as shown (names.h: each bidirectional control as '_'), which
 *     holds no such control.
 */
#include <ctype.h>
#include <strings.h>
#include "fuzz.h"
#include "httpfmt.h"
#include "names.h"
#include "err.h"

static const apr_uint64_t sizes[] = {
    0, 1, 2, 100, 10000, (apr_uint64_t)1 << 63, APR_UINT64_MAX
};

static void ranges(const char *h)
{
    size_t k;
    int max;
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (max = 1; max <= LENZ_RANGES_MAX; max += LENZ_RANGES_MAX - 1) {
            lenz_range *out = malloc(sizeof(*out) * (size_t)max);
            int n = -1, i;
            apr_status_t rv = lenz_range_parse(h, sizes[k], out, max, &n);
            FUZZ_CHECK(rv == APR_SUCCESS || rv == APR_NOTFOUND || rv == LENZ_EFORMAT
                       || rv == APR_EINVAL, "range: status %d", rv);
            if (rv == APR_SUCCESS) {
                FUZZ_CHECK(n >= 1 && n <= max, "range: %d ranges for max %d", n, max);
                for (i = 0; i < n; i++)
                    FUZZ_CHECK(out[i].first <= out[i].last && out[i].last < sizes[k],
                               "range %d: %llu-%llu for size %llu", i,
                               (unsigned long long)out[i].first,
                               (unsigned long long)out[i].last, (unsigned long long)sizes[k]);
            }
            else
                FUZZ_CHECK(n == 0, "range: %d ranges with status %d", n, rv);
            {
                const char *s = h;
                while (*s == ' ' || *s == '\t')
                    s++;
                if (strncasecmp(s, "bytes", 5) != 0)
                    FUZZ_CHECK(rv == APR_NOTFOUND, "another unit: status %d", rv);
            }
            free(out);
        }
    }
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void disposition(apr_pool_t *p, const char *name)
{
    const char *cd = lenz_content_disposition(p, "attachment", name), *s, *q, *star;
    size_t nl, k = 0;

    /* What a browser may show: the name with its bidi controls as '_'. */
    name = lenz_name_neutral(p, name);
    nl = strlen(name);
    FUZZ_CHECK(!lenz_name_has_bidi(name), "a bidi control left in the shown name");
    FUZZ_CHECK(cd != NULL, "no Content-Disposition");
    for (s = cd; *s; s++)
        FUZZ_CHECK((unsigned char)*s >= 0x20 && *s != 0x7f,
                   "control byte 0x%02x in the header", (unsigned char)*s);
    FUZZ_CHECK(strncmp(cd, "attachment; filename=\"", 22) == 0, "shape: %s", cd);
    q = strchr(cd + 22, '"');
    FUZZ_CHECK(q && (size_t)(q - (cd + 22)) == nl, "fallback does not end after the name");
    for (s = cd + 22; s < q; s++)
        FUZZ_CHECK(*s != '\\', "backslash in the quoted fallback");
    star = q + 1;
    FUZZ_CHECK(strncmp(star, "; filename*=UTF-8''", 19) == 0, "shape after fallback: %s", cd);
    for (s = star + 19; *s; s++, k++) {
        int c = (unsigned char)*s;
        if (c == '%') {
            int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
            FUZZ_CHECK(hi >= 0 && lo >= 0, "bad percent escape");
            c = hi << 4 | lo;
            s += 2;
        }
        else
            FUZZ_CHECK(isalnum(c) || strchr("!#$&+-.^_`|~", c), "0x%02x unescaped", c);
        FUZZ_CHECK(k < nl && (unsigned char)name[k] == c, "filename* does not decode to the name");
    }
    FUZZ_CHECK(k == nl, "filename* is shorter than the name");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *text = fuzz_cstr(data, size);

    ranges(text);
    disposition(p, text);

    free(text);
    apr_pool_destroy(p);
    return 0;
}
