/* mod_lenz.c - the module record, hook registration and process set-up.
 * Everything else lives in one file per concern (see README). */
#define LENZ_MODULE_C 1
#include <apr_strings.h>

#include "lenz.h"
#include <http_core.h>
#include "netread.h"
#include "config.h"
#include "router.h"
#include "areas.h"
#include "dbd.h"
#include "metrics.h"
#include "http.h"
#include "s3.h"
#include "shared.h"
#include "keystore.h"
#include "auth.h"
#include "accounts.h"
#include "otp.h"
#include "links.h"
#include "uploads.h"
#include "download.h"
#include "notify.h"
#include "jobs.h"
#include "events.h"
#include "schedule.h"
#include "jobkinds.h"
#include "runner.h"

const lenz_area *const lenz_areas[] = {
    &lenz_area_status,
    &lenz_area_api,
    &lenz_area_account,
    &lenz_area_upload,
    &lenz_area_download,
    &lenz_area_events,
    NULL
};

const lenz_stmt *const lenz_shared_stmts[] = {
    lenz_keystore_stmts,
    lenz_auth_stmts,
    lenz_accounts_stmts,
    lenz_otp_stmts,
    lenz_links_stmts,
    lenz_uploads_stmts,
    lenz_download_stmts,
    lenz_api_links_stmts,
    lenz_api_admin_stmts,
    lenz_jobs_stmts,
    lenz_events_stmts,
    lenz_schedule_stmts,
    lenz_purge_stmts,
    lenz_s3abort_stmts,
    lenz_expire_stmts,
    NULL
};

static lenz_http *process_http;

lenz_http *lenz_process_http(void)
{
    return process_http;
}

static int area_index(const lenz_area *a)
{
    int i;
    for (i = 0; lenz_areas[i]; i++)
        if (lenz_areas[i] == a)
            return i;
    return -1;
}

static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    server_rec *sp;
    for (sp = s; sp; sp = sp->next) {
        if (lenz_srv(sp)->enabled) {
            const char *why = lenz_db_check_loaded();
            if (why) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                             LENZLOGNO(0001) "%s", why);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            break;
        }
    }
    return lenz_config_check(pconf, plog, ptemp, s);
}

static void observe_s3(void *baton, const char *op, double seconds, int status)
{
    lenz_metrics_s3(op, seconds, status);
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    server_rec *sp;
    if (lenz_http_global_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, LENZLOGNO(0002) "libcurl failed to initialise");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (lenz_metrics_init(pconf, s) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    lenz_db_prepare_all(s);
    if (lenz_shared_post_config(pconf, s) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    for (sp = s; sp; sp = sp->next) {
        lenz_srv_cfg *c = lenz_srv(sp);
        lenz_breaker_conf bc;
        const lenz_s3_conf *sc;
        if (!c->s3)
            continue;
        lenz_s3_set_observer(c->s3, observe_s3, NULL);
        /* One breaker per endpoint and bucket, its state in the shared
         * store: every process (and host) sees S3 go down together. */
        sc = lenz_s3_conf_of(c->s3);
        lenz_cfg_breaker(c, &bc);
        lenz_s3_set_breaker(c->s3, lenz_breaker_make(pconf, apr_pstrcat(pconf, "s3:", sc->endpoint,
                                                     "/", sc->bucket, NULL), &bc, lenz_shared_kv()));
    }
    if (lenz_runner_post_config(pconf, s) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    return OK;
}

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    lenz_shared_pre_config(pconf);
    return OK;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    lenz_notify_child_init(pchild);
    lenz_shared_child_init(pchild, s);
    lenz_runner_child_init(pchild, s);
    process_http = lenz_http_make(pchild);
    if (!process_http)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     LENZLOGNO(0003) "cannot create the HTTP client for this process");
}

/* Counts every answer of ours: status and bytes, by area. */
static int log_transaction(request_rec *r)
{
    const request_rec *m = r;
    lenz_req *lr;
    while (m->prev)
        m = m->prev;
    lr = ap_get_module_config(m->request_config, &lenz_module);
    if (!lr)
        return DECLINED;
    lenz_metrics_request(r, area_index(lr->area), r->status, lr->bytes_in, r->bytes_sent);
    return DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    /* Our statements must reach mod_dbd before its post_config reads them. */
    static const char *const before_dbd[] = { "mod_dbd.c", NULL };

    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(lenz_router_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_network_bucket(lenz_net_insert, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(lenz) = {
    STANDARD20_MODULE_STUFF,
    lenz_create_dir_cfg,
    lenz_merge_dir_cfg,
    lenz_create_srv_cfg,
    lenz_merge_srv_cfg,
    lenz_cmds,
    register_hooks
};
