/* config.c - the configuration records: creating and merging them, and
 * the getters that hold every default.  The directives that fill them are
 * read in config_cmds.c; whether a server's configuration is complete is
 * checked at start-up (config_check.c).
 */
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_lib.h>
#include <apr_hash.h>

#include "lenz.h"
#include <http_core.h>
#include "config.h"
#include "directives.h"
#include "render.h"
#include "keys.h"
#include "s3.h"
#include "shared.h"
#include "crypto.h"
#include "netread.h"

#define DEFAULT_REGION          "us-east-1"
#define DEFAULT_JSON_LIMIT      (64 * 1024)
#define DEFAULT_JOB_WORKERS     1
#define DEFAULT_JOB_POLL        5
#define DEFAULT_JOB_BACKOFF     30
#define DEFAULT_JOB_BACKOFF_MAX 3600
#define DEFAULT_JOB_RETENTION   7
#define DEFAULT_UPLOAD_ABANDON  (24 * 3600)

lenz_srv_cfg *lenz_srv(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &lenz_module);
}

lenz_dir_cfg *lenz_dir(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &lenz_module);
}

void *lenz_create_srv_cfg(apr_pool_t *p, server_rec *s)
{
    lenz_srv_cfg *c = apr_pcalloc(p, sizeof(*c));
    int i;
    c->s3_path_style = -1;
    c->s3_connect_timeout = -1;
    c->s3_stall_timeout = -1;
    c->s3_op_timeout = -1;
    c->s3_breaker_threshold = -1;
    c->s3_breaker_cooldown = -1;
    c->session_idle = -1;
    c->session_max = -1;
    c->upload_policy = -1;
    c->plain_above = -1;
    c->upload_part_size = -1;
    c->part_digest_always = -1;
    c->net_read = -1;
    c->guest_uploads = -1;
    c->guest_max_size = -1;
    c->guest_max_files = -1;
    c->guest_per_hour = -1;
    c->guest_expiry = -1;
    c->member_quota = -1;
    c->member_max_files = -1;
    c->link_expiry = -1;
    c->link_expiry_max = -1;
    c->smtp_tls = -1;
    c->jobs = -1;
    c->job_workers = -1;
    c->event_streams = -1;
    c->event_streams_member = -1;
    c->pw_hashes = -1;
    c->folder_depth = -1;
    for (i = 0; i < LENZ_COLLAB_NLIMITS; i++)
        c->collab_limits[i] = -1;
    c->content_links = -1;
    c->trash_days = -1;
    c->request_notify = -1;
    c->pw_wait = -1;
    c->job_poll = -1;
    c->job_backoff_base = -1;
    c->job_backoff_max = -1;
    c->job_retention = -1;
    c->upload_abandon = -1;
    return c;
}

#define MERGE_PTR(f) c->f = add->f ? add->f : base->f
#define MERGE_INT(f) c->f = add->f != -1 ? add->f : base->f

void *lenz_merge_srv_cfg(apr_pool_t *p, void *basev, void *addv)
{
    lenz_srv_cfg *base = basev, *add = addv;
    lenz_srv_cfg *c = apr_pcalloc(p, sizeof(*c));
    int i;
    MERGE_PTR(s3_endpoint);
    MERGE_PTR(s3_bucket);
    MERGE_PTR(s3_region);
    MERGE_PTR(s3_access_key);
    MERGE_PTR(s3_secret_file);
    MERGE_INT(s3_path_style);
    MERGE_INT(s3_connect_timeout);
    MERGE_INT(s3_stall_timeout);
    MERGE_INT(s3_op_timeout);
    MERGE_INT(s3_breaker_threshold);
    MERGE_INT(s3_breaker_cooldown);
    MERGE_PTR(shared_cache);
    MERGE_INT(session_idle);
    MERGE_INT(session_max);
    MERGE_INT(upload_policy);
    MERGE_INT(plain_above);
    MERGE_INT(upload_part_size);
    MERGE_INT(part_digest_always);
    MERGE_INT(net_read);
    MERGE_INT(guest_uploads);
    MERGE_INT(guest_max_size);
    MERGE_INT(guest_max_files);
    MERGE_INT(guest_per_hour);
    MERGE_INT(guest_expiry);
    MERGE_INT(member_quota);
    MERGE_INT(member_max_files);
    MERGE_INT(link_expiry);
    MERGE_INT(link_expiry_max);
    MERGE_PTR(master_key_file);
    MERGE_PTR(smtp_url);
    MERGE_PTR(smtp_auth_file);
    MERGE_INT(smtp_tls);
    MERGE_PTR(smtp_ca_file);
    MERGE_PTR(mail_from);
    MERGE_PTR(public_url);
    MERGE_PTR(template_dir);
    MERGE_INT(jobs);
    MERGE_PTR(jobs_db);
    MERGE_INT(job_workers);
    MERGE_INT(event_streams);
    MERGE_INT(event_streams_member);
    MERGE_INT(pw_hashes);
    MERGE_INT(folder_depth);
    for (i = 0; i < LENZ_COLLAB_NLIMITS; i++)
        MERGE_INT(collab_limits[i]);
    MERGE_PTR(content_words);
    MERGE_INT(content_links);
    MERGE_INT(trash_days);
    MERGE_INT(request_notify);
    MERGE_INT(pw_wait);
    MERGE_INT(job_poll);
    MERGE_INT(job_backoff_base);
    MERGE_INT(job_backoff_max);
    MERGE_INT(job_retention);
    MERGE_INT(upload_abandon);
    c->enabled = base->enabled || add->enabled;
    return c;
}

