/* config_cmds.c - reading the directives (lenz_cmds).
 *
 * Syntax is checked where a directive is read (the message then carries
 * the file and line); defaults live in the getters (config.c), and whether
 * a server's configuration is complete is checked at start-up
 * (config_check.c).
 */
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_lib.h>
#include <apr_uri.h>

#include "lenz.h"
#include <http_core.h>
#include "config.h"
#include "directives.h"
#include "crypto.h"
#include "netread.h"

#define MAX_JOB_WORKERS         32

static lenz_srv_cfg *cmd_srv(cmd_parms *cmd)
{
    lenz_srv_cfg *c = lenz_srv(cmd->server);
    c->enabled = 1;
    return c;
}

int lenz_cfg_has_ctl(const char *s)
{
    for (; *s; s++)
        if (apr_iscntrl(*s))
            return 1;
    return 0;
}

static const char *check_url(cmd_parms *cmd, const char *arg, const char *const *schemes,
                             int allow_path)
{
    apr_uri_t u;
    int i, ok = 0;
    if (lenz_cfg_has_ctl(arg) || apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS || !u.scheme
        || !u.hostname || !*u.hostname)
        return apr_psprintf(cmd->pool, "%s: '%s' is not an absolute URL", cmd->directive->directive, arg);
    for (i = 0; schemes[i]; i++)
        if (strcasecmp(u.scheme, schemes[i]) == 0)
            ok = 1;
    if (!ok)
        return apr_psprintf(cmd->pool, "%s: scheme '%s' is not supported here", cmd->directive->directive, u.scheme);
    if (u.query || u.fragment)
        return apr_psprintf(cmd->pool, "%s: the URL must not have a query or fragment", cmd->directive->directive);
    if (!allow_path && u.path && strcmp(u.path, "/") != 0 && *u.path)
        return apr_psprintf(cmd->pool, "%s: the URL must not have a path", cmd->directive->directive);
    if (u.password)
        return apr_psprintf(cmd->pool, "%s: no credentials in the URL, please", cmd->directive->directive);
    return NULL;
}

/* Strip one trailing '/' so "base + /path" never doubles it. */

static const char *set_s3_endpoint(cmd_parms *cmd, void *d, const char *arg)
{
    static const char *const schemes[] = { "http", "https", NULL };
    const char *err = check_url(cmd, arg, schemes, 0);
    if (err)
        return err;
    cmd_srv(cmd)->s3_endpoint = lenz_cfg_trim_slash(cmd->pool, arg);
    return NULL;
}

static const char *set_s3_bucket(cmd_parms *cmd, void *d, const char *arg)
{
    /* S3 bucket naming rules: 3-63 of [a-z0-9.-], starting and ending alnum. */
    apr_size_t n = strlen(arg), i;
    if (n < 3 || n > 63 || !apr_isalnum(arg[0]) || !apr_isalnum(arg[n - 1]))
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid bucket name", LENZ_D_S3_BUCKET, arg);
    for (i = 0; i < n; i++)
        if (!(apr_islower(arg[i]) || apr_isdigit(arg[i]) || arg[i] == '-' || arg[i] == '.'))
            return apr_psprintf(cmd->pool, "%s: '%s' is not a valid bucket name", LENZ_D_S3_BUCKET, arg);
    cmd_srv(cmd)->s3_bucket = arg;
    return NULL;
}

static const char *set_s3_region(cmd_parms *cmd, void *d, const char *arg)
{
    const char *c;
    for (c = arg; *c; c++)
        if (!(apr_isalnum(*c) || *c == '-' || *c == '_'))
            return apr_psprintf(cmd->pool, "%s: '%s' is not a region name", LENZ_D_S3_REGION, arg);
    if (!*arg)
        return LENZ_D_S3_REGION ": empty region";
    cmd_srv(cmd)->s3_region = arg;
    return NULL;
}

static const char *set_s3_access_key(cmd_parms *cmd, void *d, const char *arg)
{
    const char *c;
    for (c = arg; *c; c++)
        if (!apr_isgraph(*c))
            return LENZ_D_S3_ACCESS_KEY ": the access key has a space or control character";
    if (!*arg)
        return LENZ_D_S3_ACCESS_KEY ": empty access key";
    cmd_srv(cmd)->s3_access_key = arg;
    return NULL;
}

