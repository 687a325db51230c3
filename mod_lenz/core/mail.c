/* mail.c - composing e-mail messages so that no caller-supplied value can
 * add a header, a recipient or a body part.
 *
 * Headers: every value is checked first (UTF-8, no control character but
 * TAB).  ASCII that is safe as it stands goes out as atoms, a quoted-string
 * or plain words; anything else as RFC 2047 "B" encoded-words, each holding
 * whole UTF-8 characters and at most 75 chars.  Lines are folded at 76
 * columns: RFC 2047 2 asks that of lines holding encoded-words, and it is
 * within RFC 5322's 78 for all; only an address too long for a line by
 * itself or a long word in an extra header can pass that, never 998.
 *
 * Bodies: quoted-printable (RFC 2045 6.7) for text and html alike: mostly
 * ASCII mail stays readable and small, and the boundary argument below only
 * has to hold for one encoding.
 *
 * SMTP dot-stuffing is not done here: libcurl doubles a "." starting a line
 * of the upload and adds the final CRLF "." CRLF itself (lib/smtp.c:
 * Curl_smtp_escape_eob in older releases, the cr_eob_read client reader in
 * newer ones; curl's test 803).  Stuffing here too would deliver two dots.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "mail.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"

#define COLS        76      /* header lines stay within (RFC 2047 2, RFC 5322 2.1.1) */
#define QP_COLS     76      /* RFC 2045 6.7 (5): encoded lines MUST stay within */
#define EW_MAX      75      /* RFC 2047 2: longest encoded-word */
#define EW_OPEN     "=?UTF-8?B?"
#define EW_FRAME    12      /* strlen(EW_OPEN) + strlen("?=") */
#define EW_MIN      (EW_FRAME + 8)  /* room for one 4-byte character */
#define PLAIN_WORD  60      /* longer ASCII words are encoded, so they can be split */
#define EXTRA_NAME  76      /* extra header names; with values <= 900, lines < 998 */
#define EXTRA_VALUE 900
#define RANDOM_LEN  18      /* bytes of randomness: 24 base64url chars */
#define BOUNDARY    "=_lenz_"
#define LDH         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"

/* ------------------------------------------------------------------ */
/* Output buffer                                                       */

typedef struct {
    apr_pool_t *p;
    char *d;
    apr_size_t len, cap;
    int col;        /* column on the current header line */
    int fresh;      /* no token yet after the field name */
} obuf;

static void ob_put(obuf *b, const char *s, apr_size_t n)
{
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap * 2 > b->len + n + 1 ? b->cap * 2 : b->len + n + 1;
        char *d = apr_palloc(b->p, cap);
        memcpy(d, b->d, b->len);
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->len, s, n);
    b->len += n;
    b->d[b->len] = '\0';
    b->col += (int)n;
}

static void ob_puts(obuf *b, const char *s)
{
    ob_put(b, s, strlen(s));
}

static void ob_crlf(obuf *b)
{
    ob_put(b, "\r\n", 2);
    b->col = 0;
}

