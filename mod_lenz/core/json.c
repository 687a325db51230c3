/* json.c - the only file that calls json-c. */
#include <limits.h>
#include <string.h>
#include <json-c/json.h>
#include <apr_strings.h>

#include "json.h"

#define DEFAULT_DEPTH 32

static apr_status_t put_cleanup(void *data)
{
    json_object_put((json_object *)data);
    return APR_SUCCESS;
}

static lenz_json *owned(apr_pool_t *p, json_object *o)
{
    if (o && p)
        apr_pool_cleanup_register(p, o, put_cleanup, apr_pool_cleanup_null);
    return o;
}

/* One json_tokener_parse_ex() call over the whole text.  json-c (0.16)
 * keeps some checks local to a call, so text fed in pieces can pass what
 * the same text in one piece fails, or fail what it passes: a UTF-8
 * sequence cut between two calls is refused ("\xc3" | "\xa9"), a number
 * cut between two is not checked as one ("[1" | "-3]" gives [1]).  The
 * incremental parser therefore collects the pieces and parses once. */
static lenz_json *parse_whole(apr_pool_t *p, const char *buf, apr_size_t len,
                              int max_depth, const char **why)
{
    json_tokener *tok;
    json_object *o;
    enum json_tokener_error e;
    apr_size_t i, end;
    const char *ignored;

    if (!why)
        why = &ignored;
    if (len == 0) {
        *why = "empty body";
        return NULL;
    }
    if (len >= INT_MAX) {
        *why = "the JSON text is too large";
        return NULL;
    }
    tok = json_tokener_new_ex(max_depth > 0 ? max_depth : DEFAULT_DEPTH);
    if (!tok) {
        *why = "out of memory";
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, buf, (int)len);
    e = json_tokener_get_error(tok);
    end = len;
    if (e == json_tokener_continue) {
        /* A bare number at the very end ("123") needs the end signalled. */
        o = json_tokener_parse_ex(tok, "", 1);
        if (json_tokener_get_error(tok) != json_tokener_success || !o) {
            json_object_put(o);
            json_tokener_free(tok);
            *why = "the JSON value is incomplete";
            return NULL;
        }
    }
    else if (e != json_tokener_success || !o) {
        json_object_put(o);
        json_tokener_free(tok);
        *why = apr_pstrdup(p, json_tokener_error_desc(e));
        return NULL;
    }
    else
        end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    /* Only white space may follow the value; strchr() would also match a
     * NUL byte (the terminator), so that one is checked first. */
    for (i = end; i < len; i++) {
        if (buf[i] == '\0' || !strchr(" \t\r\n", buf[i])) {
            json_object_put(o);
            *why = "trailing data after the JSON value";
            return NULL;
        }
    }
    return owned(p, o);
}

struct lenz_json_parser {
    apr_pool_t *pool;
    int max_depth;
    char *buf;          /* the pieces so far */
    apr_size_t len, cap;
};

lenz_json_parser *lenz_json_parser_make(apr_pool_t *p, int max_depth)
{
    lenz_json_parser *jp = apr_pcalloc(p, sizeof(*jp));
    jp->pool = p;
    jp->max_depth = max_depth;
    return jp;
}

apr_status_t lenz_json_parser_feed(lenz_json_parser *jp, const char *buf,
                                   apr_size_t len, const char **why)
{
    if (len == 0)
        return APR_SUCCESS;
    if (len >= INT_MAX - jp->len) {
        if (why) *why = "the JSON text is too large";
        return APR_EINVAL;
    }
    if (jp->len + len > jp->cap) {
        /* Doubling: what is left behind in the pool stays under the size. */
        apr_size_t cap = jp->cap ? jp->cap : 1024;
        char *nb;
        while (cap < jp->len + len)
            cap *= 2;
        nb = apr_palloc(jp->pool, cap);
        if (jp->len)
            memcpy(nb, jp->buf, jp->len);
        jp->buf = nb;
        jp->cap = cap;
    }
    memcpy(jp->buf + jp->len, buf, len);
    jp->len += len;
    return APR_SUCCESS;
}

