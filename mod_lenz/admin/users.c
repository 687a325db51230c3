/* users.c - administrators and members' accounts (users.h). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "users.h"
#include "httpd/config.h"
#include "httpd/outbox.h"
#include "httpd/devices.h"
#include "jobs/mailjob.h"
#include "jobs/jobs.h"
#include "jobs/jobkinds.h"
#include "httpd/otp.h"
#include "roles.h"
#include "codec.h"
#include "err.h"

#define ISO(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define USER_COLS \
    "u.id, u.email, u.name, u.status, u.roles::text, " ISO("u.created_at") ", u.totp_enabled, " \
    "coalesce((SELECT s.used FROM storage_usage s WHERE s.user_id = u.id), 0), " \
    "(SELECT " ISO("max(x.last_seen_at)") " FROM sessions x WHERE x.user_id = u.id), u.quota"

/* Roles an administrator sets; others a member may hold (another
 * module's) are kept as they are, and "system" accounts are not members. */
static const char *const settable[] = { "member", "lab", "moderator", "admin" };

const lenz_stmt lenz_admin_users_stmts[] = {
    /* By the start of the address, of the name or of a word in it, or
     * near enough (pg_trgm) for a typo; best first. */
    { "lenz_adm_search",
      "SELECT " USER_COLS " FROM users u, lower(coalesce(%s, '')) AS q "
      "WHERE NOT ('system' = ANY (u.roles)) AND (q = '' OR starts_with(lower(u.email::text), q) "
      "OR position(' ' || q IN ' ' || lower(u.name)) > 0 OR word_similarity(q, lower(u.name)) >= 0.4 "
      "OR word_similarity(q, lower(u.email::text)) >= 0.4) "
      "ORDER BY CASE WHEN q = '' THEN 0 ELSE greatest(word_similarity(q, lower(u.name)), "
      "word_similarity(q, lower(u.email::text))) END DESC, u.created_at DESC, u.id "
      "LIMIT " APR_STRINGIFY(LENZ_ADM_PAGE) " + 1 OFFSET %s::int" },
    { "lenz_adm_user",
      "SELECT " USER_COLS " FROM users u WHERE u.id = %s::uuid AND NOT ('system' = ANY (u.roles))" },
    /* Every active admin, locked: who may lose the role is decided on
     * rows no one else changes meanwhile. */
    { "lenz_adm_admins",
      "SELECT id FROM users WHERE 'admin' = ANY (roles) AND status = 'active' ORDER BY id FOR UPDATE" },
    { "lenz_adm_roles_before",
      "SELECT roles::text FROM users WHERE id = %s::uuid AND NOT ('system' = ANY (roles)) FOR UPDATE" },
    { "lenz_adm_roles_set",
      "UPDATE users SET roles = ARRAY(SELECT x FROM unnest(roles) x "
      "WHERE x NOT IN ('member', 'lab', 'moderator', 'admin')) || string_to_array(%s, ','), updated_at = now() "
      "WHERE id = %s::uuid RETURNING roles::text" },
    { "lenz_adm_totp_reset",
      "UPDATE users SET totp_enabled = false, totp_secret = NULL, totp_kek_version = NULL, "
      "totp_pending_secret = NULL, totp_pending_kek_version = NULL, updated_at = now() "
      "WHERE id = %s::uuid AND NOT ('system' = ANY (roles)) RETURNING email, name, totp_enabled" },
    { "lenz_adm_recovery_clear", "DELETE FROM recovery_codes WHERE user_id = %s::uuid" },
    { "lenz_adm_status",
      "UPDATE users SET status = %s, updated_at = now() WHERE id = %s::uuid "
      "AND NOT ('system' = ANY (roles)) AND status <> 'pending'" },
    { "lenz_adm_end_sessions", "DELETE FROM sessions WHERE user_id = %s::uuid" },
    { "lenz_adm_pending",
      "SELECT email, name, status FROM users WHERE id = %s::uuid AND NOT ('system' = ANY (roles))" },
    { "lenz_adm_quota",
      "UPDATE users SET quota = %s::bigint, updated_at = now() WHERE id = %s::uuid "
      "AND NOT ('system' = ANY (roles)) RETURNING id" },
    { "lenz_adm_delete_mark",
      "UPDATE users SET status = 'disabled', deleting_at = now(), updated_at = now() "
      "WHERE id = %s::uuid AND NOT ('system' = ANY (roles)) AND deleting_at IS NULL RETURNING email" },
    { "lenz_adm_revoke_families",
      "UPDATE token_families SET revoked_at = now(), revoke_reason = 'disabled by an administrator' "
      "WHERE user_id = %s::uuid AND revoked_at IS NULL" },
    { NULL }
};

