/* config_check.c - start-up validation, in the check_config hook, which
 * httpd runs both for `apachectl -t` and before every start (post_config
 * is never reached by -t): is each server's configuration complete, are
 * the files it names usable; then the runtime state (keyring, S3 client,
 * templates) is loaded from it.
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

#define MAX_SECRET_FILE         4096
#define MAX_CA_FILE             (16 * 1024 * 1024)

/* Start-up checks ---------------------------------------------------------- */

/* The master key file's rule (core/keys.c) for every secret file: no
 * permission at all for group or others.  httpd reads them as root at
 * start; a group that may read one (www-data, say) would hand the S3 or
 * SMTP credentials to every script running under that group. */
#define SECRET_FILE_FORBIDDEN (APR_FPROT_GREAD | APR_FPROT_GWRITE | APR_FPROT_GEXECUTE \
                               | APR_FPROT_WREAD | APR_FPROT_WWRITE | APR_FPROT_WEXECUTE)

static unsigned octal_mode(apr_fileperms_t prot)
{
    /* APR keeps one hex digit per class; show the familiar octal. */
    return (unsigned)(((prot >> 8) & 7) << 6 | ((prot >> 4) & 7) << 3 | (prot & 7));
}

static const char *read_secret_file(apr_pool_t *p, const char *path, const char **secret)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char buf[MAX_SECRET_FILE + 1];
    apr_size_t n = MAX_SECRET_FILE + 1;
    apr_status_t rv;
    const char *why = NULL;

    rv = apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_PROT, p);
    if (rv != APR_SUCCESS)
        return apr_psprintf(p, "cannot read '%s' (%pm)", path, &rv);
    if (fi.filetype != APR_REG)
        return apr_psprintf(p, "'%s' is not a regular file", path);
    if (fi.protection & SECRET_FILE_FORBIDDEN)
        return apr_psprintf(p, "'%s' is %s (mode 0%03o): a secret file must be readable by its "
                            "owner only; chmod 600 it", path,
                            fi.protection & APR_FPROT_WREAD ? "readable by everyone"
                            : fi.protection & APR_FPROT_GREAD ? "readable by its group"
                            : "accessible by group or others", octal_mode(fi.protection));
    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p);
    if (rv != APR_SUCCESS)
        return apr_psprintf(p, "cannot open '%s' (%pm)", path, &rv);
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF)
        why = apr_psprintf(p, "cannot read '%s' (%pm)", path, &rv);
    else if (n > MAX_SECRET_FILE)
        why = apr_psprintf(p, "'%s' is too large to be a secret key", path);
    else {
        while (n > 0 && apr_isspace(buf[n - 1]))
            n--;
        if (n == 0)
            why = apr_psprintf(p, "'%s' is empty", path);
        else
            *secret = apr_pstrmemdup(p, buf, n);
    }
    /* Whatever was read: a plain memset of a buffer that is never read
     * again may be optimised away. */
    lenz_wipe(buf, sizeof(buf));
    if (!why && lenz_cfg_has_ctl(*secret))
        why = apr_psprintf(p, "'%s' holds more than one line", path);
    return why;
}

/* A CA bundle: a regular file of at most MAX_CA_FILE bytes holding at
 * least one certificate OpenSSL can read.  Checked as root; libcurl reads
 * it again on every connection, in a child running as User, so it must be
 * readable there too (a CA certificate is no secret: 0644 will do). */
static const char *check_ca_file(apr_pool_t *p, const char *path)
{
    apr_pool_t *tp;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    apr_status_t rv;
    char *buf;
    const char *why = NULL, *err = NULL;
    int count = 0;

    rv = apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_SIZE, p);
    if (rv != APR_SUCCESS)
        return apr_psprintf(p, "cannot read '%s' (%pm)", path, &rv);
    if (fi.filetype != APR_REG)
        return apr_psprintf(p, "'%s' is not a regular file", path);
    if (fi.size > MAX_CA_FILE)
        return apr_psprintf(p, "'%s' is too large to be a CA bundle", path);
    /* The bundle is read into a pool of its own: it is not kept. */
    apr_pool_create(&tp, p);
    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, tp);
    if (rv != APR_SUCCESS) {
        err = apr_psprintf(p, "cannot open '%s' (%pm)", path, &rv);
        goto done;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(tp, n + 1);
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF)
        err = apr_psprintf(p, "cannot read '%s' (%pm)", path, &rv);
    else if (lenz_pem_cert_count(tp, buf, n, &count, &why) != APR_SUCCESS)
        err = apr_psprintf(p, "'%s' is not a readable PEM file: %s", path, why);
    else if (count == 0)
        err = apr_psprintf(p, "'%s' holds no PEM certificate", path);
