/* Unit tests for composing e-mail (mail.c): an exact message, RFC 2047
 * words decoded back, folding, quoted-printable edge cases, header
 * injection, addresses, UTF-8, limits, and Debian's Python email parser
 * reading a built multipart message. */
#include <sys/wait.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include "tap.h"
#include "mail.h"
#include "codec.h"
#include "err.h"

#define T0 1700000000   /* Tue, 14 Nov 2023 22:13:20 +0000 */

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static lenz_mail *base_mail(apr_pool_t *p)
{
    lenz_mail *m = apr_pcalloc(p, sizeof(*m));
    lenz_mail_addr *a;
    m->from_name = "Lenz";
    m->from_addr = "noreply@lenz.example";
    m->to = apr_array_make(p, 4, sizeof(lenz_mail_addr));
    a = apr_array_push(m->to);
    a->name = "Ana";
    a->addr = "ana@example.org";
    m->subject = "Hello";
    m->text = "Hi\n";
    m->message_id_domain = "lenz.example";
    m->date = apr_time_from_sec(T0);
    return m;
}

static void add_to(lenz_mail *m, const char *name, const char *addr)
{
    lenz_mail_addr *a = apr_array_push(m->to);
    a->name = name;
    a->addr = addr;
}

static apr_status_t build(apr_pool_t *p, const lenz_mail *m, const char **data,
                          const char **why)
{
    apr_size_t len;
    apr_array_header_t *rcpt;
    const char *d = NULL;
    apr_status_t rv = lenz_mail_build_ex(p, m, "MID", "BND", &d, &len, &rcpt, why);
    if (rv == APR_SUCCESS && strlen(d) != len)
        diag("length mismatch");
    *data = d;
    return rv;
}

/* The message's body: what follows the first empty line. */
static const char *body_of(const char *msg)
{
    const char *b = strstr(msg, "\r\n\r\n");
    return b ? b + 4 : "";
}

/* The unfolded value of the first header called name, or NULL. */
static const char *header(apr_pool_t *p, const char *msg, const char *name)
{
    apr_size_t n = strlen(name);
    const char *l = msg;
    while (*l && strncmp(l, "\r\n", 2) != 0) {
        const char *e = strstr(l, "\r\n");
        if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
            char *out = apr_palloc(p, strlen(l)), *o = out;
            const char *c = l + n + 1;
            while (*c == ' ')
                c++;
            for (; *c; c++) {
                if (c[0] == '\r' && c[1] == '\n') {
                    if (c[2] != ' ' && c[2] != '\t')
                        break;
                    c++;
                    continue;
                }
                *o++ = *c;
            }
            *o = '\0';
            return out;
        }
        for (l = e + 2; *l == ' ' || *l == '\t'; l = strstr(l, "\r\n") + 2)
            ;
    }
    return NULL;
}

