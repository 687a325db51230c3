/* The Mustache renderer: every case of the official spec (t/data/mustache-spec,
 * copied from mustache/spec, see SOURCE there) plus our own limits. */
#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include "tap.h"
#include "err.h"
#include "json.h"
#include "mustache.h"

static const char *const spec_files[] = {
    "comments.json", "delimiters.json", "interpolation.json", "inverted.json",
    "partials.json", "sections.json", "~inheritance.json",
};

static const lenz_mst *from_hash(void *baton, const char *name)
{
    return apr_hash_get((apr_hash_t *)baton, name, APR_HASH_KEY_STRING);
}

typedef struct {
    apr_pool_t *p;
    apr_hash_t *partials;
    const char *why;
} loader;

static int add_partial(void *baton, const char *key, lenz_json *val)
{
    loader *l = baton;
    const lenz_mst *t = lenz_mst_compile(l->p, key, lenz_json_string(val),
                                         lenz_json_string_len(val), &l->why);
    if (!t)
        return 1;
    apr_hash_set(l->partials, apr_pstrdup(l->p, key), APR_HASH_KEY_STRING, t);
    return 0;
}

static void run_case(apr_pool_t *p, const char *file, lenz_json *tc)
{
    const char *name = lenz_json_string(lenz_json_get(tc, "name"));
    lenz_json *tmpl = lenz_json_get(tc, "template");
    const char *want = lenz_json_string(lenz_json_get(tc, "expected"));
    const char *got = NULL, *why = NULL;
    loader l = { p, apr_hash_make(p), NULL };
    const lenz_mst *t;
    apr_status_t rv;

    if (lenz_json_object_each(lenz_json_get(tc, "partials"), add_partial, &l)) {
        ok(0, "%s: %s (partial: %s)", file, name, l.why);
        return;
    }
    t = lenz_mst_compile(p, name, lenz_json_string(tmpl), lenz_json_string_len(tmpl), &why);
    if (!t) {
        ok(0, "%s: %s (compile: %s)", file, name, why);
        return;
    }
    rv = lenz_mst_render_string(p, t, lenz_json_get(tc, "data"), from_hash, l.partials, &got);
    if (rv != APR_SUCCESS) {
        ok(0, "%s: %s (render: %s)", file, name, lenz_strerror(rv));
        return;
    }
    is_str(got, want, "%s: %s", file, name);
}

static void run_spec(apr_pool_t *parent, const char *top, const char *file)
{
    apr_pool_t *p;
    const char *path = apr_pstrcat(parent, top ? top : "", top ? "/" : "",
                                   "t/data/mustache-spec/", file, NULL);
    const char *why = NULL;
    size_t len = 0;
    char *buf = slurp(path, &len);
    lenz_json *spec, *tests;
    apr_size_t i;

    apr_pool_create(&p, parent);
    spec = buf ? lenz_json_parse(p, buf, len, 64, &why) : NULL;
    free(buf);
    tests = lenz_json_get(spec, "tests");
    if (!ok(lenz_json_array_len(tests) > 0, "%s: read %s", file, path))
        diag("%s", why ? why : "cannot read the file");
    for (i = 0; i < lenz_json_array_len(tests); i++)
        run_case(p, file, lenz_json_array_get(tests, i));
    apr_pool_destroy(p);
}

/* Renders src against the JSON text data, with itself as every partial. */
static const lenz_mst *self_loader(void *baton, const char *name)
{
    return baton;
}

static apr_status_t render(apr_pool_t *p, const char *src, const char *data,
                           const char **out)
{
    const lenz_mst *t = lenz_mst_compile(p, "self", src, strlen(src), NULL);
    lenz_json *ctx = lenz_json_parse(p, data, strlen(data), 0, NULL);
    *out = NULL;
    return t ? lenz_mst_render_string(p, t, ctx, self_loader, (void *)t, out) : APR_EINVAL;
}

static int compile_fails(apr_pool_t *p, const char *src, const char *want_in_why)
{
    const char *why = NULL;
    lenz_mst *t = lenz_mst_compile(p, "page.mustache", src, strlen(src), &why);
    if (t || !why)
        return 0;
    if (!strstr(why, want_in_why)) {
        diag("why: %s", why);
        return 0;
    }
    return 1;
}

