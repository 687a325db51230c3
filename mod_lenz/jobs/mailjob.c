/* mailjob.c - the "mail" job kind and its producer API (see mailjob.h). */
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_uri.h>

#include "httpd/lenz.h"
#include "mailjob.h"
#include "httpd/config.h"
#include "httpd/render.h"
#include "httpd/metrics.h"
#include "mail.h"
#include "http.h"
#include "token.h"
#include "crypto.h"
#include "codec.h"
#include "names.h"
#include "err.h"

#define SITE_NAME "Lenzeye"

static int name_ok(const char *n)
{
    apr_size_t len = n ? strlen(n) : 0, i;
    if (len == 0 || len > 64 || !apr_isalnum(n[0]))
        return 0;
    for (i = 0; i < len; i++)
        if (!(apr_islower(n[i]) || apr_isdigit(n[i]) || n[i] == '-' || n[i] == '_'))
            return 0;
    return 1;
}

/* What a sealed part is bound to: it opens only in a job for this
 * template and this first recipient. */
static const char *seal_subject(apr_pool_t *p, const char *tmpl, const char *to)
{
    return apr_pstrcat(p, tmpl, ":", to, NULL);
}

typedef struct { lenz_json *names; } names_baton;

static int add_name(void *baton, const char *key, lenz_json *val)
{
    (void)val;
    lenz_json_arr_add_str(((names_baton *)baton)->names, key);
    return 0;
}

/* pl's "sealed" and "sealed_fields" for the secret members. */
static apr_status_t seal(apr_pool_t *p, server_rec *s, lenz_json *pl, const char *tmpl,
                         const char *to, const lenz_json *secret)
{
    const lenz_srv_cfg *c = lenz_srv(s);
    lenz_json *claims = lenz_json_new_object(p);
    names_baton nb;
    const char *text = NULL;
    apr_status_t rv;

    if (lenz_json_typeof(secret) != LENZ_JSON_OBJECT || !c->keyring)
        return APR_EINVAL;
    lenz_json_set_copy(claims, "data", (lenz_json *)secret);
    rv = lenz_token_seal(p, c->keyring, LENZ_MAIL_SEAL_PURPOSE, seal_subject(p, tmpl, to),
                         LENZ_MAIL_SEAL_TTL, apr_time_sec(apr_time_now()), claims, &text);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     LENZLOGNO(2333) "mail %s: sealing its secret fields failed (%s)", tmpl,
                     lenz_strerror(rv));
        return rv;
    }
    lenz_json_set_str(pl, "sealed", text);
    nb.names = lenz_json_obj_add_array(pl, "sealed_fields");
    lenz_json_object_each(secret, add_name, &nb);
    return APR_SUCCESS;
}

apr_status_t lenz_mail_enqueue_sealed(lenz_db *db, const char *tmpl, const char *to,
                                      const char *subject, const lenz_json *data,
                                      const lenz_json *secret, const char *unique_key)
{
    apr_pool_t *p = lenz_db_pool(db);
    server_rec *s = lenz_db_server(db);
    lenz_json *pl;
    apr_status_t rv;

    if (!name_ok(tmpl)
        || !lenz_tmpl_get(lenz_srv(s)->templates, apr_pstrcat(p, "mail/", tmpl, ".txt", NULL))) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     LENZLOGNO(2330) "mail: there is no template mail/%s.txt.mustache",
                     tmpl ? tmpl : "(null)");
        return APR_EINVAL;
    }
    if (!to || !lenz_mail_addr_ok(to))
        return LENZ_EFORMAT;
    pl = lenz_json_new_object(p);
    lenz_json_set_str(pl, "template", tmpl);
    lenz_json_arr_add_str(lenz_json_obj_add_array(pl, "to"), to);
    lenz_json_set_str(pl, "subject", subject ? subject : "");
    if (data)
        lenz_json_set_copy(pl, "data", (lenz_json *)data);
    if (secret && (rv = seal(p, s, pl, tmpl, to, secret)) != APR_SUCCESS)
        return rv;
    return lenz_job_enqueue_ex(db, "mail", pl, 0, unique_key, LENZ_MAIL_ATTEMPTS, NULL);
}

