/* mod_lenz.c - the module record, hook registration and process set-up.
 * Everything else lives in one file per concern (see README). */
#define LENZ_MODULE_C 1
#include <apr_strings.h>

#include "httpd/lenz.h"
#include <http_core.h>
#include "http.h"
#include "s3.h"
#include "httpd/netread.h"
#include "httpd/config.h"
#include "httpd/directives.h"
#include "httpd/router.h"
#include "httpd/dbd.h"
#include "httpd/metrics.h"
#include "httpd/shared.h"
#include "httpd/streams.h"
#include "httpd/pwgate.h"
#include "jobs/runner.h"
#include "jobs/wake.h"

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
    int any = 0, rc;
    const char *directive = LENZ_D_JOBS, *why;
    for (sp = s; sp; sp = sp->next) {
        if (lenz_srv(sp)->enabled) {
            why = lenz_db_check_loaded();
            if (why) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                             LENZLOGNO(0001) "%s", why);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            any = 1;
            break;
        }
    }
    rc = lenz_config_check(pconf, plog, ptemp, s);
    if (rc != OK || !any || !lenz_cfg_jobs_on(lenz_srv(s)))
        return rc;
    why = lenz_runner_check(ptemp, s, &directive);
    return why ? lenz_config_refuse(s, directive, why) : OK;
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
    if (lenz_streams_post_config(pconf, s, lenz_cfg_event_streams(lenz_srv(s)),
                                 lenz_cfg_event_streams_member(lenz_srv(s))) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
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
    lenz_wake_child_init(pchild);
    lenz_shared_child_init(pchild, s);
    lenz_streams_child_init(pchild, s);
    lenz_pw_child_init(pchild, s, lenz_cfg_pw_hashes(lenz_srv(s)), lenz_cfg_pw_wait(lenz_srv(s)));
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
