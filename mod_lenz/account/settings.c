/* settings.c - what a member changes about their own account (issue 19):
 * their name, their password (with the current one), and their devices:
 * each browser session and each app sign-in (token family), ended one at
 * a time or all but the one in use.  Behind both /account/settings and
 * /api/v1/me (h_settings.c).  Ending a session deletes its row and a
 * family is revoked: every process and host sees that at the caller's
 * next request, since each request looks its session or family up. */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "accounts.h"
#include "acct_int.h"
#include "settings.h"
#include "httpd/config.h"
#include "httpd/pwgate.h"
#include "httpd/outbox.h"
#include "token.h"
#include "codec.h"
#include "names.h"
#include "err.h"
#include "jobs/mailjob.h"

#define ISO(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

const lenz_stmt lenz_settings_stmts[] = {
    { "lenz_set_me",
      "SELECT u.name, u.email, u.totp_enabled, "
      "(SELECT count(*) FROM recovery_codes c WHERE c.user_id = u.id AND c.used_at IS NULL) "
      "FROM users u WHERE u.id = %s::uuid" },
    { "lenz_set_name",
      "UPDATE users SET name = %s, updated_at = now() WHERE id = %s::uuid AND status = 'active'" },
    { "lenz_set_other_sessions_end",
      "DELETE FROM sessions WHERE user_id = %s::uuid AND id_hash <> decode(%s, 'hex')" },
    { "lenz_set_other_families_end",
      "UPDATE token_families SET revoked_at = now(), revoke_reason = %s "
      "WHERE user_id = %s::uuid AND revoked_at IS NULL AND id::text <> %s" },
    /* Live sessions and app sign-ins, newest use first. */
    { "lenz_set_devices",
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
    { "lenz_set_session_end",
      "DELETE FROM sessions WHERE user_id = %s::uuid AND id::text = %s RETURNING user_agent" },
    { "lenz_set_family_end",
      "UPDATE token_families SET revoked_at = now(), revoke_reason = 'ended by its member' "
      "WHERE user_id = %s::uuid AND id::text = %s AND revoked_at IS NULL RETURNING user_agent" },
    { NULL }
};

/* What identifies the caller's own device: the session's hash (hex) and
 * the app sign-in's family ("" when not that way). */
static void current_device(request_rec *r, lenz_req *lr, const char **session_hex, const char **family)
{
    unsigned char h[32];
    const char *tok = lr->user->session_token;
    *session_hex = "";
    *family = "";
    if (lr->user->via == LENZ_VIA_SESSION && tok && lenz_token_hash(tok, strlen(tok), h) == APR_SUCCESS)
        *session_hex = lenz_hex(r->pool, h, sizeof(h));
    if (lr->user->via == LENZ_VIA_BEARER && lr->user->family)
        *family = lr->user->family;
}

static apr_status_t event(request_rec *r, lenz_db *db, const char *type, const char *user, const char *what)
{
    lenz_json *ev = lenz_json_new_object(r->pool);
    if (what)
        lenz_json_set_str(ev, "device", what);
    lenz_json_set_str(ev, "ip", r->useragent_ip);
    return lenz_event_emit(db, type, user, user, ev);
}

int lenz_acct_name_problem(const char *name)
{
    const unsigned char *c;
    if (!name || !*name || strlen(name) > 100)
        return 1;
    for (c = (const unsigned char *)name; *c; c++)
        if (apr_iscntrl(*c))
            return 1;
    return lenz_name_has_bidi(name);
}

void lenz_acct_set_name(request_rec *r, lenz_req *lr, const char *name, lenz_acct_result *res)
{
    const char *args[2] = { name, lr->user->id };
    lenz_db *db;
    apr_status_t rv;
    int n = 0;

    memset(res, 0, sizeof(*res));
    if (lenz_acct_name_problem(name)) {
        lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-field", "Check the name",
                      "name: 1 to 100 bytes, no control or bidirectional characters", "name");
        return;
    }
    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    lenz_db_begin(db);
    rv = lenz_db_exec(db, "lenz_set_name", &n, 2, args);
    if (rv == APR_SUCCESS && n == 1)
        rv = event(r, db, "user.renamed", lr->user->id, NULL);
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS || n != 1)
        lenz_acct_unavailable(res);
    else {
        lr->user->name = name;
        res->status = HTTP_OK;
    }
}