apr_status_t lenz_mail_enqueue_ex(lenz_db *db, const char *tmpl, const char *to,
                                  const char *subject, const lenz_json *data,
                                  const char *unique_key)
{
    return lenz_mail_enqueue_sealed(db, tmpl, to, subject, data, NULL, unique_key);
}

apr_status_t lenz_mail_enqueue(lenz_db *db, const char *tmpl, const char *to,
                               const char *subject, const lenz_json *data)
{
    return lenz_mail_enqueue_sealed(db, tmpl, to, subject, data, NULL, NULL);
}

/* Control characters (CR, LF, TAB, ...) become one space; ends trimmed. */
static const char *one_line(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;
    int space = 1;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (!space)
                *o++ = ' ';
            space = 1;
        }
        else {
            *o++ = (char)c;
            space = 0;
        }
    }
    while (o > out && o[-1] == ' ')
        o--;
    *o = '\0';
    return out;
}

/* LenzPublicURL's host when it is a domain name; NULL (the sender's
 * domain) for an IP address. */
static const char *mid_domain(apr_pool_t *p, const lenz_srv_cfg *c)
{
    apr_uri_t u;
    const char *dot;
    if (!c->public_url || apr_uri_parse(p, c->public_url, &u) != APR_SUCCESS || !u.hostname
        || strchr(u.hostname, ':'))
        return NULL;
    dot = strrchr(u.hostname, '.');
    dot = dot ? dot + 1 : u.hostname;
    for (; *dot; dot++)
        if (apr_isalpha(*dot))
            return u.hostname;
    return NULL;
}

typedef struct { lenz_json *ctx; apr_pool_t *pool; } copy_baton;

/* Strings (file and member names among them) lose their bidi controls,
 * which could show "photo<U+202E>gpj.exe" as "photoexe.jpg" (names.h). */
static int copy_member(void *baton, const char *key, lenz_json *val)
{
    copy_baton *cb = baton;
    const char *s = lenz_json_string(val);
    if (s && lenz_name_has_bidi(s))
        lenz_json_set_str(cb->ctx, key, lenz_name_neutral(cb->pool, s));
    else
        lenz_json_set_copy(cb->ctx, key, val);
    return 0;
}

static apr_status_t render(lenz_jobctx *jc, const char *tmpl, const lenz_json *data,
                           const lenz_json *secret, const char **text, const char **html)
{
    const lenz_srv_cfg *c = lenz_srv(jc->s);
    const char *base = apr_pstrcat(jc->pool, "mail/", tmpl, NULL);
    lenz_json *ctx = lenz_json_new_object(jc->pool), *site;
    copy_baton cb = { ctx, jc->pool };
    apr_status_t rv;

    if (data)
        lenz_json_object_each(data, copy_member, &cb);
    if (secret)                         /* opened for this rendering only */
        lenz_json_object_each(secret, copy_member, &cb);
    site = lenz_json_obj_add_object(ctx, "site");
    lenz_json_set_str(site, "name", SITE_NAME);
    lenz_json_set_str(site, "base_url", c->public_url ? c->public_url : "");
    rv = lenz_render_string(jc->pool, c->templates, apr_pstrcat(jc->pool, base, ".txt", NULL),
                            ctx, text);
    if (rv != APR_SUCCESS)
        return lenz_job_failed(jc, 1, "template %s.txt: %s", base,
                               rv == APR_ENOENT ? "not found" : "rendering failed");
    *html = NULL;
    if (lenz_tmpl_get(c->templates, apr_pstrcat(jc->pool, base, ".html", NULL))) {
        rv = lenz_render_string(jc->pool, c->templates, apr_pstrcat(jc->pool, base, ".html", NULL),
                                ctx, html);
        if (rv != APR_SUCCESS)
            return lenz_job_failed(jc, 1, "template %s.html: rendering failed", base);
    }
    return APR_SUCCESS;
}

/* The secret fields sealed at enqueueing, opened (*secret, or NULL when
 * the mail has none).  Once the job has ended they are gone from the row
 * (jobs.c): a job run again after that (lenzctl retry-job) dies rather
 * than send a mail without its link or code. */
