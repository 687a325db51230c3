/* s3xml.c - S3 XML answers through apr_xml. */
#include <string.h>
#include <stdlib.h>
#include <apr_xml.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_time.h>
#include <sys/uio.h>

#include "s3xml.h"
#include "codec.h"
#include "err.h"

#define MAX_XML (4 * 1024 * 1024)

static apr_xml_elem *parse(apr_pool_t *p, const char *xml, apr_size_t len)
{
    apr_xml_parser *ps;
    apr_xml_doc *doc = NULL;
    if (!xml || len == 0 || len > MAX_XML)
        return NULL;
    ps = apr_xml_parser_create(p);
    if (!ps)
        return NULL;
    if (apr_xml_parser_feed(ps, xml, len) != APR_SUCCESS)
        return NULL;
    if (apr_xml_parser_done(ps, &doc) != APR_SUCCESS || !doc)
        return NULL;
    return doc->root;
}

static const char *text_of(apr_pool_t *p, const apr_xml_elem *e)
{
    const apr_text *t;
    const char *out = "";
    if (!e)
        return NULL;
    for (t = e->first_cdata.first; t; t = t->next)
        out = apr_pstrcat(p, out, t->text, NULL);
    return out;
}

static apr_xml_elem *child(const apr_xml_elem *e, const char *name)
{
    apr_xml_elem *c;
    for (c = e ? e->first_child : NULL; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static const char *child_text(apr_pool_t *p, const apr_xml_elem *e, const char *name)
{
    return text_of(p, child(e, name));
}

static int is_true(const char *s)
{
    return s && strcmp(s, "true") == 0;
}

static apr_off_t to_off(const char *s)
{
    char *end;
    apr_int64_t v;
    if (!s || !*s)
        return -1;
    v = apr_strtoi64(s, &end, 10);
    return (*end || v < 0) ? -1 : (apr_off_t)v;
}

apr_time_t lenz_s3xml_time(const char *s)
{
    apr_time_exp_t tm;
    apr_time_t t;
    int y, mo, d, h, mi, se;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6)
        return 0;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    if (apr_time_exp_gmt_get(&t, &tm) != APR_SUCCESS)
        return 0;
    return t;
}

apr_status_t lenz_s3xml_error(apr_pool_t *p, const char *xml, apr_size_t len,
                              lenz_s3_error *err)
{
    apr_xml_elem *root = parse(p, xml, len);
    if (!root)
        return LENZ_EFORMAT;
    if (strcmp(root->name, "Error") != 0)
        return APR_NOTFOUND;
    err->code = child_text(p, root, "Code");
    err->message = child_text(p, root, "Message");
    err->request_id = child_text(p, root, "RequestId");
    if (!err->code || !*err->code)
        err->code = "UnknownError";
    if (!err->message)
        err->message = "";
    return APR_SUCCESS;
}

apr_status_t lenz_s3xml_upload_id(apr_pool_t *p, const char *xml, apr_size_t len,
                                  const char **upload_id)
{
    apr_xml_elem *root = parse(p, xml, len);
    const char *id;
    if (!root || strcmp(root->name, "InitiateMultipartUploadResult") != 0)
        return LENZ_EFORMAT;
    id = child_text(p, root, "UploadId");
    if (!id || !*id)
        return LENZ_EFORMAT;
    *upload_id = id;
    return APR_SUCCESS;
}

apr_status_t lenz_s3xml_complete(apr_pool_t *p, const char *xml, apr_size_t len,
                                 const char **etag)
{
    apr_xml_elem *root = parse(p, xml, len);
    if (!root || strcmp(root->name, "CompleteMultipartUploadResult") != 0)
        return LENZ_EFORMAT;
    *etag = child_text(p, root, "ETag");
    if (!*etag)
        *etag = "";
    return APR_SUCCESS;
}

apr_status_t lenz_s3xml_parts(apr_pool_t *p, const char *xml, apr_size_t len,
                              apr_array_header_t *parts, const char **next_marker)
{
    apr_xml_elem *root = parse(p, xml, len), *e;
    *next_marker = NULL;
    if (!root || strcmp(root->name, "ListPartsResult") != 0)
        return LENZ_EFORMAT;
    for (e = root->first_child; e; e = e->next) {
        lenz_s3_part *pt;
        const char *num;
        if (strcmp(e->name, "Part") != 0)
            continue;
        num = child_text(p, e, "PartNumber");
        pt = apr_array_push(parts);
        {
            apr_off_t v = to_off(num);   /* strict digits: "1x" or 2^32+1 are not 1 */
            pt->number = v >= 1 && v <= 10000 ? (int)v : 0;
        }
        pt->etag = child_text(p, e, "ETag");
        pt->size = to_off(child_text(p, e, "Size"));
        if (pt->number < 1 || pt->number > 10000 || !pt->etag || pt->size < 0)
            return LENZ_EFORMAT;
    }
    if (is_true(child_text(p, root, "IsTruncated"))) {
        *next_marker = child_text(p, root, "NextPartNumberMarker");
        if (!*next_marker || !**next_marker)
            return LENZ_EFORMAT;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_s3xml_uploads(apr_pool_t *p, const char *xml, apr_size_t len,
                                apr_array_header_t *uploads, const char **next_key,
                                const char **next_upload)
{
    apr_xml_elem *root = parse(p, xml, len), *e;
    *next_key = *next_upload = NULL;
    if (!root || strcmp(root->name, "ListMultipartUploadsResult") != 0)
        return LENZ_EFORMAT;
    for (e = root->first_child; e; e = e->next) {
        lenz_s3_upload *u;
        if (strcmp(e->name, "Upload") != 0)
            continue;
        u = apr_array_push(uploads);
        u->key = child_text(p, e, "Key");
        u->upload_id = child_text(p, e, "UploadId");
        u->initiated = lenz_s3xml_time(child_text(p, e, "Initiated"));
        if (!u->key || !u->upload_id)
            return LENZ_EFORMAT;
    }
    if (is_true(child_text(p, root, "IsTruncated"))) {
        *next_key = child_text(p, root, "NextKeyMarker");
        *next_upload = child_text(p, root, "NextUploadIdMarker");
        if (!*next_key)
            return LENZ_EFORMAT;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_s3xml_objects(apr_pool_t *p, const char *xml, apr_size_t len,
                                apr_array_header_t *objects, const char **next_token)
{
    apr_xml_elem *root = parse(p, xml, len), *e;
    *next_token = NULL;
    if (!root || strcmp(root->name, "ListBucketResult") != 0)
        return LENZ_EFORMAT;
    for (e = root->first_child; e; e = e->next) {
        lenz_s3_object *o;
        if (strcmp(e->name, "Contents") != 0)
            continue;
        o = apr_array_push(objects);
        memset(o, 0, sizeof(*o));
        o->key = child_text(p, e, "Key");
        o->size = to_off(child_text(p, e, "Size"));
        o->total_size = o->size;
        o->etag = child_text(p, e, "ETag");
        o->last_modified = lenz_s3xml_time(child_text(p, e, "LastModified"));
        if (!o->key || o->size < 0)
            return LENZ_EFORMAT;
    }
    if (is_true(child_text(p, root, "IsTruncated"))) {
        *next_token = child_text(p, root, "NextContinuationToken");
        if (!*next_token || !**next_token)
            return LENZ_EFORMAT;
    }
    return APR_SUCCESS;
}

apr_status_t lenz_s3xml_copy(apr_pool_t *p, const char *xml, apr_size_t len)
{
    apr_xml_elem *root = parse(p, xml, len);
    if (!root || strcmp(root->name, "CopyObjectResult") != 0)
        return LENZ_EFORMAT;
    return APR_SUCCESS;
}

apr_status_t lenz_s3xml_deleted(apr_pool_t *p, const char *xml, apr_size_t len,
                                apr_array_header_t *results)
{
    apr_xml_elem *root = parse(p, xml, len), *e;
    if (!root || strcmp(root->name, "DeleteResult") != 0)
        return LENZ_EFORMAT;
    for (e = root->first_child; e; e = e->next) {
        lenz_s3_deleted *d;
        int failed = strcmp(e->name, "Error") == 0;
        if (!failed && strcmp(e->name, "Deleted") != 0)
            continue;
        d = apr_array_push(results);
        d->key = child_text(p, e, "Key");
        d->code = NULL;
        d->message = "";
        if (!d->key || !*d->key)
            return LENZ_EFORMAT;
        if (failed) {
            d->code = child_text(p, e, "Code");
            d->message = child_text(p, e, "Message");
            if (!d->code || !*d->code)
                d->code = "UnknownError";
            if (!d->message)
                d->message = "";
        }
    }
    return APR_SUCCESS;
}

/* The length of the UTF-8 sequence s starts with when XML 1.0 can carry
 * it, else 0. */
static apr_size_t xml_char_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' ? 1 : 0;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80
            || (s[0] == 0xe0 && s[1] < 0xa0)                    /* overlong */
            || (s[0] == 0xed && s[1] >= 0xa0)                   /* surrogates */
            || (s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe))  /* U+FFFE, U+FFFF */
            return 0;
        return 3;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80
            || (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

int lenz_s3xml_key_ok(const char *key)
{
    const unsigned char *s;
    apr_size_t n;
    if (!key || !*key)
        return 0;
    for (s = (const unsigned char *)key; *s; s += n)
        if (!(n = xml_char_len(s)))
            return 0;
    return 1;
}

const char *lenz_s3xml_delete_body(apr_pool_t *p, const char *const *keys, int nkeys,
                                   apr_size_t *len, int *bad)
{
    struct iovec *iov = apr_palloc(p, sizeof(struct iovec) * ((apr_size_t)nkeys * 3 + 2));
    apr_size_t n = 0;
    int i;

    iov[n].iov_base = (void *)"<Delete><Quiet>false</Quiet>";
    iov[n++].iov_len = 28;
    for (i = 0; i < nkeys; i++) {
        if (!lenz_s3xml_key_ok(keys[i])) {
            *bad = i;
            return NULL;
        }
        iov[n].iov_base = (void *)"<Object><Key>";
        iov[n++].iov_len = 13;
        iov[n].iov_base = (void *)lenz_xml_escape(p, keys[i]);
        iov[n].iov_len = strlen(iov[n].iov_base);
        n++;
        iov[n].iov_base = (void *)"</Key></Object>";
        iov[n++].iov_len = 15;
    }
    iov[n].iov_base = (void *)"</Delete>";
    iov[n++].iov_len = 9;
    return apr_pstrcatv(p, iov, n, len);
}
