/* sigv4.c - AWS Signature Version 4: canonical request, string to sign,
 * signing key, Authorization header and presigned URLs.
 *
 * Checked byte for byte against the AWS SigV4 test suite (generic rules) and
 * against botocore's S3SigV4Auth / S3SigV4QueryAuth (S3 rules) by
 * t/unit/test_sigv4.c.  Where the rules leave room, botocore's choice is
 * taken, since that is what S3-compatible servers are tested against.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "sigv4.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"

#define PUSH(arr, s) (*(const char **)apr_array_push(arr) = (s))

/* ---- encoding ---------------------------------------------------------- */

static int is_unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
        || (ch >= '0' && ch <= '9')
        || ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Whether s[i] starts a well-formed escape "%XX". */
static int is_escape(const char *s, apr_size_t len, apr_size_t i)
{
    return s[i] == '%' && i + 2 < len
        && hexval((unsigned char)s[i + 1]) >= 0
        && hexval((unsigned char)s[i + 2]) >= 0;
}

/* Writes "%XX" (upper-case hex, as SigV4 requires) and returns the end. */
static char *put_escape(char *o, unsigned char ch)
{
    static const char hx[] = "0123456789ABCDEF";
    o[0] = '%';
    o[1] = hx[ch >> 4];
    o[2] = hx[ch & 15];
    return o + 3;
}

char *lenz_sigv4_uri_encode(apr_pool_t *p, const char *s, apr_size_t len,
                            int encode_slash)
{
    char *out = apr_palloc(p, 3 * len + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (is_unreserved(ch) || (ch == '/' && !encode_slash))
            *o++ = (char)ch;
        else
            o = put_escape(o, ch);
    }
    *o = '\0';
    return out;
}

/* Percent-decoding of a query name or value.  A '%' that starts no valid
 * escape stays literal (it is then signed as %25), and '+' stays '+': SigV4
 * gives it no meaning, so a space must arrive as %20.  The result may hold
 * any byte, NUL included, hence the explicit length. */
static char *uri_decode(apr_pool_t *p, const char *s, apr_size_t len,
                        apr_size_t *out_len)
{
    char *out = apr_palloc(p, len + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (is_escape(s, len, i)) {
            *o++ = (char)(hexval((unsigned char)s[i + 1]) << 4
                          | hexval((unsigned char)s[i + 2]));
            i += 2;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    *out_len = (apr_size_t)(o - out);
    return out;
}

/* Decode then encode: the canonical form of a name or value however the
 * caller encoded it ("%7e" and "~" both become "~", "%2f" becomes "%2F"). */
static char *recode(apr_pool_t *p, const char *s, apr_size_t len)
{
    apr_size_t n;
    char *raw = uri_decode(p, s, len, &n);
    return lenz_sigv4_uri_encode(p, raw, n, 1);
}

/* ---- canonical URI ----------------------------------------------------- */

/* S3 signs the path as sent: an object key may really contain "//", "." or
 * ".." segments, and S3 does not encode it twice.  Only bytes that reached us
 * unencoded are encoded now; escapes already present are kept verbatim (as
 * botocore does), so a caller that builds its path with
 * lenz_sigv4_uri_encode(..., 0) signs exactly what it sends. */
static const char *canonical_uri_raw(apr_pool_t *p, const char *path)
{
    apr_size_t len = strlen(path), i;
    char *out, *o;

    if (len == 0)
        return "/";
    out = o = apr_palloc(p, 3 * len + 1);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)path[i];
        if (is_escape(path, len, i)) {
            memcpy(o, path + i, 3);
            o += 3;
            i += 2;
        }
        else if (is_unreserved(ch) || ch == '/') {
            *o++ = (char)ch;
        }
        else {
            o = put_escape(o, ch);
        }
    }
    *o = '\0';
    return out;
}

/* Other services: "." and ".." segments and empty ones (duplicate slashes)
 * are removed, as the AWS suite and botocore do; a trailing slash survives
 * when anything is left.  The result is then encoded again, so an escape
 * of the wire path is encoded a second time ("%20" is signed as "%2520"). */
