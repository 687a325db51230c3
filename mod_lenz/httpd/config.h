/* config.h - mod_lenz configuration: directive storage, merge rules,
 * start-up validation and the per-server runtime state loaded from it.
 *
 * Every field starts unset (NULL or -1); merging takes the inner value when
 * it is set; defaults live in the getters below, never in the structs.
 */
#ifndef LENZ_CONFIG_H
#define LENZ_CONFIG_H

#include "lenz.h"
#include <apr_uri.h>
#include "breaker.h"

struct lenz_keyring;
struct lenz_s3;
struct lenz_tmpl_set;

/* The kinds LenzCollabLimits counts (rate.h: per member, an hour). */
typedef enum {
    LENZ_COLLAB_INVITES = 0,
    LENZ_COLLAB_COMMENTS,
    LENZ_COLLAB_POSTS,
    LENZ_COLLAB_MESSAGES,
    LENZ_COLLAB_NLIMITS
} lenz_collab_limit;
extern const char *const lenz_collab_limit_names[LENZ_COLLAB_NLIMITS];

typedef struct lenz_srv_cfg {
    const char *s3_endpoint;
    const char *s3_bucket;
    const char *s3_region;
    const char *s3_access_key;
    const char *s3_secret_file;
    int s3_path_style;              /* -1 unset, 1 path, 0 virtual-host */
    int s3_connect_timeout;         /* seconds, -1 unset */
    int s3_stall_timeout;           /* seconds without progress, -1 unset */
    int s3_op_timeout;              /* seconds for non-streaming calls, -1 unset */
    int s3_breaker_threshold;       /* failures in a row that open the breaker, -1 unset */
    int s3_breaker_cooldown;        /* seconds it stays open, -1 unset */
    const char *shared_cache;       /* socache spec (main server only) */
    int session_idle;               /* seconds, -1 unset */
    int session_max;                /* seconds, -1 unset */
    int upload_policy;              /* -1 unset, LENZ_POLICY_* */
    apr_off_t plain_above;          /* -1 unset; 0: none; files larger go plain */
    apr_off_t upload_part_size;     /* plaintext bytes, -1 unset */
    int part_digest_always;         /* -1 unset, 0 when the client sends one, 1 always */
    apr_off_t net_read;             /* -1 unset, 0 httpd's own, else bytes per socket read */
    int guest_uploads;              /* -1 unset, 0 off, 1 on */
    apr_off_t guest_max_size;       /* -1 unset */
    int guest_max_files;            /* per transfer, -1 unset */
    int guest_per_hour;             /* initiates per client address and hour, -1 unset */
    int guest_expiry;               /* seconds, -1 unset */
    apr_off_t member_quota;         /* bytes, -1 unset */
    int member_max_files;           /* per transfer, -1 unset */
    int link_expiry;                /* default seconds, -1 unset */
    int link_expiry_max;            /* longest allowed, -1 unset */
    const char *master_key_file;
    const char *smtp_url;
    const char *smtp_auth_file;     /* "user:password" file */
    int smtp_tls;                   /* -1 unset, LENZ_SMTP_TLS_* */
    const char *smtp_ca_file;       /* PEM CA bundle; NULL: the system store */
    const char *mail_from;
    const char *public_url;
    const char *template_dir;
    int enabled;                    /* some Lenz directive is set here or inherited */

    /* Background jobs (global: the main server's values reach every vhost). */
    int jobs;                       /* LenzJobs: -1 unset, 0 off, 1 on */
    const char *jobs_db;            /* libpq conninfo of the runners' connections */
    int job_workers;                /* runners per process, -1 unset */
    int event_streams;              /* live streams per host, -1 unset */
    int event_streams_member;       /* ... per member, -1 unset */
    int pw_hashes;                  /* password hashes at once per process, -1 unset */
    int folder_depth;               /* LenzFolderDepth, -1 unset */
    int collab_limits[LENZ_COLLAB_NLIMITS];  /* LenzCollabLimits per member and hour, -1 unset */
    apr_array_header_t *content_words;       /* LenzContentWords (const char *, lower case), NULL unset */
    int content_links;              /* LenzContentLinks, -1 unset */
    int trash_days;                 /* LenzTrashDays, -1 unset */
    int request_notify;             /* LenzFileRequestNotifyDelay seconds, -1 unset */
    int pw_wait;                    /* ... seconds a request waits for one, -1 unset */
    int job_poll;                   /* seconds, -1 unset */
    int job_backoff_base;           /* seconds, -1 unset */
    int job_backoff_max;            /* seconds, -1 unset */
    int job_retention;              /* days, -1 unset */
    int upload_abandon;             /* seconds, -1 unset */

    /* Runtime state, filled by lenz_config_check() from pconf. */
    struct lenz_keyring *keyring;
    struct lenz_s3 *s3;
    struct lenz_tmpl_set *templates;
    const char *smtp_user;          /* from LenzSMTPAuthFile */
    const char *smtp_password;
} lenz_srv_cfg;

