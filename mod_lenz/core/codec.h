/* codec.h - text encodings: hex and URL-safe base64 (over APR's base64). */
#ifndef LENZ_CODEC_H
#define LENZ_CODEC_H

#include <apr_pools.h>

/* Lower-case hex of len bytes, from p. */
char *lenz_hex(apr_pool_t *p, const void *data, apr_size_t len);
/* Decode exactly out_len bytes from 2*out_len hex digits (any case).
 * APR_SUCCESS or LENZ_EFORMAT. */
apr_status_t lenz_unhex(const char *hex, apr_size_t hex_len,
                        unsigned char *out, apr_size_t out_len);

/* RFC 4648 section 5 base64url without padding, from p. */
char *lenz_b64url(apr_pool_t *p, const void *data, apr_size_t len);
/* Strict decode of unpadded base64url (padding '=' also accepted).
 * Returns the bytes from p and their length, or NULL on any bad character
 * or impossible length. */
unsigned char *lenz_unb64url(apr_pool_t *p, const char *s, apr_size_t slen,
                             apr_size_t *out_len);

/* Standard base64 with padding (for S3 Content-MD5 and MIME). */
char *lenz_b64(apr_pool_t *p, const void *data, apr_size_t len);
unsigned char *lenz_unb64(apr_pool_t *p, const char *s, apr_size_t *out_len);

/* RFC 4648 base32 (upper case, unpadded) for TOTP secrets. */
char *lenz_b32(apr_pool_t *p, const void *data, apr_size_t len);
/* Decodes base32 (any case, '=' padding and spaces ignored); NULL on a
 * bad character. */
unsigned char *lenz_unb32(apr_pool_t *p, const char *s, apr_size_t *out_len);

/* Is s a UUID in its text form (36 characters, hyphens where they go)? */
int lenz_uuid_ok(const char *s);
/* A copy of s with ASCII letters in lower case (e-mail addresses). */
const char *lenz_ascii_lower(apr_pool_t *p, const char *s);

/* s as XML text or attribute value (from p): & < > " ' escaped, TAB, LF
 * and CR as character references (S3's XML bodies, the SVG images). */
const char *lenz_xml_escape(apr_pool_t *p, const char *s);

#endif