static const char *canonical_uri_normalised(apr_pool_t *p, const char *path)
{
    apr_size_t len = strlen(path);
    apr_array_header_t *segs = apr_array_make(p, 8, sizeof(const char *));
    apr_array_header_t *parts = apr_array_make(p, 16, sizeof(const char *));
    const char *s = path, *norm;
    int i;

    if (len == 0)
        return "/";
    while (*s) {
        apr_size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (segs->nelts)
                apr_array_pop(segs);
        }
        else if (n > 0 && !(n == 1 && s[0] == '.')) {
            PUSH(segs, apr_pstrmemdup(p, s, n));
        }
        s += n;
        if (*s == '/')
            s++;
    }
    if (path[0] == '/')
        PUSH(parts, "/");
    for (i = 0; i < segs->nelts; i++) {
        if (i)
            PUSH(parts, "/");
        PUSH(parts, APR_ARRAY_IDX(segs, i, const char *));
    }
    if (path[len - 1] == '/' && segs->nelts)
        PUSH(parts, "/");
    norm = apr_array_pstrcat(p, parts, '\0');
    return lenz_sigv4_uri_encode(p, norm, strlen(norm), 0);
}

/* ---- canonical query --------------------------------------------------- */

typedef struct {
    const char *name;   /* canonically encoded */
    const char *value;  /* canonically encoded, "" when absent */
} qpair;

/* Splits a query as sent into canonically re-encoded pairs, in order.
 * "uploads" is the pair ("uploads", ""), later written "uploads=".  Empty
 * pieces ("a&&b") carry nothing and are dropped. */
static apr_array_header_t *query_pairs(apr_pool_t *p, const char *query)
{
    apr_array_header_t *pairs = apr_array_make(p, 8, sizeof(qpair));
    const char *s = query ? query : "";

    while (*s) {
        apr_size_t n = strcspn(s, "&");
        if (n > 0) {
            const char *eq = memchr(s, '=', n);
            qpair *q = apr_array_push(pairs);
            if (eq) {
                q->name = recode(p, s, (apr_size_t)(eq - s));
                q->value = recode(p, eq + 1, n - (apr_size_t)(eq - s) - 1);
            }
            else {
                q->name = recode(p, s, n);
                q->value = "";
            }
        }
        s += n;
        if (*s == '&')
            s++;
    }
    return pairs;
}

/* By encoded name, then by encoded value (byte order, as SigV4 says):
 * "a=2" sorts before "a-b=1" because the names are compared alone. */
static int qpair_cmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* "n=v" pairs joined with '&', in the order of pairs. */
static const char *join_pairs(apr_pool_t *p, const apr_array_header_t *pairs)
{
    apr_array_header_t *parts = apr_array_make(p, pairs->nelts * 4 + 1,
                                               sizeof(const char *));
    int i;

    for (i = 0; i < pairs->nelts; i++) {
        const qpair *q = &APR_ARRAY_IDX(pairs, i, qpair);
        if (i)
            PUSH(parts, "&");
        PUSH(parts, q->name);
        PUSH(parts, "=");
        PUSH(parts, q->value);
    }
    return apr_array_pstrcat(p, parts, '\0');
}

static const char *canonical_query(apr_pool_t *p, const apr_array_header_t *pairs)
{
    apr_array_header_t *sorted = apr_array_copy(p, pairs);
    if (sorted->nelts > 1)
        qsort(sorted->elts, (size_t)sorted->nelts, sizeof(qpair), qpair_cmp);
    return join_pairs(p, sorted);
}

/* ---- canonical headers ------------------------------------------------- */

typedef struct {
    const char *name;   /* lower-case */
    const char *value;  /* trimmed, inner blanks collapsed */
    int seq;            /* position in the request, to keep duplicates in order */
} chdr;