static void set_rc(lenz_adm_rc *rc, int status, const char *slug, const char *detail)
{
    rc->status = status;
    rc->slug = slug;
    rc->detail = detail;
}

static apr_status_t audit(request_rec *r, lenz_db *db, const char *type, const char *admin, const char *id,
                          lenz_json *ev)
{
    lenz_json_set_str(ev, "ip", r->useragent_ip);
    return lenz_event_emit(db, type, admin, id, ev);
}

apr_status_t lenz_adm_search(request_rec *r, lenz_db *db, const char *q, int offset, lenz_rows *rows)
{
    const char *args[2];
    args[0] = q && *q ? q : NULL;
    args[1] = apr_itoa(r->pool, offset);
    return lenz_db_select(db, "lenz_adm_search", rows, 2, args);
}

apr_status_t lenz_adm_user(lenz_db *db, const char *id, lenz_rows *rows)
{
    const char *args[1] = { id };
    if (!id || !lenz_uuid_ok(id)) {
        rows->nrows = 0;
        return APR_SUCCESS;
    }
    return lenz_db_select(db, "lenz_adm_user", rows, 1, args);
}

void lenz_adm_user_json(lenz_json *o, const char **row)
{
    lenz_json *roles = lenz_json_obj_add_array(o, "roles");
    unsigned bits = lenz_roles_parse(row[4]);
    apr_size_t i;
    lenz_json_set_str(o, "id", row[0]);
    lenz_json_set_str(o, "email", row[1]);
    lenz_json_set_str(o, "name", row[2]);
    lenz_json_set_str(o, "status", row[3]);
    for (i = 0; i < sizeof(settable) / sizeof(settable[0]); i++)
        if (bits & lenz_role_bit(settable[i], strlen(settable[i])))
            lenz_json_arr_add_str(roles, settable[i]);
    lenz_json_set_str(o, "created_at", row[5]);
    lenz_json_set_bool(o, "totp", row[6][0] == 't');
    lenz_json_set_int(o, "used", apr_atoi64(row[7]));
    lenz_json_set_str(o, "last_seen_at", row[8]);
    if (row[9])
        lenz_json_set_int(o, "quota", apr_atoi64(row[9]));
    else
        lenz_json_set_null(o, "quota");             /* the site's LenzMemberQuota */
}

/* "a,b" from the list, each a settable name, without repeats: the
 * canonical text, or NULL. */
static const char *roles_ok(apr_pool_t *p, const char *list, int *admin)
{
    char *copy = apr_pstrdup(p, list), *last, *t;
    unsigned seen = 0;
    const char *out = NULL;
    apr_size_t i;
    *admin = 0;
    for (t = apr_strtok(copy, ", ", &last); t; t = apr_strtok(NULL, ", ", &last)) {
        for (i = 0; i < sizeof(settable) / sizeof(settable[0]); i++)
            if (strcmp(t, settable[i]) == 0)
                break;
        if (i == sizeof(settable) / sizeof(settable[0]))
            return NULL;
        if (seen & (1u << i))
            continue;
        seen |= 1u << i;
        out = out ? apr_pstrcat(p, out, ",", t, NULL) : t;
    }
    *admin = (seen & (1u << 3)) != 0;
    return out ? out : "";
}

