/* h_system.c - the system in the admin console: /admin/system and
 * /api/v1/admin/system.  The module's and httpd's versions, the MPM; the
 * master keys: the current version, which versions the key file holds and
 * how many members' keys each wraps (a rotation is done when every one is
 * on the current version); the settings that matter, secrets masked (the
 * S3 access key to its first four characters, files holding secrets by
 * their path only, a password in the SMTP URL never); the migrations
 * applied. */
#include <apr_strings.h>
#include <ap_mpm.h>

#include "httpd/lenz.h"
#include "area.h"
#include "links_admin.h"
#include "httpd/auth.h"
#include "httpd/problem.h"
#include "httpd/render.h"
#include "httpd/config.h"
#include "keys.h"

#ifndef LENZ_VERSION
#define LENZ_VERSION "unknown"
#endif

const lenz_stmt lenz_admin_system_stmts[] = {
    { "lenz_adm_key_use",
      "SELECT master_key_version, count(*) FROM user_keys GROUP BY 1 ORDER BY 1" },
    { "lenz_adm_migrations",
      "SELECT version, name, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM schema_migrations ORDER BY version" },
    { NULL }
};

static void setting(lenz_json *arr, const char *name, const char *value)
{
    lenz_json *o = lenz_json_arr_add_object(arr);
    lenz_json_set_str(o, "name", name);
    lenz_json_set_str(o, "value", value ? value : "(not set)");
}

/* "smtp://user:secret@host" -> "smtp://user:***@host". */
static const char *url_masked(apr_pool_t *p, const char *url)
{
    const char *at, *scheme, *colon;
    if (!url || !(scheme = strstr(url, "://")) || !(at = strchr(scheme + 3, '@')))
        return url;
    colon = memchr(scheme + 3, ':', (apr_size_t)(at - scheme - 3));
    if (!colon)
        return url;
    return apr_pstrcat(p, apr_pstrmemdup(p, url, (apr_size_t)(colon - url + 1)), "***", at, NULL);
}