/* RFC 9110 token characters: what a header name or a method may hold. */
static int is_tchar(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
        || (ch >= '0' && ch <= '9')
        || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int is_token(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

/* Lower-cases the name and applies SigV4's Trimall to the value: blanks
 * (space, tab) dropped at both ends, each inner run turned into one space.
 * CR, LF and other control bytes are refused rather than trimmed: the value
 * is sent as given, and a line break in it would smuggle in a header of its
 * own. */
static apr_status_t canon_header(apr_pool_t *p, const lenz_sigv4_hdr *h,
                                 int seq, chdr *out)
{
    const char *v;
    char *name, *val, *o;
    int pending_blank = 0;

    if (!is_token(h->name) || !h->value)
        return LENZ_EFORMAT;
    name = apr_pstrdup(p, h->name);
    for (o = name; *o; o++)
        if (*o >= 'A' && *o <= 'Z')
            *o = (char)(*o - 'A' + 'a');

    val = o = apr_palloc(p, strlen(h->value) + 1);
    for (v = h->value; *v; v++) {
        unsigned char ch = (unsigned char)*v;
        if (ch == ' ' || ch == '\t') {
            pending_blank = (o != val);
            continue;
        }
        if (ch < 0x20 || ch == 0x7f)
            return LENZ_EFORMAT;
        if (pending_blank)
            *o++ = ' ';
        pending_blank = 0;
        *o++ = (char)ch;
    }
    *o = '\0';
    out->name = name;
    out->value = val;
    out->seq = seq;
    return APR_SUCCESS;
}

static int chdr_cmp(const void *a, const void *b)
{
    const chdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

typedef struct {
    apr_array_header_t *merged;  /* of chdr, one per name, sorted */
    const char *block;           /* "name:value\n" for each */
    const char *signed_list;     /* "name;name;..." */
} canon_headers;

/* Sorted by name; the values of a repeated name are joined with ',' in the
 * order they were sent (the AWS suite's get-header-value-order). */
static apr_status_t canonical_headers(apr_pool_t *p,
                                      const apr_array_header_t *hdrs,
                                      canon_headers *ch)
{
    apr_array_header_t *all = apr_array_make(p, hdrs->nelts + 1, sizeof(chdr));
    apr_array_header_t *block = apr_array_make(p, hdrs->nelts * 4 + 1,
                                               sizeof(const char *));
    apr_array_header_t *names = apr_array_make(p, hdrs->nelts * 2 + 1,
                                               sizeof(const char *));
    int i;

    for (i = 0; i < hdrs->nelts; i++) {
        apr_status_t rv = canon_header(p, &APR_ARRAY_IDX(hdrs, i, lenz_sigv4_hdr),
                                       i, apr_array_push(all));
        if (rv != APR_SUCCESS)
            return rv;
    }
    if (all->nelts > 1)
        qsort(all->elts, (size_t)all->nelts, sizeof(chdr), chdr_cmp);

    ch->merged = apr_array_make(p, all->nelts + 1, sizeof(chdr));
    for (i = 0; i < all->nelts; i++) {
        const chdr *h = &APR_ARRAY_IDX(all, i, chdr);
        chdr *last = ch->merged->nelts
            ? &APR_ARRAY_IDX(ch->merged, ch->merged->nelts - 1, chdr) : NULL;
        if (last && strcmp(last->name, h->name) == 0) {
            last->value = apr_pstrcat(p, last->value, ",", h->value, NULL);
        }
        else {
            *(chdr *)apr_array_push(ch->merged) = *h;
        }
    }
    for (i = 0; i < ch->merged->nelts; i++) {
        const chdr *h = &APR_ARRAY_IDX(ch->merged, i, chdr);
        PUSH(block, h->name);
        PUSH(block, ":");
        PUSH(block, h->value);
        PUSH(block, "\n");
        if (i)
            PUSH(names, ";");
        PUSH(names, h->name);
    }
    ch->block = apr_array_pstrcat(p, block, '\0');
    ch->signed_list = apr_array_pstrcat(p, names, '\0');
    return APR_SUCCESS;
}

/* The canonical value of a signed header, NULL when it is not signed. */
static const char *header_value(const canon_headers *ch, const char *lname)
{
    int i;
    for (i = 0; i < ch->merged->nelts; i++) {
        const chdr *h = &APR_ARRAY_IDX(ch->merged, i, chdr);
        if (strcmp(h->name, lname) == 0)
            return h->value;
    }
    return NULL;
}

/* ---- signing ----------------------------------------------------------- */

const char *lenz_sigv4_amz_date(apr_pool_t *p, apr_time_t now)
{
    apr_time_exp_t t;
    apr_time_exp_gmt(&t, now);
    return apr_psprintf(p, "%04d%02d%02dT%02d%02d%02dZ",
                        t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                        t.tm_hour, t.tm_min, t.tm_sec);
}

/* Access key, region and service are written into the Credential field,
 * where '/' separates them and ',' ends the field: refuse what would make it
 * ambiguous. */
static int is_scope_part(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= 0x20 || ch >= 0x7f || ch == '/' || ch == ',' || ch == '=')
            return 0;
    }
    return 1;
}

static int creds_ok(const lenz_sigv4_creds *c)
{
    return c && is_scope_part(c->access_key) && c->secret_key
        && is_scope_part(c->region) && is_scope_part(c->service);
}

/* "yyyymmdd/region/service/aws4_request" */
static const char *credential_scope(apr_pool_t *p, const lenz_sigv4_creds *c,
                                    const char *amz_date)
{
    return apr_pstrcat(p, apr_pstrmemdup(p, amz_date, 8), "/", c->region, "/",
                       c->service, "/" TERMINATOR, NULL);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 * "aws4_request").  The intermediate keys and the prefixed secret are wiped. */
static apr_status_t signing_key(apr_pool_t *p, const lenz_sigv4_creds *c,
                                const char *amz_date,
                                unsigned char key[LENZ_SHA256_LEN])
{
    char *secret = apr_pstrcat(p, "AWS4", c->secret_key, NULL);
    apr_size_t slen = strlen(secret);
    unsigned char a[LENZ_SHA256_LEN], b[LENZ_SHA256_LEN];
    apr_status_t rv;

    rv = lenz_hmac_sha256(secret, slen, amz_date, 8, a);
    if (rv == APR_SUCCESS)
        rv = lenz_hmac_sha256(a, sizeof a, c->region, strlen(c->region), b);
    if (rv == APR_SUCCESS)
        rv = lenz_hmac_sha256(b, sizeof b, c->service, strlen(c->service), a);
    if (rv == APR_SUCCESS)
        rv = lenz_hmac_sha256(a, sizeof a, TERMINATOR, strlen(TERMINATOR), key);
    lenz_wipe(secret, slen);
    lenz_wipe(a, sizeof a);
    lenz_wipe(b, sizeof b);
    return rv;
}

/* String to sign and hex signature for a canonical request. */
static apr_status_t sign_creq(apr_pool_t *p, const lenz_sigv4_creds *c,
                              const char *amz_date, const char *scope,
                              const char *creq, const char **sts,
                              const char **sig)
{
    unsigned char key[LENZ_SHA256_LEN], mac[LENZ_SHA256_LEN];
    apr_status_t rv;

    *sts = apr_pstrcat(p, ALGORITHM "\n", amz_date, "\n", scope, "\n",
                       lenz_sha256_hex(p, creq, strlen(creq)), NULL);
    rv = signing_key(p, c, amz_date, key);
    if (rv == APR_SUCCESS)
        rv = lenz_hmac_sha256(key, sizeof key, *sts, strlen(*sts), mac);
    lenz_wipe(key, sizeof key);
    if (rv != APR_SUCCESS)
        return rv;
    *sig = lenz_hex(p, mac, sizeof mac);
    return APR_SUCCESS;
}

static const char *build_creq(apr_pool_t *p, const char *method,
                              const char *curi, const char *cquery,
                              const canon_headers *ch, const char *payload)
{
    return apr_pstrcat(p, method, "\n", curi, "\n", cquery, "\n", ch->block,
                       "\n", ch->signed_list, "\n", payload, NULL);
}

/* A payload hash is hex or a keyword such as UNSIGNED-PAYLOAD: visible
 * ASCII only, since it is also sent as x-amz-content-sha256. */
static int is_payload_hash(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

/* The headers the server reads to check a signature must agree with what
 * was signed; a mismatch is a bug in the caller, caught here rather than as
 * a SignatureDoesNotMatch from the server. */
static apr_status_t check_auth_headers(const canon_headers *ch, int flags,
                                       const lenz_sigv4_creds *c,
                                       const char *amz_date,
                                       const char *payload_hash)
{
    const char *v;

    if (!header_value(ch, "host"))
        return APR_EINVAL;
    v = header_value(ch, "x-amz-date");
    if (v ? strcmp(v, amz_date) != 0 : !header_value(ch, "date"))
        return APR_EINVAL;
    v = header_value(ch, "x-amz-content-sha256");
    if (v ? strcmp(v, payload_hash) != 0 : (flags & LENZ_SIGV4_CONTENT_SHA256) != 0)
        return APR_EINVAL;
    if (c->session_token) {
        v = header_value(ch, "x-amz-security-token");
        if (!v || strcmp(v, c->session_token) != 0)
            return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_sigv4_sign(apr_pool_t *p, const lenz_sigv4_creds *c, int flags,
                             const lenz_sigv4_req *req, apr_time_t now,
                             const char **authorization,
                             const char **creq, const char **sts)
{
    canon_headers ch;
    const char *amz_date, *scope, *curi, *cq, *cr, *st, *sig;
    apr_status_t rv;

    if (!creds_ok(c) || !req || !req->method || !req->path || !req->headers
        || !req->payload_hash || !authorization)
        return APR_EINVAL;
    if (!is_token(req->method) || !is_payload_hash(req->payload_hash))
        return LENZ_EFORMAT;
    if (req->path[0] && req->path[0] != '/')
        return LENZ_EFORMAT;

    rv = canonical_headers(p, req->headers, &ch);
    if (rv != APR_SUCCESS)
        return rv;
    amz_date = lenz_sigv4_amz_date(p, now);
    rv = check_auth_headers(&ch, flags, c, amz_date, req->payload_hash);
    if (rv != APR_SUCCESS)
        return rv;

    curi = (flags & LENZ_SIGV4_RAW_PATH) ? canonical_uri_raw(p, req->path)
                                         : canonical_uri_normalised(p, req->path);
    cq = canonical_query(p, query_pairs(p, req->query));
    cr = build_creq(p, req->method, curi, cq, &ch, req->payload_hash);
    scope = credential_scope(p, c, amz_date);
    rv = sign_creq(p, c, amz_date, scope, cr, &st, &sig);
    if (rv != APR_SUCCESS)
        return rv;

    *authorization = apr_pstrcat(p, ALGORITHM " Credential=", c->access_key, "/",
                                 scope, ", SignedHeaders=", ch.signed_list,
                                 ", Signature=", sig, NULL);
    if (creq)
        *creq = cr;
    if (sts)
        *sts = st;
    return APR_SUCCESS;
}

/* ---- presigned URLs ---------------------------------------------------- */

typedef struct {
    const char *origin;  /* scheme://authority as given */
    const char *host;    /* the Host value a client sends */
    const char *path;    /* as given, may be "" */
} url_parts;

/* Splits scheme://authority/path.  The Host signed is what an HTTP client
 * sends for that URL: the host lower-cased, the port kept unless it is the
 * scheme's default (botocore's _host_from_url).  Userinfo, a query or a
 * fragment in url are refused: the query belongs in extra_query. */
static apr_status_t split_url(apr_pool_t *p, const char *url, url_parts *u)
{
    const char *sep = url ? strstr(url, "://") : NULL;
    const char *auth, *end, *hend, *port = NULL, *s;
    int defport;
    char *host, *h;

    if (!sep)
        return LENZ_EFORMAT;
    if ((apr_size_t)(sep - url) == 5 && strncasecmp(url, "https", 5) == 0)
        defport = 443;
    else if ((apr_size_t)(sep - url) == 4 && strncasecmp(url, "http", 4) == 0)
        defport = 80;
    else
        return LENZ_EFORMAT;

    auth = sep + 3;
    end = auth + strcspn(auth, "/?#");
    if (end == auth || strpbrk(end, "?#"))
        return LENZ_EFORMAT;
    for (s = auth; s < end; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '@')
            return LENZ_EFORMAT;

    if (*auth == '[') {                       /* IPv6 literal */
        hend = memchr(auth, ']', (apr_size_t)(end - auth));
        if (!hend)
            return LENZ_EFORMAT;
        hend++;
        if (hend < end && *hend != ':')
            return LENZ_EFORMAT;
    }
    else {
        hend = memchr(auth, ':', (apr_size_t)(end - auth));
        if (!hend)
            hend = end;
    }
    if (hend == auth)
        return LENZ_EFORMAT;
    if (hend < end) {
        port = hend + 1;
        if (port == end || (apr_size_t)(end - port) > 5)
            return LENZ_EFORMAT;
        for (s = port; s < end; s++)
            if (*s < '0' || *s > '9')
                return LENZ_EFORMAT;
    }

    host = apr_pstrmemdup(p, auth, (apr_size_t)(hend - auth));
    for (h = host; *h; h++)
        if (*h >= 'A' && *h <= 'Z')
            *h = (char)(*h - 'A' + 'a');
    if (port && atoi(apr_pstrmemdup(p, port, (apr_size_t)(end - port))) != defport)
        host = apr_pstrcat(p, host, ":",
                           apr_pstrmemdup(p, port, (apr_size_t)(end - port)), NULL);

    u->origin = apr_pstrmemdup(p, url, (apr_size_t)(end - url));
    u->host = host;
    u->path = end;
    return APR_SUCCESS;
}

/* Parameters the signer writes itself; a caller passing one would produce a
 * URL S3 reads differently from what was signed. */
static int is_auth_param(const char *encoded_name)
{
    static const char *const names[] = {
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature", NULL
    };
    int i;
    for (i = 0; names[i]; i++)
        if (strcasecmp(encoded_name, names[i]) == 0)
            return 1;
    return 0;
}

static void add_pair(apr_array_header_t *pairs, const char *name, const char *value)
{
    qpair *q = apr_array_push(pairs);
    q->name = name;
    q->value = value;
}

apr_status_t lenz_sigv4_presign(apr_pool_t *p, const lenz_sigv4_creds *c,
                                const char *method, const char *url,
                                const char *extra_query,
                                apr_array_header_t *extra_headers,
                                apr_time_t now, int expires,
                                const char **out_url)
{
    url_parts u;
    canon_headers ch;
    apr_array_header_t *hdrs, *pairs;
    const char *amz_date, *scope, *curi, *payload, *cr, *st, *sig;
    lenz_sigv4_hdr *host;
    apr_status_t rv;
    int i;

    if (!creds_ok(c) || !method || !url || !out_url
        || expires < 1 || expires > LENZ_SIGV4_EXPIRES_MAX)
        return APR_EINVAL;
    if (!is_token(method))
        return LENZ_EFORMAT;
    rv = split_url(p, url, &u);
    if (rv != APR_SUCCESS)
        return rv;

    hdrs = apr_array_make(p, 4, sizeof(lenz_sigv4_hdr));
    host = apr_array_push(hdrs);
    host->name = "host";
    host->value = u.host;
    for (i = 0; extra_headers && i < extra_headers->nelts; i++) {
        const lenz_sigv4_hdr *h = &APR_ARRAY_IDX(extra_headers, i, lenz_sigv4_hdr);
        if (h->name && strcasecmp(h->name, "host") == 0)
            return APR_EINVAL;
        *(lenz_sigv4_hdr *)apr_array_push(hdrs) = *h;
    }
    rv = canonical_headers(p, hdrs, &ch);
    if (rv != APR_SUCCESS)
        return rv;
    /* A presigned request's body is unknown; S3 (and botocore) still take a
     * signed x-amz-content-sha256 as the payload hash when there is one. */
    payload = header_value(&ch, "x-amz-content-sha256");
    if (!payload)
        payload = LENZ_SIGV4_UNSIGNED_PAYLOAD;

    pairs = query_pairs(p, extra_query);
    for (i = 0; i < pairs->nelts; i++)
        if (is_auth_param(APR_ARRAY_IDX(pairs, i, qpair).name))
            return APR_EINVAL;

    amz_date = lenz_sigv4_amz_date(p, now);
    scope = credential_scope(p, c, amz_date);
    add_pair(pairs, "X-Amz-Algorithm", ALGORITHM);
    add_pair(pairs, "X-Amz-Credential",
             lenz_sigv4_uri_encode(p, apr_pstrcat(p, c->access_key, "/", scope, NULL),
                                   strlen(c->access_key) + 1 + strlen(scope), 1));
    add_pair(pairs, "X-Amz-Date", amz_date);
    add_pair(pairs, "X-Amz-Expires", apr_itoa(p, expires));
    add_pair(pairs, "X-Amz-SignedHeaders",
             lenz_sigv4_uri_encode(p, ch.signed_list, strlen(ch.signed_list), 1));
    if (c->session_token)
        add_pair(pairs, "X-Amz-Security-Token",
                 lenz_sigv4_uri_encode(p, c->session_token,
                                       strlen(c->session_token), 1));

    /* The URL carries the canonical path, so what is sent is what was
     * signed even when the caller left a byte unencoded. */
    curi = canonical_uri_raw(p, u.path);
    cr = build_creq(p, method, curi, canonical_query(p, pairs), &ch, payload);
    rv = sign_creq(p, c, amz_date, scope, cr, &st, &sig);
    if (rv != APR_SUCCESS)
        return rv;

    *out_url = apr_pstrcat(p, u.origin, curi, "?", join_pairs(p, pairs),
                           "&X-Amz-Signature=", sig, NULL);
    return APR_SUCCESS;
}
