/* The S3 client against the test stack's real Ceph RGW: every operation,
 * streaming both ways, error mapping, presigned URLs.  Needs the stack
 * (make test exports LENZ_S3_* from var/test/stack.env). */
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include "tap.h"
#include "s3.h"
#include "s3_int.h"
#include "s3xml.h"
#include "http.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"

#define MiB (1024 * 1024)

static apr_pool_t *pool;
static lenz_http *http;

/* A reader that produces len bytes of a position-dependent pattern, so
 * no body is ever held in memory. */
typedef struct { apr_off_t pos, len; lenz_sha256_ctx *sha; } gen;

static unsigned char pat(apr_off_t i) { return (unsigned char)((i * 131 + (i >> 13)) & 0xff); }

static apr_ssize_t gen_read(void *baton, char *buf, apr_size_t n)
{
    gen *g = baton;
    apr_size_t i;
    if (g->pos >= g->len)
        return 0;
    if ((apr_off_t)n > g->len - g->pos)
        n = (apr_size_t)(g->len - g->pos);
    for (i = 0; i < n; i++)
        buf[i] = (char)pat(g->pos + i);
    if (g->sha)
        lenz_sha256_update(g->sha, buf, n);
    g->pos += n;
    return (apr_ssize_t)n;
}

typedef struct { apr_off_t got; lenz_sha256_ctx *sha; apr_off_t fail_after; apr_off_t start; int bad; } sink;

/* A writer that, on its first call, makes another S3 call on the same
 * thread and lenz_http: the thread's kept curl handle is in use by the
 * outer transfer, so the inner one must get a handle of its own. */
typedef struct {
    sink sk;
    lenz_s3 *s3;
    const char *key;
    int inner_done;
    apr_status_t inner_rv;
    apr_off_t inner_size;
} nested;

static apr_status_t sink_write(void *baton, const char *buf, apr_size_t len);

static apr_status_t nested_write(void *baton, const char *buf, apr_size_t len)
{
    nested *n = baton;
    if (!n->inner_done) {
        lenz_s3_object info;
        lenz_s3_error err;
        n->inner_done = 1;
        n->inner_rv = lenz_s3_head_object(n->s3, http, pool, n->key, &info, &err);
        n->inner_size = info.size;
    }
    return sink_write(&n->sk, buf, len);
}

static apr_status_t sink_write(void *baton, const char *buf, apr_size_t len)
{
    sink *s = baton;
    apr_size_t i;
    for (i = 0; i < len; i++)
        if ((unsigned char)buf[i] != pat(s->start + s->got + i))
            s->bad = 1;
    s->got += len;
    if (s->sha)
        lenz_sha256_update(s->sha, buf, len);
    if (s->fail_after && s->got >= s->fail_after)
        return APR_ECONNABORTED;
    return APR_SUCCESS;
}

/* A measured behaviour: shown with the test's output and kept in
 * t/logs/figures.txt, which make test prints at the end. */
static void figure(const char *fmt, ...)
{
    const char *top = getenv("LENZ_TOP");
    char line[512];
    va_list ap;
    FILE *f;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    diag("%s", line);
    if (top && (f = fopen(apr_pstrcat(pool, top, "/t/logs/figures.txt", NULL), "a"))) {
        fprintf(f, "unit/stack_s3: %s\n", line);
        fclose(f);
    }
}

/* A small object, PUT through a presigned URL; 1 on success. */
static int put_small(lenz_s3 *s3, const char *key, const char *body)
{
    lenz_http_req hr;
    lenz_http_resp resp;
    const char *url;
    if (lenz_s3_presign(s3, pool, "PUT", key, NULL, 300, apr_time_now(), &url) != APR_SUCCESS)
        return 0;
    memset(&hr, 0, sizeof(hr));
    hr.method = "PUT";
    hr.url = url;
    hr.body = body;
    hr.body_len = strlen(body);
    hr.reader_len = -1;
    return lenz_http_perform(http, pool, &hr, &resp) == APR_SUCCESS && resp.status == 200;
}