static int load(request_rec *r, lenz_req *lr, lenz_json *out)
{
    lenz_srv_cfg *c = lr->srv;
    lenz_json *keys, *arr;
    lenz_rows use, mig;
    lenz_db *db = lenz_db_open(r);
    apr_uint32_t cur = c->keyring ? lenz_keyring_current_version(c->keyring) : 0, v;
    apr_int64_t total = 0, on_current = 0;
    const char *mpm = ap_show_mpm();
    int i, policy = lenz_cfg_upload_policy(c);

    if (!db)
        return 0;
    if (lenz_db_select(db, "lenz_adm_key_use", &use, 0, NULL) != APR_SUCCESS
        || lenz_db_select(db, "lenz_adm_migrations", &mig, 0, NULL) != APR_SUCCESS) {
        lenz_db_close(db);
        return 0;
    }
    lenz_db_close(db);
    lenz_json_set_str(out, "version", LENZ_VERSION);
    lenz_json_set_str(out, "httpd", ap_get_server_banner());
    lenz_json_set_str(out, "mpm", mpm);

    keys = lenz_json_obj_add_object(out, "keys");
    lenz_json_set_int(keys, "current", cur);
    arr = lenz_json_obj_add_array(keys, "versions");
    for (v = 1; v <= cur; v++) {
        apr_int64_t n = 0;
        lenz_json *o;
        for (i = 0; i < use.nrows; i++)
            if ((apr_uint32_t)apr_atoi64(use.rows[i][0]) == v)
                n = apr_atoi64(use.rows[i][1]);
        if (!n && !lenz_keyring_get(c->keyring, v))
            continue;                   /* retired and unused: history */
        o = lenz_json_arr_add_object(arr);
        lenz_json_set_int(o, "version", v);
        lenz_json_set_bool(o, "held", lenz_keyring_get(c->keyring, v) != NULL);
        lenz_json_set_bool(o, "current", v == cur);
        lenz_json_set_int(o, "user_keys", n);
        total += n;
        if (v == cur)
            on_current = n;
    }
    lenz_json_set_int(keys, "user_keys", total);
    lenz_json_set_int(keys, "rotated_percent", total ? on_current * 100 / total : 100);

    arr = lenz_json_obj_add_array(out, "settings");
    setting(arr, "LenzPublicURL", c->public_url);
    setting(arr, "LenzS3Endpoint", c->s3_endpoint);
    setting(arr, "LenzS3Bucket", c->s3_bucket);
    setting(arr, "LenzS3Region", lenz_cfg_region(c));
    setting(arr, "LenzS3AccessKey", c->s3_access_key
            ? apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, c->s3_access_key,
                                                  strlen(c->s3_access_key) < 4 ? 0 : 4), "…", NULL) : NULL);
    setting(arr, "LenzS3SecretFile", c->s3_secret_file);
    setting(arr, "LenzMasterKeyFile", c->master_key_file);
    setting(arr, "LenzSMTPURL", url_masked(r->pool, c->smtp_url));
    setting(arr, "LenzSMTPAuthFile", c->smtp_auth_file);
    setting(arr, "LenzMailFrom", c->mail_from);
    setting(arr, "LenzUploadPolicy", policy == LENZ_POLICY_CHOICE ? "choice"
                                     : policy == LENZ_POLICY_PLAIN ? "plain" : "encrypted");
    setting(arr, "LenzMemberQuota", apr_off_t_toa(r->pool, lenz_cfg_member_quota(c)));
    setting(arr, "LenzTrashDays", apr_itoa(r->pool, lenz_cfg_trash_days(c)));
    setting(arr, "LenzSessionTimeouts", apr_psprintf(r->pool, "%d %d", lenz_cfg_session_idle(c),
                                                     lenz_cfg_session_max(c)));
    setting(arr, "LenzJobs", lenz_cfg_jobs_on(c) ? apr_psprintf(r->pool, "on, %d runners a process",
                                                                 lenz_cfg_job_workers(c)) : "off");
    setting(arr, "LenzEventStreams", apr_psprintf(r->pool, "%d (%d a member)", lenz_cfg_event_streams(c),
                                                  lenz_cfg_event_streams_member(c)));
    setting(arr, "LenzSharedCache", lenz_cfg_shared_cache(c));

    arr = lenz_json_obj_add_array(out, "migrations");
    for (i = 0; i < mig.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_str(o, "version", mig.rows[i][0]);
        lenz_json_set_str(o, "name", mig.rows[i][1]);
        lenz_json_set_str(o, "applied_at", mig.rows[i][2]);
    }
    return 1;
}

static int unavailable(request_rec *r)
{
    return lenz_fail(r, APLOG_ERR, LENZLOGNO(2266), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                     "Service unavailable", "the database is unavailable; try again shortly");
}

static int system_page(request_rec *r, lenz_req *lr)
{
    lenz_json *ctx = lenz_json_new_object(r->pool);
    if (!load(r, lr, ctx))
        return unavailable(r);
    lenz_json_set_str(ctx, "title", "System");
    lenz_json_set_bool(ctx, "nav_system", 1);
    return lenz_render_page(r, HTTP_OK, "admin/system", ctx);
}

static int api_system(request_rec *r, lenz_req *lr)
{
    lenz_json *out = lenz_json_new_object(r->pool);
    if (!load(r, lr, out))
        return unavailable(r);
    return lenz_send_json(r, HTTP_OK, out);
}

const lenz_route lenz_admin_system_routes[] = {
    { LENZ_GET, "/system", system_page, LENZ_ACCESS_ADMIN },
    { 0 }
};

const lenz_route lenz_api_admin_system_routes[] = {
    { LENZ_GET, "/admin/system", api_system, LENZ_ACCESS_ADMIN },
    { 0 }
};