#define LENZ_SMTP_TLS_OFF      0    /* plain SMTP, never STARTTLS */
#define LENZ_SMTP_TLS_STARTTLS 1    /* STARTTLS when offered (default) */
#define LENZ_SMTP_TLS_REQUIRED 2    /* STARTTLS or fail */

typedef struct lenz_dir_cfg {
    const char *base;               /* LenzBase, or NULL */
    apr_off_t json_limit;           /* -1 unset */
    int trust_remote_user;          /* -1 unset, 0 off, 1 on */
    int remote_create;              /* -1 unset, 0 off, 1 on */
} lenz_dir_cfg;

extern const command_rec lenz_cmds[];

/* Defaults the directive getters and the start-up checks share. */
#define LENZ_CFG_CONNECT_TIMEOUT 5
#define LENZ_CFG_STALL_TIMEOUT   30
#define LENZ_CFG_OP_TIMEOUT      30
/* A control character anywhere in s (refused in names and secrets). */
int lenz_cfg_has_ctl(const char *s);
/* s without its trailing slashes (a copy from p when it had any). */
const char *lenz_cfg_trim_slash(apr_pool_t *p, const char *s);

void *lenz_create_srv_cfg(apr_pool_t *p, server_rec *s);
void *lenz_merge_srv_cfg(apr_pool_t *p, void *basev, void *addv);
void *lenz_create_dir_cfg(apr_pool_t *p, char *dir);
void *lenz_merge_dir_cfg(apr_pool_t *p, void *basev, void *addv);

/* check_config hook: validates every server and loads keys, the S3 secret
 * and the templates.  Runs for `apachectl -t` too (post_config does not). */
int lenz_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                      server_rec *s);
/* Logs "DIRECTIVE: problem" (naming the virtual host) and returns the
 * status that stops httpd from starting. */
int lenz_config_refuse(server_rec *s, const char *directive, const char *problem);

lenz_srv_cfg *lenz_srv(const server_rec *s);
lenz_dir_cfg *lenz_dir(const request_rec *r);

#define LENZ_POLICY_CHOICE    0
#define LENZ_POLICY_ENCRYPTED 1
#define LENZ_POLICY_PLAIN     2

/* Getters with defaults. */
int lenz_cfg_upload_policy(const lenz_srv_cfg *c);
/* Files larger than this go the plain path whatever the policy (0: no
 * threshold). */
apr_off_t lenz_cfg_plain_above(const lenz_srv_cfg *c);
/* Whether a file of this size may take the encrypted (1) or the plain (0)
 * path; *why says why not. */
int lenz_cfg_upload_path_ok(const lenz_srv_cfg *c, apr_off_t size, int encrypted, const char **why);
apr_off_t lenz_cfg_part_size(const lenz_srv_cfg *c);
int lenz_cfg_guest_uploads(const lenz_srv_cfg *c);
/* LenzUploadPartDigest always: SHA-256 every encrypted part, not only
 * those the client sent a digest for. */