void lenz_adm_set_roles(request_rec *r, lenz_db *db, const char *admin, const char *id, const char *roles,
                        lenz_adm_rc *rc)
{
    const char *args[2], *canon, *before;
    lenz_rows admins, rows;
    lenz_json *ev;
    apr_status_t rv;
    int to_admin, was_admin, i, others = 0;

    memset(rc, 0, sizeof(*rc));
    if (!roles || !(canon = roles_ok(r->pool, roles, &to_admin))) {
        set_rc(rc, HTTP_BAD_REQUEST, "invalid-field", "roles: names from admin, lab, moderator, member");
        return;
    }
    if (!id || !lenz_uuid_ok(id)) {
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
        return;
    }
    lenz_db_begin(db);
    rv = lenz_db_select(db, "lenz_adm_admins", &admins, 0, NULL);
    args[0] = id;
    if (rv == APR_SUCCESS)
        rv = lenz_db_select(db, "lenz_adm_roles_before", &rows, 1, args);
    if (rv != APR_SUCCESS) {
        lenz_db_end(db, 1);
        set_rc(rc, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "try again shortly");
        return;
    }
    if (rows.nrows != 1) {
        lenz_db_end(db, 1);
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
        return;
    }
    before = rows.rows[0][0];
    was_admin = (lenz_roles_parse(before) & LENZ_ROLE_ADMIN) != 0;
    for (i = 0; i < admins.nrows; i++)
        others += strcmp(admins.rows[i][0], id) != 0;
    if (was_admin && !to_admin && strcmp(id, admin) == 0) {
        lenz_db_end(db, 1);
        set_rc(rc, HTTP_CONFLICT, "own-admin-role", "administrators cannot take their own admin role away");
        return;
    }
    if (was_admin && !to_admin && others == 0) {
        lenz_db_end(db, 1);
        set_rc(rc, HTTP_CONFLICT, "last-admin", "this is the last active administrator");
        return;
    }
    args[0] = canon;
    args[1] = id;
    rv = lenz_db_select(db, "lenz_adm_roles_set", &rows, 2, args);
    if (rv == APR_SUCCESS) {
        ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "before", before);
        lenz_json_set_str(ev, "after", rows.nrows == 1 ? rows.rows[0][0] : canon);
        rv = audit(r, db, "admin.roles_changed", admin, id, ev);
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    if (rv != APR_SUCCESS)
        set_rc(rc, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "try again shortly");
}

void lenz_adm_end_device(request_rec *r, lenz_db *db, const char *admin, const char *id, const char *device,
                         lenz_adm_rc *rc)
{
    const char *client = NULL;
    lenz_json *ev;
    apr_status_t rv;

    memset(rc, 0, sizeof(*rc));
    if (!id || !lenz_uuid_ok(id)) {
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such device of that user");
        return;
    }
    lenz_db_begin(db);
    rv = lenz_device_end(db, id, device, "ended by an administrator", &client);
    if (rv == APR_SUCCESS) {
        ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "device", device);
        lenz_json_set_str(ev, "client", client);
        rv = audit(r, db, "admin.device_ended", admin, id, ev);
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    if (rv == LENZ_ENOTFOUND)
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such device of that user");
    else if (rv != APR_SUCCESS)
        set_rc(rc, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "try again shortly");
}

