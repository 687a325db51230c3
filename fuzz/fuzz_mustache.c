/* fuzz_mustache.c - lenz_mst_compile() and lenz_mst_render() on arbitrary
 * templates.
 *
 * The context is a small fixed JSON document (strings that need escaping,
 * numbers of each kind, nested objects, lists); every partial and parent
 * name resolves to the template itself (except "missing"), so recursion
 * and the expansion limits are exercised.  The writer counts what it gets
 * and stops the render past OUTPUT_CAP bytes, as a capped sink would.
 * Checked:
 *   - a template that does not compile says why, as "name:line: reason";
 *   - rendering ends in success, LENZ_ETOOBIG (the documented limits) or
 *     the writer's own stop, never anything else;
 *   - lenz_mst_render_string() gives the same bytes as the stream.
 */
#include "fuzz.h"
#include "mustache.h"
#include "json.h"
#include "err.h"

#define OUTPUT_CAP (1u << 20)
#define WRITER_STOP APR_EGENERAL

static const char CONTEXT[] =
    "{\"name\":\"Chris\",\"html\":\"<b>\\\"Tom & Jerry's\\\"</b>\","
    "\"n\":42,\"zero\":0,\"neg\":-7,\"pi\":3.14159,\"tiny\":1.5e-9,\"big\":1e300,"
    "\"t\":true,\"f\":false,\"nul\":null,\"empty\":\"\",\"none\":[],"
    "\"list\":[{\"name\":\"a\",\"n\":1},{\"name\":\"b\",\"t\":false},{\"name\":\"c\"}],"
    "\"nums\":[1,2,3],\"obj\":{\"a\":{\"b\":{\"c\":\"deep\"}},\"name\":\"inner\"},"
    "\"site\":{\"name\":\"Lenz\",\"base_url\":\"https://files.example.org\"},"
    "\"title\":\"Not found\",\"status\":404,\"detail\":\"No such share.\"}";

static lenz_json *ctx;
static apr_pool_t *ctx_pool;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *why = NULL;
    fuzz_init();
    if (apr_pool_create(&ctx_pool, fuzz_root) != APR_SUCCESS)
        abort();
    ctx = lenz_json_parse(ctx_pool, CONTEXT, sizeof(CONTEXT) - 1, 0, &why);
    FUZZ_CHECK(ctx != NULL, "fixed context: %s", why);
    return 0;
}

static const lenz_mst *self_partial(void *baton, const char *name)
{
    return strcmp(name, "missing") == 0 ? NULL : baton;
}

typedef struct {
    apr_size_t total;
    char *copy;         /* the output, while it stays small enough to keep */
    apr_size_t cap;
} sink_t;

static apr_status_t count_writer(void *baton, const char *buf, apr_size_t len)
{
    sink_t *s = baton;
    if (len > OUTPUT_CAP - s->total)
        return WRITER_STOP;
    if (s->copy) {
        memcpy(s->copy + s->total, buf, len);
    }
    s->total += len;
    return APR_SUCCESS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *why = NULL, *out = NULL;
    const lenz_mst *t;
    apr_status_t rv, rv2;
    sink_t s;

    t = lenz_mst_compile(p, "fuzz.mustache", (const char *)data, size, &why);
    if (!t) {
        FUZZ_CHECK(why && strncmp(why, "fuzz.mustache:", 14) == 0,
                   "compile failed without a located reason: %s", why ? why : "(null)");
        apr_pool_destroy(p);
        return 0;
    }
    FUZZ_CHECK(strcmp(lenz_mst_name(t), "fuzz.mustache") == 0, "name lost");

    memset(&s, 0, sizeof(s));
    s.copy = malloc(OUTPUT_CAP);
    rv = lenz_mst_render(t, ctx, self_partial, (void *)t, count_writer, &s, p);
    FUZZ_CHECK(rv == APR_SUCCESS || rv == LENZ_ETOOBIG || rv == WRITER_STOP,
               "render: status %d", rv);

    /* The convenience form must agree (only where it stays small). */
    if (rv == APR_SUCCESS && s.total <= 65536) {
        rv2 = lenz_mst_render_string(p, t, ctx, self_partial, (void *)t, &out);
        FUZZ_CHECK(rv2 == APR_SUCCESS, "render_string failed where render worked: %d", rv2);
        FUZZ_CHECK(memcmp(out, s.copy, s.total) == 0,
                   "render_string differs from render");
    }
    /* No context and no partial loader must be safe too. */
    s.total = 0;
    rv = lenz_mst_render(t, NULL, NULL, NULL, count_writer, &s, p);
    FUZZ_CHECK(rv == APR_SUCCESS || rv == LENZ_ETOOBIG || rv == WRITER_STOP,
               "render without context: status %d", rv);

    free(s.copy);
    apr_pool_destroy(p);
    return 0;
}
