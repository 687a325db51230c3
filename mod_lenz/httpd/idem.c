/* idem.c - Idempotency-Key for the API's mutations (idem.h). */
#include <apr_strings.h>
#include <apr_lib.h>

#include "idem.h"
#include "auth.h"
#include "body.h"
#include "dbd.h"
#include "problem.h"
#include "crypto.h"
#include "codec.h"

#define MAX_KEY      255
#define MAX_BODY     (64 * 1024)
#define STALE_SECS   60                 /* a run that never finished: its key is free again */

typedef struct lenz_idem {
    const char *key;
    int captured, too_big;
    int status;
    const char *type, *body;
} lenz_idem;

const lenz_stmt lenz_idem_stmts[] = {
    /* The key for this request, unless another holds it (kept, or still
     * running); a day-old answer or a run dead for STALE_SECS gives way. */
    { "lenz_idem_take",
      "INSERT INTO idempotency_keys (user_id, key, fingerprint) VALUES (%s::uuid, %s, decode(%s, 'hex')) "
      "ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, created_at = now(), "
      "status = NULL, content_type = NULL, location = NULL, body = NULL "
      "WHERE idempotency_keys.created_at < now() - interval '1 day' OR (idempotency_keys.status IS NULL "
      "AND idempotency_keys.created_at < now() - make_interval(secs => " APR_STRINGIFY(STALE_SECS) ")) "
      "RETURNING 1" },
    { "lenz_idem_get",
      "SELECT encode(fingerprint, 'hex'), status, content_type, location, body FROM idempotency_keys "
      "WHERE user_id = %s::uuid AND key = %s" },
    { "lenz_idem_store",
      "UPDATE idempotency_keys SET status = %s::int, content_type = %s, location = %s, body = %s "
      "WHERE user_id = %s::uuid AND key = %s AND status IS NULL" },
    { "lenz_idem_drop",
      "DELETE FROM idempotency_keys WHERE user_id = %s::uuid AND key = %s AND status IS NULL" },
    { NULL }
};

static int key_ok(const char *k)
{
    apr_size_t n = strlen(k);
    if (n < 1 || n > MAX_KEY)
        return 0;
    for (; *k; k++)
        if (*k < 0x21 || *k > 0x7e)
            return 0;
    return 1;
}

static int is_json(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    return ct && ap_strcasestr(ct, "json") != NULL;
}

static int has_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    return apr_table_get(r->headers_in, "Transfer-Encoding") || (cl && strcmp(cl, "0") != 0);
}

static void replay(request_rec *r, const char **row)
{
    r->status = (int)apr_atoi64(row[1]);
    apr_table_setn(r->headers_out, "Idempotent-Replayed", "true");
    if (row[3])
        apr_table_setn(r->headers_out, "Location", row[3]);
    if (row[2] && row[4]) {
        apr_size_t len = strlen(row[4]);
        ap_set_content_type(r, row[2]);
        ap_set_content_length(r, (apr_off_t)len);
        if (!r->header_only)
            ap_rwrite(row[4], (int)len, r);
    }
}