done:
    apr_pool_destroy(tp);
    return err;
}

static int is_loopback(const char *host)
{
    return host && (strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0
                    || strcmp(host, "::1") == 0);
}

/* Credentials may cross the network only inside TLS: smtps://, or
 * STARTTLS required.  Plain AUTH is fine to a relay on this host. */
static const char *check_smtp_tls(apr_pool_t *p, const lenz_srv_cfg *c, const char **directive)
{
    apr_uri_t u;
    int tls = lenz_cfg_smtp_tls(c);
    if (apr_uri_parse(p, c->smtp_url, &u) != APR_SUCCESS || !u.scheme)
        return "cannot parse " LENZ_D_SMTP_URL;
    *directive = LENZ_D_SMTP_TLS;
    if (strcasecmp(u.scheme, "smtps") == 0)
        return c->smtp_tls == LENZ_SMTP_TLS_OFF
               ? "'off' contradicts the smtps:// URL (TLS from the first byte)" : NULL;
    *directive = LENZ_D_SMTP_AUTH_FILE;
    if (c->smtp_user && tls != LENZ_SMTP_TLS_REQUIRED && !is_loopback(u.hostname))
        return "the password would cross the network unencrypted: use an smtps:// URL "
               "or " LENZ_D_SMTP_TLS " required";
    return NULL;
}

int lenz_config_refuse(server_rec *s, const char *directive, const char *problem)
{
    if (s->is_virtual && s->defn_name)
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     LENZLOGNO(0010) "%s: %s (in the virtual host at %s:%d)",
                     directive, problem, s->defn_name, s->defn_line_number);
    else
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     LENZLOGNO(0010) "%s: %s", directive, problem);
    return HTTP_INTERNAL_SERVER_ERROR;
}

typedef struct {
    apr_hash_t *keyrings;   /* path -> lenz_keyring, so vhosts share one */
    apr_hash_t *templates;  /* dir -> lenz_tmpl_set */
} load_cache;