static const char *set_file(cmd_parms *cmd, void *d, const char *arg)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    if (!path)
        return apr_psprintf(cmd->pool, "%s: bad path '%s'", cmd->directive->directive, arg);
    *(const char **)((char *)c + (apr_size_t)cmd->info) = path;
    return NULL;
}

static const char *set_s3_addressing(cmd_parms *cmd, void *d, const char *arg)
{
    if (strcasecmp(arg, "path") == 0)
        cmd_srv(cmd)->s3_path_style = 1;
    else if (strcasecmp(arg, "virtual") == 0)
        cmd_srv(cmd)->s3_path_style = 0;
    else
        return LENZ_D_S3_ADDRESSING ": use 'path' or 'virtual'";
    return NULL;
}

static const char *parse_secs(apr_pool_t *p, const char *what, const char *arg, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || v < 1 || v > 86400)
        return apr_psprintf(p, "%s: '%s' is not a number of seconds (1-86400)", what, arg);
    *out = (int)v;
    return NULL;
}

static const char *set_s3_timeouts(cmd_parms *cmd, void *d, const char *a1,
                                   const char *a2, const char *a3)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    const char *err = parse_secs(cmd->pool, LENZ_D_S3_TIMEOUTS " (connect)", a1, &c->s3_connect_timeout);
    if (!err && a2)
        err = parse_secs(cmd->pool, LENZ_D_S3_TIMEOUTS " (stall)", a2, &c->s3_stall_timeout);
    if (!err && a3)
        err = parse_secs(cmd->pool, LENZ_D_S3_TIMEOUTS " (operation)", a3, &c->s3_op_timeout);
    return err;
}

static const char *set_s3_breaker(cmd_parms *cmd, void *d, const char *a1, const char *a2)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    char *end;
    long v = strtol(a1, &end, 10);
    if (*end || v < 1 || v > 1000)
        return LENZ_D_S3_BREAKER ": the failure threshold must be 1-1000";
    c->s3_breaker_threshold = (int)v;
    return parse_secs(cmd->pool, LENZ_D_S3_BREAKER " (cool-down)", a2, &c->s3_breaker_cooldown);
}

static const char *set_shared_cache(cmd_parms *cmd, void *d, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err)
        return err;
    if (!*arg || lenz_cfg_has_ctl(arg))
        return LENZ_D_SHARED_CACHE ": give a socache provider, e.g. shmcb or memcache:host:11211";
    cmd_srv(cmd)->shared_cache = arg;
    return NULL;
}

static const char *set_session_timeouts(cmd_parms *cmd, void *d, const char *a1, const char *a2)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    const char *err = parse_secs(cmd->pool, LENZ_D_SESSION_TIMEOUTS " (idle)", a1, &c->session_idle);
    if (!err) {
        char *end;
        long v = strtol(a2, &end, 10);
        if (*end || v < 60 || v > 365L * 86400)
            return LENZ_D_SESSION_TIMEOUTS " (absolute): 60 s to 365 days";
        c->session_max = (int)v;
        if (c->session_max < c->session_idle)
            return LENZ_D_SESSION_TIMEOUTS ": the absolute limit must not be shorter than the idle one";
    }
    return err;
}

static const char *set_dir_flag(cmd_parms *cmd, void *dv, int on)
{
    lenz_dir_cfg *d = dv;
    *(int *)((char *)d + (apr_size_t)cmd->info) = on ? 1 : 0;
    return NULL;
}

static const char *set_upload_policy(cmd_parms *cmd, void *d, const char *arg, const char *above)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    if (!strcasecmp(arg, "choice")) c->upload_policy = LENZ_POLICY_CHOICE;
    else if (!strcasecmp(arg, "encrypted")) c->upload_policy = LENZ_POLICY_ENCRYPTED;
    else if (!strcasecmp(arg, "plain")) c->upload_policy = LENZ_POLICY_PLAIN;
    else return LENZ_D_UPLOAD_POLICY ": choice, encrypted or plain";
    c->plain_above = 0;
    if (above) {
        if (c->upload_policy == LENZ_POLICY_PLAIN)
            return LENZ_D_UPLOAD_POLICY ": a size threshold only goes with choice or encrypted";
        if ((c->plain_above = lenz_parse_size(above)) <= 0)
            return LENZ_D_UPLOAD_POLICY ": the threshold must be a size such as 2G";
    }
    return NULL;
}