int lenz_cfg_part_digest_always(const lenz_srv_cfg *c);
/* LenzNetworkRead: largest socket read on this server's connections
 * (0: httpd's own socket bucket). */
apr_off_t lenz_cfg_net_read(const lenz_srv_cfg *c);
apr_off_t lenz_cfg_guest_max_size(const lenz_srv_cfg *c);
int lenz_cfg_guest_max_files(const lenz_srv_cfg *c);
int lenz_cfg_guest_per_hour(const lenz_srv_cfg *c);
int lenz_cfg_guest_expiry(const lenz_srv_cfg *c);
apr_off_t lenz_cfg_member_quota(const lenz_srv_cfg *c);
int lenz_cfg_member_max_files(const lenz_srv_cfg *c);
int lenz_cfg_link_expiry(const lenz_srv_cfg *c);
int lenz_cfg_link_expiry_max(const lenz_srv_cfg *c);
/* "123", "64K", "8M", "2G", "1T": bytes, or -1. */
apr_off_t lenz_parse_size(const char *s);
const char *lenz_cfg_shared_cache(const lenz_srv_cfg *c);
void lenz_cfg_breaker(const lenz_srv_cfg *c, lenz_breaker_conf *bc);
const char *lenz_cfg_region(const lenz_srv_cfg *c);
/* The path routes are relative to: LenzBase, else the matched <Location>. */
const char *lenz_cfg_base(const request_rec *r, const lenz_dir_cfg *d);
apr_off_t lenz_cfg_json_limit(const lenz_dir_cfg *d);
int lenz_cfg_session_idle(const lenz_srv_cfg *c);
int lenz_cfg_session_max(const lenz_srv_cfg *c);
int lenz_cfg_smtp_tls(const lenz_srv_cfg *c);
int lenz_cfg_jobs_on(const lenz_srv_cfg *c);
int lenz_cfg_job_workers(const lenz_srv_cfg *c);
/* LenzEventStreams: 0 when unset (streams.c derives the default). */
int lenz_cfg_event_streams(const lenz_srv_cfg *c);
int lenz_cfg_event_streams_member(const lenz_srv_cfg *c);
/* LenzPasswordHashes: 0 when unset (pwgate.c has the defaults). */
int lenz_cfg_pw_hashes(const lenz_srv_cfg *c);
int lenz_cfg_folder_depth(const lenz_srv_cfg *c);
/* LenzCollabLimits: what a member may do an hour, per kind (defaults:
 * invites 50, comments 120, posts 60, messages 300). */
int lenz_cfg_collab_limit(const lenz_srv_cfg *c, lenz_collab_limit which);
/* LenzContentWords (NULL: none) and LenzContentLinks (default 5). */
const apr_array_header_t *lenz_cfg_content_words(const lenz_srv_cfg *c);
int lenz_cfg_content_links(const lenz_srv_cfg *c);   /* default 32 */
int lenz_cfg_trash_days(const lenz_srv_cfg *c);     /* default 30 */
/* Seconds from a file request's first finished upload to telling its
 * owner (the files finished meanwhile come in the same notice). */
int lenz_cfg_request_notify_delay(const lenz_srv_cfg *c);   /* default 120 */
int lenz_cfg_pw_wait(const lenz_srv_cfg *c);
apr_interval_time_t lenz_cfg_job_poll(const lenz_srv_cfg *c);
int lenz_cfg_job_backoff_base(const lenz_srv_cfg *c);   /* seconds */
int lenz_cfg_job_backoff_max(const lenz_srv_cfg *c);    /* seconds */
int lenz_cfg_job_retention(const lenz_srv_cfg *c);      /* days */
int lenz_cfg_upload_abandon(const lenz_srv_cfg *c);     /* seconds */

#endif