static apr_status_t unseal(lenz_jobctx *jc, const lenz_json *pl, const char *tmpl,
                           const char *to, const lenz_json **secret)
{
    const lenz_srv_cfg *c = lenz_srv(jc->s);
    const lenz_json *fields = lenz_json_get(pl, "sealed_fields");
    const char *text = lenz_json_string(lenz_json_get(pl, "sealed"));
    lenz_json *claims = NULL;
    apr_status_t rv;

    *secret = NULL;
    if (!text) {
        if (fields && lenz_json_array_len(fields) > 0)
            return lenz_job_failed(jc, 1, "its sealed fields (%s) were removed when the job "
                                   "ended; a mail without them is not sent",
                                   lenz_json_dump(jc->pool, fields));
        return APR_SUCCESS;
    }
    rv = lenz_token_open(jc->pool, c->keyring, LENZ_MAIL_SEAL_PURPOSE,
                         seal_subject(jc->pool, tmpl, to), apr_time_sec(apr_time_now()),
                         text, &claims);
    if (rv != APR_SUCCESS)
        return lenz_job_failed(jc, 1, "its sealed fields do not open (%s: %s)", lenz_strerror(rv),
                               rv == LENZ_EEXPIRED ? "sealed too long ago"
                               : "another master key, another template or recipient, or altered");
    *secret = lenz_json_get(claims, "data");
    if (lenz_json_typeof(*secret) != LENZ_JSON_OBJECT)
        return lenz_job_failed(jc, 1, "its sealed fields are not an object");
    return APR_SUCCESS;
}

static apr_status_t recipients(lenz_jobctx *jc, const lenz_json *to, apr_array_header_t **out)
{
    apr_array_header_t *a = apr_array_make(jc->pool, 4, sizeof(lenz_mail_addr));
    apr_size_t i, n;
    if (lenz_json_typeof(to) == LENZ_JSON_STRING) {
        lenz_mail_addr *m = apr_array_push(a);
        m->name = NULL;
        m->addr = lenz_json_string(to);
    }
    else if (lenz_json_typeof(to) == LENZ_JSON_ARRAY) {
        for (i = 0, n = lenz_json_array_len(to); i < n; i++) {
            lenz_mail_addr *m = apr_array_push(a);
            m->name = NULL;
            m->addr = lenz_json_string(lenz_json_array_get(to, i));
            if (!m->addr)
                return lenz_job_failed(jc, 1, "to[%d] is not a string", (int)i);
        }
    }
    if (a->nelts == 0)
        return lenz_job_failed(jc, 1, "the payload names no recipient (\"to\")");
    *out = a;
    return APR_SUCCESS;
}

/* The Message-ID's random part: made once, recorded before the first
 * send, reused by every retry. */
static apr_status_t message_id(lenz_jobctx *jc, const char **mid)
{
    const lenz_json *res = jc->job->result;
    unsigned char r[18];
    lenz_json *rec;
    apr_status_t rv;

    if (res && (*mid = lenz_json_string(lenz_json_get(res, "message_id_random"))) != NULL)
        return APR_SUCCESS;
    if ((rv = lenz_random(r, sizeof(r))) != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "the random generator failed");
    *mid = lenz_b64url(jc->pool, r, sizeof(r));
    rec = lenz_json_new_object(jc->pool);
    lenz_json_set_str(rec, "message_id_random", *mid);
    if ((rv = lenz_job_record(jc, rec)) != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "recording the Message-ID failed");
    return APR_SUCCESS;
}

static apr_status_t sent(lenz_jobctx *jc, const char *mid, const char *msgid)
{
    lenz_json *rec = lenz_json_new_object(jc->pool);
    lenz_json_set_str(rec, "message_id_random", mid);
    lenz_json_set_str(rec, "message_id", msgid);
    lenz_json_set_str(rec, "sent_at", lenz_epoch_text(jc->pool, apr_time_now()));
    lenz_metrics_add(LENZ_CNT_MAILS_SENT, 1);
    /* The server has it: whatever happens now, the job is done. */
    if (lenz_job_record(jc, rec) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, jc->s,
                     LENZLOGNO(2332) "mail job %" APR_INT64_T_FMT ": sent as %s, but recording "
                     "that failed", jc->job->id, msgid);
    return APR_SUCCESS;
}