/* A bucket request through the client's signed call: method, query and
 * body (JSON or XML), with content_md5 when not NULL; the HTTP status S3
 * answered, and its error code in *code. */
static long raw_call(lenz_s3 *s3, const char *method, const char *query, const char *body,
                     const char *content_md5, const char **code)
{
    s3call c = { 0 };
    lenz_http_resp resp;
    lenz_s3_error err;
    c.op = "Raw";
    c.method = method;
    c.query = query;
    c.body = body;
    c.body_len = body ? strlen(body) : 0;
    c.hdrs = apr_array_make(pool, 2, sizeof(lenz_sigv4_hdr));
    if (body)
        lenz_s3_add_hdr(pool, c.hdrs, "content-type", *body == '{' ? "application/json" : "application/xml");
    if (content_md5)
        lenz_s3_add_hdr(pool, c.hdrs, "content-md5", content_md5);
    memset(&resp, 0, sizeof(resp));
    memset(&err, 0, sizeof(err));
    lenz_s3_call(s3, http, pool, &c, &resp, &err);
    *code = err.code ? err.code : "-";
    return resp.status;
}

/* The DeleteObjects body lenz_s3_delete_objects sends for keys. */
static const char *delete_body(const char *const *keys, int n)
{
    apr_size_t len;
    int bad;
    return lenz_s3xml_delete_body(pool, keys, n, &len, &bad);
}

static const char *env(const char *k)
{
    const char *v = getenv(k);
    return v ? v : "";
}

static char *read_secret(const char *path)
{
    size_t n;
    char *s = slurp(path, &n), *copy;
    if (!s)
        return NULL;
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    copy = apr_pstrmemdup(pool, s, n);
    free(s);
    return copy;
}