static int check_server(apr_pool_t *pconf, server_rec *s, lenz_srv_cfg *c, load_cache *lc)
{
    static const struct { const char *name; apr_size_t off; } required[] = {
        { LENZ_D_MASTER_KEY_FILE, APR_OFFSETOF(lenz_srv_cfg, master_key_file) },
        { LENZ_D_S3_ENDPOINT, APR_OFFSETOF(lenz_srv_cfg, s3_endpoint) },
        { LENZ_D_S3_BUCKET, APR_OFFSETOF(lenz_srv_cfg, s3_bucket) },
        { LENZ_D_S3_ACCESS_KEY, APR_OFFSETOF(lenz_srv_cfg, s3_access_key) },
        { LENZ_D_S3_SECRET_FILE, APR_OFFSETOF(lenz_srv_cfg, s3_secret_file) },
        { LENZ_D_SMTP_URL, APR_OFFSETOF(lenz_srv_cfg, smtp_url) },
        { LENZ_D_MAIL_FROM, APR_OFFSETOF(lenz_srv_cfg, mail_from) },
        { LENZ_D_PUBLIC_URL, APR_OFFSETOF(lenz_srv_cfg, public_url) },
    };
    const char *why = NULL, *secret = NULL, *tdir;
    lenz_s3_conf s3c;
    apr_size_t i;

    for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (!*(const char **)((char *)c + required[i].off))
            return lenz_config_refuse(s, required[i].name, "is required but not set");
    }

    c->keyring = apr_hash_get(lc->keyrings, c->master_key_file, APR_HASH_KEY_STRING);
    if (!c->keyring) {
        c->keyring = lenz_keyring_load(pconf, c->master_key_file, &why);
        if (!c->keyring)
            return lenz_config_refuse(s, LENZ_D_MASTER_KEY_FILE, why);
        apr_hash_set(lc->keyrings, c->master_key_file, APR_HASH_KEY_STRING, c->keyring);
    }

    why = read_secret_file(pconf, c->s3_secret_file, &secret);
    if (why)
        return lenz_config_refuse(s, LENZ_D_S3_SECRET_FILE, why);

    if (c->smtp_auth_file) {
        const char *cred = NULL, *colon;
        why = read_secret_file(pconf, c->smtp_auth_file, &cred);
        if (why)
            return lenz_config_refuse(s, LENZ_D_SMTP_AUTH_FILE, why);
        colon = strchr(cred, ':');
        if (!colon || colon == cred)
            return lenz_config_refuse(s, LENZ_D_SMTP_AUTH_FILE,
                          apr_psprintf(pconf, "'%s' must hold user:password", c->smtp_auth_file));
        c->smtp_user = apr_pstrmemdup(pconf, cred, colon - cred);
        c->smtp_password = colon + 1;
    }
    {
        const char *directive = LENZ_D_SMTP_URL;
        if ((why = check_smtp_tls(pconf, c, &directive)) != NULL)
            return lenz_config_refuse(s, directive, why);
    }
    if (c->smtp_ca_file && (why = check_ca_file(pconf, c->smtp_ca_file)) != NULL)
        return lenz_config_refuse(s, LENZ_D_SMTP_CA_FILE, why);

    memset(&s3c, 0, sizeof(s3c));
    s3c.endpoint = c->s3_endpoint;
    s3c.bucket = c->s3_bucket;
    s3c.region = lenz_cfg_region(c);
    s3c.access_key = c->s3_access_key;
    s3c.secret_key = secret;
    s3c.path_style = c->s3_path_style != 0;
    s3c.connect_timeout_ms = 1000L * (c->s3_connect_timeout > 0 ? c->s3_connect_timeout : LENZ_CFG_CONNECT_TIMEOUT);
    s3c.stall_seconds = c->s3_stall_timeout > 0 ? c->s3_stall_timeout : LENZ_CFG_STALL_TIMEOUT;
    s3c.op_timeout_ms = 1000L * (c->s3_op_timeout > 0 ? c->s3_op_timeout : LENZ_CFG_OP_TIMEOUT);
    if (lenz_s3_make(pconf, &s3c, &c->s3, &why) != APR_SUCCESS)
        return lenz_config_refuse(s, LENZ_D_S3_ENDPOINT, why);

    tdir = c->template_dir ? c->template_dir : LENZ_DATADIR "/templates";
    c->templates = apr_hash_get(lc->templates, tdir, APR_HASH_KEY_STRING);
    if (!c->templates) {
        if (lenz_tmpl_load(pconf, tdir, &c->templates, &why) != APR_SUCCESS)
            return lenz_config_refuse(s, LENZ_D_TEMPLATE_DIR, why);
        apr_hash_set(lc->templates, tdir, APR_HASH_KEY_STRING, c->templates);
    }
    return OK;
}

int lenz_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                      server_rec *s)
{
    load_cache lc;
    server_rec *sp;
    int any = 0, rc;

    lc.keyrings = apr_hash_make(ptemp);
    lc.templates = apr_hash_make(ptemp);
    for (sp = s; sp; sp = sp->next) {
        lenz_srv_cfg *c = lenz_srv(sp);
        if (!c->enabled)
            continue;
        any = 1;
        rc = check_server(pconf, sp, c, &lc);
        if (rc != OK)
            return rc;
    }
    if (!any) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_NOTICE, 0, s,
                     LENZLOGNO(0011) "mod_lenz is loaded but no server has a Lenz* "
                     "directive; its handlers will answer 503");
        return OK;
    }
    {
        const char *why = lenz_shared_check(pconf, ptemp, lenz_cfg_shared_cache(lenz_srv(s)));
        if (why)
            return lenz_config_refuse(s, LENZ_D_SHARED_CACHE, why);
    }
    return OK;
}