apr_status_t lenz_mail_job(lenz_jobctx *jc)
{
    const lenz_srv_cfg *c = lenz_srv(jc->s);
    const lenz_json *pl = jc->job->payload, *res = jc->job->result;
    const char *tmpl = lenz_json_string(lenz_json_get(pl, "template"));
    const char *subject = lenz_json_string(lenz_json_get(pl, "subject"));
    const lenz_json *data = lenz_json_get(pl, "data"), *secret = NULL;
    const char *text, *html, *mid, *bnd, *msg, *why = NULL, *dom;
    unsigned char r[18];
    apr_array_header_t *rcpt;
    lenz_smtp_msg sm;
    lenz_mail m;
    apr_size_t len;
    apr_status_t rv;
    long code = 0;

    if (res && lenz_json_has(res, "sent_at")) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, jc->s, "mail job %" APR_INT64_T_FMT ": the "
                     "server took it already (%s); not sending again", jc->job->id,
                     lenz_json_string(lenz_json_get(res, "message_id")));
        return APR_SUCCESS;
    }
    if (!name_ok(tmpl))
        return lenz_job_failed(jc, 1, "the payload names no valid template");
    if (data && lenz_json_typeof(data) != LENZ_JSON_OBJECT)
        return lenz_job_failed(jc, 1, "\"data\" is not an object");
    memset(&m, 0, sizeof(m));
    if ((rv = recipients(jc, lenz_json_get(pl, "to"), &m.to)) != APR_SUCCESS
        || (rv = unseal(jc, pl, tmpl, APR_ARRAY_IDX(m.to, 0, lenz_mail_addr).addr, &secret))
           != APR_SUCCESS
        || (rv = render(jc, tmpl, data, secret, &text, &html)) != APR_SUCCESS
        || (rv = message_id(jc, &mid)) != APR_SUCCESS)
        return rv;
    if (lenz_random(r, sizeof(r)) != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "the random generator failed");
    bnd = lenz_b64url(jc->pool, r, sizeof(r));
    m.from_addr = c->mail_from;
    m.subject = subject ? one_line(jc->pool, lenz_name_neutral(jc->pool, subject)) : NULL;
    m.text = text;
    m.html = html;
    m.message_id_domain = dom = mid_domain(jc->pool, c);
    rv = lenz_mail_build_ex(jc->pool, &m, mid, bnd, &msg, &len, &rcpt, &why);
    if (rv != APR_SUCCESS)
        return lenz_job_failed(jc, 1, "the message cannot be composed: %s", why ? why : "");

    memset(&sm, 0, sizeof(sm));
    sm.url = c->smtp_url;
    sm.user = c->smtp_user;
    sm.password = c->smtp_password;
    sm.starttls = lenz_cfg_smtp_tls(c) == LENZ_SMTP_TLS_REQUIRED ? LENZ_STARTTLS_REQUIRED
                  : lenz_cfg_smtp_tls(c) == LENZ_SMTP_TLS_OFF ? LENZ_STARTTLS_NEVER
                  : LENZ_STARTTLS_TRY;
    sm.ca_file = c->smtp_ca_file;
    sm.from = c->mail_from;
    sm.rcpt = rcpt;
    sm.data = msg;
    sm.data_len = len;
    rv = lenz_smtp_send(jc->http, jc->pool, &sm, &code, &why);
    if (rv == APR_SUCCESS)
        return sent(jc, mid, apr_pstrcat(jc->pool, "<", mid, "@",
                                         dom ? dom : strchr(c->mail_from, '@') + 1, ">", NULL));
    /* 5xx is the server's final word (a refused recipient, say); an
     * authentication failure may be fixed by the operator, so retry. */
    return lenz_job_failed(jc, code >= 500 && code != 530 && code != 535,
                           "SMTP %s (%s, reply %ld): %s", c->smtp_url, lenz_strerror(rv), code,
                           why ? why : "");
}