lenz_json *lenz_json_parser_finish(lenz_json_parser *jp, const char **why)
{
    return parse_whole(jp->pool, jp->buf, jp->len, jp->max_depth, why);
}

lenz_json *lenz_json_parse(apr_pool_t *p, const char *buf, apr_size_t len,
                           int max_depth, const char **why)
{
    return parse_whole(p, buf, len, max_depth, why);
}

lenz_json *lenz_json_new_object(apr_pool_t *p)
{
    return owned(p, json_object_new_object());
}

lenz_json *lenz_json_new_array(apr_pool_t *p)
{
    return owned(p, json_object_new_array());
}

void lenz_json_set_str(lenz_json *obj, const char *key, const char *val)
{
    json_object_object_add(obj, key, val ? json_object_new_string(val) : NULL);
}

void lenz_json_set_strn(lenz_json *obj, const char *key, const char *val, apr_size_t len)
{
    json_object_object_add(obj, key, json_object_new_string_len(val, (int)len));
}

void lenz_json_set_int(lenz_json *obj, const char *key, apr_int64_t val)
{
    json_object_object_add(obj, key, json_object_new_int64(val));
}

void lenz_json_set_double(lenz_json *obj, const char *key, double val)
{
    json_object_object_add(obj, key, json_object_new_double(val));
}

void lenz_json_set_bool(lenz_json *obj, const char *key, int val)
{
    json_object_object_add(obj, key, json_object_new_boolean(val ? 1 : 0));
}

void lenz_json_set_null(lenz_json *obj, const char *key)
{
    json_object_object_add(obj, key, NULL);
}

lenz_json *lenz_json_obj_add_object(lenz_json *obj, const char *key)
{
    json_object *c = json_object_new_object();
    json_object_object_add(obj, key, c);
    return c;
}

lenz_json *lenz_json_obj_add_array(lenz_json *obj, const char *key)
{
    json_object *c = json_object_new_array();
    json_object_object_add(obj, key, c);
    return c;
}

lenz_json *lenz_json_arr_add_object(lenz_json *arr)
{
    json_object *c = json_object_new_object();
    json_object_array_add(arr, c);
    return c;
}

void lenz_json_arr_add_str(lenz_json *arr, const char *val)
{
    json_object_array_add(arr, json_object_new_string(val));
}

void lenz_json_arr_add_int(lenz_json *arr, apr_int64_t val)
{
    json_object_array_add(arr, json_object_new_int64(val));
}

void lenz_json_set_copy(lenz_json *obj, const char *key, lenz_json *src)
{
    json_object *dst = NULL;
    if (src && json_object_deep_copy(src, &dst, NULL) != 0)
        dst = NULL;
    json_object_object_add(obj, key, dst);
}

lenz_json_type lenz_json_typeof(const lenz_json *j)
{
    switch (json_object_get_type(j)) {
    case json_type_boolean: return LENZ_JSON_BOOL;
    case json_type_int:     return LENZ_JSON_INT;
    case json_type_double:  return LENZ_JSON_DOUBLE;
    case json_type_string:  return LENZ_JSON_STRING;
    case json_type_array:   return LENZ_JSON_ARRAY;
    case json_type_object:  return LENZ_JSON_OBJECT;
    default:                return LENZ_JSON_NULL;
    }
}