/* Independent strict UTF-8 check (RFC 3629 table 3.1). */
static int utf8_valid(const unsigned char *s, apr_size_t n)
{
    apr_size_t i = 0;
    while (i < n) {
        unsigned c = s[i], need, min, cp, k;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC0 && c < 0xE0) { need = 1; min = 0x80; cp = c & 0x1F; }
        else if (c >= 0xE0 && c < 0xF0) { need = 2; min = 0x800; cp = c & 0x0F; }
        else if (c >= 0xF0 && c < 0xF8) { need = 3; min = 0x10000; cp = c & 0x07; }
        else return 0;
        for (k = 1; k <= need; k++) {
            if (i + k >= n || (s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += need + 1;
    }
    return 1;
}

/* Decodes an unfolded value made of RFC 2047 "B" UTF-8 words and plain
 * text; whitespace between two encoded-words is dropped (RFC 2047 6.2).
 * Fails (NULL) on a word over 75 chars or one not holding whole UTF-8
 * characters. */
static const char *ew_decode(apr_pool_t *p, const char *v, int *words)
{
    const char *out = "", *c = v, *pending = "";
    int prev_ew = 0;
    *words = 0;
    while (*c) {
        if (strncmp(c, "=?UTF-8?B?", 10) == 0) {
            const char *e = strstr(c + 10, "?=");
            unsigned char *raw;
            apr_size_t n;
            if (!e || e - c + 2 > 75)
                return NULL;
            raw = lenz_unb64(p, apr_pstrndup(p, c + 10, (apr_size_t)(e - c - 10)), &n);
            if (!raw || !utf8_valid(raw, n))
                return NULL;
            out = apr_pstrcat(p, out, prev_ew ? "" : pending,
                              apr_pstrndup(p, (char *)raw, n), NULL);
            pending = "";
            prev_ew = 1;
            (*words)++;
            c = e + 2;
        }
        else if (*c == ' ' || *c == '\t') {
            pending = apr_pstrcat(p, pending, apr_pstrndup(p, c, 1), NULL);
            c++;
        }
        else {
            out = apr_pstrcat(p, out, pending, apr_pstrndup(p, c, 1), NULL);
            pending = "";
            prev_ew = 0;
            c++;
        }
    }
    return apr_pstrcat(p, out, pending, NULL);
}

/* Decodes quoted-printable; hard breaks become "\n". */
static const char *qp_decode(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;
    unsigned char b;
    while (*s) {
        if (s[0] == '=' && s[1] == '\r' && s[2] == '\n')
            s += 3;
        else if (s[0] == '=') {
            if (lenz_unhex(s + 1, 2, &b, 1) != APR_SUCCESS)
                return NULL;
            *o++ = (char)b;
            s += 3;
        }
        else if (s[0] == '\r' && s[1] == '\n') {
            *o++ = '\n';
            s += 2;
        }
        else
            *o++ = *s++;
    }
    *o = '\0';
    return out;
}

/* Every line ends in CRLF and stays within 76 columns (RFC 2045 6.7 for
 * the body, RFC 2047 2 for headers), and no bare CR or LF appears. */
static int lines_ok(const char *msg)
{
    const char *l = msg, *e;
    while (*l) {
        apr_size_t n;
        if (!(e = strstr(l, "\r\n")))
            return 0;
        n = (apr_size_t)(e - l);
        if (memchr(l, '\r', n) || memchr(l, '\n', n))
            return 0;
        if (n > 76u) {
            diag("line of %d: %.*s", (int)n, (int)n, l);
            return 0;
        }
        l = e + 2;
    }
    return 1;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
        n++;
    return n;
}

/* ------------------------------------------------------------------ */
/* Exact messages                                                      */

static const char *WANT_MULTI =
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "From: Lenz <noreply@lenz.example>\r\n"
    "To: =?UTF-8?B?QW5hIE3DvGxsZXI=?= <ana@example.org>, bob@example.net,\r\n"
    " \"O'Brien, Pat\" <pat@example.com>\r\n"
    "Reply-To: help@lenz.example\r\n"
    "Subject: =?UTF-8?B?RWluIERva3VtZW50IGbDvHIgZGljaA==?=\r\n"
    "Message-ID: <MID@lenz.example>\r\n"
    "Auto-Submitted: auto-generated\r\n"
    "List-Unsubscribe: <https://lenz.example/u/abc>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative;\r\n"
    " boundary=\"=_lenz_BND\"\r\n"
    "\r\n"
    "--=_lenz_BND\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Hallo Ana,\r\n"
    "\r\n"
    "hier ist der Link: https://lenz.example/s/abc?x=3D1\r\n"
    "\r\n"
    "--=_lenz_BND\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<p>Hallo Ana,</p>\r\n"
    "<p><a href=3D\"https://lenz.example/s/abc?x=3D1\">=C3=96ffnen</a></p>\r\n"
    "\r\n"
    "--=_lenz_BND--\r\n";

static lenz_mail *multi_mail(apr_pool_t *p)
{
    lenz_mail *m = base_mail(p);
    apr_array_clear(m->to);
    add_to(m, "Ana M\xc3\xbcller", "ana@example.org");
    add_to(m, NULL, "bob@example.net");
    add_to(m, "O'Brien, Pat", "pat@example.com");
    m->reply_to = "help@lenz.example";
    m->subject = "Ein Dokument f\xc3\xbcr dich";
    m->text = "Hallo Ana,\n\nhier ist der Link: https://lenz.example/s/abc?x=1\n";
    m->html = "<p>Hallo Ana,</p>\n<p><a href=\"https://lenz.example/s/abc?x=1\">"
              "\xc3\x96" "ffnen</a></p>\n";
    m->extra = apr_table_make(p, 2);
    apr_table_add(m->extra, "Auto-Submitted", "auto-generated");
    apr_table_add(m->extra, "List-Unsubscribe", " <https://lenz.example/u/abc> ");
    return m;
}

static void test_exact(apr_pool_t *p)
{
    lenz_mail *m = multi_mail(p);
    const char *d = NULL, *why = NULL;
    apr_size_t len;
    apr_array_header_t *rcpt = NULL;
    apr_status_t rv;

    rv = lenz_mail_build_ex(p, m, "MID", "BND", &d, &len, &rcpt, &why);
    is_int(rv, APR_SUCCESS, "multipart message builds (%s)", why ? why : "-");
    is_str(d, WANT_MULTI, "multipart message, byte for byte");
    ok(d && len == strlen(WANT_MULTI), "length returned");
    ok(d && lines_ok(d), "multipart: CRLF lines within 76 columns");
    is_int(rcpt ? rcpt->nelts : 0, 3, "envelope: three recipients");
    is_str(rcpt ? APR_ARRAY_IDX(rcpt, 2, const char *) : NULL, "pat@example.com",
           "envelope: addresses in order");

    /* The single-part form, and a body without a final newline. */
    m = base_mail(p);
    m->from_name = NULL;
    m->text = "line one\nline two";
    rv = build(p, m, &d, &why);
    is_str(rv == APR_SUCCESS ? d : NULL,
           "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
           "From: noreply@lenz.example\r\n"
           "To: Ana <ana@example.org>\r\n"
           "Subject: Hello\r\n"
           "Message-ID: <MID@lenz.example>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: quoted-printable\r\n"
           "\r\n"
           "line one\r\n"
           "line two=\r\n",
           "single part; an unterminated last line ends in a soft break");

    /* Message-ID from the sender's domain; random parts differ per build. */
    m->message_id_domain = NULL;
    build(p, m, &d, &why);
    is_str(header(p, d, "Message-ID"), "<MID@lenz.example>",
           "Message-ID defaults to the sender's domain");
    {
        const char *a = NULL, *b = NULL, *ma, *mb;
        apr_array_header_t *r;
        m = multi_mail(p);
        lenz_mail_build(p, m, &a, &len, &r, &why);
        lenz_mail_build(p, m, &b, &len, &r, &why);
        ma = a ? header(p, a, "Message-ID") : "";
        mb = b ? header(p, b, "Message-ID") : "";
        ok(a && b && strlen(ma) == 2 + 24 + 13 && strcmp(ma, mb) != 0
           && strcmp(header(p, a, "Content-Type"), header(p, b, "Content-Type")) != 0,
           "random Message-ID (%s) and boundary change per message", ma);
    }
    is_int(lenz_mail_build_ex(p, m, "a b", "BND", &d, &len, NULL, &why), LENZ_EFORMAT,
           "test hook refuses a random part that is not base64url");
}

/* ------------------------------------------------------------------ */
/* Headers: RFC 2047, quoting, folding                                 */

static void test_rfc2047(apr_pool_t *p)
{
    static const char *subjects[] = {
        "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x80\x94 \xf0\x9f\x93\x84 bereit",
        "\xe6\x96\x87\xe4\xbb\xb6\xe3\x81\x8c\xe5\x85\xb1\xe6\x9c\x89\xe3\x81\x95"
        "\xe3\x82\x8c\xe3\x81\xbe\xe3\x81\x97\xe3\x81\x9f",
        "=?UTF-8?B?SGk=?= is literal",
        " leading and trailing ",
        "tab\there",
    };
    const char *d, *why, *v;
    int i, words;
    lenz_mail *m = base_mail(p);

    for (i = 0; i < (int)(sizeof(subjects) / sizeof(*subjects)); i++) {
        m->subject = subjects[i];
        build(p, m, &d, &why);
        v = ew_decode(p, header(p, d, "Subject"), &words);
        is_str(v, subjects[i], "subject %d decodes back to the original", i);
        ok(words >= 1 && lines_ok(d), "subject %d: %d encoded-word(s), lines ok", i, words);
    }

    m->from_name = "J\xc3\xb6rg \xe2\x80\x9cthe boss\xe2\x80\x9d";
    build(p, m, &d, &why);
    v = header(p, d, "From");
    ok(v && strncmp(v, "=?UTF-8?B?", 10) == 0
       && strstr(v, "?= <noreply@lenz.example>"), "UTF-8 name encoded: %s", v);
    is_str(ew_decode(p, apr_pstrndup(p, v, (apr_size_t)(strstr(v, " <") - v)), &words),
           m->from_name, "UTF-8 display name decodes back");

    m->from_name = "Smith, John \"JJ\" \\ Jr.";
    build(p, m, &d, &why);
    is_str(header(p, d, "From"), "\"Smith, John \\\"JJ\\\" \\\\ Jr.\" <noreply@lenz.example>",
           "ASCII name with specials: quoted-string with escapes");
    m->from_name = "Plain Name";
    build(p, m, &d, &why);
    is_str(header(p, d, "From"), "Plain Name <noreply@lenz.example>", "atoms stay as they are");
    m->from_name = "=?UTF-8?Q?x?=";
    build(p, m, &d, &why);
    v = header(p, d, "From");
    is_str(ew_decode(p, apr_pstrndup(p, v, (apr_size_t)(strstr(v, " <") - v)), &words),
           "=?UTF-8?Q?x?=", "a name looking like an encoded-word is encoded itself");
}

static void test_folding(apr_pool_t *p)
{
    lenz_mail *m = base_mail(p);
    const char *d, *why, *v, *s;
    char *big;
    int words, i;

    s = "A rather long subject line that talks about the quarterly report, the "
        "budget for next year and several other documents shared with you today";
    m->subject = s;
    build(p, m, &d, &why);
    is_str(header(p, d, "Subject"), s, "long ASCII subject unfolds to the original");
    ok(lines_ok(d) && count(strstr(d, "Subject:"), "\r\n ") >= 1
       && strstr(d, "Subject:") < strstr(d, "Message-ID"),
       "long ASCII subject folded at spaces within 76 columns");

    big = apr_pstrdup(p, "");
    for (i = 0; i < 40; i++)   /* 40 x "Größe " : 2-byte characters mixed in */
        big = apr_pstrcat(p, big, "Gr\xc3\xb6\xc3\x9f" "e ", NULL);
    big = apr_pstrcat(p, big, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80", NULL);
    m->subject = big;
    build(p, m, &d, &why);
    v = ew_decode(p, header(p, d, "Subject"), &words);
    is_str(v, big, "long UTF-8 subject decodes back (whole characters per word)");
    ok(lines_ok(d) && words > 3, "long UTF-8 subject: %d words, lines within 76", words);

    m->subject = "see https://lenz.example/s/aVeryLongTokenThatGoesOnAndOnWithoutAnySpaceXXXXXXXXXX";
    build(p, m, &d, &why);
    is_str(ew_decode(p, header(p, d, "Subject"), &words), m->subject,
           "a word too long to fold is encoded, and decodes back");
    ok(lines_ok(d), "... within 76 columns");

    /* Many recipients with long names: one per line as needed. */
    m = base_mail(p);
    for (i = 0; i < 30; i++)
        add_to(m, i % 2 ? "Somebody With A Rather Long Name" : "J\xc3\xbcrgen M\xc3\xbcller-L\xc3\xbc"
               "denscheidt von und zu Hohenstein", apr_psprintf(p, "user%d@example.com", i));
    is_int(build(p, m, &d, &why), APR_SUCCESS, "31 recipients build");
    ok(lines_ok(d), "To with 31 recipients folded within 76 columns");
    v = header(p, d, "To");
    is_int(count(v, "@example.com>"), 30, "... all 30 added addresses present");
}

/* ------------------------------------------------------------------ */
/* Quoted-printable                                                    */

static const char *qp_body(apr_pool_t *p, const char *text)
{
    lenz_mail *m = base_mail(p);
    const char *d = NULL, *why;
    m->text = text;
    if (build(p, m, &d, &why) != APR_SUCCESS)
        return NULL;
    if (!lines_ok(d))
        diag("bad lines for %s", text);
    return body_of(d);
}

static void test_qp(apr_pool_t *p)
{
    const char *b, *c;
    char line[201], e[401];
    int i, bad;

    is_str(qp_body(p, "a=b\n"), "a=3Db\r\n", "= is escaped");
    is_str(qp_body(p, "trail  \nx\t\n"), "trail =20\r\nx=09\r\n",
           "trailing space and tab before a line break are escaped");
    is_str(qp_body(p, "end "), "end=20=\r\n", "trailing space at the very end is escaped");
    is_str(qp_body(p, "a\r\nb\rc\n"), "a\r\nb=0Dc\r\n", "CRLF kept, lone CR escaped");
    is_str(qp_body(p, ".\n.. dot\n"), ".\r\n.. dot\r\n",
           "leading dots left to curl's SMTP dot-stuffing");
    is_str(qp_body(p, "caf\xc3\xa9 \xf0\x9f\x98\x80\n"), "caf=C3=A9 =F0=9F=98=80\r\n",
           "UTF-8 bytes escaped");
    is_str(qp_body(p, ""), "", "empty body");

    memset(line, 'x', 76);
    line[76] = '\0';
    is_str(qp_body(p, apr_pstrcat(p, line, "\n", NULL)), apr_pstrcat(p, line, "\r\n", NULL),
           "a 76-char line is not broken");
    is_str(qp_body(p, apr_pstrcat(p, line, "y\n", NULL)),
           apr_pstrcat(p, apr_pstrndup(p, line, 75), "=\r\nxy\r\n", NULL),
           "a 77-char line gets one soft break");
    is_str(qp_body(p, apr_pstrcat(p, apr_pstrndup(p, line, 74), "==\n", NULL)),
           apr_pstrcat(p, apr_pstrndup(p, line, 74), "=\r\n=3D=3D\r\n", NULL),
           "an escape is never split by a soft break");

    memset(line, 'a', 200);
    line[200] = '\0';
    b = qp_body(p, apr_pstrcat(p, line, "\n", NULL));
    is_int(count(b, "=\r\n"), 2, "a 200-char line: two soft breaks");
    is_str(qp_decode(p, b), apr_pstrcat(p, line, "\n", NULL), "... decodes back");

    /* 100 x "é" (2 bytes, 6 encoded chars) + "!": soft breaks fall between
     * characters, so each line after one starts with a lead byte. */
    for (i = 0; i < 100; i++) {
        e[2 * i] = (char)0xC3;
        e[2 * i + 1] = (char)0xA9;
    }
    e[200] = '\0';
    b = qp_body(p, e);
    is_str(qp_decode(p, b), e, "200 bytes of UTF-8 decode back");
    bad = 0;
    for (c = strstr(b, "=\r\n"); c; c = strstr(c + 1, "=\r\n"))
        if (c[3] && strncmp(c + 3, "=C3", 3) != 0)
            bad++;
    ok(!bad && count(b, "=\r\n") >= 8, "soft breaks only between characters (%d breaks)",
       count(b, "=\r\n"));

    b = qp_body(p, "--=_lenz_BND\nfake part\n--=_lenz_BND--\n");
    is_str(b, "--=3D_lenz_BND\r\nfake part\r\n--=3D_lenz_BND--\r\n",
           "a delimiter in the text cannot survive encoding");
    {
        lenz_mail *m = multi_mail(p);
        const char *d, *why;
        m->text = "--=_lenz_BND\n--=_lenz_BND--\n";
        m->html = "<p>\n--=_lenz_BND\n</p>";
        build(p, m, &d, &why);
        is_int(count(d, "--=_lenz_BND"), 3, "multipart: exactly three delimiter lines");
    }
}

/* ------------------------------------------------------------------ */
/* Refusals                                                            */

static void test_injection(apr_pool_t *p)
{
    static const char *bad[] = {
        "Hi\r\nBcc: victim@example.com", "Hi\nBcc: victim@example.com", "Hi\rX-Evil: 1",
        "Hi\r\n\r\n--=_lenz_BND", "Hi\x01", "Hi\x7f",
    };
    const char *d, *why = NULL;
    int i;
    lenz_mail *m;

    for (i = 0; i < (int)(sizeof(bad) / sizeof(*bad)); i++) {
        m = base_mail(p);
        m->subject = bad[i];
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "subject injection %d refused (%s)", i, why);
        m = base_mail(p);
        m->from_name = bad[i];
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "from name injection %d refused (%s)", i, why);
        m = base_mail(p);
        APR_ARRAY_IDX(m->to, 0, lenz_mail_addr).name = bad[i];
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "to name injection %d refused", i);
        m = base_mail(p);
        m->extra = apr_table_make(p, 1);
        apr_table_set(m->extra, "X-Test", bad[i]);
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "extra value injection %d refused", i);
    }
    is_str(why, "extra X-Test: not printable ASCII", "why names the field, not the value");

    m = base_mail(p);
    m->from_addr = "me@example.com\r\nBcc: victim@example.com";
    is_int(build(p, m, &d, &why), LENZ_EFORMAT, "from address injection refused");
    is_str(why, "from_addr: invalid address", "... and why says which field");
    m = base_mail(p);
    add_to(m, "X", "a@example.com>\r\nBcc: <victim@example.com");
    is_int(build(p, m, &d, &why), LENZ_EFORMAT, "to address injection refused");
    is_str(why, "to[1]: invalid address", "... naming the recipient's index");
    m = base_mail(p);
    m->reply_to = "a@example.com\nBcc: victim@example.com";
    is_int(build(p, m, &d, &why), LENZ_EFORMAT, "reply-to injection refused");
    m = base_mail(p);
    m->message_id_domain = "lenz.example>\r\nBcc: x@y.com";
    is_int(build(p, m, &d, &why), LENZ_EFORMAT, "message-id domain injection refused");

    {
        static const char *names[] = {
            "X-Foo\r\nBcc", "X Foo", "X:Foo", "", "Subject", "bcc", "CC", "content-type",
            "Content-Disposition", "Message-Id", "MIME-Version", "Return-Path", "Date",
        };
        for (i = 0; i < (int)(sizeof(names) / sizeof(*names)); i++) {
            m = base_mail(p);
            m->extra = apr_table_make(p, 1);
            apr_table_set(m->extra, names[i], "v");
            is_int(build(p, m, &d, &why), LENZ_EFORMAT, "extra header name '%s' refused (%s)",
                   names[i][0] == 'X' && names[i][1] == '-' ? "X-Foo CRLF Bcc" : names[i], why);
        }
        m = base_mail(p);
        m->extra = apr_table_make(p, 1);
        apr_table_set(m->extra, "X-Caf\xc3\xa9", "v");
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "non-ASCII header name refused");
        apr_table_clear(m->extra);
        apr_table_set(m->extra, "X-Note", "caf\xc3\xa9");
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "non-ASCII extra value refused");
        apr_table_set(m->extra, "X-Note", "  ");
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "empty extra value refused");
    }
}