typedef struct {
    int calls;
    apr_size_t bytes;
} counter;

static apr_status_t failing_writer(void *baton, const char *buf, apr_size_t len)
{
    counter *c = baton;
    c->calls++;
    c->bytes += len;
    return APR_EGENERAL;
}

static apr_status_t counting_writer(void *baton, const char *buf, apr_size_t len)
{
    counter *c = baton;
    c->calls++;
    c->bytes += len;
    return APR_SUCCESS;
}

static void own_cases(apr_pool_t *p)
{
    const char *out, *why = NULL, *s;
    lenz_json *ctx, *o;
    lenz_mst *t;
    counter c = { 0, 0 };
    apr_status_t rv;
    char *deep;
    int i;

    ok(compile_fails(p, "a\nb\n{{#x}}\n{{/y}}\n", "page.mustache:4: closing tag 'y' does not match 'x' opened on line 3"),
       "mismatched close reported with name and line");
    ok(compile_fails(p, "one\n\n{{#list}}\n  {{name}}\n", "page.mustache:3: section 'list' is never closed"),
       "unclosed section is an error");
    ok(compile_fails(p, "x\n{{name", "page.mustache:2: unclosed tag"), "unclosed tag");
    ok(compile_fails(p, "{{/x}}", ":1: closing tag 'x' without"), "stray close");
    ok(compile_fails(p, "\n{{=<% =}}", ":2: bad set-delimiter"), "bad delimiter (one)");
    ok(compile_fails(p, "{{=a=b c=}}", "bad set-delimiter"), "bad delimiter (=)");
    ok(compile_fails(p, "{{}}", "empty tag name"), "empty tag");
    ok(compile_fails(p, "{{a b}}", "blank inside tag name"), "blank in a name");
    ok(compile_fails(p, "{{<p}}{{$b}}{{/p}}{{/b}}", "does not match"), "blocks nest properly");

    deep = apr_palloc(p, 65 * 12 + 1);
    for (s = deep, i = 0; i < 65; i++)
        s += sprintf((char *)s, "{{#a}}");
    ok(compile_fails(p, deep, "nested deeper than 64"), "compile nesting is bounded");

    ok(render(p, "{{>self}}", "{}", &out) == LENZ_ETOOBIG, "unbounded recursion is LENZ_ETOOBIG");
    ok(render(p, "{{#a}}{{>self}}{{/a}}", "{\"a\":{\"b\":1}}", &out) == LENZ_ETOOBIG,
       "recursion through a section too");
    ok(render(p, "{{<self}}{{$x}}{{/x}}{{/self}}", "{}", &out) == LENZ_ETOOBIG,
       "recursive parents too");

    /* Data-guarded recursion with fan-out 2 over 40 levels would be 2^40
     * expansions: the per-render budget stops it. */
    ctx = lenz_json_new_object(p);
    for (o = ctx, i = 0; i < 40; i++)
        o = lenz_json_obj_add_object(o, "c");
    s = "{{#c}}{{>fan}}{{>fan}}{{/c}}";
    t = lenz_mst_compile(p, "fan", s, strlen(s), &why);
    ok(t && lenz_mst_render_string(p, t, ctx, self_loader, t, &out) == LENZ_ETOOBIG,
       "exponential expansion is bounded");

    ok(render(p, "{{#c}}{{#c}}{{v}}{{/c}}{{/c}}", "{\"c\":{\"v\":\"deep\"}}", &out) == APR_SUCCESS
       && strcmp(out, "deep") == 0, "legitimate nesting renders");

    /* A writer error stops rendering at once and is returned. */
    s = "{{#l}}{{{s}}}{{/l}}";
    t = lenz_mst_compile(p, "big", s, strlen(s), &why);
    ctx = lenz_json_new_object(p);
    o = lenz_json_obj_add_array(ctx, "l");
    for (i = 0; i < 50; i++)
        lenz_json_arr_add_str(o, "x");
    lenz_json_set_str(ctx, "s", apr_psprintf(p, "%01000d", 7));
    rv = t ? lenz_mst_render(t, ctx, NULL, NULL, counting_writer, &c, p) : APR_EINVAL;
    ok(rv == APR_SUCCESS && c.bytes == 50000 && c.calls > 1 && c.calls < 50,
       "output streams in pieces (%d writes)", c.calls);
    c.calls = 0;
    c.bytes = 0;
    ok(t && lenz_mst_render(t, ctx, NULL, NULL, failing_writer, &c, p) == APR_EGENERAL
       && c.calls == 1, "a writer error stops rendering");

    ok(render(p, "{{x}}|{{{x}}}|{{&x}}", "{\"x\":\"<a href='u'>&\\\"</a>\"}", &out) == APR_SUCCESS,
       "escaping renders");
    is_str(out, "&lt;a href=&#39;u&#39;&gt;&amp;&quot;&lt;/a&gt;|<a href='u'>&\"</a>|<a href='u'>&\"</a>",
           "escaping of & < > \" '");
    ok(render(p, "{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}}",
              "{\"a\":1.210,\"b\":0.1,\"c\":-42,\"d\":1e3,\"e\":true,\"f\":[1],\"g\":{\"h\":1}}",
              &out) == APR_SUCCESS, "numbers render");
    is_str(out, "1.21 0.1 -42 1000 true  ", "numbers, booleans; containers print nothing");
    ok(render(p, "{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}} {{h}}",
              "{\"a\":1e21,\"b\":1.5e-8,\"c\":123456789012.0,\"d\":0.000001,"
              "\"e\":-2.5,\"f\":1e20,\"g\":5e-324,\"h\":-0.0}", &out) == APR_SUCCESS,
       "more doubles render");
    is_str(out, "1e+21 1.5e-8 123456789012 0.000001 -2.5 100000000000000000000 5e-324 0",
           "doubles print as JavaScript would");
    ok(render(p, "{{#z}}z{{/z}}{{#e}}e{{/e}}{{^z}}!z{{/z}}{{^e}}!e{{/e}}", "{\"z\":0,\"e\":\"\"}",
              &out) == APR_SUCCESS && strcmp(out, "!z!e") == 0, "0 and \"\" are falsey");
    ok(render(p, "{{#a}}\n  {{>p}}\n{{/a}}", "{}", &out) == APR_SUCCESS && strcmp(out, "") == 0,
       "missing partial loader result is empty");

    /* Garbage must never crash the parser or the renderer. */
    {
        static const char *const bits[] = {
            "{{", "}}", "{{{", "}}}", "#", "^", "/", "!", ">", "<", "$", "=", "&",
            "a", ".", " ", "\n", "\r\n", "\t", "{{=<% %>=}}", "<%", "%>", "{{#a}}",
            "{{/a}}", "{{>self}}", "{{<self}}", "{{$a}}", "{{/self}}", "x",
        };
        const char *js = "{\"a\":[1,{\"a\":true}],\"x\":\"<\"}";
        lenz_json *data = lenz_json_parse(p, js, strlen(js), 0, NULL);
        unsigned long seed = 12345;
        int compiled = 0, rendered = 0, n;
        for (i = 0; i < 3000; i++) {
            apr_pool_t *sub;
            char src[512];
            size_t len = 0;
            apr_pool_create(&sub, p);
            for (n = 0; n < 24; n++) {
                const char *b;
                seed = seed * 6364136223846793005UL + 1442695040888963407UL;
                b = bits[(seed >> 33) % (sizeof(bits) / sizeof(bits[0]))];
                if (len + strlen(b) < sizeof(src)) {
                    memcpy(src + len, b, strlen(b));
                    len += strlen(b);
                }
            }
            t = lenz_mst_compile(sub, "fuzz", src, len, &why);
            if (t) {
                compiled++;
                if (lenz_mst_render_string(sub, t, data, self_loader, t, &out) == APR_SUCCESS)
                    rendered++;
            }
            apr_pool_destroy(sub);
        }
        ok(compiled > 0 && rendered > 0, "random templates: %d compiled, %d rendered, no crash",
           compiled, rendered);
    }
}

int main(void)
{
    apr_pool_t *p;
    const char *top = getenv("LENZ_TOP");
    size_t i;

    apr_initialize();
    apr_pool_create(&p, NULL);
    for (i = 0; i < sizeof(spec_files) / sizeof(spec_files[0]); i++)
        run_spec(p, top, spec_files[i]);
    own_cases(p);
    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
