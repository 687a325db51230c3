/* pat.c - personal access tokens (pat.h): made, listed, revoked, and
 * checked when a request presents one. */
#include <apr_strings.h>

#include "lenz.h"
#include "pat.h"
#include "outbox.h"
#include "token.h"
#include "codec.h"
#include "err.h"

#define ISO(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define PAT_COLS \
    "t.id, t.name, t.can_read, t.can_write, " ISO("t.created_at") ", " ISO("t.expires_at") ", " \
    ISO("t.last_used_at") ", t.last_used_ip, (t.expires_at IS NOT NULL AND t.expires_at <= now())"

const lenz_stmt lenz_pat_stmts[] = {
    /* The member's row too, so a disabled member's tokens stop at once. */
    { "lenz_pat_auth",
      "SELECT t.id, t.can_read, t.can_write, "
      "(t.last_used_at IS NULL OR t.last_used_at < now() - interval '60 seconds' "
      " OR t.last_used_ip IS DISTINCT FROM %s), "
      "u.id, u.email, u.name, u.roles::text, u.status "
      "FROM personal_tokens t JOIN users u ON u.id = t.user_id "
      "WHERE t.hash = decode(%s, 'hex') AND t.revoked_at IS NULL "
      "AND (t.expires_at IS NULL OR t.expires_at > now())" },
    { "lenz_pat_touch",
      "UPDATE personal_tokens SET last_used_at = now(), last_used_ip = %s WHERE id = %s::uuid" },
    /* Serialises one member's creations, so the count below is exact. */
    { "lenz_pat_lock", "SELECT id FROM users WHERE id = %s::uuid FOR UPDATE" },
    { "lenz_pat_live",
      "SELECT count(*) FROM personal_tokens WHERE user_id = %s::uuid AND revoked_at IS NULL "
      "AND (expires_at IS NULL OR expires_at > now())" },
    { "lenz_pat_new",
      "WITH t AS (INSERT INTO personal_tokens (user_id, name, hash, can_read, can_write, expires_at) "
      "VALUES (%s::uuid, %s, decode(%s, 'hex'), %s::boolean, %s::boolean, "
      "CASE WHEN %s::int > 0 THEN now() + make_interval(secs => %s::int) END) RETURNING *) "
      "SELECT " PAT_COLS " FROM t" },
    { "lenz_pat_mine",
      "SELECT " PAT_COLS " FROM personal_tokens t WHERE t.user_id = %s::uuid AND t.revoked_at IS NULL "
      "ORDER BY t.created_at DESC, t.id LIMIT 200" },
    { "lenz_pat_revoke",
      "UPDATE personal_tokens SET revoked_at = now() WHERE user_id = %s::uuid AND id::text = %s "
      "AND revoked_at IS NULL RETURNING name" },
    { NULL }
};

int lenz_pat_is(const char *text)
{
    return text && strncmp(text, LENZ_PAT_PREFIX, LENZ_PAT_PREFIX_LEN) == 0;
}

apr_status_t lenz_pat_check(request_rec *r, lenz_db *db, const char *text, lenz_pat *pat)
{
    unsigned char h[LENZ_TOKEN_HASH_LEN];
    const char *args[2], **row;
    lenz_rows rows;
    apr_status_t rv;

    if (!lenz_pat_is(text))
        return LENZ_EAUTH;
    text += LENZ_PAT_PREFIX_LEN;
    if (lenz_token_hash(text, strlen(text), h) != APR_SUCCESS)
        return LENZ_EAUTH;
    args[0] = r->useragent_ip;
    args[1] = lenz_hex(r->pool, h, sizeof(h));
    if ((rv = lenz_db_select(db, "lenz_pat_auth", &rows, 2, args)) != APR_SUCCESS)
        return rv;
    if (rows.nrows != 1)
        return LENZ_EAUTH;
    row = rows.rows[0];
    pat->id = row[0];
    pat->can_read = row[1][0] == 't';
    pat->can_write = row[2][0] == 't';
    pat->user_row = row + 4;
    if (row[3][0] == 't') {
        args[1] = pat->id;
        /* Only a record: a failure here does not refuse the request. */
        if (lenz_db_exec(db, "lenz_pat_touch", NULL, 2, args) != APR_SUCCESS)
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, LENZLOGNO(2205)
                          "personal access token %s: recording its last use failed", pat->id);
    }
    return APR_SUCCESS;
}

