/* fuzz_s3xml.c - every lenz_s3xml_* function on the same bytes.
 *
 * S3 (or anything answering in its place) controls these bodies.  The
 * input is passed with its exact length in its own malloc block (no NUL
 * after it), so a read past len is caught.  Checked: each function either
 * fails or fills its outputs with what its header promises.
 */
#include "fuzz.h"
#include <apr_strings.h>
#include "s3xml.h"
#include "err.h"

static int ok_or_format(apr_status_t rv)
{
    return rv == APR_SUCCESS || rv == LENZ_EFORMAT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *xml = (const char *)data;
    lenz_s3_error err;
    const char *s = NULL, *n1 = NULL, *n2 = NULL;
    apr_array_header_t *a;
    apr_status_t rv;
    char *text;
    int i;

    memset(&err, 0, sizeof(err));
    rv = lenz_s3xml_error(p, xml, size, &err);
    FUZZ_CHECK(ok_or_format(rv) || rv == APR_NOTFOUND, "error: status %d", rv);
    if (rv == APR_SUCCESS)
        FUZZ_CHECK(err.code && *err.code && err.message, "error: code or message unset");

    rv = lenz_s3xml_upload_id(p, xml, size, &s);
    FUZZ_CHECK(ok_or_format(rv), "upload_id: status %d", rv);
    if (rv == APR_SUCCESS)
        FUZZ_CHECK(s && *s, "upload_id: empty id accepted");

    s = NULL;
    rv = lenz_s3xml_complete(p, xml, size, &s);
    FUZZ_CHECK(ok_or_format(rv), "complete: status %d", rv);
    if (rv == APR_SUCCESS)
        FUZZ_CHECK(s != NULL, "complete: ETag unset");

    a = apr_array_make(p, 1, sizeof(lenz_s3_part));
    rv = lenz_s3xml_parts(p, xml, size, a, &n1);
    FUZZ_CHECK(ok_or_format(rv), "parts: status %d", rv);
    if (rv == APR_SUCCESS) {
        for (i = 0; i < a->nelts; i++) {
            const lenz_s3_part *pt = &APR_ARRAY_IDX(a, i, lenz_s3_part);
            FUZZ_CHECK(pt->number >= 1 && pt->number <= 10000 && pt->etag && pt->size >= 0,
                       "parts: bad part %d accepted", i);
        }
        FUZZ_CHECK(!n1 || *n1, "parts: empty marker");
    }

    a = apr_array_make(p, 1, sizeof(lenz_s3_upload));
    rv = lenz_s3xml_uploads(p, xml, size, a, &n1, &n2);
    FUZZ_CHECK(ok_or_format(rv), "uploads: status %d", rv);
    if (rv == APR_SUCCESS) {
        for (i = 0; i < a->nelts; i++) {
            const lenz_s3_upload *u = &APR_ARRAY_IDX(a, i, lenz_s3_upload);
            FUZZ_CHECK(u->key && u->upload_id, "uploads: upload %d without key or id", i);
        }
        FUZZ_CHECK(!n2 || n1, "uploads: upload marker without key marker");
    }

    a = apr_array_make(p, 1, sizeof(lenz_s3_object));
    rv = lenz_s3xml_objects(p, xml, size, a, &n1);
    FUZZ_CHECK(ok_or_format(rv), "objects: status %d", rv);
    if (rv == APR_SUCCESS) {
        for (i = 0; i < a->nelts; i++) {
            const lenz_s3_object *o = &APR_ARRAY_IDX(a, i, lenz_s3_object);
            FUZZ_CHECK(o->key && o->size >= 0 && o->total_size == o->size,
                       "objects: bad object %d accepted", i);
        }
        FUZZ_CHECK(!n1 || *n1, "objects: empty continuation token");
    }

    rv = lenz_s3xml_copy(p, xml, size);
    FUZZ_CHECK(ok_or_format(rv), "copy: status %d", rv);

    a = apr_array_make(p, 1, sizeof(lenz_s3_deleted));
    rv = lenz_s3xml_deleted(p, xml, size, a);
    FUZZ_CHECK(ok_or_format(rv), "deleted: status %d", rv);
    if (rv == APR_SUCCESS) {
        for (i = 0; i < a->nelts; i++) {
            const lenz_s3_deleted *d = &APR_ARRAY_IDX(a, i, lenz_s3_deleted);
            FUZZ_CHECK(d->key && *d->key && d->message && (!d->code || *d->code),
                       "deleted: bad entry %d accepted", i);
        }
    }

    /* The time parser sees element text, so a C string. */
    text = fuzz_cstr(data, size);
    (void)lenz_s3xml_time(text);
    /* The same bytes as an object key: a DeleteObjects body is built
     * exactly when the key can travel in XML, and reads back unchanged. */
    {
        const char *keys[1] = { text }, *body;
        apr_size_t blen = 0;
        int bad = -1;
        body = lenz_s3xml_delete_body(p, keys, 1, &blen, &bad);
        FUZZ_CHECK(!body == !lenz_s3xml_key_ok(text), "delete body: built %d, key ok %d", !!body,
                   lenz_s3xml_key_ok(text));
        FUZZ_CHECK(body || bad == 0, "delete body: refused without naming the key");
        if (body) {
            const char *k = strstr(body, "<Key>"), *end = k ? strstr(k, "</Object>") : NULL, *res;
            FUZZ_CHECK(k && end, "delete body: no <Key> ... </Object>");
            res = apr_pstrcat(p, "<DeleteResult><Deleted>", apr_pstrmemdup(p, k, (apr_size_t)(end - k)),
                              "</Deleted></DeleteResult>", NULL);
            a = apr_array_make(p, 1, sizeof(lenz_s3_deleted));
            rv = lenz_s3xml_deleted(p, res, strlen(res), a);
            FUZZ_CHECK(rv == APR_SUCCESS && a->nelts == 1
                       && strcmp(APR_ARRAY_IDX(a, 0, lenz_s3_deleted).key, text) == 0,
                       "delete body: the key does not read back unchanged");
        }
    }
    free(text);

    apr_pool_destroy(p);
    return 0;
}