static const char *set_part_size(cmd_parms *cmd, void *d, const char *arg)
{
    apr_off_t v = lenz_parse_size(arg);
    if (v < ((apr_off_t)5 << 20) || v > ((apr_off_t)5 << 30))
        return LENZ_D_UPLOAD_PART_SIZE ": between 5M and 5G (S3's part limits)";
    cmd_srv(cmd)->upload_part_size = v;
    return NULL;
}

static const char *set_part_digest(cmd_parms *cmd, void *d, const char *arg)
{
    if (!strcasecmp(arg, "client")) cmd_srv(cmd)->part_digest_always = 0;
    else if (!strcasecmp(arg, "always")) cmd_srv(cmd)->part_digest_always = 1;
    else return LENZ_D_UPLOAD_DIGEST ": client or always";
    return NULL;
}

static const char *set_net_read(cmd_parms *cmd, void *d, const char *arg)
{
    apr_off_t v = strcasecmp(arg, "off") == 0 ? 0 : lenz_parse_size(arg);
    if (v != 0 && (v < LENZ_NET_READ_MIN || v > LENZ_NET_READ_MAX))
        return LENZ_D_NETWORK_READ ": off, or a size from 8K to 1M";
    cmd_srv(cmd)->net_read = v;
    return NULL;
}

static const char *set_srv_flag(cmd_parms *cmd, void *d, int on)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    *(int *)((char *)c + (apr_size_t)cmd->info) = on ? 1 : 0;
    return NULL;
}

static const char *set_guest_limits(cmd_parms *cmd, void *d, const char *a1, const char *a2,
                                    const char *a3)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    char *end;
    long v;
    c->guest_max_size = lenz_parse_size(a1);
    if (c->guest_max_size < 0)
        return LENZ_D_GUEST_LIMITS ": the first value is a size such as 2G";
    if (a2) {
        v = strtol(a2, &end, 10);
        if (*end || v < 1 || v > 10000)
            return LENZ_D_GUEST_LIMITS ": files per transfer must be 1-10000";
        c->guest_max_files = (int)v;
    }
    if (a3) {
        v = strtol(a3, &end, 10);
        if (*end || v < 1 || v > 1000000)
            return LENZ_D_GUEST_LIMITS ": uploads per hour must be 1-1000000";
        c->guest_per_hour = (int)v;
    }
    return NULL;
}

static const char *set_guest_expiry(cmd_parms *cmd, void *d, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end == 'd') { v *= 86400; end++; }
    else if (*end == 'h') { v *= 3600; end++; }
    if (*end || v < 60 || v > 365L * 86400)
        return LENZ_D_GUEST_EXPIRY ": seconds, or days such as 7d (1 minute to 365 days)";
    cmd_srv(cmd)->guest_expiry = (int)v;
    return NULL;
}

static const char *set_member_quota(cmd_parms *cmd, void *d, const char *a1, const char *a2)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    apr_off_t v = lenz_parse_size(a1);
    if (v < 0)
        return LENZ_D_MEMBER_QUOTA ": a size such as 10G";
    c->member_quota = v;
    if (a2) {
        char *end;
        long n = strtol(a2, &end, 10);
        if (*end || n < 1 || n > 10000)
            return LENZ_D_MEMBER_QUOTA ": files per transfer must be 1-10000";
        c->member_max_files = (int)n;
    }
    return NULL;
}

