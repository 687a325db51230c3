/* codec.c - hex and base64 helpers; base64 itself is APR-util's. */
#include <string.h>
#include <apr_base64.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "codec.h"
#include "err.h"

char *lenz_hex(apr_pool_t *p, const void *data, apr_size_t len)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *d = data;
    char *s = apr_palloc(p, 2 * len + 1);
    apr_size_t i;
    for (i = 0; i < len; i++) {
        s[2 * i] = hx[d[i] >> 4];
        s[2 * i + 1] = hx[d[i] & 15];
    }
    s[2 * len] = '\0';
    return s;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

apr_status_t lenz_unhex(const char *hex, apr_size_t hex_len,
                        unsigned char *out, apr_size_t out_len)
{
    apr_size_t i;
    if (hex_len != 2 * out_len)
        return LENZ_EFORMAT;
    for (i = 0; i < out_len; i++) {
        int hi = hexval((unsigned char)hex[2 * i]);
        int lo = hexval((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return LENZ_EFORMAT;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return APR_SUCCESS;
}

char *lenz_b64(apr_pool_t *p, const void *data, apr_size_t len)
{
    char *s = apr_palloc(p, apr_base64_encode_len((int)len));
    apr_base64_encode_binary(s, data, (int)len);
    return s;
}

char *lenz_b64url(apr_pool_t *p, const void *data, apr_size_t len)
{
    char *s = lenz_b64(p, data, len), *c;
    for (c = s; *c; c++) {
        if (*c == '+') *c = '-';
        else if (*c == '/') *c = '_';
        else if (*c == '=') { *c = '\0'; break; }
    }
    return s;
}

/* Shared strict decoder: alphabet chosen by url. */
static unsigned char *unb64(apr_pool_t *p, const char *s, apr_size_t slen,
                            int url, apr_size_t *out_len)
{
    char *std;
    apr_size_t i, n = slen, pad = 0;
    int got;
    unsigned char *out;

    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (!url && (n + pad) % 4 != 0))
        return NULL;
    std = apr_palloc(p, n + 4);
    for (i = 0; i < n; i++) {
        char c = s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            std[i] = c;
        else if (url && c == '-') std[i] = '+';
        else if (url && c == '_') std[i] = '/';
        else if (!url && (c == '+' || c == '/')) std[i] = c;
        else return NULL;
    }
    while (i % 4) std[i++] = '=';
    std[i] = '\0';
    out = apr_palloc(p, apr_base64_decode_len(std));
    got = apr_base64_decode_binary(out, std);
    if (got < 0)
        return NULL;
    /* Reject non-canonical encodings (stray bits in the last character). */
    if (strcmp(lenz_b64(p, out, got), std) != 0)
        return NULL;
    *out_len = (apr_size_t)got;
    return out;
}

unsigned char *lenz_unb64url(apr_pool_t *p, const char *s, apr_size_t slen,
                             apr_size_t *out_len)
{
    return unb64(p, s, slen, 1, out_len);
}

unsigned char *lenz_unb64(apr_pool_t *p, const char *s, apr_size_t *out_len)
{
    return unb64(p, s, strlen(s), 0, out_len);
}

static const char b32a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

char *lenz_b32(apr_pool_t *p, const void *data, apr_size_t len)
{
    const unsigned char *d = data;
    char *out = apr_palloc(p, (len * 8 + 4) / 5 + 1), *o = out;
    apr_uint32_t acc = 0;
    int bits = 0;
    apr_size_t i;
    for (i = 0; i < len; i++) {
        acc = (acc << 8) | d[i];
        bits += 8;
        while (bits >= 5) {
            *o++ = b32a[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        *o++ = b32a[(acc << (5 - bits)) & 31];
    *o = '\0';
    return out;
}

unsigned char *lenz_unb32(apr_pool_t *p, const char *s, apr_size_t *out_len)
{
    apr_size_t n = strlen(s);
    unsigned char *out = apr_palloc(p, n * 5 / 8 + 1);
    apr_uint32_t acc = 0;
    int bits = 0;
    apr_size_t o = 0, i;
    for (i = 0; i < n; i++) {
        char c = s[i];
        int v;
        if (c == '=' || c == ' ' || c == '-')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= '2' && c <= '7')
            v = c - '2' + 26;
        else
            return NULL;
        acc = (acc << 5) | (apr_uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            out[o++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    *out_len = o;
    return out;
}

int lenz_uuid_ok(const char *s)
{
    int i;
    if (!s || strlen(s) != 36)
        return 0;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        }
        else if (!apr_isxdigit(s[i]))
            return 0;
    }
    return 1;
}

/* What c is written as in element text, or NULL for itself: XML's five
 * special characters escaped, TAB, LF and CR as character references. */
static const char *xml_entity(char c)
{
    switch (c) {
    case '&':  return "&amp;";
    case '<':  return "&lt;";
    case '>':  return "&gt;";
    case '"':  return "&quot;";
    case '\'': return "&apos;";
    case '\t': return "&#9;";
    case '\n': return "&#10;";
    case '\r': return "&#13;";
    default:   return NULL;
    }
}

const char *lenz_xml_escape(apr_pool_t *p, const char *key)
{
    apr_size_t n = 0;
    const char *s, *r;
    char *out, *o;
    for (s = key; *s; s++)
        n += (r = xml_entity(*s)) ? strlen(r) : 1;
    out = o = apr_palloc(p, n + 1);
    for (s = key; *s; s++) {
        if ((r = xml_entity(*s))) {
            memcpy(o, r, strlen(r));
            o += strlen(r);
        }
        else
            *o++ = *s;
    }
    *o = '\0';
    return out;
}

const char *lenz_ascii_lower(apr_pool_t *p, const char *s)
{
    char *d = apr_pstrdup(p, s), *c;
    for (c = d; *c; c++)
        *c = (char)apr_tolower((unsigned char)*c);
    return d;
}