static void test_addresses(apr_pool_t *p)
{
    static const struct { const char *a; int good; } t[] = {
        { "a@example.com", 1 },
        { "first.last@example.co.uk", 1 },
        { "user+tag@sub.example.org", 1 },
        { "x@localhost", 1 },
        { "x@LocalHost", 1 },
        { "o'brien@example.ie", 1 },
        { "a_b-c@xn--bcher-kva.example", 1 },
        { "1234@example.com", 1 },
        { "!#$%&'*+-/=?^_`{|}~@example.com", 1 },
        { "a@a-b.c0m", 1 },
        { "a@1.2.3.example", 1 },
        { NULL, 0 },
        { "", 0 },
        { "plainaddress", 0 },
        { "@example.com", 0 },
        { "a@", 0 },
        { "a@@example.com", 0 },
        { "a@b@example.com", 0 },
        { ".a@example.com", 0 },
        { "a.@example.com", 0 },
        { "a..b@example.com", 0 },
        { "a b@example.com", 0 },
        { "a@exa mple.com", 0 },
        { "\"a\"@example.com", 0 },
        { "<a@example.com>", 0 },
        { "a,b@example.com", 0 },
        { "a(c)@example.com", 0 },
        { "a:b@example.com", 0 },
        { "a;b@example.com", 0 },
        { "a\\b@example.com", 0 },
        { "a@example", 0 },
        { "a@example.com.", 0 },
        { "a@.example.com", 0 },
        { "a@example..com", 0 },
        { "a@-example.com", 0 },
        { "a@example-.com", 0 },
        { "a@exa_mple.com", 0 },
        { "a@1.2.3.4", 0 },
        { "a@[127.0.0.1]", 0 },
        { "j\xc3\xb6rg@example.com", 0 },
        { "a@b\xc3\xbc" "cher.example", 0 },
        { "a@example.com ", 0 },
        { "a\t@example.com", 0 },
        { "a@example.com\r\n", 0 },
    };
    char local[70], label[70];
    int i;

    for (i = 0; i < (int)(sizeof(t) / sizeof(*t)); i++)
        is_int(lenz_mail_addr_ok(t[i].a), t[i].good, "address %s: %s",
               t[i].good ? "good" : "bad", t[i].a ? t[i].a : "(null)");

    memset(local, 'l', 64);
    local[64] = '\0';
    is_int(lenz_mail_addr_ok(apr_pstrcat(p, local, "@example.com", NULL)), 1, "64-char local part");
    is_int(lenz_mail_addr_ok(apr_pstrcat(p, local, "l@example.com", NULL)), 0,
           "65-char local part");
    memset(label, 'd', 63);
    label[63] = '\0';
    is_int(lenz_mail_addr_ok(apr_pstrcat(p, "a@", label, ".com", NULL)), 1, "63-char label");
    is_int(lenz_mail_addr_ok(apr_pstrcat(p, "a@d", label, ".com", NULL)), 0, "64-char label");
    {   /* 64 + 1 + 189 = 254: three 60-char labels, "dd", "com" */
        const char *l60 = apr_pstrndup(p, label, 60);
        const char *dom = apr_pstrcat(p, l60, ".", l60, ".", l60, ".dd.com", NULL);
        is_int((int)strlen(dom), 189, "(189-char domain)");
        is_int(lenz_mail_addr_ok(apr_pstrcat(p, local, "@", dom, NULL)), 1, "254-char address");
        is_int(lenz_mail_addr_ok(apr_pstrcat(p, local, "@d", dom, NULL)), 0, "255-char address");
    }
}