static const char *set_link_expiry(cmd_parms *cmd, void *d, const char *a1, const char *a2)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    const char *err = parse_secs(cmd->pool, LENZ_D_LINK_EXPIRY " (default)", a1, &c->link_expiry);
    if (!err && a2) {
        char *end;
        long v = strtol(a2, &end, 10);
        if (*end || v < 60 || v > 3650L * 86400)
            return LENZ_D_LINK_EXPIRY " (maximum): 60 s to 10 years";
        c->link_expiry_max = (int)v;
        if (c->link_expiry_max < c->link_expiry)
            return LENZ_D_LINK_EXPIRY ": the maximum must not be below the default";
    }
    return err;
}

static const char *set_smtp_url(cmd_parms *cmd, void *d, const char *arg)
{
    static const char *const schemes[] = { "smtp", "smtps", NULL };
    const char *err = check_url(cmd, arg, schemes, 0);
    if (err)
        return err;
    cmd_srv(cmd)->smtp_url = lenz_cfg_trim_slash(cmd->pool, arg);
    return NULL;
}

static const char *set_mail_from(cmd_parms *cmd, void *d, const char *arg)
{
    const char *at = strchr(arg, '@');
    if (lenz_cfg_has_ctl(arg) || !at || at == arg || !at[1] || strchr(at + 1, '@'))
        return apr_psprintf(cmd->pool, "%s: '%s' is not an e-mail address", LENZ_D_MAIL_FROM, arg);
    cmd_srv(cmd)->mail_from = arg;
    return NULL;
}

static const char *set_public_url(cmd_parms *cmd, void *d, const char *arg)
{
    static const char *const schemes[] = { "http", "https", NULL };
    const char *err = check_url(cmd, arg, schemes, 1);
    if (err)
        return err;
    cmd_srv(cmd)->public_url = lenz_cfg_trim_slash(cmd->pool, arg);
    return NULL;
}

static const char *set_base(cmd_parms *cmd, void *dv, const char *arg)
{
    lenz_dir_cfg *d = dv;
    if (arg[0] != '/' || lenz_cfg_has_ctl(arg))
        return LENZ_D_BASE ": the base must be a path starting with '/'";
    d->base = lenz_cfg_trim_slash(cmd->pool, arg);
    return NULL;
}

static const char *set_json_limit(cmd_parms *cmd, void *dv, const char *arg)
{
    lenz_dir_cfg *d = dv;
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);
    if (*end || v < 256 || v > 16 * 1024 * 1024)
        return LENZ_D_JSON_LIMIT ": a size in bytes between 256 and 16777216";
    d->json_limit = (apr_off_t)v;
    return NULL;
}

static const char *set_smtp_tls(cmd_parms *cmd, void *d, const char *arg)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    if (strcasecmp(arg, "off") == 0)
        c->smtp_tls = LENZ_SMTP_TLS_OFF;
    else if (strcasecmp(arg, "starttls") == 0)
        c->smtp_tls = LENZ_SMTP_TLS_STARTTLS;
    else if (strcasecmp(arg, "required") == 0)
        c->smtp_tls = LENZ_SMTP_TLS_REQUIRED;
    else
        return LENZ_D_SMTP_TLS ": use 'off', 'starttls' or 'required'";
    return NULL;
}

/* Directives of the job runner: one runner set per process, so they are
 * global (the main server's values reach every virtual host). */
static lenz_srv_cfg *cmd_global(cmd_parms *cmd, const char **err)
{
    *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    return *err ? NULL : cmd_srv(cmd);
}

static const char *set_jobs(cmd_parms *cmd, void *d, int on)
{
    const char *err;
    lenz_srv_cfg *c = cmd_global(cmd, &err);
    if (c)
        c->jobs = on ? 1 : 0;
    return err;
}

static const char *set_jobs_db(cmd_parms *cmd, void *d, const char *arg)
{
    const char *err;
    lenz_srv_cfg *c = cmd_global(cmd, &err);
    if (!c)
        return err;
    if (!*arg || lenz_cfg_has_ctl(arg))
        return LENZ_D_JOBS_DB ": give a libpq connection string, e.g. \"host=db dbname=lenz user=lenz\"";
    c->jobs_db = arg;
    return NULL;
}

static const char *parse_int(apr_pool_t *p, const char *what, const char *arg, long lo, long hi,
                             int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || v < lo || v > hi)
        return apr_psprintf(p, "%s: '%s' is not a number from %ld to %ld", what, arg, lo, hi);
    *out = (int)v;
    return NULL;
}