lenz_json *lenz_json_get(const lenz_json *obj, const char *key)
{
    json_object *v = NULL;
    if (!obj || !json_object_is_type(obj, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

int lenz_json_has(const lenz_json *obj, const char *key)
{
    if (!obj || !json_object_is_type(obj, json_type_object))
        return 0;
    return json_object_object_get_ex(obj, key, NULL);
}

const char *lenz_json_string(const lenz_json *j)
{
    if (!j || !json_object_is_type(j, json_type_string))
        return NULL;
    return json_object_get_string((json_object *)j);
}

apr_size_t lenz_json_string_len(const lenz_json *j)
{
    if (!j || !json_object_is_type(j, json_type_string))
        return 0;
    return (apr_size_t)json_object_get_string_len(j);
}

int lenz_json_bool(const lenz_json *j)
{
    if (!j)
        return 0;
    switch (json_object_get_type(j)) {
    case json_type_boolean: return json_object_get_boolean(j);
    case json_type_int:     return json_object_get_int64(j) != 0;
    case json_type_double:  return json_object_get_double(j) != 0.0;
    case json_type_string:  return json_object_get_string_len(j) > 0;
    case json_type_array:   return json_object_array_length(j) > 0;
    case json_type_object:  return 1;
    default:                return 0;
    }
}

apr_int64_t lenz_json_int(const lenz_json *j)
{
    return j ? (apr_int64_t)json_object_get_int64(j) : 0;
}

double lenz_json_double(const lenz_json *j)
{
    return j ? json_object_get_double(j) : 0.0;
}

apr_size_t lenz_json_array_len(const lenz_json *j)
{
    if (!j || !json_object_is_type(j, json_type_array))
        return 0;
    return json_object_array_length(j);
}

lenz_json *lenz_json_array_get(const lenz_json *j, apr_size_t i)
{
    if (!j || !json_object_is_type(j, json_type_array))
        return NULL;
    return json_object_array_get_idx(j, i);
}

const char *lenz_json_scalar_text(apr_pool_t *p, const lenz_json *j)
{
    switch (json_object_get_type(j)) {
    case json_type_boolean:
        return json_object_get_boolean(j) ? "true" : "false";
    case json_type_int:
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_object_get_int64(j));
    case json_type_double:
        /* json-c keeps the text of a parsed number; use it as printed. */
        return apr_pstrdup(p, json_object_to_json_string_ext((json_object *)j,
                                                             JSON_C_TO_STRING_PLAIN));
    case json_type_string:
        return json_object_get_string((json_object *)j);
    default:
        return NULL;
    }
}

apr_status_t lenz_json_get_str(const lenz_json *obj, const char *key, const char **out)
{
    json_object *v = lenz_json_get(obj, key);
    if (!v)
        return APR_NOTFOUND;
    if (!json_object_is_type(v, json_type_string))
        return APR_EINVAL;
    *out = json_object_get_string(v);
    return APR_SUCCESS;
}

apr_status_t lenz_json_get_int(const lenz_json *obj, const char *key, apr_int64_t *out)
{
    json_object *v = lenz_json_get(obj, key);
    if (!v)
        return APR_NOTFOUND;
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
        return APR_SUCCESS;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        /* Range first: converting NaN or a double outside int64 is UB. */
        if (d > -9.0e18 && d < 9.0e18 && d == (double)(apr_int64_t)d) {
            *out = (apr_int64_t)d;
            return APR_SUCCESS;
        }
    }
    return APR_EINVAL;
}

apr_status_t lenz_json_get_bool(const lenz_json *obj, const char *key, int *out)
{
    json_object *v = lenz_json_get(obj, key);
    if (!v)
        return APR_NOTFOUND;
    if (!json_object_is_type(v, json_type_boolean))
        return APR_EINVAL;
    *out = json_object_get_boolean(v);
    return APR_SUCCESS;
}

int lenz_json_object_each(const lenz_json *obj, lenz_json_each_fn *cb, void *baton)
{
    struct json_object_iterator it, end;
    if (!obj || !json_object_is_type(obj, json_type_object))
        return 0;
    it = json_object_iter_begin((json_object *)obj);
    end = json_object_iter_end(obj);
    while (!json_object_iter_equal(&it, &end)) {
        int rc = cb(baton, json_object_iter_peek_name(&it),
                    json_object_iter_peek_value(&it));
        if (rc)
            return rc;
        json_object_iter_next(&it);
    }
    return 0;
}

const char *lenz_json_dump(apr_pool_t *p, const lenz_json *j)
{
    return apr_pstrdup(p, json_object_to_json_string_ext((json_object *)j,
                              JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}