static void test_utf8_and_limits(apr_pool_t *p)
{
    static const char *bad[] = {
        "over\xc0\xaflong", "lone \x80 continuation", "surrogate \xed\xa0\x80",
        "cut \xe2\x82", "too big \xf4\x90\x80\x80", "bad lead \xff",
    };
    const char *d, *why;
    char *big;
    int i;
    lenz_mail *m;

    for (i = 0; i < (int)(sizeof(bad) / sizeof(*bad)); i++) {
        m = base_mail(p);
        m->subject = bad[i];
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "invalid UTF-8 %d in subject (%s)", i, why);
        m = base_mail(p);
        m->text = bad[i];
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "invalid UTF-8 %d in text (%s)", i, why);
        m = multi_mail(p);
        m->html = bad[i];
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "invalid UTF-8 %d in html", i);
        m = base_mail(p);
        m->from_name = bad[i];
        is_int(build(p, m, &d, &why), LENZ_EFORMAT, "invalid UTF-8 %d in name", i);
    }

    m = base_mail(p);
    for (i = 0; i < LENZ_MAIL_MAX_RCPT - 1; i++)
        add_to(m, NULL, apr_psprintf(p, "u%d@example.com", i));
    is_int(build(p, m, &d, &why), APR_SUCCESS, "100 recipients accepted");
    add_to(m, NULL, "one-more@example.com");
    is_int(build(p, m, &d, &why), LENZ_ETOOBIG, "101 recipients refused (%s)", why);
    m = base_mail(p);
    apr_array_clear(m->to);
    is_int(build(p, m, &d, &why), LENZ_EFORMAT, "no recipient refused (%s)", why);
    m->to = NULL;
    is_int(build(p, m, &d, &why), LENZ_EFORMAT, "NULL recipients refused");

    m = base_mail(p);
    add_to(m, "Again", "ana@example.org");
    add_to(m, NULL, "zed@example.org");
    {
        apr_array_header_t *rcpt = NULL;
        apr_size_t len;
        lenz_mail_build_ex(p, m, "MID", "BND", &d, &len, &rcpt, &why);
        ok(rcpt && rcpt->nelts == 2
           && strcmp(APR_ARRAY_IDX(rcpt, 1, const char *), "zed@example.org") == 0,
           "envelope recipients de-duplicated");
    }

    big = apr_palloc(p, LENZ_MAIL_MAX_BODY + 2);
    memset(big, 'x', LENZ_MAIL_MAX_BODY + 1);
    for (i = 100; i < LENZ_MAIL_MAX_BODY; i += 100)
        big[i] = '\n';
    big[LENZ_MAIL_MAX_BODY] = '\0';
    m = base_mail(p);
    m->text = big;
    is_int(build(p, m, &d, &why), APR_SUCCESS, "a 1 MiB text is accepted");
    big[LENZ_MAIL_MAX_BODY] = 'x';
    big[LENZ_MAIL_MAX_BODY + 1] = '\0';
    is_int(build(p, m, &d, &why), LENZ_ETOOBIG, "1 MiB + 1 text refused (%s)", why);
    m = multi_mail(p);
    m->html = big;
    is_int(build(p, m, &d, &why), LENZ_ETOOBIG, "1 MiB + 1 html refused (%s)", why);

    m = base_mail(p);
    for (i = 0; i <= LENZ_MAIL_MAX_HEADER; i++)   /* words of 49, and one \xc3\xa9 */
        big[i] = i % 50 == 49 ? ' ' : i == 500 ? (char)0xC3 : i == 501 ? (char)0xA9 : 'x';
    big[LENZ_MAIL_MAX_HEADER + 1] = '\0';
    m->subject = big;
    is_int(build(p, m, &d, &why), LENZ_ETOOBIG, "999-byte subject refused (%s)", why);
    big[LENZ_MAIL_MAX_HEADER] = '\0';
    is_int(build(p, m, &d, &why), APR_SUCCESS, "998-byte subject accepted");
    ok(lines_ok(d), "... and folded within 76 columns");
    m = base_mail(p);
    m->text = NULL;
    is_int(build(p, m, &d, &why), LENZ_EFORMAT, "missing text refused (%s)", why);
}