void lenz_adm_reset_totp(request_rec *r, lenz_db *db, const char *admin, const char *id, lenz_adm_rc *rc)
{
    const char *args[1] = { id };
    lenz_rows rows;
    lenz_json *ev, *d;
    char when[APR_RFC822_DATE_LEN];
    apr_status_t rv;

    memset(rc, 0, sizeof(*rc));
    if (!id || !lenz_uuid_ok(id)) {
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
        return;
    }
    lenz_db_begin(db);
    rv = lenz_db_select(db, "lenz_adm_totp_reset", &rows, 1, args);
    if (rv == APR_SUCCESS && rows.nrows == 1)
        rv = lenz_db_exec(db, "lenz_adm_recovery_clear", NULL, 1, args);
    if (rv == APR_SUCCESS && rows.nrows == 1) {
        /* The member hears of it: nobody should lose a factor unseen. */
        d = lenz_json_new_object(r->pool);
        apr_rfc822_date(when, apr_time_now());
        lenz_json_set_str(d, "name", *rows.rows[0][1] ? rows.rows[0][1] : "there");
        lenz_json_set_str(d, "what", "Two-factor sign-in was switched off by an administrator");
        lenz_json_set_str(d, "when", when);
        lenz_json_set_str(d, "ip", r->useragent_ip);
        lenz_json_set_str(d, "site_url", lenz_srv(r->server)->public_url);
        rv = lenz_mail_enqueue(db, "security_notice", rows.rows[0][0], "Two-factor sign-in changed", d);
        if (rv == APR_SUCCESS) {
            ev = lenz_json_new_object(r->pool);
            rv = audit(r, db, "admin.totp_reset", admin, id, ev);
        }
    }
    lenz_db_end(db, rv != APR_SUCCESS || rows.nrows != 1);
    if (rv != APR_SUCCESS)
        set_rc(rc, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "try again shortly");
    else if (rows.nrows != 1)
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
}

void lenz_adm_set_status(request_rec *r, lenz_db *db, const char *admin, const char *id, const char *status,
                         lenz_adm_rc *rc)
{
    const char *args[2];
    lenz_json *ev;
    apr_status_t rv;
    int n = 0;

    memset(rc, 0, sizeof(*rc));
    if (!id || !lenz_uuid_ok(id)) {
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
        return;
    }
    if (strcmp(id, admin) == 0) {
        set_rc(rc, HTTP_CONFLICT, "self", "administrators cannot change their own status");
        return;
    }
    lenz_db_begin(db);
    args[0] = status;
    args[1] = id;
    rv = lenz_db_exec(db, "lenz_adm_status", &n, 2, args);
    /* A disabled account is out at once: its sessions and tokens end. */
    if (rv == APR_SUCCESS && n == 1 && strcmp(status, "disabled") == 0) {
        args[0] = id;
        rv = lenz_db_exec(db, "lenz_adm_end_sessions", NULL, 1, args);
        if (rv == APR_SUCCESS)
            rv = lenz_db_exec(db, "lenz_adm_revoke_families", NULL, 1, args);
    }
    if (rv == APR_SUCCESS && n == 1) {
        ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "status", status);
        rv = audit(r, db, "admin.status_changed", admin, id, ev);
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    if (rv != APR_SUCCESS)
        set_rc(rc, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "try again shortly");
    else if (n != 1)
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user (or one whose address is not verified yet)");
}

void lenz_adm_delete(request_rec *r, lenz_db *db, const char *admin, const char *id, lenz_adm_rc *rc)
{
    const char *args[1] = { id };
    lenz_rows rows;
    lenz_json *ev, *pl;
    apr_status_t rv;

    memset(rc, 0, sizeof(*rc));
    if (!id || !lenz_uuid_ok(id)) {
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
        return;
    }
    if (strcmp(id, admin) == 0) {
        set_rc(rc, HTTP_CONFLICT, "self", "administrators cannot delete their own account here");
        return;
    }
    if (lenz_adm_user(db, id, &rows) != APR_SUCCESS) {
        set_rc(rc, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "try again shortly");
        return;
    }
    if (rows.nrows != 1) {
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
        return;
    }
    if (lenz_roles_parse(rows.rows[0][4]) & LENZ_ROLE_ADMIN) {
        set_rc(rc, HTTP_CONFLICT, "is-admin", "take the admin role away first");
        return;
    }
    lenz_db_begin(db);
    rv = lenz_db_select(db, "lenz_adm_delete_mark", &rows, 1, args);
    if (rv == APR_SUCCESS && rows.nrows == 1) {
        /* Out at once: sessions end, app sign-ins are revoked, and a
         * personal access token of a disabled account is refused. */
        rv = lenz_db_exec(db, "lenz_adm_end_sessions", NULL, 1, args);
        if (rv == APR_SUCCESS)
            rv = lenz_db_exec(db, "lenz_adm_revoke_families", NULL, 1, args);
        if (rv == APR_SUCCESS) {
            pl = lenz_json_new_object(r->pool);
            lenz_json_set_str(pl, "user_id", id);
            rv = lenz_job_enqueue(db, LENZ_DELETE_ACCOUNT_KIND, pl, 0, apr_pstrcat(r->pool, "delete-account:", id, NULL));
        }
        if (rv == APR_SUCCESS) {
            ev = lenz_json_new_object(r->pool);
            lenz_json_set_str(ev, "email", rows.rows[0][0]);
            rv = audit(r, db, "admin.account_deleted", admin, id, ev);
        }
    }
    lenz_db_end(db, rv != APR_SUCCESS || rows.nrows != 1);
    if (rv != APR_SUCCESS)
        set_rc(rc, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "try again shortly");
    else if (rows.nrows != 1)
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user (or one being deleted already)");
}