apr_status_t lenz_pat_create(request_rec *r, lenz_db *db, const char *user, const char *name,
                             int can_read, int can_write, apr_int64_t ttl,
                             const char ***row, const char **text)
{
    unsigned char h[LENZ_TOKEN_HASH_LEN];
    const char *args[7], *tok;
    lenz_rows rows;
    lenz_json *ev;
    apr_status_t rv;

    if ((rv = lenz_token_new(r->pool, &tok, h)) != APR_SUCCESS)
        return rv;
    if ((rv = lenz_db_begin(db)) != APR_SUCCESS)
        return rv;
    args[0] = user;
    rv = lenz_db_select(db, "lenz_pat_lock", &rows, 1, args);
    if (rv == APR_SUCCESS && rows.nrows != 1)
        rv = LENZ_ENOTFOUND;
    if (rv == APR_SUCCESS)
        rv = lenz_db_select(db, "lenz_pat_live", &rows, 1, args);
    if (rv == APR_SUCCESS && (rows.nrows != 1 || apr_atoi64(rows.rows[0][0]) >= LENZ_PAT_MAX_LIVE))
        rv = LENZ_ETOOBIG;
    if (rv == APR_SUCCESS) {
        args[1] = name;
        args[2] = lenz_hex(r->pool, h, sizeof(h));
        args[3] = can_read ? "true" : "false";
        args[4] = can_write ? "true" : "false";
        args[5] = args[6] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, ttl);
        rv = lenz_db_select(db, "lenz_pat_new", &rows, 7, args);
        if (rv == APR_SUCCESS && rows.nrows != 1)
            rv = APR_EGENERAL;
    }
    if (rv == APR_SUCCESS) {
        *row = rows.rows[0];
        ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "name", name);
        lenz_json_set_bool(ev, "read", can_read);
        lenz_json_set_bool(ev, "write", can_write);
        lenz_json_set_str(ev, "ip", r->useragent_ip);
        rv = lenz_event_emit(db, "token.created", user, (*row)[0], ev);
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    if (rv == APR_SUCCESS)
        *text = apr_pstrcat(r->pool, LENZ_PAT_PREFIX, tok, NULL);
    return rv;
}

apr_status_t lenz_pat_list(lenz_db *db, const char *user, lenz_rows *rows)
{
    const char *args[1] = { user };
    return lenz_db_select(db, "lenz_pat_mine", rows, 1, args);
}

apr_status_t lenz_pat_revoke(request_rec *r, lenz_db *db, const char *user, const char *id)
{
    const char *args[2] = { user, id };
    lenz_rows rows;
    lenz_json *ev;
    apr_status_t rv;

    if (!lenz_uuid_ok(id))
        return LENZ_ENOTFOUND;
    if ((rv = lenz_db_begin(db)) != APR_SUCCESS)
        return rv;
    rv = lenz_db_select(db, "lenz_pat_revoke", &rows, 2, args);
    if (rv == APR_SUCCESS && rows.nrows != 1)
        rv = LENZ_ENOTFOUND;
    if (rv == APR_SUCCESS) {
        ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "name", rows.rows[0][0]);
        lenz_json_set_str(ev, "ip", r->useragent_ip);
        rv = lenz_event_emit(db, "token.revoked", user, id, ev);
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    return rv;
}

void lenz_pat_json(lenz_json *o, const char **row)
{
    lenz_json *scopes;
    lenz_json_set_str(o, "id", row[0]);
    lenz_json_set_str(o, "name", row[1]);
    scopes = lenz_json_obj_add_array(o, "scopes");
    if (row[2][0] == 't')
        lenz_json_arr_add_str(scopes, "read");
    if (row[3][0] == 't')
        lenz_json_arr_add_str(scopes, "write");
    lenz_json_set_str(o, "created_at", row[4]);
    lenz_json_set_str(o, "expires_at", row[5]);
    lenz_json_set_str(o, "last_used_at", row[6]);
    lenz_json_set_str(o, "last_used_ip", row[7]);
    lenz_json_set_bool(o, "expired", row[8][0] == 't');
}