int lenz_idem_begin(request_rec *r, lenz_req *lr)
{
    const char *key = apr_table_get(r->headers_in, "Idempotency-Key"), *args[3], *fp;
    unsigned char h[LENZ_SHA256_LEN];
    lenz_rows rows;
    lenz_db *db;
    lenz_json *body = NULL;
    int m = r->method_number;

    if (!key || !lr->user || strcmp(lr->area->name, "api") != 0
        || (m != M_POST && m != M_PATCH && m != M_DELETE))
        return 1;
    if (!key_ok(key)) {
        lenz_json *ext = lenz_json_new_object(r->pool);
        lenz_json_set_str(ext, "field", "Idempotency-Key");
        lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(0050), HTTP_BAD_REQUEST, "invalid-field", "Invalid field",
                      "Idempotency-Key: 1 to 255 visible ASCII characters", ext);
        return 0;
    }
    if (has_body(r) && !is_json(r))
        return 1;                       /* an upload's part: idempotent by itself */
    if (has_body(r) && !(body = lenz_body_json(r, lr)))
        return 0;
    /* The request it stands for: method, path, query and body. */
    fp = apr_pstrcat(r->pool, r->method, "\n", r->unparsed_uri, "\n",
                     body ? lenz_json_dump(r->pool, body) : "", NULL);
    lenz_sha256(fp, strlen(fp), h);
    fp = lenz_hex(r->pool, h, LENZ_SHA256_LEN);

    if (!(db = lenz_db_open(r))) {
        lenz_fail(r, APLOG_ERR, LENZLOGNO(0051), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                  "Service unavailable", "try again shortly");
        return 0;
    }
    args[0] = lr->user->id;
    args[1] = key;
    args[2] = fp;
    if (lenz_db_select(db, "lenz_idem_take", &rows, 3, args) != APR_SUCCESS) {
        lenz_db_close(db);
        lenz_fail(r, APLOG_ERR, LENZLOGNO(0051), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                  "Service unavailable", "try again shortly");
        return 0;
    }
    if (rows.nrows == 1) {
        lenz_db_close(db);
        lr->idem = apr_pcalloc(r->pool, sizeof(lenz_idem));
        lr->idem->key = key;
        return 1;
    }
    /* Another request holds the key. */
    if (lenz_db_select(db, "lenz_idem_get", &rows, 2, args) != APR_SUCCESS || rows.nrows != 1) {
        lenz_db_close(db);
        lenz_fail(r, APLOG_ERR, LENZLOGNO(0051), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                  "Service unavailable", "try again shortly");
        return 0;
    }
    lenz_db_close(db);
    if (strcmp(rows.rows[0][0], fp) != 0) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0052), HTTP_UNPROCESSABLE_ENTITY, "idempotency-key-reused",
                  "Idempotency-Key reused", "this key was used for another request; use a new key");
        return 0;
    }
    if (!rows.rows[0][1]) {
        apr_table_setn(r->err_headers_out, "Retry-After", "1");
        lenz_fail(r, APLOG_INFO, LENZLOGNO(0053), HTTP_CONFLICT, "idempotency-in-progress",
                  "Still running", "the first request with this key has not finished; retry shortly");
        return 0;
    }
    replay(r, rows.rows[0]);
    return 0;
}

void lenz_idem_capture(request_rec *r, int status, const char *type, const char *text, apr_size_t len)
{
    lenz_req *lr = ap_get_module_config(r->request_config, &lenz_module);
    if (!lr || !lr->idem)
        return;
    lr->idem->captured = 1;
    lr->idem->status = status;
    lr->idem->type = type;
    if (len > MAX_BODY)
        lr->idem->too_big = 1;
    else
        lr->idem->body = apr_pstrmemdup(r->pool, text, len);
}

void lenz_idem_finish(request_rec *r, lenz_req *lr, int rc)
{
    lenz_idem *id = lr->idem;
    const char *args[6];
    int status;
    lenz_db *db;

    if (!id)
        return;
    status = id->captured ? id->status : r->status;
    if (!(db = lenz_db_open(r)))
        return;                 /* the key frees itself after STALE_SECS */
    args[4] = lr->user->id;
    args[5] = id->key;
    /* An answer httpd makes (the route returned a status): not kept. */
    if (status >= 500 || id->too_big || (!id->captured && rc != OK)) {
        lenz_db_exec(db, "lenz_idem_drop", NULL, 2, args + 4);
    }
    else {
        args[0] = apr_itoa(r->pool, status);
        args[1] = id->captured ? id->type : NULL;
        args[2] = apr_table_get(r->headers_out, "Location");
        args[3] = id->captured ? id->body : NULL;
        if (lenz_db_exec(db, "lenz_idem_store", NULL, 6, args) != APR_SUCCESS)
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, LENZLOGNO(0054)
                          "the answer for Idempotency-Key could not be kept; a retry will run again");
    }
    lenz_db_close(db);
}