/* ------------------------------------------------------------------ */
/* Random texts: whatever a caller passes, the header count stays put,  */
/* the lines stay short, and everything decodes back                    */

static apr_uint32_t rnd_state = 2463534242u;

static apr_uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

/* A random UTF-8 string over the characters that matter to the encoders. */
static const char *rnd_text(apr_pool_t *p, int max, int body)
{
    static const char *const pieces[] = {
        "a", "Z", "0", " ", " ", "  ", "\t", "=", "?", "=?", "?=", "_", "\"", "\\", ",",
        "<", ">", "@", ".", "-", ":", ";", "(", "'", "\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xe6\x96\x87", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    };
    static const char *const breaks[] = { "\n", "\r\n", "\r", "\n\n", " \n", "\t\r\n" };
    int n = (int)(rnd() % (apr_uint32_t)max), i;
    const char *s = "";
    for (i = 0; i < n; i++) {
        if (body && rnd() % 8 == 0)
            s = apr_pstrcat(p, s, breaks[rnd() % 6], NULL);
        else
            s = apr_pstrcat(p, s, pieces[rnd() % (sizeof(pieces) / sizeof(*pieces))], NULL);
    }
    return s;
}

/* A display name as a reader sees it: a quoted-string, or atoms and
 * encoded-words. */
