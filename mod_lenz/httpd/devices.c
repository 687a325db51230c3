/* devices.c - a member's devices (devices.h). */
#include <apr_strings.h>

#include "lenz.h"
#include "devices.h"
#include "config.h"
#include "codec.h"
#include "err.h"

#define ISO(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

const lenz_stmt lenz_devices_stmts[] = {
    /* Live sessions and app sign-ins (a family with an unspent refresh
     * token), newest use first. */
    { "lenz_devices",
      "SELECT * FROM ("
      "SELECT 'session' AS kind, s.id::text, s.user_agent, s.ip, " ISO("s.created_at") ", "
      ISO("s.last_seen_at") " AS last, (s.id_hash = decode(%s, 'hex')), s.last_seen_at AS t "
      "FROM sessions s WHERE s.user_id = %s::uuid AND s.expires_at > now() "
      "AND s.last_seen_at > now() - make_interval(secs => %s::int) "
      "UNION ALL "
      "SELECT 'app', f.id::text, f.user_agent, f.ip, " ISO("f.created_at") ", " ISO("f.last_used_at") ", "
      "(f.id::text = %s), f.last_used_at "
      "FROM token_families f WHERE f.user_id = %s::uuid AND f.revoked_at IS NULL "
      "AND EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = f.id AND r.expires_at > now() "
      "AND r.used_at IS NULL)) d ORDER BY t DESC, 2 LIMIT 200" },
    { "lenz_device_session_end",
      "DELETE FROM sessions WHERE user_id = %s::uuid AND id::text = %s RETURNING user_agent" },
    { "lenz_device_family_end",
      "UPDATE token_families SET revoked_at = now(), revoke_reason = %s "
      "WHERE user_id = %s::uuid AND id::text = %s AND revoked_at IS NULL RETURNING user_agent" },
    { NULL }
};

apr_status_t lenz_devices_list(request_rec *r, lenz_db *db, const char *user, const char *session_hex,
                               const char *family, lenz_rows *rows)
{
    const char *args[5];
    args[0] = session_hex;
    args[1] = user;
    args[2] = apr_itoa(r->pool, lenz_cfg_session_idle(lenz_srv(r->server)));
    args[3] = family;
    args[4] = user;
    return lenz_db_select(db, "lenz_devices", rows, 5, args);
}

void lenz_device_json(lenz_json *o, const char **row)
{
    lenz_json_set_str(o, "id", row[1]);
    lenz_json_set_str(o, "kind", row[0]);
    lenz_json_set_str(o, "client", row[2]);
    lenz_json_set_str(o, "ip", row[3]);
    lenz_json_set_str(o, "created_at", row[4]);
    lenz_json_set_str(o, "last_used_at", row[5]);
    lenz_json_set_bool(o, "current", row[6][0] == 't');
}

apr_status_t lenz_device_end(lenz_db *db, const char *user, const char *id, const char *why,
                             const char **client)
{
    const char *args[3] = { user, id, NULL };
    lenz_rows rows;
    apr_status_t rv;

    if (!id || !lenz_uuid_ok(id))
        return LENZ_ENOTFOUND;
    rv = lenz_db_select(db, "lenz_device_session_end", &rows, 2, args);
    if (rv == APR_SUCCESS && rows.nrows == 0) {
        args[0] = why;
        args[1] = user;
        args[2] = id;
        rv = lenz_db_select(db, "lenz_device_family_end", &rows, 3, args);
    }
    if (rv != APR_SUCCESS)
        return rv;
    if (rows.nrows != 1)
        return LENZ_ENOTFOUND;
    *client = rows.rows[0][0] ? rows.rows[0][0] : "";
    return APR_SUCCESS;
}