void lenz_adm_set_quota(request_rec *r, lenz_db *db, const char *admin, const char *id, const char *quota,
                        lenz_adm_rc *rc)
{
    const char *args[2] = { quota, id };
    lenz_rows rows;
    lenz_json *ev;
    apr_status_t rv;

    memset(rc, 0, sizeof(*rc));
    if (!id || !lenz_uuid_ok(id)) {
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
        return;
    }
    lenz_db_begin(db);
    rv = lenz_db_select(db, "lenz_adm_quota", &rows, 2, args);
    if (rv == APR_SUCCESS && rows.nrows == 1) {
        ev = lenz_json_new_object(r->pool);
        if (quota)
            lenz_json_set_int(ev, "quota", apr_atoi64(quota));
        else
            lenz_json_set_null(ev, "quota");
        rv = audit(r, db, "admin.quota_changed", admin, id, ev);
    }
    lenz_db_end(db, rv != APR_SUCCESS || rows.nrows != 1);
    if (rv != APR_SUCCESS)
        set_rc(rc, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "try again shortly");
    else if (rows.nrows != 1)
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
}

void lenz_adm_resend(request_rec *r, lenz_db *db, const char *admin, const char *id, lenz_adm_rc *rc)
{
    const char *args[1] = { id }, *code;
    lenz_rows rows;
    lenz_json *d, *secret, *ev;
    apr_status_t rv;

    memset(rc, 0, sizeof(*rc));
    if (!id || !lenz_uuid_ok(id)) {
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
        return;
    }
    lenz_db_begin(db);
    rv = lenz_db_select(db, "lenz_adm_pending", &rows, 1, args);
    if (rv == APR_SUCCESS && rows.nrows == 1 && strcmp(rows.rows[0][2], "pending") == 0) {
        rv = lenz_otp_issue(r, db, "register", id, LENZ_OTP_TTL, &code);
        if (rv == APR_SUCCESS) {
            /* The sign-up code mail, as registration sends it. */
            d = lenz_json_new_object(r->pool);
            secret = lenz_json_new_object(r->pool);
            lenz_json_set_str(d, "name", *rows.rows[0][1] ? rows.rows[0][1] : "there");
            lenz_json_set_str(d, "site_url", lenz_srv(r->server)->public_url);
            lenz_json_set_int(d, "minutes", LENZ_OTP_TTL / 60);
            lenz_json_set_str(secret, "code", code);
            rv = lenz_mail_enqueue_sealed(db, "register_code", rows.rows[0][0], "Your Lenzeye sign-up code", d,
                                          secret, NULL);
        }
        if (rv == APR_SUCCESS) {
            ev = lenz_json_new_object(r->pool);
            rv = audit(r, db, "admin.verification_resent", admin, id, ev);
        }
    }
    lenz_db_end(db, rv != APR_SUCCESS || rows.nrows != 1);
    if (rv != APR_SUCCESS)
        set_rc(rc, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "try again shortly");
    else if (rows.nrows != 1)
        set_rc(rc, HTTP_NOT_FOUND, "not-found", "no such user");
    else if (strcmp(rows.rows[0][2], "pending") != 0)
        set_rc(rc, HTTP_CONFLICT, "not-pending", "this account's address is verified already");
}
