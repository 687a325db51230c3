/* json.h - the project's only door to json-c.
 *
 * Ownership rule: a value made by lenz_json_parse() or lenz_json_new_*()
 * with a pool is released when that pool is cleared.  Children made through
 * the lenz_json_*_add_*() calls belong to their parent.  Values returned by
 * getters are borrowed from their parent and live as long as it does.
 */
#ifndef LENZ_JSON_H
#define LENZ_JSON_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct json_object lenz_json;

typedef enum {
    LENZ_JSON_NULL = 0,
    LENZ_JSON_BOOL,
    LENZ_JSON_INT,
    LENZ_JSON_DOUBLE,
    LENZ_JSON_STRING,
    LENZ_JSON_ARRAY,
    LENZ_JSON_OBJECT
} lenz_json_type;

/* Parsing.  max_depth bounds nesting (0 means the default, 32). */
lenz_json *lenz_json_parse(apr_pool_t *p, const char *buf, apr_size_t len,
                           int max_depth, const char **why);

/* Incremental parsing for bodies that arrive in pieces (the total size is
 * bounded by the caller).  feed() may be called any number of times;
 * finish() returns the value or NULL with *why set. */
typedef struct lenz_json_parser lenz_json_parser;
lenz_json_parser *lenz_json_parser_make(apr_pool_t *p, int max_depth);
apr_status_t lenz_json_parser_feed(lenz_json_parser *jp, const char *buf,
                                   apr_size_t len, const char **why);
lenz_json *lenz_json_parser_finish(lenz_json_parser *jp, const char **why);

/* Construction. */
lenz_json *lenz_json_new_object(apr_pool_t *p);
lenz_json *lenz_json_new_array(apr_pool_t *p);
void lenz_json_set_str(lenz_json *obj, const char *key, const char *val); /* NULL -> null */
void lenz_json_set_strn(lenz_json *obj, const char *key, const char *val, apr_size_t len);
void lenz_json_set_int(lenz_json *obj, const char *key, apr_int64_t val);
void lenz_json_set_double(lenz_json *obj, const char *key, double val);
void lenz_json_set_bool(lenz_json *obj, const char *key, int val);
void lenz_json_set_null(lenz_json *obj, const char *key);
lenz_json *lenz_json_obj_add_object(lenz_json *obj, const char *key);
lenz_json *lenz_json_obj_add_array(lenz_json *obj, const char *key);
lenz_json *lenz_json_arr_add_object(lenz_json *arr);
void lenz_json_arr_add_str(lenz_json *arr, const char *val);
void lenz_json_arr_add_int(lenz_json *arr, apr_int64_t val);
/* Deep copy of src attached to obj under key (src stays with its owner). */
void lenz_json_set_copy(lenz_json *obj, const char *key, lenz_json *src);

/* Inspection.  A NULL value has type LENZ_JSON_NULL. */
lenz_json_type lenz_json_typeof(const lenz_json *j);
lenz_json *lenz_json_get(const lenz_json *obj, const char *key);   /* NULL if absent */
int lenz_json_has(const lenz_json *obj, const char *key);
const char *lenz_json_string(const lenz_json *j);                  /* NULL unless a string */
apr_size_t lenz_json_string_len(const lenz_json *j);
int lenz_json_bool(const lenz_json *j);                            /* JSON truthiness */
apr_int64_t lenz_json_int(const lenz_json *j);
double lenz_json_double(const lenz_json *j);
apr_size_t lenz_json_array_len(const lenz_json *j);
lenz_json *lenz_json_array_get(const lenz_json *j, apr_size_t i);
/* Text of a scalar as JSON would print it (numbers, booleans, strings
 * unquoted); NULL for null, arrays and objects.  Allocated from p. */
const char *lenz_json_scalar_text(apr_pool_t *p, const lenz_json *j);

/* Typed getters for request bodies: return APR_SUCCESS, APR_NOTFOUND when
 * the key is absent or null, APR_EINVAL when present with the wrong type. */
apr_status_t lenz_json_get_str(const lenz_json *obj, const char *key, const char **out);
apr_status_t lenz_json_get_int(const lenz_json *obj, const char *key, apr_int64_t *out);
apr_status_t lenz_json_get_bool(const lenz_json *obj, const char *key, int *out);

/* Object iteration in insertion order: cb returns non-zero to stop. */
typedef int lenz_json_each_fn(void *baton, const char *key, lenz_json *val);
int lenz_json_object_each(const lenz_json *obj, lenz_json_each_fn *cb, void *baton);

/* Serialisation (compact, "/" not escaped), copied into p. */
const char *lenz_json_dump(apr_pool_t *p, const lenz_json *j);

#endif