int main(void)
{
    lenz_s3_conf conf;
    lenz_s3 *s3, *bad;
    lenz_s3_error err;
    const char *why = NULL, *upload_id, *etag1, *etag2, *etag, *url;
    const char *prefix, *key, *key2;
    apr_array_header_t *parts, *uploads;
    lenz_s3_part pl[2];
    lenz_s3_object info;
    lenz_s3_list list;
    apr_table_t *meta;
    gen g;
    sink sk;
    unsigned char want[32], got[32];
    apr_status_t rv;
    int i, found;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    lenz_http_global_init();
    http = lenz_http_make(pool);

    memset(&conf, 0, sizeof(conf));
    conf.endpoint = env("LENZ_S3_ENDPOINT");
    conf.bucket = env("LENZ_S3_BUCKET");
    conf.region = env("LENZ_S3_REGION");
    conf.access_key = env("LENZ_S3_ACCESS_KEY");
    conf.secret_key = read_secret(env("LENZ_S3_SECRET_FILE"));
    conf.path_style = 1;
    conf.connect_timeout_ms = 3000;
    conf.op_timeout_ms = 30000;
    conf.stall_seconds = 10;
    if (!ok(*conf.endpoint && conf.secret_key, "stack settings present (run through make test)"))
        return done_testing();
    ok(lenz_s3_make(pool, &conf, &s3, &why) == APR_SUCCESS, "client made");

    ok(lenz_s3_head_bucket(s3, http, pool, &err) == APR_SUCCESS, "HeadBucket");

    prefix = apr_psprintf(pool, "unit-%" APR_TIME_T_FMT "/", apr_time_now());
    key = apr_pstrcat(pool, prefix, "dir with space/\xc3\xbcnicode+plus~=.bin", NULL);
    key2 = apr_pstrcat(pool, prefix, "copy.bin", NULL);

    /* Multipart: 5 MiB + 1000 bytes, streamed from a generator. */
    meta = apr_table_make(pool, 2);
    apr_table_set(meta, "lenz-file", "f-1");
    rv = lenz_s3_create_multipart(s3, http, pool, key, "application/x-lenz", meta, &upload_id, &err);
    ok(rv == APR_SUCCESS && upload_id && *upload_id, "CreateMultipartUpload (key with space, UTF-8, +, ~, =)");

    memset(&g, 0, sizeof(g));
    g.len = 5 * MiB;
    rv = lenz_s3_upload_part(s3, http, pool, key, upload_id, 1, g.len, gen_read, &g, NULL, &etag1, &err);
    ok(rv == APR_SUCCESS && etag1 && etag1[0] == '"', "UploadPart 1 (5 MiB streamed, UNSIGNED-PAYLOAD): %s %s",
       err.code ? err.code : "", err.message ? err.message : "");
    {
        /* Part 2 signed with its real payload hash: hash a first pass. */
        gen h = { 5 * MiB, 5 * MiB + 1000, lenz_sha256_make(pool) };
        char buf[1000];
        gen_read(&h, buf, sizeof(buf));
        lenz_sha256_final(h.sha, want);
        memset(&g, 0, sizeof(g));
        g.pos = 5 * MiB;
        g.len = 5 * MiB + 1000;
        rv = lenz_s3_upload_part(s3, http, pool, key, upload_id, 2, 1000, gen_read, &g,
                                 lenz_hex(pool, want, 32), &etag2, &err);
        ok(rv == APR_SUCCESS && etag2, "UploadPart 2 (signed payload hash)");
    }

    rv = lenz_s3_list_parts(s3, http, pool, key, upload_id, &parts, &err);
    ok(rv == APR_SUCCESS && parts->nelts == 2, "ListParts: 2 parts");
    if (parts->nelts == 2) {
        lenz_s3_part *pp = (lenz_s3_part *)parts->elts;
        ok(pp[0].number == 1 && pp[0].size == 5 * MiB && strcmp(pp[0].etag, etag1) == 0,
           "... part 1 number, size and ETag");
        ok(pp[1].number == 2 && pp[1].size == 1000 && strcmp(pp[1].etag, etag2) == 0,
           "... part 2 number, size and ETag");
    }
    else {
        ok(0, "... part 1");
        ok(0, "... part 2");
    }

    rv = lenz_s3_list_multipart_uploads(s3, http, pool, prefix, &uploads, &err);
    found = 0;
    for (i = 0; rv == APR_SUCCESS && i < uploads->nelts; i++) {
        lenz_s3_upload *u = &APR_ARRAY_IDX(uploads, i, lenz_s3_upload);
        if (strcmp(u->upload_id, upload_id) == 0 && strcmp(u->key, key) == 0 && u->initiated > 0)
            found = 1;
    }
    ok(found, "ListMultipartUploads finds it (key, id, initiated)");

    /* Completing with a wrong ETag is refused by S3. */
    pl[0].number = 1; pl[0].etag = "\"00000000000000000000000000000000\""; pl[0].size = 0;
    pl[1].number = 2; pl[1].etag = etag2; pl[1].size = 0;
    rv = lenz_s3_complete_multipart(s3, http, pool, key, upload_id, pl, 2, &etag, &err);
    ok(rv == LENZ_EUPSTREAM && err.code && strcmp(err.code, "InvalidPart") == 0,
       "Complete with a wrong ETag: InvalidPart (%s)", err.code ? err.code : "-");
    pl[0].etag = "\"x<y\"";
    ok(lenz_s3_complete_multipart(s3, http, pool, key, upload_id, pl, 2, &etag, &err) == APR_EINVAL,
       "an ETag with markup is refused before sending");
    pl[0].etag = etag1;
    rv = lenz_s3_complete_multipart(s3, http, pool, key, upload_id, pl, 2, &etag, &err);
    ok(rv == APR_SUCCESS, "CompleteMultipartUpload");

    rv = lenz_s3_head_object(s3, http, pool, key, &info, &err);
    ok(rv == APR_SUCCESS && info.size == 5 * MiB + 1000, "HeadObject size");
    is_str(info.content_type, "application/x-lenz", "... content type");
    is_str(apr_table_get(info.meta, "lenz-file"), "f-1", "... user metadata");
    ok(info.etag && strstr(info.etag, "-2\""), "... multipart ETag (%s)", info.etag ? info.etag : "");

    /* Whole GET, streamed and checked byte by byte. */
    memset(&sk, 0, sizeof(sk));
    rv = lenz_s3_get_object(s3, http, pool, key, 0, -1, sink_write, &sk, &info, &err);
    ok(rv == APR_SUCCESS && sk.got == 5 * MiB + 1000 && !sk.bad, "GetObject streams every byte back");

    /* Ranged GET. */
    memset(&sk, 0, sizeof(sk));
    sk.start = 5 * MiB - 50;
    rv = lenz_s3_get_object(s3, http, pool, key, 5 * MiB - 50, 5 * MiB + 49, sink_write, &sk, &info, &err);
    ok(rv == APR_SUCCESS && sk.got == 100 && !sk.bad, "ranged GetObject across the part boundary");
    ok(info.total_size == 5 * MiB + 1000, "... Content-Range total size");
    memset(&sk, 0, sizeof(sk));
    rv = lenz_s3_get_object(s3, http, pool, key, 10 * MiB, -1, sink_write, &sk, &info, &err);
    ok(rv == LENZ_EUPSTREAM && err.http_status == 416 && sk.got == 0,
       "unsatisfiable range: 416, nothing written (%s)", err.code ? err.code : "-");

    /* A writer that gives up aborts the transfer with its own error. */
    memset(&sk, 0, sizeof(sk));
    sk.fail_after = 64 * 1024;
    rv = lenz_s3_get_object(s3, http, pool, key, 0, -1, sink_write, &sk, &info, &err);
    ok(rv == APR_ECONNABORTED && sk.got < 5 * MiB, "a failing writer stops the download");

    /* A call made from inside another's writer, on the same thread. */
    {
        nested n;
        memset(&n, 0, sizeof(n));
        n.s3 = s3;
        n.key = key;
        rv = lenz_s3_get_object(s3, http, pool, key, 0, -1, nested_write, &n, &info, &err);
        ok(rv == APR_SUCCESS && n.sk.got == 5 * MiB + 1000 && !n.sk.bad,
           "GetObject whose writer makes another S3 call: every byte arrives");
        ok(n.inner_done && n.inner_rv == APR_SUCCESS && n.inner_size == 5 * MiB + 1000,
           "... and the inner HeadObject, on a handle of its own, succeeds");
        rv = lenz_s3_head_object(s3, http, pool, key, &info, &err);
        ok(rv == APR_SUCCESS && info.size == 5 * MiB + 1000, "... and the thread's handle works after both");
    }

    /* CopyObject with metadata REPLACE. */
    apr_table_set(meta, "lenz-file", "f-2");
    rv = lenz_s3_copy_object(s3, http, pool, key, key2, "application/octet-stream", meta, &err);
    ok(rv == APR_SUCCESS, "CopyObject");
    rv = lenz_s3_head_object(s3, http, pool, key2, &info, &err);
    ok(rv == APR_SUCCESS && info.size == 5 * MiB + 1000, "... copy has the size");
    is_str(apr_table_get(info.meta, "lenz-file"), "f-2", "... and the replaced metadata");
    is_str(info.content_type, "application/octet-stream", "... and the replaced content type");

    /* ListObjectsV2, one key per page. */
    rv = lenz_s3_list_objects(s3, http, pool, prefix, NULL, 1, &list, &err);
    ok(rv == APR_SUCCESS && list.objects->nelts == 1 && list.next_token, "ListObjectsV2 page 1 of 2");
    found = list.objects->nelts;
    if (list.next_token) {
        rv = lenz_s3_list_objects(s3, http, pool, prefix, list.next_token, 1, &list, &err);
        ok(rv == APR_SUCCESS && list.objects->nelts == 1 && !list.next_token, "... page 2, the last");
        found += list.objects->nelts;
    }
    else {
        ok(0, "... page 2");
    }
    is_int(found, 2, "... both keys listed");

    /* Presigned URLs: usable without credentials, refused when tampered. */
    {
        const char *pkey = apr_pstrcat(pool, prefix, "presigned.txt", NULL);
        lenz_http_req hr;
        lenz_http_resp resp;
        rv = lenz_s3_presign(s3, pool, "PUT", pkey, NULL, 300, apr_time_now(), &url);
        ok(rv == APR_SUCCESS && strstr(url, "X-Amz-Signature="), "presigned PUT URL");
        memset(&hr, 0, sizeof(hr));
        hr.method = "PUT";
        hr.url = url;
        hr.body = "hello presigned";
        hr.body_len = 15;
        hr.reader_len = -1;
        rv = lenz_http_perform(http, pool, &hr, &resp);
        ok(rv == APR_SUCCESS && resp.status == 200, "... a PUT through it succeeds (%ld)", resp.status);
        rv = lenz_s3_presign(s3, pool, "GET", pkey, NULL, 300, apr_time_now(), &url);
        memset(&hr, 0, sizeof(hr));
        hr.method = "GET";
        hr.url = url;
        hr.reader_len = -1;
        rv = lenz_http_perform(http, pool, &hr, &resp);
        ok(rv == APR_SUCCESS && resp.status == 200 && resp.body_len == 15
           && memcmp(resp.body, "hello presigned", 15) == 0, "... a presigned GET reads it back");
        hr.url = apr_pstrcat(pool, url, "0", NULL);   /* alter the signature */
        rv = lenz_http_perform(http, pool, &hr, &resp);
        ok(rv == APR_SUCCESS && resp.status == 403, "... a tampered URL is refused (%ld)", resp.status);
        ok(lenz_s3_presign(s3, pool, "GET", pkey, NULL, 0, apr_time_now(), &url) != APR_SUCCESS,
           "... expiry 0 refused");
        lenz_s3_delete_object(s3, http, pool, pkey, &err);
    }

    /* Delete, then NoSuchKey maps to ENOTFOUND. */
    ok(lenz_s3_delete_object(s3, http, pool, key, &err) == APR_SUCCESS, "DeleteObject");
    ok(lenz_s3_delete_object(s3, http, pool, key2, &err) == APR_SUCCESS, "DeleteObject (copy)");
    memset(&sk, 0, sizeof(sk));
    rv = lenz_s3_get_object(s3, http, pool, key, 0, -1, sink_write, &sk, &info, &err);
    ok(rv == LENZ_ENOTFOUND && strcmp(err.code, "NoSuchKey") == 0 && sk.got == 0,
       "GetObject of a deleted key: NoSuchKey, nothing written");
    rv = lenz_s3_head_object(s3, http, pool, key, &info, &err);
    ok(rv == LENZ_ENOTFOUND, "HeadObject of a deleted key: not found");

    /* DeleteObjects: three objects that exist (one key with XML's special
     * characters, one with a space and UTF-8) and one that never did. */
    {
        const char *dk[5];
        apr_array_header_t *res;
        int gone = 0, absent_reported = 0, i2;
        const char *absent_code = "not named", *code;
        long st;

        dk[0] = apr_pstrcat(pool, prefix, "del/one.bin", NULL);
        dk[1] = apr_pstrcat(pool, prefix, "del/a&b <c> \"d\" 'e'.bin", NULL);
        dk[2] = apr_pstrcat(pool, prefix, "del/\xc3\xbc" "ber \xe2\x82\xac.bin", NULL);
        dk[3] = apr_pstrcat(pool, prefix, "del/never-was.bin", NULL);
        ok(put_small(s3, dk[0], "1") && put_small(s3, dk[1], "2") && put_small(s3, dk[2], "3"),
           "three objects to delete");
        rv = lenz_s3_delete_objects(s3, http, pool, dk, 4, &res, &err);
        ok(rv == APR_SUCCESS, "DeleteObjects of four keys (%s %s)", err.code ? err.code : "",
           err.message ? err.message : "");
        for (i = 0; rv == APR_SUCCESS && i < res->nelts; i++) {
            const lenz_s3_deleted *d = &APR_ARRAY_IDX(res, i, lenz_s3_deleted);
            for (i2 = 0; i2 < 3; i2++)
                if (!strcmp(d->key, dk[i2]) && !d->code)
                    gone++;
            if (!strcmp(d->key, dk[3])) {
                absent_reported = 1;
                absent_code = d->code ? d->code : "Deleted";
            }
        }
        is_int(gone, 3, "... the three that existed are reported deleted");
        ok(absent_reported && (!strcmp(absent_code, "Deleted") || !strcmp(absent_code, "NoSuchKey")),
           "... the one that never existed is reported gone too: %s", absent_code);
        figure("RGW: DeleteObjects of a key that never existed: %s", absent_code);
        for (i = 0, found = 0; i < 3; i++)
            found += lenz_s3_head_object(s3, http, pool, dk[i], &info, &err) == LENZ_ENOTFOUND;
        is_int(found, 3, "... and HEAD finds none of them");
        /* A run that died before recording the answer sends them again. */
        rv = lenz_s3_delete_objects(s3, http, pool, dk, 4, &res, &err);
        for (i = 0, gone = 0; rv == APR_SUCCESS && i < res->nelts; i++) {
            const lenz_s3_deleted *d = &APR_ARRAY_IDX(res, i, lenz_s3_deleted);
            gone += !d->code || !strcmp(d->code, "NoSuchKey");
        }
        ok(rv == APR_SUCCESS && gone == 4, "the same keys again: all four reported gone (%d)", gone);

        /* Content-MD5, measured: S3 refuses DeleteObjects without it
         * (400 MissingContentMD5 unless an x-amz-checksum-* header is sent);
         * what does RGW 16 do without it, with a wrong one, with garbage? */
        {
            static const struct { const char *what, *md5; } cases[] = {
                { "without Content-MD5", NULL },
                { "with a wrong Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==" },
                { "with a Content-MD5 that is not base64", "not base64" },
            };
            int deleted[3];
            long status[3];
            for (i = 0; i < 3; i++) {
                ok(put_small(s3, dk[0], "1"), "an object to delete %s", cases[i].what);
                status[i] = raw_call(s3, "POST", "delete=", delete_body(dk, 1), cases[i].md5, &code);
                deleted[i] = lenz_s3_head_object(s3, http, pool, dk[0], &info, &err) == LENZ_ENOTFOUND;
                figure("RGW: DeleteObjects %s: %ld %s, object %s", cases[i].what, status[i], code,
                       deleted[i] ? "deleted" : "kept");
            }
            ok(status[0] == 200 && deleted[0], "RGW 16 deletes without Content-MD5 (S3 would refuse)");
            ok(status[1] == 200 && deleted[1], "... and does not check one that is wrong");
            ok(status[2] == 200 && deleted[2], "... nor one that is not even base64");
        }

        /* A key S3 refuses: a bucket policy denies deleting under denied/. */
        {
            const char *denied = apr_pstrcat(pool, prefix, "denied/x.bin", NULL);
            const char *pol = apr_psprintf(pool,
                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
                "\"Action\":\"s3:DeleteObject\",\"Resource\":\"arn:aws:s3:::%s/%sdenied/*\"}]}",
                conf.bucket, prefix);
            const char *two[2];
            two[0] = denied;
            two[1] = dk[1];
            ok(put_small(s3, denied, "d") && put_small(s3, dk[1], "2"), "an object a policy will protect, one it will not");
            st = raw_call(s3, "PUT", "policy=", pol, NULL, &code);
            ok(st == 200 || st == 204, "PutBucketPolicy denying DeleteObject under denied/ (%ld %s)", st, code);
            rv = lenz_s3_delete_objects(s3, http, pool, two, 2, &res, &err);
            for (i = 0, gone = 0, absent_code = "not named"; rv == APR_SUCCESS && i < res->nelts; i++) {
                const lenz_s3_deleted *d = &APR_ARRAY_IDX(res, i, lenz_s3_deleted);
                if (!strcmp(d->key, denied))
                    absent_code = d->code ? d->code : "Deleted";
                else if (!d->code)
                    gone++;
            }
            figure("RGW: DeleteObjects of a key a policy denies: %s", absent_code);
            ok(rv == APR_SUCCESS && !strcmp(absent_code, "AccessDenied") && gone == 1,
               "DeleteObjects: the denied key reported AccessDenied (%s), the other deleted", absent_code);
            ok(lenz_s3_head_object(s3, http, pool, denied, &info, &err) == APR_SUCCESS, "... and the denied one is still there");
            st = raw_call(s3, "DELETE", "policy=", NULL, NULL, &code);
            ok(st == 200 || st == 204, "DeleteBucketPolicy (%ld %s)", st, code);
            ok(lenz_s3_delete_object(s3, http, pool, denied, &err) == APR_SUCCESS, "... then it can be deleted");
        }

        /* Refused before sending. */
        ok(lenz_s3_delete_objects(s3, http, pool, dk, 0, &res, &err) == APR_EINVAL, "no keys: refused");
        {
            const char **many = apr_pcalloc(pool, sizeof(char *) * (LENZ_S3_MAX_DELETE + 1));
            for (i = 0; i <= LENZ_S3_MAX_DELETE; i++)
                many[i] = "k";
            ok(lenz_s3_delete_objects(s3, http, pool, many, LENZ_S3_MAX_DELETE + 1, &res, &err) == APR_EINVAL,
               "1001 keys: refused before sending");
        }
        dk[4] = "ctl\x01key";
        ok(lenz_s3_delete_objects(s3, http, pool, dk + 2, 3, &res, &err) == APR_EINVAL
           && strstr(err.message, "key 3"), "a key XML cannot carry: refused, named (%s)", err.message);
    }

    /* Abort: the upload disappears (RGW answers NoSuchKey to ListParts). */
    rv = lenz_s3_create_multipart(s3, http, pool, key, NULL, NULL, &upload_id, &err);
    ok(rv == APR_SUCCESS, "second upload created");
    ok(lenz_s3_abort_multipart(s3, http, pool, key, upload_id, &err) == APR_SUCCESS,
       "AbortMultipartUpload");
    rv = lenz_s3_list_parts(s3, http, pool, key, upload_id, &parts, &err);
    ok(rv == LENZ_ENOTFOUND, "ListParts after abort: not found (%s)", err.code ? err.code : "-");
    pl[0].number = 1; pl[0].etag = "\"x\""; pl[0].size = 0;
    rv = lenz_s3_complete_multipart(s3, http, pool, key, upload_id, pl, 1, &etag, &err);
    ok(rv == LENZ_ENOTFOUND && strcmp(err.code, "NoSuchUpload") == 0,
       "Complete after abort: NoSuchUpload, not an outage (RGW says 500) (%s)",
       err.code ? err.code : "-");

    /* Parts below 5 MiB (except the last) are refused at complete. */
    rv = lenz_s3_create_multipart(s3, http, pool, key, NULL, NULL, &upload_id, &err);
    memset(&g, 0, sizeof(g));
    g.len = 1000;
    lenz_s3_upload_part(s3, http, pool, key, upload_id, 1, 1000, gen_read, &g, NULL, &etag1, &err);
    memset(&g, 0, sizeof(g));
    g.len = 1000;
    lenz_s3_upload_part(s3, http, pool, key, upload_id, 2, 1000, gen_read, &g, NULL, &etag2, &err);
    pl[0].etag = etag1;
    pl[1].etag = etag2;
    rv = lenz_s3_complete_multipart(s3, http, pool, key, upload_id, pl, 2, &etag, &err);
    ok(rv == LENZ_EUPSTREAM && strcmp(err.code, "EntityTooSmall") == 0,
       "a small first part: EntityTooSmall (%s)", err.code ? err.code : "-");
    lenz_s3_abort_multipart(s3, http, pool, key, upload_id, &err);

    /* Wrong secret: SignatureDoesNotMatch. */
    conf.secret_key = "not-the-secret";
    lenz_s3_make(pool, &conf, &bad, &why);
    rv = lenz_s3_head_object(s3, http, pool, key, &info, &err);
    memset(&sk, 0, sizeof(sk));
    rv = lenz_s3_list_objects(bad, http, pool, prefix, NULL, 10, &list, &err);
    ok(rv == LENZ_EUPSTREAM && err.http_status == 403 && strcmp(err.code, "SignatureDoesNotMatch") == 0,
       "wrong secret: 403 SignatureDoesNotMatch (%s)", err.code ? err.code : "-");
    ok(lenz_s3_error_is_config(&err), "... reported as a configuration problem");

    /* Nobody listening: a transport error, quickly. */
    conf.endpoint = "http://127.0.0.1:1";
    conf.max_attempts = 1;
    lenz_s3_make(pool, &conf, &bad, &why);
    rv = lenz_s3_head_bucket(bad, http, pool, &err);
    ok(rv == LENZ_EUNAVAIL && strcmp(err.code, "Transport") == 0 && err.http_status == 0,
       "unreachable endpoint: unavailable, code Transport");
    ok(!lenz_s3_error_is_config(&err), "... an outage, not a configuration problem");

    /* Retries and the breaker: 3 attempts per idempotent call, a breaker
     * with threshold 3 opens during the first call, the next fails fast. */
    {
        lenz_breaker_conf bc = { 3, apr_time_from_sec(60), apr_time_from_sec(5) };
        lenz_breaker *br = lenz_breaker_make(pool, "unreachable", &bc, NULL);
        apr_time_t t0;
        conf.max_attempts = 3;
        lenz_s3_make(pool, &conf, &bad, &why);
        lenz_s3_set_breaker(bad, br);
        rv = lenz_s3_head_object(bad, http, pool, "k", &info, &err);
        ok(rv == LENZ_EUNAVAIL && strcmp(err.code, "Transport") == 0, "three failed attempts");
        ok(lenz_breaker_state_of(br, apr_time_now(), pool) == LENZ_BREAKER_OPEN, "... opened the breaker");
        t0 = apr_time_now();
        rv = lenz_s3_head_object(bad, http, pool, "k", &info, &err);
        ok(rv == LENZ_EUNAVAIL && strcmp(err.code, "BreakerOpen") == 0 && err.retry_after > 50,
           "the next call fails fast: BreakerOpen, retry after %d s", err.retry_after);
        ok(apr_time_now() - t0 < apr_time_from_msec(50), "... without calling S3");
        /* The healthy endpoint with its own breaker: success keeps it closed. */
        br = lenz_breaker_make(pool, "rgw", &bc, NULL);
        lenz_s3_set_breaker(s3, br);
        ok(lenz_s3_head_bucket(s3, http, pool, &err) == APR_SUCCESS
           && lenz_breaker_state_of(br, apr_time_now(), pool) == LENZ_BREAKER_CLOSED,
           "a healthy S3 keeps its breaker closed");
        rv = lenz_s3_head_object(s3, http, pool, "no/such/key", &info, &err);
        ok(rv == LENZ_ENOTFOUND && lenz_breaker_state_of(br, apr_time_now(), pool) == LENZ_BREAKER_CLOSED,
           "a 404 is an answer, not a failure");
    }

    /* Configuration errors. */
    conf.endpoint = "ftp://127.0.0.1";
    ok(lenz_s3_make(pool, &conf, &bad, &why) == APR_EINVAL, "ftp endpoint refused: %s", why);
    conf.endpoint = "http://127.0.0.1/path";
    ok(lenz_s3_make(pool, &conf, &bad, &why) == APR_EINVAL, "endpoint with a path refused");

    (void)got;
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