void *lenz_create_dir_cfg(apr_pool_t *p, char *dir)
{
    lenz_dir_cfg *d = apr_pcalloc(p, sizeof(*d));
    d->json_limit = -1;
    d->trust_remote_user = -1;
    d->remote_create = -1;
    return d;
}

void *lenz_merge_dir_cfg(apr_pool_t *p, void *basev, void *addv)
{
    lenz_dir_cfg *base = basev, *add = addv;
    lenz_dir_cfg *c = apr_pcalloc(p, sizeof(*c));
    MERGE_PTR(base);
    MERGE_INT(json_limit);
    MERGE_INT(trust_remote_user);
    MERGE_INT(remote_create);
    return c;
}

const char *lenz_cfg_shared_cache(const lenz_srv_cfg *c)
{
    return c->shared_cache ? c->shared_cache : "shmcb";
}

void lenz_cfg_breaker(const lenz_srv_cfg *c, lenz_breaker_conf *bc)
{
    memset(bc, 0, sizeof(*bc));
    bc->threshold = c->s3_breaker_threshold > 0 ? c->s3_breaker_threshold : 5;
    bc->cooldown = apr_time_from_sec(c->s3_breaker_cooldown > 0 ? c->s3_breaker_cooldown : 30);
    bc->probe_timeout = apr_time_from_sec(c->s3_op_timeout > 0 ? c->s3_op_timeout : LENZ_CFG_OP_TIMEOUT);
}

const char *lenz_cfg_region(const lenz_srv_cfg *c)
{
    return c->s3_region ? c->s3_region : DEFAULT_REGION;
}

const char *lenz_cfg_base(const request_rec *r, const lenz_dir_cfg *d)
{
    core_dir_config *core;
    if (d->base)
        return d->base;
    /* core keeps the path of the innermost section that matched; for a
     * plain <Location> that is the mount point.  Regex sections have no
     * usable prefix: they need LenzBase. */
    core = ap_get_core_module_config(r->per_dir_config);
    if (core && core->d && core->d[0] == '/' && !core->r && !core->d_is_fnmatch)
        return lenz_cfg_trim_slash(r->pool, core->d);
    return "/";
}

apr_off_t lenz_parse_size(const char *s)
{
    char *end;
    apr_int64_t v = apr_strtoi64(s, &end, 10);
    apr_int64_t mul = 1;
    if (v < 0 || end == s)
        return -1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': mul = 1024; end++; break;
    case 'm': case 'M': mul = 1024 * 1024; end++; break;
    case 'g': case 'G': mul = (apr_int64_t)1 << 30; end++; break;
    case 't': case 'T': mul = (apr_int64_t)1 << 40; end++; break;
    default: return -1;
    }
    if (*end || v > APR_INT64_MAX / mul)
        return -1;
    return (apr_off_t)(v * mul);
}

#define OR(v, d) ((v) >= 0 ? (v) : (d))
int lenz_cfg_upload_policy(const lenz_srv_cfg *c) { return OR(c->upload_policy, LENZ_POLICY_CHOICE); }
apr_off_t lenz_cfg_plain_above(const lenz_srv_cfg *c) { return OR(c->plain_above, (apr_off_t)0); }

int lenz_cfg_upload_path_ok(const lenz_srv_cfg *c, apr_off_t size, int encrypted, const char **why)
{
    int policy = lenz_cfg_upload_policy(c);
    apr_off_t above = lenz_cfg_plain_above(c);
    if (above > 0 && size > above) {
        *why = "files this large are stored unencrypted here; use the plain upload";
        return !encrypted;
    }
    if (encrypted && policy == LENZ_POLICY_PLAIN) {
        *why = "this site stores uploads unencrypted; use the plain upload";
        return 0;
    }
    if (!encrypted && policy == LENZ_POLICY_ENCRYPTED) {
        *why = "this site requires encrypted uploads; use the encrypted upload";
        return 0;
    }
    return 1;
}
apr_off_t lenz_cfg_part_size(const lenz_srv_cfg *c) { return OR(c->upload_part_size, (apr_off_t)8 << 20); }
int lenz_cfg_guest_uploads(const lenz_srv_cfg *c) { return OR(c->guest_uploads, 1); }
int lenz_cfg_part_digest_always(const lenz_srv_cfg *c) { return OR(c->part_digest_always, 0); }
apr_off_t lenz_cfg_net_read(const lenz_srv_cfg *c) { return OR(c->net_read, (apr_off_t)LENZ_NET_READ_DEFAULT); }
apr_off_t lenz_cfg_guest_max_size(const lenz_srv_cfg *c) { return OR(c->guest_max_size, (apr_off_t)2 << 30); }
int lenz_cfg_guest_max_files(const lenz_srv_cfg *c) { return OR(c->guest_max_files, 20); }
int lenz_cfg_guest_per_hour(const lenz_srv_cfg *c) { return OR(c->guest_per_hour, 20); }
int lenz_cfg_guest_expiry(const lenz_srv_cfg *c) { return OR(c->guest_expiry, 7 * 86400); }
apr_off_t lenz_cfg_member_quota(const lenz_srv_cfg *c) { return OR(c->member_quota, (apr_off_t)10 << 30); }
int lenz_cfg_member_max_files(const lenz_srv_cfg *c) { return OR(c->member_max_files, 1000); }
int lenz_cfg_link_expiry(const lenz_srv_cfg *c) { return OR(c->link_expiry, 7 * 86400); }
int lenz_cfg_link_expiry_max(const lenz_srv_cfg *c) { return OR(c->link_expiry_max, 30 * 86400); }