static const char *phrase_decode(apr_pool_t *p, const char *v)
{
    int words;
    if (*v == '"') {
        char *out = apr_palloc(p, strlen(v)), *o = out;
        for (v++; *v && *v != '"'; v++) {
            if (*v == '\\')
                v++;
            *o++ = *v;
        }
        *o = '\0';
        return out;
    }
    return ew_decode(p, v, &words);
}

static int header_lines(const char *msg)
{
    int n = 0;
    const char *l;
    for (l = msg; *l && strncmp(l, "\r\n", 2) != 0; l = strstr(l, "\r\n") + 2)
        if (*l != ' ' && *l != '\t')
            n++;
    return n;
}

/* "\r\n" -> "\n": what a quoted-printable round trip gives back. */
static const char *lf(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s), *o = out;
    for (; *s; s++)
        if (!(s[0] == '\r' && s[1] == '\n'))
            *o++ = *s;
    *o = '\0';
    return out;
}

/* The decoded body of part k (0, 1) of a multipart message built with
 * boundary BND, or of the whole body when k < 0. */
static const char *part_text(apr_pool_t *p, const char *msg, int k)
{
    const char *b = body_of(msg), *e;
    if (k < 0)
        return qp_decode(p, b);
    while (k-- >= 0 && b)
        if ((b = strstr(b, "--=_lenz_BND\r\n")))
            b += 14;
    if (!b || !(b = strstr(b, "\r\n\r\n")) || !(e = strstr(b + 4, "\r\n--=_lenz_BND")))
        return NULL;
    return qp_decode(p, apr_pstrndup(p, b + 4, (apr_size_t)(e - b - 4)));
}

