/* keystore.c - users' KEKs: load, unwrap, create on first use. */
#include <apr_strings.h>

#include "lenz.h"
#include "keystore.h"
#include "config.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"

#define GUEST_EMAIL "guests@system.lenz.invalid"

const lenz_stmt lenz_keystore_stmts[] = {
    { "lenz_kek_newest",
      "SELECT version, encode(wrapped_kek, 'hex'), master_key_version FROM user_keys "
      "WHERE user_id = %s::uuid ORDER BY version DESC LIMIT 1" },
    { "lenz_kek_version",
      "SELECT version, encode(wrapped_kek, 'hex'), master_key_version FROM user_keys "
      "WHERE user_id = %s::uuid AND version = %s::int" },
    { "lenz_kek_insert",
      "INSERT INTO user_keys (user_id, version, wrapped_kek, master_key_version) "
      "VALUES (%s::uuid, 1, decode(%s, 'hex'), %s::int) ON CONFLICT DO NOTHING" },
    { "lenz_guest_insert",
      "INSERT INTO users (email, name, status, roles) VALUES ('" GUEST_EMAIL "', "
      "'Guest uploads', 'disabled', ARRAY['system']) ON CONFLICT (email) DO NOTHING" },
    { "lenz_guest_select", "SELECT id FROM users WHERE email = '" GUEST_EMAIL "'" },
    { NULL }
};

static apr_status_t unwrap_row(request_rec *r, const char *user_id, const char **row,
                               unsigned char kek[LENZ_KEY_LEN])
{
    lenz_srv_cfg *c = lenz_srv(r->server);
    apr_uint32_t mkv = (apr_uint32_t)apr_atoi64(row[2]);
    const unsigned char *mk = lenz_keyring_get(c->keyring, mkv);
    unsigned char blob[LENZ_WRAP_LEN];
    apr_status_t rv;

    if (!mk) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      LENZLOGNO(0451) "user %s's key is wrapped by master key version %u, which "
                      "this server's LenzMasterKeyFile does not hold (deploy the key file and "
                      "reload httpd)", user_id, mkv);
        return LENZ_EUNAVAIL;
    }
    if (!row[1] || strlen(row[1]) != 2 * LENZ_WRAP_LEN
        || lenz_unhex(row[1], strlen(row[1]), blob, sizeof(blob)) != APR_SUCCESS)
        return LENZ_EFORMAT;
    rv = lenz_key_unwrap(r->pool, mk, lenz_key_context_kek(r->pool, user_id, mkv), blob,
                         sizeof(blob), kek);
    if (rv != APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      LENZLOGNO(0452) "user %s's key does not unwrap with master key version %u",
                      user_id, mkv);
    return rv;
}

apr_status_t lenz_kek_from_row(request_rec *r, const char *user_id, const char *wrapped_hex,
                               const char *master_version, unsigned char kek[LENZ_KEY_LEN])
{
    const char *row[3] = { NULL, wrapped_hex, master_version };
    if (!wrapped_hex || !master_version)
        return LENZ_ENOTFOUND;
    return unwrap_row(r, user_id, row, kek);
}

apr_status_t lenz_kek_get(request_rec *r, lenz_db *db, const char *user_id, int version,
                          unsigned char kek[LENZ_KEY_LEN])
{
    const char *args[2] = { user_id, apr_itoa(r->pool, version) };
    lenz_rows rows;
    if (lenz_db_select(db, "lenz_kek_version", &rows, 2, args) != APR_SUCCESS)
        return APR_EGENERAL;
    if (rows.nrows != 1)
        return LENZ_ENOTFOUND;
    return unwrap_row(r, user_id, rows.rows[0], kek);
}

apr_status_t lenz_kek_current(request_rec *r, lenz_db *db, const char *user_id,
                              unsigned char kek[LENZ_KEY_LEN], int *version)
{
    lenz_srv_cfg *c = lenz_srv(r->server);
    const char *args[3];
    lenz_rows rows;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        args[0] = user_id;
        if (lenz_db_select(db, "lenz_kek_newest", &rows, 1, args) != APR_SUCCESS)
            return APR_EGENERAL;
        if (rows.nrows == 1) {
            *version = (int)apr_atoi64(rows.rows[0][0]);
            return unwrap_row(r, user_id, rows.rows[0], kek);
        }
        if (attempt == 0) {
            /* None yet: make version 1.  Two processes may race; the
             * loser's insert does nothing and both read the winner's. */
            unsigned char fresh[LENZ_KEY_LEN], blob[LENZ_WRAP_LEN];
            apr_uint32_t mkv = lenz_keyring_current_version(c->keyring);
            apr_status_t rv = lenz_key_generate(fresh);
            if (rv == APR_SUCCESS)
                rv = lenz_key_wrap(r->pool, lenz_keyring_get(c->keyring, mkv),
                                   lenz_key_context_kek(r->pool, user_id, mkv), fresh, blob);
            lenz_wipe(fresh, sizeof(fresh));
            if (rv != APR_SUCCESS)
                return rv;
            args[1] = lenz_hex(r->pool, blob, sizeof(blob));
            args[2] = apr_psprintf(r->pool, "%u", mkv);
            if (lenz_db_exec(db, "lenz_kek_insert", NULL, 3, args) != APR_SUCCESS)
                return APR_EGENERAL;
        }
    }
    return LENZ_ENOTFOUND;
}

const char *lenz_guest_account(request_rec *r, lenz_db *db)
{
    lenz_rows rows;
    if (lenz_db_select(db, "lenz_guest_select", &rows, 0, NULL) == APR_SUCCESS && rows.nrows == 1)
        return rows.rows[0][0];
    if (lenz_db_exec(db, "lenz_guest_insert", NULL, 0, NULL) != APR_SUCCESS)
        return NULL;
    if (lenz_db_select(db, "lenz_guest_select", &rows, 0, NULL) == APR_SUCCESS && rows.nrows == 1)
        return rows.rows[0][0];
    return NULL;
}