int lenz_cfg_session_idle(const lenz_srv_cfg *c)
{
    return c->session_idle > 0 ? c->session_idle : 2 * 3600;
}

int lenz_cfg_session_max(const lenz_srv_cfg *c)
{
    return c->session_max > 0 ? c->session_max : 14 * 24 * 3600;
}

apr_off_t lenz_cfg_json_limit(const lenz_dir_cfg *d)
{
    return d->json_limit >= 0 ? d->json_limit : DEFAULT_JSON_LIMIT;
}

int lenz_cfg_smtp_tls(const lenz_srv_cfg *c)
{
    return c->smtp_tls >= 0 ? c->smtp_tls : LENZ_SMTP_TLS_STARTTLS;
}

int lenz_cfg_jobs_on(const lenz_srv_cfg *c)
{
    return c->jobs != 0;
}

int lenz_cfg_event_streams(const lenz_srv_cfg *c)
{
    return c->event_streams > 0 ? c->event_streams : 0;
}

int lenz_cfg_event_streams_member(const lenz_srv_cfg *c)
{
    return c->event_streams_member > 0 ? c->event_streams_member : 0;
}

int lenz_cfg_folder_depth(const lenz_srv_cfg *c)
{
    return c->folder_depth > 0 ? c->folder_depth : 32;
}

const char *const lenz_collab_limit_names[LENZ_COLLAB_NLIMITS] = { "invites", "comments", "posts", "messages" };

int lenz_cfg_collab_limit(const lenz_srv_cfg *c, lenz_collab_limit which)
{
    static const int defaults[LENZ_COLLAB_NLIMITS] = { 50, 120, 60, 300 };
    return c->collab_limits[which] > 0 ? c->collab_limits[which] : defaults[which];
}

const apr_array_header_t *lenz_cfg_content_words(const lenz_srv_cfg *c)
{
    return c->content_words;
}

int lenz_cfg_content_links(const lenz_srv_cfg *c)
{
    return c->content_links >= 0 ? c->content_links : 5;
}

int lenz_cfg_trash_days(const lenz_srv_cfg *c)
{
    return c->trash_days > 0 ? c->trash_days : 30;
}

int lenz_cfg_request_notify_delay(const lenz_srv_cfg *c)
{
    return c->request_notify >= 0 ? c->request_notify : 120;
}

int lenz_cfg_pw_hashes(const lenz_srv_cfg *c)
{
    return c->pw_hashes > 0 ? c->pw_hashes : 0;
}

int lenz_cfg_pw_wait(const lenz_srv_cfg *c)
{
    return c->pw_wait > 0 ? c->pw_wait : 0;
}

int lenz_cfg_job_workers(const lenz_srv_cfg *c)
{
    return c->job_workers > 0 ? c->job_workers : DEFAULT_JOB_WORKERS;
}

apr_interval_time_t lenz_cfg_job_poll(const lenz_srv_cfg *c)
{
    return apr_time_from_sec(c->job_poll > 0 ? c->job_poll : DEFAULT_JOB_POLL);
}

int lenz_cfg_job_backoff_base(const lenz_srv_cfg *c)
{
    return c->job_backoff_base > 0 ? c->job_backoff_base : DEFAULT_JOB_BACKOFF;
}

int lenz_cfg_job_backoff_max(const lenz_srv_cfg *c)
{
    if (c->job_backoff_max > 0)
        return c->job_backoff_max;
    return lenz_cfg_job_backoff_base(c) > DEFAULT_JOB_BACKOFF_MAX
           ? lenz_cfg_job_backoff_base(c) : DEFAULT_JOB_BACKOFF_MAX;
}

int lenz_cfg_job_retention(const lenz_srv_cfg *c)
{
    return c->job_retention > 0 ? c->job_retention : DEFAULT_JOB_RETENTION;
}

int lenz_cfg_upload_abandon(const lenz_srv_cfg *c)
{
    return c->upload_abandon > 0 ? c->upload_abandon : DEFAULT_UPLOAD_ABANDON;
}

const char *lenz_cfg_trim_slash(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    return apr_pstrmemdup(p, s, n);
}