static const char *set_job_workers(cmd_parms *cmd, void *d, const char *arg)
{
    const char *err;
    lenz_srv_cfg *c = cmd_global(cmd, &err);
    return c ? parse_int(cmd->pool, LENZ_D_JOB_WORKERS, arg, 1, MAX_JOB_WORKERS, &c->job_workers) : err;
}

static const char *set_event_streams(cmd_parms *cmd, void *d, const char *a1, const char *a2)
{
    const char *err;
    lenz_srv_cfg *c = cmd_global(cmd, &err);
    if (!c)
        return err;
    /* "auto": the default per host (a quarter of the workers). */
    if (strcasecmp(a1, "auto") != 0)
        err = parse_int(cmd->pool, LENZ_D_EVENT_STREAMS " (per host)", a1, 1, 1000000, &c->event_streams);
    if (!err && a2)
        err = parse_int(cmd->pool, LENZ_D_EVENT_STREAMS " (per member)", a2, 1, 10000,
                        &c->event_streams_member);
    return err;
}

/* LenzCollabLimits invites=50 comments=120 ... (each an hour, per member). */
static const char *set_collab_limit(cmd_parms *cmd, void *d, const char *arg)
{
    const char *eq = strchr(arg, '=');
    int i;
    for (i = 0; eq && i < LENZ_COLLAB_NLIMITS; i++)
        if ((apr_size_t)(eq - arg) == strlen(lenz_collab_limit_names[i])
            && !strncmp(arg, lenz_collab_limit_names[i], eq - arg))
            return parse_int(cmd->pool, LENZ_D_COLLAB_LIMITS, eq + 1, 1, 1000000, &cmd_srv(cmd)->collab_limits[i]);
    return apr_psprintf(cmd->pool, LENZ_D_COLLAB_LIMITS ": \"%s\" is not KIND=N "
                        "(KIND: invites, comments, posts or messages)", arg);
}

/* LenzContentWords word ...: refused in posts, comments and messages. */
static const char *set_content_word(cmd_parms *cmd, void *d, const char *arg)
{
    lenz_srv_cfg *c = cmd_srv(cmd);
    char *w = apr_pstrdup(cmd->pool, arg), *q;
    if (!*w || strlen(w) > 100)
        return LENZ_D_CONTENT_WORDS ": a word is 1 to 100 characters";
    for (q = w; *q; q++)
        *q = apr_tolower(*q);
    if (!c->content_words)
        c->content_words = apr_array_make(cmd->pool, 16, sizeof(const char *));
    APR_ARRAY_PUSH(c->content_words, const char *) = w;
    return NULL;
}

static const char *set_content_links(cmd_parms *cmd, void *d, const char *arg)
{
    return parse_int(cmd->pool, LENZ_D_CONTENT_LINKS, arg, 0, 1000, &cmd_srv(cmd)->content_links);
}

static const char *set_folder_depth(cmd_parms *cmd, void *d, const char *arg)
{
    return parse_int(cmd->pool, LENZ_D_FOLDER_DEPTH, arg, 1, 256, &cmd_srv(cmd)->folder_depth);
}

static const char *set_request_notify(cmd_parms *cmd, void *d, const char *arg)
{
    (void)d;
    return parse_int(cmd->pool, LENZ_D_REQUEST_NOTIFY, arg, 0, 86400, &cmd_srv(cmd)->request_notify);
}

static const char *set_trash_days(cmd_parms *cmd, void *d, const char *arg)
{
    return parse_int(cmd->pool, LENZ_D_TRASH_DAYS, arg, 1, 3650, &cmd_srv(cmd)->trash_days);
}

static const char *set_pw_hashes(cmd_parms *cmd, void *d, const char *a1, const char *a2)
{
    const char *err;
    lenz_srv_cfg *c = cmd_global(cmd, &err);
    if (!c)
        return err;
    err = parse_int(cmd->pool, LENZ_D_PASSWORD_HASHES, a1, 1, 64, &c->pw_hashes);
    if (!err && a2)
        err = parse_int(cmd->pool, LENZ_D_PASSWORD_HASHES " (wait, seconds)", a2, 1, 60, &c->pw_wait);
    return err;
}

