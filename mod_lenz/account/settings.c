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
#include "httpd/devices.h"
#include "token.h"
#include "codec.h"
#include "names.h"
#include "err.h"
#include "jobs/mailjob.h"


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

apr_status_t lenz_acct_own_password(request_rec *r, lenz_req *lr, const char *password, lenz_db **dbp,
                                    const char ***rowp, lenz_acct_result *res)
{
    lenz_acct_attempt_t at;
    const char *args[1] = { lr->user->id }, **row;
    lenz_rows rows;
    lenz_db *db;
    apr_status_t rv;

    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return APR_EGENERAL;
    }
    lenz_db_begin(db);
    if (lenz_db_select(db, "lenz_acct_by_id", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        lenz_acct_unavailable(res);
        return APR_EGENERAL;
    }
    row = rows.rows[0];
    /* As a sign-in try: the password is not an oracle here either. */
    if (!lenz_acct_attempt(r, row[C_EMAIL], &at, res)) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        return APR_EGENERAL;
    }
    rv = row[C_HASH] && password ? lenz_pw_verify(r, password, row[C_HASH]) : LENZ_EAUTH;
    if (rv == APR_SUCCESS)
        lenz_acct_attempt_ok(r, &at);
    else if (rv == LENZ_EUNAVAIL)
        lenz_acct_attempt_undo(r, &at);
    else if (rv != LENZ_EAUTH)
        rv = LENZ_EUPSTREAM;            /* could not be checked (not APR_EGENERAL: "answered") */
    *dbp = db;
    *rowp = row;
    return rv;
}

void lenz_acct_change_password(request_rec *r, lenz_req *lr, const char *current, const char *password,
                               int end_others, lenz_acct_result *res)
{
    const char *hash, *args[3], *sess, *fam, **row;
    lenz_db *db;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!lenz_acct_password_ok(r, res, password))
        return;
    if ((rv = lenz_acct_own_password(r, lr, current, &db, &row, res)) == APR_EGENERAL)
        return;
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
    const char *sess, *fam;
    current_device(r, lr, &sess, &fam);
    return lenz_devices_list(r, db, lr->user->id, sess, fam, rows);
}

void lenz_acct_device_end(request_rec *r, lenz_req *lr, const char *id, lenz_acct_result *res)
{
    const char *client = NULL;
    lenz_db *db;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    lenz_db_begin(db);
    rv = lenz_device_end(db, lr->user->id, id, "ended by its member", &client);
    if (rv == APR_SUCCESS)
        rv = event(r, db, "user.device_ended", lr->user->id, client);
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv == LENZ_ENOTFOUND)
        lenz_acct_set(res, HTTP_NOT_FOUND, "not-found", "Not found", "no such device of yours", NULL);
    else if (rv != APR_SUCCESS)
        lenz_acct_unavailable(res);
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