/* ------------------------------------------------------------------ */
/* Character checks                                                    */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, surrogates or values past U+10FFFF), or 0. */
static apr_size_t utf8_seq(const unsigned char *s, apr_size_t left)
{
    apr_size_t n, i;
    if (s[0] < 0x80)
        return 1;
    n = s[0] < 0xC2 ? 0 : s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : s[0] < 0xF5 ? 4 : 0;
    if (!n || n > left)
        return 0;
    for (i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F)
        || (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

static int utf8_ok(const char *s, apr_size_t n)
{
    apr_size_t i = 0, k;
    while (i < n) {
        if (!(k = utf8_seq((const unsigned char *)s + i, n - i)))
            return 0;
        i += k;
    }
    return 1;
}

/* Length of the character at s of an already validated string. */
static apr_size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* RFC 5322 3.2.3 atext. */
static int is_atext(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static apr_status_t fail(const char **why, const char *msg, apr_status_t rv)
{
    *why = msg;
    return rv;
}

/* A header value: bounded, UTF-8, and no control character but TAB, so
 * nothing can end the header line early. */
static apr_status_t check_value(apr_pool_t *p, const char *v, const char *field,
                                const char **why)
{
    apr_size_t n = strlen(v), i;
    if (n > LENZ_MAIL_MAX_HEADER)
        return fail(why, apr_pstrcat(p, field, ": too long", NULL), LENZ_ETOOBIG);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return fail(why, apr_pstrcat(p, field, ": control character", NULL),
                        LENZ_EFORMAT);
    }
    if (!utf8_ok(v, n))
        return fail(why, apr_pstrcat(p, field, ": invalid UTF-8", NULL), LENZ_EFORMAT);
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Addresses                                                           */

static int domain_ok(const char *d, apr_size_t n)
{
    apr_size_t i, label = 0, dots = 0, top_digits = 1;
    if (n == 9 && strncasecmp(d, "localhost", 9) == 0)
        return 1;
    if (n == 0 || n > 253)
        return 0;
    for (i = 0; i < n; i++) {
        if (d[i] == '.') {
            if (label == 0 || d[i - 1] == '-')
                return 0;
            label = 0;
            dots++;
            top_digits = 1;
            continue;
        }
        if (!d[i] || !strchr(LDH, d[i]) || (label == 0 && d[i] == '-') || ++label > 63)
            return 0;
        if (!apr_isdigit(d[i]))
            top_digits = 0;
    }
    /* The top label may not be all digits: "1.2.3.4" is no host name. */
    return label > 0 && d[n - 1] != '-' && dots > 0 && !top_digits;
}

int lenz_mail_addr_ok(const char *addr)
{
    const char *at;
    apr_size_t n, local, i;
    if (!addr || (n = strlen(addr)) > 254 || !(at = strchr(addr, '@')))
        return 0;
    local = (apr_size_t)(at - addr);
    if (local == 0 || local > 64 || addr[0] == '.' || addr[local - 1] == '.')
        return 0;
    for (i = 0; i < local; i++) {
        if (addr[i] == '.' ? addr[i + 1] == '.' : !is_atext((unsigned char)addr[i]))
            return 0;
    }
    return domain_ok(at + 1, n - local - 1);
}

/* ------------------------------------------------------------------ */
/* Header lines                                                        */

static void hdr_start(obuf *b, const char *name)
{
    b->col = 0;
    ob_puts(b, name);
    ob_put(b, ":", 1);
    b->fresh = 1;
}

/* Puts a space and one token, folding first when the token would pass
 * column 76 less `reserve` (room for a comma that follows).  The first token
 * stays on the field name's line, and an empty one never folds, so no line
 * is whitespace only. */
static void hdr_tok(obuf *b, const char *t, apr_size_t n, int reserve)
{
    if (!b->fresh && n && b->col + 1 + (int)n + reserve > COLS)
        ob_crlf(b);
    ob_put(b, " ", 1);
    ob_put(b, t, n);
    b->fresh = 0;
}

/* Puts the words of s (split at single spaces) as tokens. */
static void hdr_words(obuf *b, const char *s, int reserve)
{
    const char *e;
    for (;;) {
        e = strchr(s, ' ');
        hdr_tok(b, s, e ? (apr_size_t)(e - s) : strlen(s), reserve);
        if (!e)
            break;
        s = e + 1;
    }
}

/* Puts s as encoded-words, each sized to the room left on its line and
 * holding whole characters (RFC 2047 5: a character is never split across
 * two words).  The whitespace between adjacent encoded-words is dropped by
 * decoders (RFC 2047 6.2), so the split does not show. */
static void hdr_encoded(obuf *b, const char *s, int reserve)
{
    apr_size_t n = strlen(s), i = 0, take, cap, c;
    while (i < n) {
        int room = COLS - b->col - 1 - reserve;
        const char *w;
        if (room < EW_MIN && !b->fresh) {
            ob_crlf(b);
            room = COLS - 1 - reserve;
        }
        if (room > EW_MAX)
            room = EW_MAX;
        cap = 3 * (apr_size_t)((room - EW_FRAME) / 4);
        for (take = 0; i + take < n; take += c) {
            c = utf8_len((unsigned char)s[i + take]);
            if (take + c > cap)
                break;
        }
        w = apr_pstrcat(b->p, EW_OPEN, lenz_b64(b->p, s + i, take), "?=", NULL);
        hdr_tok(b, w, strlen(w), reserve);
        i += take;
    }
}

/* ASCII words that may go out as they are: printable, single spaces
 * between, each short enough to fit a line, and no "=?" that a reader could
 * take for an encoded-word.  atext_only further limits them to atoms (a
 * phrase). */
static int plain_words(const char *s, int atext_only)
{
    apr_size_t word = 0;
    const char *c;
    if (!*s || *s == ' ' || strstr(s, "=?"))
        return 0;
    for (c = s; *c; c++) {
        if (*c == ' ') {
            if (c[1] == ' ' || c[1] == '\0')
                return 0;
            word = 0;
        }
        else if (*c < 0x21 || *c > 0x7E || (atext_only && !is_atext(*c))
                 || ++word > PLAIN_WORD)
            return 0;
    }
    return 1;
}

/* A display name (RFC 5322 phrase): atoms, else a quoted-string when it is
 * printable ASCII and short, else encoded-words (also for "=?", which some
 * readers decode even inside quotes). */
static void hdr_phrase(obuf *b, const char *name)
{
    const char *c;
    char *q, *o;
    if (plain_words(name, 1)) {
        hdr_words(b, name, 1);
        return;
    }
    q = o = apr_palloc(b->p, 2 * strlen(name) + 3);
    *o++ = '"';
    for (c = name; *c; c++) {
        if (*c < 0x20 || *c > 0x7E)
            break;
        if (*c == '"' || *c == '\\')
            *o++ = '\\';
        *o++ = *c;
    }
    *o++ = '"';
    if (*c || strstr(name, "=?") || o - q > PLAIN_WORD)
        hdr_encoded(b, name, 1);
    else
        hdr_tok(b, q, (apr_size_t)(o - q), 1);
}

/* A mailbox: name-addr when there is a name, else the bare addr-spec. */
static void hdr_mailbox(obuf *b, const char *name, const char *addr)
{
    if (name && *name) {
        hdr_phrase(b, name);
        addr = apr_pstrcat(b->p, "<", addr, ">", NULL);
    }
    hdr_tok(b, addr, strlen(addr), 1);
}

static void hdr_unstructured(obuf *b, const char *name, const char *value)
{
    hdr_start(b, name);
    if (plain_words(value, 0))
        hdr_words(b, value, 0);
    else
        hdr_encoded(b, value, 0);
    ob_crlf(b);
}

/* RFC 5322 3.3 date-time, always in UTC: "Tue, 14 Nov 2023 22:13:20 +0000". */
static const char *mail_date(apr_pool_t *p, apr_time_t t)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    apr_time_exp_t x;
    apr_time_exp_gmt(&x, t ? t : apr_time_now());
    return apr_psprintf(p, "%s, %02d %s %d %02d:%02d:%02d +0000", days[x.tm_wday],
                        x.tm_mday, months[x.tm_mon], x.tm_year + 1900, x.tm_hour,
                        x.tm_min, x.tm_sec);
}

/* ------------------------------------------------------------------ */
/* Quoted-printable                                                    */

static int qp_literal(unsigned char c)
{
    return (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t';
}

/* Length of the line break at s[i] ("\n" or "\r\n"), or 0. */
static apr_size_t line_break(const char *s, apr_size_t i, apr_size_t n)
{
    if (s[i] == '\n')
        return 1;
    return s[i] == '\r' && i + 1 < n && s[i + 1] == '\n' ? 2 : 0;
}

/* Encodes validated UTF-8 s (RFC 2045 6.7).  "\n" and "\r\n" become CRLF
 * hard breaks; a lone CR is =0D.  Tokens are whole characters, so a soft
 * break falls between characters, not only between escapes: decoders would
 * not mind, but line-by-line viewers do.  A space or TAB ending a line is
 * escaped, as transports may strip it.  With end_soft, input that does not
 * end in a line break is closed with a soft break, so the message ends in
 * CRLF without adding one to the decoded text. */
static void qp_encode(obuf *b, const char *s, apr_size_t n, int end_soft)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t i = 0, k, br, clen;
    int col = 0;
    while (i < n) {
        char tok[12];
        int tl = 0, eol, last;
        if ((br = line_break(s, i, n))) {
            ob_crlf(b);
            col = 0;
            i += br;
            continue;
        }
        clen = utf8_len((unsigned char)s[i]);
        eol = i + clen == n || line_break(s, i + clen, n);
        for (k = 0; k < clen; k++) {
            unsigned char c = (unsigned char)s[i + k];
            if (qp_literal(c) && !(eol && (c == ' ' || c == '\t')))
                tok[tl++] = (char)c;
            else {
                tok[tl++] = '=';
                tok[tl++] = hex[c >> 4];
                tok[tl++] = hex[c & 15];
            }
        }
        /* The last token of a line may reach column 76; any other leaves
         * room for the '=' of a soft break. */
        last = eol && !(end_soft && i + clen == n);
        if (col + tl > (last ? QP_COLS : QP_COLS - 1)) {
            ob_puts(b, "=\r\n");
            col = 0;
        }
        ob_put(b, tok, (apr_size_t)tl);
        col += tl;
        i += clen;
    }
    if (end_soft && n && s[n - 1] != '\n')
        ob_puts(b, "=\r\n");
}

/* ------------------------------------------------------------------ */
/* Building                                                            */

static apr_status_t check_body(apr_pool_t *p, const char *s, const char *field,
                               const char **why)
{
    apr_size_t n = strlen(s);
    if (n > LENZ_MAIL_MAX_BODY)
        return fail(why, apr_pstrcat(p, field, ": larger than 1 MiB", NULL), LENZ_ETOOBIG);
    if (!utf8_ok(s, n))
        return fail(why, apr_pstrcat(p, field, ": invalid UTF-8", NULL), LENZ_EFORMAT);
    return APR_SUCCESS;
}

/* Headers this module writes or that would change who receives the mail or
 * how its body is read. */
static int reserved_header(const char *name)
{
    static const char *const names[] = {
        "Date", "From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Message-ID",
        "MIME-Version", "Sender", "Return-Path", NULL
    };
    int i;
    if (strncasecmp(name, "Content-", 8) == 0)
        return 1;
    for (i = 0; names[i]; i++)
        if (strcasecmp(name, names[i]) == 0)
            return 1;
    return 0;
}

static apr_status_t check_extra(apr_pool_t *p, const apr_table_t *t, const char **why)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    int i;
    for (i = 0; i < a->nelts; i++) {
        const char *c, *v = e[i].val ? e[i].val : "";
        apr_size_t n = strlen(e[i].key);
        if (n == 0 || n > EXTRA_NAME || strspn(e[i].key, LDH) != n)
            return fail(why, "extra: invalid header field name", LENZ_EFORMAT);
        if (reserved_header(e[i].key))
            return fail(why, apr_pstrcat(p, "extra ", e[i].key, ": set by lenz", NULL),
                        LENZ_EFORMAT);
        if (strlen(v) > EXTRA_VALUE)
            return fail(why, apr_pstrcat(p, "extra ", e[i].key, ": too long", NULL),
                        LENZ_ETOOBIG);
        /* Printable ASCII only: these are structured fields (URLs, tokens)
         * where an encoded-word would be wrong, and raw 8-bit would need
         * SMTPUTF8. */
        for (c = v; *c; c++)
            if ((*c < 0x20 && *c != '\t') || *c > 0x7E)
                return fail(why, apr_pstrcat(p, "extra ", e[i].key,
                                             ": not printable ASCII", NULL), LENZ_EFORMAT);
        if (!v[strspn(v, " \t")])
            return fail(why, apr_pstrcat(p, "extra ", e[i].key, ": empty", NULL),
                        LENZ_EFORMAT);
    }
    return APR_SUCCESS;
}

static apr_status_t check_mail(apr_pool_t *p, const lenz_mail *m, const char **why)
{
    apr_status_t rv;
    int i;
    if (!lenz_mail_addr_ok(m->from_addr))
        return fail(why, "from_addr: invalid address", LENZ_EFORMAT);
    if (m->from_name && (rv = check_value(p, m->from_name, "from_name", why)))
        return rv;
    if (!m->to || m->to->nelts == 0)
        return fail(why, "to: no recipient", LENZ_EFORMAT);
    if (m->to->nelts > LENZ_MAIL_MAX_RCPT)
        return fail(why, "to: too many recipients", LENZ_ETOOBIG);
    for (i = 0; i < m->to->nelts; i++) {
        const lenz_mail_addr *a = &APR_ARRAY_IDX(m->to, i, lenz_mail_addr);
        if (!lenz_mail_addr_ok(a->addr))
            return fail(why, apr_psprintf(p, "to[%d]: invalid address", i), LENZ_EFORMAT);
        if (a->name && (rv = check_value(p, a->name, apr_psprintf(p, "to[%d].name", i), why)))
            return rv;
    }
    if (m->reply_to && !lenz_mail_addr_ok(m->reply_to))
        return fail(why, "reply_to: invalid address", LENZ_EFORMAT);
    if (m->subject && (rv = check_value(p, m->subject, "subject", why)))
        return rv;
    if (!m->text)
        return fail(why, "text: missing", LENZ_EFORMAT);
    if ((rv = check_body(p, m->text, "text", why))
        || (m->html && (rv = check_body(p, m->html, "html", why))))
        return rv;
    if (m->message_id_domain
        && !domain_ok(m->message_id_domain, strlen(m->message_id_domain)))
        return fail(why, "message_id_domain: invalid domain", LENZ_EFORMAT);
    return m->extra ? check_extra(p, m->extra, why) : APR_SUCCESS;
}

/* Random parts are base64url: letters, digits, '-' and '_', valid in a
 * Message-ID's dot-atom and in a boundary. */
static int random_ok(const char *s)
{
    apr_size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 40 && strspn(s, LDH "_") == n;
}

static apr_status_t random_text(apr_pool_t *p, const char **out)
{
    unsigned char r[RANDOM_LEN];
    apr_status_t rv = lenz_random(r, sizeof(r));
    if (rv == APR_SUCCESS)
        *out = lenz_b64url(p, r, sizeof(r));
    return rv;
}

static void put_headers(obuf *b, const lenz_mail *m, const char *mid_random)
{
    const char *dom = m->message_id_domain ? m->message_id_domain
                                           : strchr(m->from_addr, '@') + 1;
    int i;

    ob_puts(b, apr_pstrcat(b->p, "Date: ", mail_date(b->p, m->date), "\r\n", NULL));
    hdr_start(b, "From");
    hdr_mailbox(b, m->from_name, m->from_addr);
    ob_crlf(b);
    hdr_start(b, "To");
    for (i = 0; i < m->to->nelts; i++) {
        const lenz_mail_addr *a = &APR_ARRAY_IDX(m->to, i, lenz_mail_addr);
        if (i)
            ob_put(b, ",", 1);
        hdr_mailbox(b, a->name, a->addr);
    }
    ob_crlf(b);
    if (m->reply_to)
        ob_puts(b, apr_pstrcat(b->p, "Reply-To: ", m->reply_to, "\r\n", NULL));
    if (m->subject && *m->subject)
        hdr_unstructured(b, "Subject", m->subject);
    ob_puts(b, apr_pstrcat(b->p, "Message-ID: <", mid_random, "@", dom, ">\r\n", NULL));
    if (m->extra) {
        const apr_array_header_t *a = apr_table_elts(m->extra);
        const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
        for (i = 0; i < a->nelts; i++) {
            const char *v = e[i].val ? e[i].val : "";
            apr_size_t n;
            v += strspn(v, " \t");              /* outer blanks carry nothing */
            for (n = strlen(v); n && (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
                ;
            hdr_start(b, e[i].key);
            hdr_words(b, apr_pstrndup(b->p, v, n), 0);
            ob_crlf(b);
        }
    }
    ob_puts(b, "MIME-Version: 1.0\r\n");
}

static void put_part_headers(obuf *b, const char *type)
{
    ob_puts(b, apr_pstrcat(b->p, "Content-Type: ", type, "; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n\r\n", NULL));
}

/* Why the boundary cannot occur in the parts: quoted-printable output has
 * '=' only as "=XX" with X in [0-9A-F], or as a soft break right before
 * CRLF, so it never holds "=_"; every delimiter line holds "--=_lenz_".
 * The random part is base64url, without '='; the part headers are ours and
 * hold no "=_" either.  RFC 2045 6.7 recommends exactly this.  '=' is a
 * tspecial, hence the quotes around the boundary in Content-Type. */
static void put_multipart(obuf *b, const lenz_mail *m, const char *bnd_random)
{
    const char *delim = apr_pstrcat(b->p, "--" BOUNDARY, bnd_random, NULL);
    ob_puts(b, apr_pstrcat(b->p, "Content-Type: multipart/alternative;\r\n boundary=\""
                           BOUNDARY, bnd_random, "\"\r\n\r\n", delim, "\r\n", NULL));
    put_part_headers(b, "text/plain");
    qp_encode(b, m->text, strlen(m->text), 0);
    ob_puts(b, apr_pstrcat(b->p, "\r\n", delim, "\r\n", NULL));
    put_part_headers(b, "text/html");
    qp_encode(b, m->html, strlen(m->html), 0);
    ob_puts(b, apr_pstrcat(b->p, "\r\n", delim, "--\r\n", NULL));
}

static apr_array_header_t *envelope(apr_pool_t *p, const apr_array_header_t *to)
{
    apr_array_header_t *r = apr_array_make(p, to->nelts, sizeof(const char *));
    int i, j;
    for (i = 0; i < to->nelts; i++) {
        const char *a = APR_ARRAY_IDX(to, i, lenz_mail_addr).addr;
        for (j = 0; j < r->nelts && strcmp(APR_ARRAY_IDX(r, j, const char *), a); j++)
            ;
        if (j == r->nelts)
            APR_ARRAY_PUSH(r, const char *) = a;
    }
    return r;
}

apr_status_t lenz_mail_build_ex(apr_pool_t *p, const lenz_mail *m,
                                const char *mid_random, const char *bnd_random,
                                const char **data, apr_size_t *len,
                                apr_array_header_t **rcpt, const char **why)
{
    const char *dummy;
    apr_status_t rv;
    obuf b;

    if (!why)
        why = &dummy;
    *why = NULL;
    if (!random_ok(mid_random) || !random_ok(bnd_random))
        return fail(why, "random parts: not 1..40 base64url characters", LENZ_EFORMAT);
    if ((rv = check_mail(p, m, why)) != APR_SUCCESS)
        return rv;
    *why = NULL;

    memset(&b, 0, sizeof(b));
    b.p = p;
    b.cap = 4096 + strlen(m->text) * 3 + (m->html ? strlen(m->html) * 3 : 0);
    b.d = apr_palloc(p, b.cap);
    put_headers(&b, m, mid_random);
    if (m->html)
        put_multipart(&b, m, bnd_random);
    else {
        put_part_headers(&b, "text/plain");
        qp_encode(&b, m->text, strlen(m->text), 1);
    }
    *data = b.d;
    *len = b.len;
    if (rcpt)
        *rcpt = envelope(p, m->to);
    return APR_SUCCESS;
}

apr_status_t lenz_mail_build(apr_pool_t *p, const lenz_mail *m,
                             const char **data, apr_size_t *len,
                             apr_array_header_t **rcpt, const char **why)
{
    const char *mid, *bnd;
    apr_status_t rv;
    if ((rv = random_text(p, &mid)) != APR_SUCCESS
        || (rv = random_text(p, &bnd)) != APR_SUCCESS) {
        if (why)
            *why = "random: the CSPRNG failed";
        return rv;
    }
    return lenz_mail_build_ex(p, m, mid, bnd, data, len, rcpt, why);
}
