/* fuzz_json.c - lenz_json_parse() and the incremental parser.
 *
 * Every input is parsed twice: whole, and fed to lenz_json_parser_* in
 * random pieces (each its own malloc block, so a read past a piece is
 * caught).  Checked:
 *   - both ways agree: both fail, or both give the same value;
 *   - an accepted body holds no raw NUL byte (JSON text never does);
 *   - a value prints (lenz_json_dump) to text that parses back to the
 *     same printout;
 *   - every accessor works on every node of the tree.
 */
#include "fuzz.h"
#include "json.h"

typedef struct {
    apr_pool_t *p;
    int depth;
} walk_t;

static void walk(walk_t *w, const lenz_json *j);

static int walk_member(void *baton, const char *key, lenz_json *val)
{
    walk_t *w = baton;
    FUZZ_CHECK(key != NULL, "object member without a name");
    walk(w, val);
    return 0;
}

static void walk(walk_t *w, const lenz_json *j)
{
    lenz_json_type t = lenz_json_typeof(j);
    const char *txt = lenz_json_scalar_text(w->p, j);
    apr_size_t i, n;

    FUZZ_CHECK(w->depth <= 33, "tree deeper than the parser allows");
    switch (t) {
    case LENZ_JSON_NULL:
        FUZZ_CHECK(txt == NULL, "null has scalar text");
        FUZZ_CHECK(!lenz_json_bool(j), "null is truthy");
        break;
    case LENZ_JSON_STRING:
        FUZZ_CHECK(txt && lenz_json_string(j) == txt, "string text is not the string");
        FUZZ_CHECK(lenz_json_string_len(j) >= strlen(txt), "string length below strlen");
        FUZZ_CHECK(lenz_json_bool(j) == (lenz_json_string_len(j) > 0), "string truthiness");
        break;
    case LENZ_JSON_BOOL:
    case LENZ_JSON_INT:
    case LENZ_JSON_DOUBLE:
        FUZZ_CHECK(txt && *txt, "scalar without text");
        (void)lenz_json_int(j);
        (void)lenz_json_double(j);
        break;
    case LENZ_JSON_ARRAY:
        FUZZ_CHECK(txt == NULL, "array has scalar text");
        n = lenz_json_array_len(j);
        FUZZ_CHECK(lenz_json_bool(j) == (n > 0), "array truthiness");
        w->depth++;
        for (i = 0; i < n; i++)
            walk(w, lenz_json_array_get(j, i));
        w->depth--;
        FUZZ_CHECK(lenz_json_array_get(j, n) == NULL, "array element past the end");
        break;
    case LENZ_JSON_OBJECT:
        FUZZ_CHECK(txt == NULL, "object has scalar text");
        w->depth++;
        lenz_json_object_each(j, walk_member, w);
        w->depth--;
        break;
    }
}

/* The typed getters on the top-level object, with the keys request
 * handlers use. */
static void getters(const lenz_json *j)
{
    static const char *keys[] = { "name", "email", "size", "expires", "public", "", "a" };
    size_t k;
    for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const char *s = NULL;
        apr_int64_t i = 0;
        int b = 0;
        apr_status_t rv = lenz_json_get_str(j, keys[k], &s);
        FUZZ_CHECK(rv != APR_SUCCESS || s != NULL, "get_str success without a string");
        rv = lenz_json_get_int(j, keys[k], &i);
        FUZZ_CHECK(rv == APR_SUCCESS || rv == APR_NOTFOUND || rv == APR_EINVAL, "get_int status");
        rv = lenz_json_get_bool(j, keys[k], &b);
        FUZZ_CHECK(rv != APR_SUCCESS || b == 0 || b == 1, "get_bool value");
        FUZZ_CHECK(!lenz_json_get(j, keys[k]) || lenz_json_has(j, keys[k]),
                   "get finds a key has does not");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *why1 = NULL, *why2 = NULL, *d1, *d2;
    lenz_json *whole, *inc = NULL, *again;
    lenz_json_parser *jp;
    apr_status_t rv = APR_SUCCESS;
    fuzz_rng r;
    size_t off = 0;
    walk_t w;

    whole = lenz_json_parse(p, (const char *)data, size, 0, &why1);
    FUZZ_CHECK(whole || why1, "parse failed without a reason");

    fuzz_rng_seed(&r, data, size);
    jp = lenz_json_parser_make(p, 0);
    FUZZ_CHECK(jp != NULL, "parser_make failed");
    while (off < size && rv == APR_SUCCESS) {
        size_t n = fuzz_rng_chunk(&r, size - off);
        char *piece = fuzz_dup(data + off, n);
        rv = lenz_json_parser_feed(jp, piece, n, &why2);
        free(piece);
        off += n;
    }
    if (rv == APR_SUCCESS)
        inc = lenz_json_parser_finish(jp, &why2);
    else
        FUZZ_CHECK(lenz_json_parser_finish(jp, NULL) == NULL, "finish after a failed feed");
    FUZZ_CHECK(inc || why2, "incremental parse failed without a reason");

    FUZZ_CHECK((whole == NULL) == (inc == NULL),
               "whole and incremental parses disagree (whole: %s, pieces: %s)",
               whole ? "ok" : why1, inc ? "ok" : why2);
    if (whole) {
        FUZZ_CHECK(memchr(data, 0, size) == NULL, "accepted a body holding a NUL byte");
        d1 = lenz_json_dump(p, whole);
        d2 = lenz_json_dump(p, inc);
        FUZZ_CHECK(d1 && d2 && strcmp(d1, d2) == 0, "whole and pieces give other values");
        again = lenz_json_parse(p, d1, strlen(d1), 0, &why1);
        FUZZ_CHECK(again != NULL, "printout does not parse back: %s", why1);
        d2 = lenz_json_dump(p, again);
        FUZZ_CHECK(strcmp(d1, d2) == 0, "printout changes on a round trip");
        w.p = p;
        w.depth = 0;
        walk(&w, whole);
        getters(whole);
    }
    apr_pool_destroy(p);
    return 0;
}