static const char *set_job_poll(cmd_parms *cmd, void *d, const char *arg)
{
    const char *err;
    lenz_srv_cfg *c = cmd_global(cmd, &err);
    return c ? parse_int(cmd->pool, LENZ_D_JOB_POLL " (seconds)", arg, 1, 3600, &c->job_poll) : err;
}

static const char *set_job_backoff(cmd_parms *cmd, void *d, const char *a1, const char *a2)
{
    const char *err;
    lenz_srv_cfg *c = cmd_global(cmd, &err);
    if (!c)
        return err;
    err = parse_int(cmd->pool, LENZ_D_JOB_BACKOFF " (base seconds)", a1, 1, 86400, &c->job_backoff_base);
    if (!err && a2)
        err = parse_int(cmd->pool, LENZ_D_JOB_BACKOFF " (maximum seconds)", a2, 1, 7 * 86400,
                        &c->job_backoff_max);
    if (!err && a2 && c->job_backoff_max < c->job_backoff_base)
        err = LENZ_D_JOB_BACKOFF ": the maximum is smaller than the base";
    return err;
}

static const char *set_job_retention(cmd_parms *cmd, void *d, const char *arg)
{
    const char *err;
    lenz_srv_cfg *c = cmd_global(cmd, &err);
    return c ? parse_int(cmd->pool, LENZ_D_JOB_RETENTION " (days)", arg, 1, 3650, &c->job_retention) : err;
}

/* "90" (seconds), "45m", "24h", "7d". */
static const char *set_upload_abandon(cmd_parms *cmd, void *d, const char *arg)
{
    const char *err;
    lenz_srv_cfg *c = cmd_global(cmd, &err);
    char *end;
    long v, unit = 1;
    if (!c)
        return err;
    v = strtol(arg, &end, 10);
    if (*end && !end[1]) {
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: unit = 0;
        }
        end++;
    }
    if (end == arg || *end || unit == 0 || v < 1 || v > 365L * 86400 / unit || v * unit < 600)
        return LENZ_D_UPLOAD_ABANDON ": an age such as 24h, 90m or 7d, from 10 minutes to 365 days";
    c->upload_abandon = (int)(v * unit);
    return NULL;
}

