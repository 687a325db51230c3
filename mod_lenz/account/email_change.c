/* email_change.c - a member moves their account to another e-mail address
 * (issue 19): they give the new address and their password (a sign-in
 * try); a code goes to the new address (10 minutes, 5 tries); the code and
 * the address again switch it, and the old address is told.  Nothing
 * changes until the code comes back, so a typo costs nothing.  An address
 * another account has is refused at that point (409), to the one who
 * proved they hold it; before, every request answers alike. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "accounts.h"
#include "acct_int.h"
#include "settings.h"
#include "httpd/otp.h"
#include "httpd/pwgate.h"
#include "httpd/outbox.h"
#include "jobs/mailjob.h"
#include "err.h"

const lenz_stmt lenz_email_change_stmts[] = {
    { "lenz_email_taken",
      "SELECT 1 FROM users WHERE email = %s AND id <> %s::uuid" },
    { "lenz_email_set",
      "UPDATE users SET email = %s, updated_at = now() WHERE id = %s::uuid RETURNING email" },
    { NULL }
};

static const char *purpose(request_rec *r, const char *email)
{
    return apr_pstrcat(r->pool, "email:", lenz_acct_lower(r->pool, email), NULL);
}

void lenz_acct_email_start(request_rec *r, lenz_req *lr, const char *email, const char *password,
                           lenz_acct_result *res)
{
    const char *code, **row;
    lenz_json *d, *secret;
    lenz_db *db;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!lenz_acct_email_ok(r, res, email))
        return;
    if (strcasecmp(email, lr->user->email) == 0) {
        lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-field", "Same address",
                      "email: that is the account's address already", "email");
        return;
    }
    /* Codes to an address the member does not hold are mail to a
     * stranger: a few an hour. */
    if (!lenz_acct_allow(r, res, "email-change", lr->user->id, 5, 3600))
        return;
    if ((rv = lenz_acct_own_password(r, lr, password, &db, &row, res)) == APR_EGENERAL)
        return;
    if (rv == APR_SUCCESS)
        rv = lenz_otp_issue(r, db, purpose(r, email), lr->user->id, LENZ_OTP_TTL, &code);
    if (rv == APR_SUCCESS) {
        secret = lenz_json_new_object(r->pool);
        d = lenz_acct_mail_data(r, row[C_NAME]);
        lenz_json_set_str(secret, "code", code);
        lenz_json_set_int(d, "minutes", LENZ_OTP_TTL / 60);
        rv = lenz_mail_enqueue_sealed(db, "email_code", email, "Your Lenzeye code for this address", d, secret, NULL);
        if (rv == LENZ_EFORMAT)
            rv = APR_SUCCESS;           /* the mailer refuses it: no code arrives, as for a typo */
        else if (rv != APR_SUCCESS)
            rv = APR_EGENERAL;
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv == LENZ_EAUTH)
        lenz_acct_set(res, HTTP_FORBIDDEN, "invalid-credentials", "Wrong password", "the password is wrong", "password");
    else if (rv == LENZ_EUNAVAIL)
        lenz_acct_busy(res);
    else if (rv != APR_SUCCESS)
        lenz_acct_unavailable(res);
    else
        res->status = HTTP_ACCEPTED;
}

void lenz_acct_email_confirm(request_rec *r, lenz_req *lr, const char *email, const char *code,
                             lenz_acct_result *res)
{
    const char *args[2], *old = lr->user->email;
    lenz_rows rows;
    lenz_json *d, *ev;
    lenz_db *db;
    apr_status_t rv;
    char when[APR_RFC822_DATE_LEN];

    memset(res, 0, sizeof(*res));
    if (!lenz_acct_email_ok(r, res, email))
        return;
    if (!(db = lenz_db_open(r))) {
        lenz_acct_unavailable(res);
        return;
    }
    /* The code is checked (and spent, or a try counted) in its own
     * transaction (otp.c); the change follows in another. */
    rv = lenz_otp_check(r, db, purpose(r, email), lr->user->id, code ? code : "");
    if (rv == LENZ_EAUTH || rv == LENZ_EEXPIRED) {
        lenz_db_close(db);
        if (rv == LENZ_EAUTH)
            lenz_acct_set(res, HTTP_BAD_REQUEST, "invalid-code", "Wrong code", "the code is wrong", "code");
        else
            lenz_acct_set(res, HTTP_GONE, "code-expired", "Code no longer valid",
                          "the code expired or was tried too often; ask for a new one", "code");
        return;
    }
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        lenz_acct_unavailable(res);
        return;
    }
    args[0] = lenz_acct_lower(r->pool, email);
    args[1] = lr->user->id;
    lenz_db_begin(db);
    rv = lenz_db_select(db, "lenz_email_taken", &rows, 2, args);
    if (rv == APR_SUCCESS && rows.nrows > 0) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        lenz_acct_set(res, HTTP_CONFLICT, "email-taken", "Address in use",
                      "another account has this address", "email");
        return;
    }
    if (rv == APR_SUCCESS)
        rv = lenz_db_select(db, "lenz_email_set", &rows, 2, args);
    if (rv == APR_SUCCESS) {
        /* The old address hears of it: a stolen session cannot move the
         * account away unseen. */
        d = lenz_acct_mail_data(r, lr->user->name);
        apr_rfc822_date(when, apr_time_now());
        lenz_json_set_str(d, "what", apr_pstrcat(r->pool, "The account's e-mail address was changed to ",
                                                 args[0], NULL));
        lenz_json_set_str(d, "when", when);
        lenz_json_set_str(d, "ip", r->useragent_ip);
        rv = lenz_mail_enqueue(db, "security_notice", old, "Your e-mail address was changed", d);
        if (rv == LENZ_EFORMAT)
            rv = APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "from", old);
        lenz_json_set_str(ev, "to", args[0]);
        lenz_json_set_str(ev, "ip", r->useragent_ip);
        rv = lenz_event_emit(db, "user.email_changed", lr->user->id, lr->user->id, ev);
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS) {
        lenz_acct_unavailable(res);
        return;
    }
    lr->user->email = args[0];
    res->status = HTTP_OK;
}
