/* mail.h - composing e-mail messages (RFC 5322, MIME, RFC 2047) that
 * lenz_smtp_send() (http.h) can submit as they are.
 *
 * Every caller-supplied value is validated or encoded so that it can never
 * add a header, a recipient or a body part: header values holding CR, LF,
 * NUL or another control character are refused, non-ASCII text becomes
 * RFC 2047 encoded-words, bodies are quoted-printable.
 */
#ifndef LENZ_MAIL_H
#define LENZ_MAIL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#define LENZ_MAIL_MAX_BODY   (1024 * 1024)  /* bytes of text, and of html */
#define LENZ_MAIL_MAX_RCPT   100
#define LENZ_MAIL_MAX_HEADER 998            /* bytes of a name, subject or extra value */

typedef struct lenz_mail_addr {
    const char *name;              /* display name, any UTF-8; NULL or "" for none */
    const char *addr;              /* addr-spec, see lenz_mail_addr_ok() */
} lenz_mail_addr;

typedef struct lenz_mail {
    const char *from_name;         /* optional display name, UTF-8 */
    const char *from_addr;         /* header From and envelope sender */
    apr_array_header_t *to;        /* of lenz_mail_addr (by value), 1..100 */
    const char *reply_to;          /* optional address */
    const char *subject;           /* UTF-8; NULL or "" omits the header */
    const char *text;              /* text/plain body, UTF-8, required */
    const char *html;              /* optional text/html -> multipart/alternative */
    const char *message_id_domain; /* Message-ID's right side; NULL: from_addr's domain */
    apr_time_t date;               /* 0: now */
    apr_table_t *extra;            /* optional extra headers, printable ASCII values
                                    * (List-Unsubscribe, Auto-Submitted, ...); may not
                                    * name a header set here, nor Cc, Bcc, Sender,
                                    * Return-Path or any Content-* */
} lenz_mail;

/* Validates m and builds the complete message with CRLF line endings into
 * *data / *len (NUL-terminated too), and the envelope recipients (const
 * char *, duplicates removed) into *rcpt; the envelope sender is
 * m->from_addr.  Returns APR_SUCCESS; LENZ_EFORMAT when an address is
 * invalid, a text is not UTF-8 or a header value holds a control character;
 * LENZ_ETOOBIG past the limits above; *why names the field (never its
 * value). */
apr_status_t lenz_mail_build(apr_pool_t *p, const lenz_mail *m,
                             const char **data, apr_size_t *len,
                             apr_array_header_t **rcpt, const char **why);

/* lenz_mail_build() with the random parts given: tests fix them, and the
 * mail job keeps one Message-ID across its retries.  mid_random becomes
 * the Message-ID's left side and bnd_random follows "=_lenz_" in the
 * multipart boundary; both 1..40 base64url characters. */
apr_status_t lenz_mail_build_ex(apr_pool_t *p, const lenz_mail *m,
                                const char *mid_random, const char *bnd_random,
                                const char **data, apr_size_t *len,
                                apr_array_header_t **rcpt, const char **why);

/* 1 when addr is a pragmatic addr-spec fit for SMTP without quoting:
 * dot-atom local part (1..64 chars of RFC 5322 atext, no leading, trailing
 * or doubled dot), '@', a domain of 1..63-char labels of [A-Za-z0-9-] not
 * starting or ending with '-' (IDNA A-labels pass), at least one dot unless
 * it is "localhost", a top label that is not all digits (no bare IPs, no
 * address literals); at most 254 chars.  Non-ASCII (SMTPUTF8) is refused. */
int lenz_mail_addr_ok(const char *addr);

#endif
