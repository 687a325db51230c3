/* S3 XML answers: the documented shapes, S3's "200 with an error body",
 * and hostile input (malformed, truncated, wrong root, absurd values). */
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "s3xml.h"
#include "err.h"

#define NS " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

/* s with every from replaced by to. */
static const char *replace_all(apr_pool_t *p, const char *s, const char *from, const char *to)
{
    const char *out = "", *hit;
    while ((hit = strstr(s, from))) {
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, s, (apr_size_t)(hit - s)), to, NULL);
        s = hit + strlen(from);
    }
    return apr_pstrcat(p, out, s, NULL);
}

static apr_status_t parse_err(apr_pool_t *p, const char *x, lenz_s3_error *e)
{
    memset(e, 0, sizeof(*e));
    return lenz_s3xml_error(p, x, strlen(x), e);
}

int main(void)
{
    apr_pool_t *p;
    lenz_s3_error e;
    const char *s, *n1, *n2;
    apr_array_header_t *a;
    const char *x;
    int i;

    apr_initialize();
    apr_pool_create(&p, NULL);

    /* The CompleteMultipartUpload error that arrives with status 200 (AWS
     * documents it: the failure happens after the status line went out). */
    x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Error><Code>InternalError</Code><Message>We encountered an internal error. "
        "Please try again.</Message><RequestId>656c76696e6727732072657175657374</RequestId>"
        "<HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>";
    ok(parse_err(p, x, &e) == APR_SUCCESS, "error body parsed");
    is_str(e.code, "InternalError", "... code");
    ok(e.message && strstr(e.message, "internal error"), "... message");
    is_str(e.request_id, "656c76696e6727732072657175657374", "... request id");
    ok(parse_err(p, "<Error><Message></Message></Error>", &e) == APR_SUCCESS
       && strcmp(e.code, "UnknownError") == 0 && strcmp(e.message, "") == 0,
       "RGW-style empty message, missing code");
    x = "<CompleteMultipartUploadResult" NS "><Location>http://h/b/k</Location><Bucket>b</Bucket>"
        "<Key>k</Key><ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag></CompleteMultipartUploadResult>";
    ok(parse_err(p, x, &e) == APR_NOTFOUND, "a success document is not an error");
    ok(lenz_s3xml_complete(p, x, strlen(x), &s) == APR_SUCCESS, "complete result parsed");
    is_str(s, "\"3858f62230ac3c915f300c664312c11f-9\"", "... ETag");
    x = "<CompleteMultipartUploadResult><ETag></ETag></CompleteMultipartUploadResult>";
    ok(lenz_s3xml_complete(p, x, strlen(x), &s) == APR_SUCCESS && strcmp(s, "") == 0,
       "RGW's empty ETag accepted as empty");

    x = "<InitiateMultipartUploadResult" NS "><Bucket>b</Bucket><Key>k</Key>"
        "<UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>"
        "</InitiateMultipartUploadResult>";
    ok(lenz_s3xml_upload_id(p, x, strlen(x), &s) == APR_SUCCESS
       && strcmp(s, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA") == 0, "UploadId");
    x = "<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>";
    ok(lenz_s3xml_upload_id(p, x, strlen(x), &s) == LENZ_EFORMAT, "empty UploadId refused");

    a = apr_array_make(p, 4, sizeof(lenz_s3_part));
    x = "<ListPartsResult" NS "><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>"
        "<Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag><Size>5242880</Size></Part>"
        "<Part><PartNumber>2</PartNumber><ETag>\"b\"</ETag><Size>10</Size></Part></ListPartsResult>";
    ok(lenz_s3xml_parts(p, x, strlen(x), a, &n1) == APR_SUCCESS && a->nelts == 2, "ListParts");
    is_str(n1, "2", "... next marker when truncated");
    ok(APR_ARRAY_IDX(a, 0, lenz_s3_part).size == 5242880, "... sizes");
    x = "<ListPartsResult><Part><PartNumber>0</PartNumber><ETag>\"a\"</ETag><Size>1</Size></Part></ListPartsResult>";
    ok(lenz_s3xml_parts(p, x, strlen(x), a, &n1) == LENZ_EFORMAT, "part number 0 refused");
    x = "<ListPartsResult><Part><PartNumber>4294967297</PartNumber><ETag>\"a\"</ETag><Size>1</Size></Part></ListPartsResult>";
    ok(lenz_s3xml_parts(p, x, strlen(x), a, &n1) == LENZ_EFORMAT, "part number 2^32+1 refused (not wrapped to 1)");
    x = "<ListPartsResult><Part><PartNumber>1x</PartNumber><ETag>\"a\"</ETag><Size>1</Size></Part></ListPartsResult>";
    ok(lenz_s3xml_parts(p, x, strlen(x), a, &n1) == LENZ_EFORMAT, "part number 1x refused");
    x = "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag><Size>-5</Size></Part></ListPartsResult>";
    ok(lenz_s3xml_parts(p, x, strlen(x), a, &n1) == LENZ_EFORMAT, "negative size refused");
    x = "<ListPartsResult><IsTruncated>true</IsTruncated></ListPartsResult>";
    ok(lenz_s3xml_parts(p, x, strlen(x), a, &n1) == LENZ_EFORMAT, "truncated without a marker refused");

    a = apr_array_make(p, 4, sizeof(lenz_s3_upload));
    x = "<ListMultipartUploadsResult" NS "><IsTruncated>true</IsTruncated><NextKeyMarker>k2</NextKeyMarker>"
        "<NextUploadIdMarker>u2</NextUploadIdMarker><Upload><Key>k1</Key><UploadId>u1</UploadId>"
        "<Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload></ListMultipartUploadsResult>";
    ok(lenz_s3xml_uploads(p, x, strlen(x), a, &n1, &n2) == APR_SUCCESS && a->nelts == 1, "ListMultipartUploads");
    ok(n1 && n2 && strcmp(n1, "k2") == 0 && strcmp(n2, "u2") == 0, "... markers");
    ok(APR_ARRAY_IDX(a, 0, lenz_s3_upload).initiated == apr_time_from_sec(1289422113), "... initiated time");

    a = apr_array_make(p, 4, sizeof(lenz_s3_object));
    x = "<ListBucketResult" NS "><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
        "<Contents><Key>a &amp; b.txt</Key><Size>434234</Size><ETag>\"fba9\"</ETag>"
        "<LastModified>2009-10-12T17:50:30.000Z</LastModified></Contents></ListBucketResult>";
    ok(lenz_s3xml_objects(p, x, strlen(x), a, &n1) == APR_SUCCESS && a->nelts == 1, "ListObjectsV2");
    is_str(APR_ARRAY_IDX(a, 0, lenz_s3_object).key, "a & b.txt", "... entities decoded in keys");
    is_str(n1, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", "... continuation token");

    x = "<CopyObjectResult><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>\"9b\"</ETag></CopyObjectResult>";
    ok(lenz_s3xml_copy(p, x, strlen(x)) == APR_SUCCESS, "CopyObjectResult");

    /* DeleteObjects: the request body, known answer. */
    {
        const char *keys[] = { "files/0b6f", "a&b<c>\"d'e", "tab\there\r\nx", "\xc3\xbc/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87" };
        const char *want =
            "<Delete><Quiet>false</Quiet>"
            "<Object><Key>files/0b6f</Key></Object>"
            "<Object><Key>a&amp;b&lt;c&gt;&quot;d&apos;e</Key></Object>"
            "<Object><Key>tab&#9;here&#13;&#10;x</Key></Object>"
            "<Object><Key>\xc3\xbc/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87</Key></Object>"
            "</Delete>";
        const char *body;
        apr_size_t blen = 0;
        int bad = -1;
        char *res;
        apr_array_header_t *back = apr_array_make(p, 4, sizeof(lenz_s3_deleted));

        body = lenz_s3xml_delete_body(p, keys, 4, &blen, &bad);
        is_str(body, want, "DeleteObjects body: keys escaped, TAB/CR/LF as references, UTF-8 as is");
        ok(body && blen == strlen(want), "... its length");
        /* The same keys come back out of an XML parser unchanged (a raw
         * CR would have become LF): the body turned into a DeleteResult. */
        res = apr_pstrdup(p, body ? body : "");
        res = (char *)replace_all(p, res, "<Delete><Quiet>false</Quiet>", "<DeleteResult>");
        res = (char *)replace_all(p, res, "</Delete>", "</DeleteResult>");
        res = (char *)replace_all(p, res, "Object>", "Deleted>");
        ok(lenz_s3xml_deleted(p, res, strlen(res), back) == APR_SUCCESS && back->nelts == 4,
           "... parsed back as a DeleteResult");
        for (i = 0; i < back->nelts && i < 4; i++)
            is_str(APR_ARRAY_IDX(back, i, lenz_s3_deleted).key, keys[i], "... key %d read back unchanged", i + 1);

        keys[2] = "ctl\x01";
        ok(lenz_s3xml_delete_body(p, keys, 4, &blen, &bad) == NULL && bad == 2,
           "a key with a control character XML cannot carry: refused, its index given");
        ok(!lenz_s3xml_key_ok("") && !lenz_s3xml_key_ok(NULL), "... an empty key");
        ok(!lenz_s3xml_key_ok("bad\xc3(") && !lenz_s3xml_key_ok("cut\xe2\x82")
           && !lenz_s3xml_key_ok("over\xc0\xaf") && !lenz_s3xml_key_ok("sur\xed\xa0\x80"),
           "... invalid UTF-8 (bad continuation, cut short, overlong, surrogate)");
        ok(!lenz_s3xml_key_ok("nc\xef\xbf\xbe") && !lenz_s3xml_key_ok("del\x1f"),
           "... U+FFFE and U+001F");
        ok(lenz_s3xml_key_ok("ok\x7f\xef\xbf\xbd\xf0\x9f\x98\x80\t"),
           "DEL, U+FFFD, an emoji and TAB are fine");
    }

    /* DeleteResult: AWS's documented answer (a deletion, a delete marker,
     * an error), then the edges (RGW 16 reports a key that never existed
     * as Deleted, not NoSuchKey: unit/stack_s3). */
    {
        apr_array_header_t *r = apr_array_make(p, 4, sizeof(lenz_s3_deleted));
        const lenz_s3_deleted *d;
        x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult" NS ">"
            "<Deleted><Key>sample1.txt</Key></Deleted>"
            "<Deleted><Key>sample3.txt</Key><DeleteMarker>true</DeleteMarker>"
            "<DeleteMarkerVersionId>A._w1z6EFiCF5uhtQMDal9JDkID9tQ7F</DeleteMarkerVersionId></Deleted>"
            "<Error><Key>sample2.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            "</DeleteResult>";
        ok(lenz_s3xml_deleted(p, x, strlen(x), r) == APR_SUCCESS && r->nelts == 3, "DeleteResult parsed: 3 keys");
        d = (const lenz_s3_deleted *)r->elts;
        ok(r->nelts == 3 && !strcmp(d[0].key, "sample1.txt") && !d[0].code
           && !strcmp(d[1].key, "sample3.txt") && !d[1].code, "... two deleted (one as a delete marker)");
        ok(r->nelts == 3 && !strcmp(d[2].key, "sample2.txt") && d[2].code && !strcmp(d[2].code, "AccessDenied")
           && !strcmp(d[2].message, "Access Denied"), "... one refused: its code and message");
        apr_array_clear(r);
        x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeleteResult" NS "><Deleted><Key>files/gone</Key></Deleted>"
            "<Error><Key>a &amp; b</Key><Code></Code></Error></DeleteResult>";
        ok(lenz_s3xml_deleted(p, x, strlen(x), r) == APR_SUCCESS && r->nelts == 2
           && !strcmp(APR_ARRAY_IDX(r, 1, lenz_s3_deleted).key, "a & b")
           && !strcmp(APR_ARRAY_IDX(r, 1, lenz_s3_deleted).code, "UnknownError")
           && !strcmp(APR_ARRAY_IDX(r, 1, lenz_s3_deleted).message, ""),
           "an error without code or message: UnknownError, \"\"; entities decoded in keys");
        apr_array_clear(r);
        x = "<DeleteResult" NS "/>";
        ok(lenz_s3xml_deleted(p, x, strlen(x), r) == APR_SUCCESS && r->nelts == 0, "an empty DeleteResult (Quiet)");
        x = "<DeleteResult><Deleted><VersionId>v</VersionId></Deleted></DeleteResult>";
        ok(lenz_s3xml_deleted(p, x, strlen(x), r) == LENZ_EFORMAT, "an entry without a key refused");
        x = "<DeleteResult><Error><Key></Key><Code>InternalError</Code></Error></DeleteResult>";
        ok(lenz_s3xml_deleted(p, x, strlen(x), r) == LENZ_EFORMAT, "an entry with an empty key refused");
        x = "<Error><Code>MalformedXML</Code></Error>";
        ok(lenz_s3xml_deleted(p, x, strlen(x), r) == LENZ_EFORMAT, "an Error document is not a DeleteResult");
        ok(lenz_s3xml_deleted(p, "<DeleteResult><Deleted><Key>k", 29, r) == LENZ_EFORMAT, "truncated refused");
    }

    /* Hostile input. */
    ok(parse_err(p, "<Error><Code>x</Code>", &e) == LENZ_EFORMAT, "truncated XML refused");
    ok(parse_err(p, "not xml at all", &e) == LENZ_EFORMAT, "garbage refused");
    ok(lenz_s3xml_error(p, "", 0, &e) == LENZ_EFORMAT, "empty body refused");
    ok(lenz_s3xml_error(p, NULL, 0, &e) == LENZ_EFORMAT, "no body refused");
    x = "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>";
    ok(lenz_s3xml_objects(p, x, strlen(x), a, &n1) == LENZ_EFORMAT, "object without a key refused");
    x = "<Wrong/>";
    ok(lenz_s3xml_upload_id(p, x, strlen(x), &s) == LENZ_EFORMAT, "wrong root refused");
    x = "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><Error><Code>&c;</Code></Error>";
    {
        apr_status_t rv = parse_err(p, x, &e);
        ok(rv == LENZ_EFORMAT || (rv == APR_SUCCESS && strlen(e.code) <= 1000),
           "internal entities do not blow up (expat refuses or bounds them)");
    }
    ok(lenz_s3xml_time("2010-11-10T20:48:33.000Z") == apr_time_from_sec(1289422113), "ISO 8601 time");
    ok(lenz_s3xml_time("yesterday") == 0, "bad time gives 0");

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
