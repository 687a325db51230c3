/* The json-c wrapper: parsing limits, incremental feeding, typed getters. */
#include <apr_general.h>
#include "tap.h"
#include "json.h"

int main(void)
{
    apr_pool_t *p;
    const char *why = NULL, *s;
    lenz_json *j, *o;
    lenz_json_parser *jp;
    apr_int64_t n;
    int b;

    apr_initialize();
    apr_pool_create(&p, NULL);

    j = lenz_json_parse(p, "{\"a\":\"x\",\"n\":5,\"b\":true,\"z\":null,\"d\":1.5}", 41, 0, &why);
    ok(j != NULL, "parse object");
    ok(lenz_json_get_str(j, "a", &s) == APR_SUCCESS && strcmp(s, "x") == 0, "get_str");
    ok(lenz_json_get_int(j, "n", &n) == APR_SUCCESS && n == 5, "get_int");
    ok(lenz_json_get_bool(j, "b", &b) == APR_SUCCESS && b == 1, "get_bool");
    ok(lenz_json_get_str(j, "z", &s) == APR_NOTFOUND, "null counts as absent");
    ok(lenz_json_get_str(j, "n", &s) == APR_EINVAL, "wrong type is EINVAL");
    ok(lenz_json_get_int(j, "d", &n) == APR_EINVAL, "1.5 is not an integer");
    is_str(lenz_json_scalar_text(p, lenz_json_get(j, "d")), "1.5", "double text");

    ok(lenz_json_parse(p, "{\"a\":", 5, 0, &why) == NULL, "truncated JSON refused");
    ok(why != NULL, "with a reason (%s)", why ? why : "");
    ok(lenz_json_parse(p, "{} x", 4, 0, &why) == NULL, "trailing garbage refused");
    ok(lenz_json_parse(p, "[[[[1]]]]", 9, 3, &why) == NULL, "depth limit");
    ok(lenz_json_parse(p, "\"\xff\"", 3, 0, &why) == NULL, "invalid UTF-8 refused");
    ok(lenz_json_parse(p, "", 0, 0, &why) == NULL, "empty refused");
    ok(lenz_json_parse(p, "[1,]", 4, 0, &why) == NULL, "strict: trailing comma refused");
    /* json-c 0.16's strict mode still takes single-quoted keys and NaN;
     * typed getters refuse NaN where a number is wanted. */
    j = lenz_json_parse(p, "{\"n\":NaN}", 9, 0, &why);
    ok(j && lenz_json_get_int(j, "n", &n) == APR_EINVAL, "NaN is not an integer");

    jp = lenz_json_parser_make(p, 0);
    ok(lenz_json_parser_feed(jp, "{\"k\":[1,", 8, &why) == APR_SUCCESS, "feed part 1");
    ok(lenz_json_parser_feed(jp, "2,3]}  \n", 8, &why) == APR_SUCCESS, "feed part 2");
    j = lenz_json_parser_finish(jp, &why);
    ok(j && lenz_json_array_len(lenz_json_get(j, "k")) == 3, "incremental parse");

    jp = lenz_json_parser_make(p, 0);
    lenz_json_parser_feed(jp, "12", 2, &why);
    lenz_json_parser_feed(jp, "3", 1, &why);
    j = lenz_json_parser_finish(jp, &why);
    ok(j && lenz_json_int(j) == 123, "bare number at end");

    o = lenz_json_new_object(p);
    lenz_json_set_str(o, "title", "a/b \"q\"");
    lenz_json_set_int(o, "status", 404);
    lenz_json_arr_add_str(lenz_json_obj_add_array(o, "l"), "x");
    is_str(lenz_json_dump(p, o), "{\"title\":\"a/b \\\"q\\\"\",\"status\":404,\"l\":[\"x\"]}", "dump");

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}