static void test_random(apr_pool_t *p)
{
    int i, bad = 0, words;
    for (i = 0; i < 3000 && bad < 3; i++) {
        apr_pool_t *sub;
        lenz_mail *m;
        const char *d, *why, *v, *name, *subj;
        int lines, heads, text, html;

        apr_pool_create(&sub, p);
        m = base_mail(sub);
        m->subject = rnd_text(sub, 40, 0);
        m->from_name = rnd_text(sub, 30, 0);
        APR_ARRAY_IDX(m->to, 0, lenz_mail_addr).name = rnd_text(sub, 30, 0);
        add_to(m, rnd_text(sub, 30, 0), "second@example.com");
        m->text = rnd_text(sub, 120, 1);
        if (i % 2)
            m->html = rnd_text(sub, 120, 1);
        if (build(sub, m, &d, &why) != APR_SUCCESS) {
            diag("case %d refused: %s", i, why);
            bad++;
            continue;
        }
        v = header(sub, d, "From");
        name = strrchr(v, '<') ? apr_pstrndup(sub, v, (apr_size_t)(strrchr(v, '<') - v)) : "";
        if (*name)   /* drop the space before '<' */
            name = apr_pstrndup(sub, name, strlen(name) - 1);
        subj = *m->subject ? ew_decode(sub, header(sub, d, "Subject"), &words) : "";
        lines = lines_ok(d);
        heads = header_lines(d) == 6 + !!*m->subject + !m->html;
        text = !strcmp(part_text(sub, d, m->html ? 0 : -1), lf(sub, m->text));
        html = !m->html || !strcmp(part_text(sub, d, 1), lf(sub, m->html));
        if (!lines || !heads || !text || !html || strcmp(subj, m->subject)
            || strcmp(phrase_decode(sub, name), m->from_name)) {
            diag("case %d: lines %d, headers %d, text %d, html %d, subject %d, name %d:\n%s",
                 i, lines, heads, text, html, !strcmp(subj, m->subject),
                 !strcmp(phrase_decode(sub, name), m->from_name), d);
            bad++;
        }
        apr_pool_destroy(sub);
    }
    ok(!bad, "3000 random messages: short lines, 7 or 8 headers, texts decode back");
}