void lenz_acct_change_password(request_rec *r, lenz_req *lr, const char *current, const char *password,
                               int end_others, lenz_acct_result *res)
{
    lenz_acct_attempt_t at;
    const char *hash, *args[3], *sess, *fam, **row;
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!lenz_acct_password_ok(r, res, password))
        return;
    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    lenz_db_begin(db);
    args[0] = lr->user->id;
    if (lenz_db_select(db, "lenz_acct_by_id", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        lenz_acct_unavailable(res);
        return;
    }
    row = rows.rows[0];
    /* As a sign-in try: the current password is not an oracle either. */
    if (!lenz_acct_attempt(r, row[C_EMAIL], &at, res)) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        return;
    }
    rv = row[C_HASH] ? lenz_pw_verify(r, current, row[C_HASH]) : LENZ_EAUTH;
    if (rv == APR_SUCCESS)
        lenz_acct_attempt_ok(r, &at);
    else if (rv == LENZ_EUNAVAIL)
        lenz_acct_attempt_undo(r, &at);
    if (rv == APR_SUCCESS && (rv = lenz_pw_hash(r, password, NULL, &hash)) == APR_SUCCESS) {
        args[0] = hash;
        args[1] = lr->user->id;
        rv = lenz_db_exec(db, "lenz_acct_set_password", NULL, 2, args);
        current_device(r, lr, &sess, &fam);
        if (rv == APR_SUCCESS && end_others) {
            args[0] = lr->user->id;
            args[1] = sess;
            rv = lenz_db_exec(db, "lenz_set_other_sessions_end", NULL, 2, args);
            args[0] = "password changed";
            args[1] = lr->user->id;
            args[2] = fam;
            if (rv == APR_SUCCESS)
                rv = lenz_db_exec(db, "lenz_set_other_families_end", NULL, 3, args);
        }
        if (rv == APR_SUCCESS) {
            lenz_json *d = lenz_acct_mail_data(r, row[C_NAME]);
            char when[APR_RFC822_DATE_LEN];
            apr_rfc822_date(when, apr_time_now());
            lenz_json_set_str(d, "what", "Your password was changed");
            lenz_json_set_str(d, "when", when);
            lenz_json_set_str(d, "ip", r->useragent_ip);
            rv = lenz_mail_enqueue(db, "security_notice", row[C_EMAIL], "Your password was changed", d);
        }
        if (rv == APR_SUCCESS)
            rv = event(r, db, "user.password_changed", lr->user->id, NULL);
        if (rv != APR_SUCCESS)
            rv = APR_EGENERAL;
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv == LENZ_EAUTH)
        lenz_acct_set(res, HTTP_FORBIDDEN, "invalid-credentials", "Wrong password",
                      "the current password is wrong", "current_password");
    else if (rv == LENZ_EUNAVAIL)
        lenz_acct_busy(res);
    else if (rv != APR_SUCCESS)
        lenz_acct_unavailable(res);
    else
        res->status = HTTP_OK;
}

apr_status_t lenz_acct_devices(request_rec *r, lenz_req *lr, lenz_db *db, lenz_rows *rows)
{
    const char *args[6], *sess, *fam;
    current_device(r, lr, &sess, &fam);
    args[0] = sess;
    args[1] = lr->user->id;
    args[2] = apr_itoa(r->pool, lenz_cfg_session_idle(lr->srv));
    args[3] = fam;
    args[4] = lr->user->id;
    return lenz_db_select(db, "lenz_set_devices", rows, 5, args);
}

void lenz_acct_device_json(lenz_json *o, const char **row)
{
    lenz_json_set_str(o, "id", row[1]);
    lenz_json_set_str(o, "kind", row[0]);
    lenz_json_set_str(o, "client", row[2]);
    lenz_json_set_str(o, "ip", row[3]);
    lenz_json_set_str(o, "created_at", row[4]);
    lenz_json_set_str(o, "last_used_at", row[5]);
    lenz_json_set_bool(o, "current", row[6][0] == 't');
}

void lenz_acct_device_end(request_rec *r, lenz_req *lr, const char *id, lenz_acct_result *res)
{
    const char *args[2] = { lr->user->id, id };
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!id || !lenz_uuid_ok(id)) {
        lenz_acct_set(res, HTTP_NOT_FOUND, "not-found", "Not found", "no such device of yours", NULL);
        return;
    }
    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    lenz_db_begin(db);
    rv = lenz_db_select(db, "lenz_set_session_end", &rows, 2, args);
    if (rv == APR_SUCCESS && rows.nrows == 0)
        rv = lenz_db_select(db, "lenz_set_family_end", &rows, 2, args);
    if (rv == APR_SUCCESS && rows.nrows == 1)
        rv = event(r, db, "user.device_ended", lr->user->id, rows.rows[0][0] ? rows.rows[0][0] : "");
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        lenz_acct_unavailable(res);
    else if (rows.nrows != 1)
        lenz_acct_set(res, HTTP_NOT_FOUND, "not-found", "Not found", "no such device of yours", NULL);
    else
        res->status = HTTP_OK;
}

void lenz_acct_devices_end_others(request_rec *r, lenz_req *lr, lenz_acct_result *res)
{
    const char *args[3], *sess, *fam;
    lenz_db *db;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    current_device(r, lr, &sess, &fam);
    lenz_db_begin(db);
    args[0] = lr->user->id;
    args[1] = sess;
    rv = lenz_db_exec(db, "lenz_set_other_sessions_end", NULL, 2, args);
    args[0] = "signed out elsewhere";
    args[1] = lr->user->id;
    args[2] = fam;
    if (rv == APR_SUCCESS)
        rv = lenz_db_exec(db, "lenz_set_other_families_end", NULL, 3, args);
    if (rv == APR_SUCCESS)
        rv = event(r, db, "user.devices_ended", lr->user->id, NULL);
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS)
        lenz_acct_unavailable(res);
    else
        res->status = HTTP_OK;
}