const command_rec lenz_cmds[] = {
    AP_INIT_TAKE1(LENZ_D_S3_ENDPOINT, set_s3_endpoint, NULL, RSRC_CONF,
                  "S3 endpoint URL, e.g. https://s3.eu-central-1.wasabisys.com"),
    AP_INIT_TAKE1(LENZ_D_S3_BUCKET, set_s3_bucket, NULL, RSRC_CONF, "S3 bucket name"),
    AP_INIT_TAKE1(LENZ_D_S3_REGION, set_s3_region, NULL, RSRC_CONF,
                  "S3 region used in signatures (default us-east-1)"),
    AP_INIT_TAKE1(LENZ_D_S3_ACCESS_KEY, set_s3_access_key, NULL, RSRC_CONF, "S3 access key id"),
    AP_INIT_TAKE1(LENZ_D_S3_SECRET_FILE, set_file,
                  (void *)APR_OFFSETOF(lenz_srv_cfg, s3_secret_file), RSRC_CONF,
                  "file holding the S3 secret key (never the secret itself)"),
    AP_INIT_TAKE1(LENZ_D_S3_ADDRESSING, set_s3_addressing, NULL, RSRC_CONF,
                  "'path' (default; MinIO, Ceph) or 'virtual' (bucket.host) addressing"),
    AP_INIT_TAKE13(LENZ_D_S3_TIMEOUTS, set_s3_timeouts, NULL, RSRC_CONF,
                   "S3 timeouts in seconds: connect [stall [operation]] (default 5 30 30)"),
    AP_INIT_TAKE2(LENZ_D_S3_BREAKER, set_s3_breaker, NULL, RSRC_CONF,
                  "S3 circuit breaker: failures in a row, then seconds open (default 5 30)"),
    AP_INIT_TAKE1(LENZ_D_SHARED_CACHE, set_shared_cache, NULL, RSRC_CONF,
                  "socache provider for state shared by processes and hosts (default shmcb)"),
    AP_INIT_TAKE1(LENZ_D_MASTER_KEY_FILE, set_file,
                  (void *)APR_OFFSETOF(lenz_srv_cfg, master_key_file), RSRC_CONF,
                  "master key file (mode 0600 or stricter)"),
    AP_INIT_TAKE1(LENZ_D_SMTP_URL, set_smtp_url, NULL, RSRC_CONF,
                  "SMTP server, smtp://host:port or smtps://host:port"),
    AP_INIT_TAKE1(LENZ_D_SMTP_AUTH_FILE, set_file,
                  (void *)APR_OFFSETOF(lenz_srv_cfg, smtp_auth_file), RSRC_CONF,
                  "file holding the SMTP AUTH credentials as user:password"),
    AP_INIT_TAKE1(LENZ_D_SMTP_TLS, set_smtp_tls, NULL, RSRC_CONF,
                  "TLS on smtp:// URLs: off, starttls (when offered; default) or required"),
    AP_INIT_TAKE1(LENZ_D_SMTP_CA_FILE, set_file,
                  (void *)APR_OFFSETOF(lenz_srv_cfg, smtp_ca_file), RSRC_CONF,
                  "PEM CA bundle the SMTP server's certificate is verified against "
                  "(default: the system store)"),
    AP_INIT_TAKE1(LENZ_D_MAIL_FROM, set_mail_from, NULL, RSRC_CONF, "sender address of mails"),
    AP_INIT_TAKE1(LENZ_D_PUBLIC_URL, set_public_url, NULL, RSRC_CONF,
                  "public base URL of the site, used in links and mails"),
    AP_INIT_TAKE1(LENZ_D_TEMPLATE_DIR, set_file,
                  (void *)APR_OFFSETOF(lenz_srv_cfg, template_dir), RSRC_CONF,
                  "directory of Mustache templates"),
    AP_INIT_TAKE2(LENZ_D_SESSION_TIMEOUTS, set_session_timeouts, NULL, RSRC_CONF,
                  "browser sessions: idle seconds, absolute seconds (default 7200 1209600)"),
    AP_INIT_TAKE12(LENZ_D_UPLOAD_POLICY, set_upload_policy, NULL, RSRC_CONF,
                   "which upload path a file takes: choice (default), encrypted or plain; "
                   "optionally a size above which files go plain"),
    AP_INIT_TAKE1(LENZ_D_UPLOAD_PART_SIZE, set_part_size, NULL, RSRC_CONF,
                  "plaintext bytes per upload part (default 8M; grown for very large files)"),
    AP_INIT_TAKE1(LENZ_D_UPLOAD_DIGEST, set_part_digest, NULL, RSRC_CONF,
                  "SHA-256 of encrypted parts: client (when the client sends one, default) or always"),
    AP_INIT_TAKE1(LENZ_D_NETWORK_READ, set_net_read, NULL, RSRC_CONF,
                  "largest read from a client's socket (default 256K; off: httpd's 8000 bytes)"),
    AP_INIT_FLAG(LENZ_D_GUEST_UPLOADS, set_srv_flag,
                 (void *)APR_OFFSETOF(lenz_srv_cfg, guest_uploads), RSRC_CONF,
                 "allow uploads without an account (default On)"),
    AP_INIT_TAKE13(LENZ_D_GUEST_LIMITS, set_guest_limits, NULL, RSRC_CONF,
                   "guests: largest file, files per transfer, uploads per address and hour "
                   "(default 2G 20 20)"),
    AP_INIT_TAKE1(LENZ_D_GUEST_EXPIRY, set_guest_expiry, NULL, RSRC_CONF,
                  "how long guests' files live (default 7d)"),
    AP_INIT_TAKE12(LENZ_D_MEMBER_QUOTA, set_member_quota, NULL, RSRC_CONF,
                   "members: storage per member, files per transfer (default 10G 1000)"),
    AP_INIT_TAKE12(LENZ_D_LINK_EXPIRY, set_link_expiry, NULL, RSRC_CONF,
                   "share links: default and longest lifetime in seconds (default 604800 2592000)"),
    AP_INIT_FLAG(LENZ_D_TRUST_REMOTE_USER, set_dir_flag,
                 (void *)APR_OFFSETOF(lenz_dir_cfg, trust_remote_user), ACCESS_CONF,
                 "sign in the account matching REMOTE_USER set by another auth module"),
    AP_INIT_FLAG(LENZ_D_REMOTE_USER_CREATE, set_dir_flag,
                 (void *)APR_OFFSETOF(lenz_dir_cfg, remote_create), ACCESS_CONF,
                 "create an account for an unknown REMOTE_USER on first sight"),
    AP_INIT_FLAG(LENZ_D_JOBS, set_jobs, NULL, RSRC_CONF,
                 "run background jobs in this server's processes (default On)"),
    AP_INIT_TAKE1(LENZ_D_JOBS_DB, set_jobs_db, NULL, RSRC_CONF,
                  "libpq connection string for the job runners' own connections"),
    AP_INIT_TAKE1(LENZ_D_FOLDER_DEPTH, set_folder_depth, NULL, RSRC_CONF,
                  "how deep members' folders may nest (default 32)"),
    AP_INIT_ITERATE(LENZ_D_COLLAB_LIMITS, set_collab_limit, NULL, RSRC_CONF,
                    "per member and hour: invites=N comments=N posts=N messages=N"),
    AP_INIT_ITERATE(LENZ_D_CONTENT_WORDS, set_content_word, NULL, RSRC_CONF,
                    "words refused in posts, comments and messages"),
    AP_INIT_TAKE1(LENZ_D_CONTENT_LINKS, set_content_links, NULL, RSRC_CONF,
                  "links allowed in one post, comment or message (default 5)"),
    AP_INIT_TAKE1(LENZ_D_TRASH_DAYS, set_trash_days, NULL, RSRC_CONF,
                  "days an item stays in the trash before it is purged (default 30)"),
    AP_INIT_TAKE1(LENZ_D_REQUEST_NOTIFY, set_request_notify, NULL, RSRC_CONF,
                  "seconds from a file request's first finished upload to telling its owner (default 120)"),
    AP_INIT_TAKE12(LENZ_D_PASSWORD_HASHES, set_pw_hashes, NULL, RSRC_CONF,
                   "password hashes computed at once per process (default 2), and the "
                   "seconds a request waits for one before 503 (default 10)"),
    AP_INIT_TAKE12(LENZ_D_EVENT_STREAMS, set_event_streams, NULL, RSRC_CONF,
                   "live streams open at once on this host (or auto: a quarter of "
                   "MaxRequestWorkers, the default), and per member (default 8)"),
    AP_INIT_TAKE1(LENZ_D_JOB_WORKERS, set_job_workers, NULL, RSRC_CONF,
                  "job runners per httpd process (default 1)"),
    AP_INIT_TAKE1(LENZ_D_JOB_POLL, set_job_poll, NULL, RSRC_CONF,
                  "seconds between looks at the queue when no notification came (default 5)"),
    AP_INIT_TAKE12(LENZ_D_JOB_BACKOFF, set_job_backoff, NULL, RSRC_CONF,
                   "retry delay of failed jobs: base [maximum] seconds (default 30 3600)"),
    AP_INIT_TAKE1(LENZ_D_JOB_RETENTION, set_job_retention, NULL, RSRC_CONF,
                  "days finished jobs and dispatched events are kept (default 7)"),
    AP_INIT_TAKE1(LENZ_D_UPLOAD_ABANDON, set_upload_abandon, NULL, RSRC_CONF,
                  "age after which unfinished multipart uploads are aborted (default 24h)"),
    AP_INIT_TAKE1(LENZ_D_BASE, set_base, NULL, ACCESS_CONF,
                  "path that routes are relative to (default: the <Location> path)"),
    AP_INIT_TAKE1(LENZ_D_JSON_LIMIT, set_json_limit, NULL, ACCESS_CONF,
                  "largest JSON request body accepted, in bytes (default 65536)"),
    { NULL }
};