/* ------------------------------------------------------------------ */
/* Python's email package reads what we wrote                          */

static const char *PY_CHECK =
    "import sys, email, email.policy\n"
    "m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n"
    "h = lambda s: s.encode('utf-8').hex() or '-'\n"
    "print('subject', h(str(m['subject'])))\n"
    "print('from', h(m['from'].addresses[0].display_name), m['from'].addresses[0].addr_spec)\n"
    "for a in m['to'].addresses: print('to', h(a.display_name), a.addr_spec)\n"
    "print('date', int(m['date'].datetime.timestamp()))\n"
    "print('type', m.get_content_type(), m.get_boundary())\n"
    "parts = list(m.iter_parts())\n"
    "for p in parts:\n"
    "    c = p.get_content()\n"
    "    print('part', p.get_content_type(), h(c.replace('\\r\\n', '\\n')), '\\r' in c.replace('\\r\\n', ''))\n"
    "print('defects', len(m.defects) + sum(len(p.defects) for p in parts)"
    " + sum(len(v.defects) for k, v in m.items()))\n";

static void test_python(apr_pool_t *p)
{
    const char *py = getenv("LENZ_PYTHON"), *d, *why, *path, *cmd, *got;
    char tmpl[] = "/tmp/lenz-mail-XXXXXX", buf[8192];
    lenz_mail *m = multi_mail(p);
    apr_file_t *f;
    apr_size_t n;
    FILE *pf;
    int st;

    if (!py || !*py)
        py = "/usr/bin/python3";   /* Debian's, never whatever PATH finds first */
    apr_array_clear(m->to);
    add_to(m, "Zo\xc3\xab \xe2\x80\x9cZ\xe2\x80\x9d Sm\xc3\xaft\xc4\xa7", "zoe@example.org");
    add_to(m, "O'Brien, Pat", "pat@example.com");
    add_to(m, NULL, "bob@example.net");
    m->subject = "Gr\xc3\xbc\xc3\x9f" "e \xe2\x80\x94 a rather long subject, so it has to be "
                 "folded across lines \xf0\x9f\x93\x84 \xe6\x96\x87\xe4\xbb\xb6";
    m->text = "Hallo,\n\n= trailing space \nlong: "
              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
              "\n\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80\n.\nend";
    m->html = "<p>caf\xc3\xa9 &amp; \xe2\x82\xac</p>\n";
    is_int(build(p, m, &d, &why), APR_SUCCESS, "python: message builds");

    if (apr_file_mktemp(&f, tmpl, APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p)
        || apr_file_write_full(f, d, strlen(d), &n) || apr_file_close(f)) {
        ok(0, "python: cannot write %s", tmpl);
        return;
    }
    path = tmpl;
    cmd = apr_psprintf(p, "'%s' -c \"$LENZ_MAIL_PY\" '%s' 2>&1", py, path);
    setenv("LENZ_MAIL_PY", PY_CHECK, 1);
    pf = popen(cmd, "r");
    n = pf ? fread(buf, 1, sizeof(buf) - 1, pf) : 0;
    buf[n] = '\0';
    st = pf ? pclose(pf) : -1;
    unlink(path);
    got = buf;
    ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "python (%s) parsed the message", py);
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
        diag("%s", got);
    is_str(got, apr_pstrcat(p,
        "subject ", lenz_hex(p, m->subject, strlen(m->subject)), "\n",
        "from ", lenz_hex(p, "Lenz", 4), " noreply@lenz.example\n",
        "to ", lenz_hex(p, APR_ARRAY_IDX(m->to, 0, lenz_mail_addr).name,
                        strlen(APR_ARRAY_IDX(m->to, 0, lenz_mail_addr).name)), " zoe@example.org\n",
        "to ", lenz_hex(p, "O'Brien, Pat", 12), " pat@example.com\n",
        "to - bob@example.net\n",
        "date ", apr_itoa(p, T0), "\n",
        "type multipart/alternative =_lenz_BND\n",
        "part text/plain ", lenz_hex(p, m->text, strlen(m->text)), " False\n",
        "part text/html ", lenz_hex(p, m->html, strlen(m->html)), " False\n",
        "defects 0\n", NULL),
        "python: subject, names, addresses, date and both parts decode to the originals");
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_exact(p);
    test_rfc2047(p);
    test_folding(p);
    test_qp(p);
    test_injection(p);
    test_addresses(p);
    test_utf8_and_limits(p);
    test_random(p);
    test_python(p);
    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
