/* lenz_smtp_send against the test stack's SMTP sink (plain SMTP, AUTH
 * without TLS, no STARTTLS): each LenzSMTPTLS mode does what it says -
 * "required" refuses to send in clear, the others deliver - AUTH reaches
 * the server, smtps:// insists on TLS from the first byte, reply codes
 * come back.  Needs the stack (make test exports LENZ_SMTP_URL etc.). */
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include "tap.h"
#include "http.h"
#include "mail.h"
#include "err.h"

static apr_pool_t *pool;

static const char *env(const char *k)
{
    const char *v = getenv(k);
    return v ? v : "";
}

/* Number of stored messages holding needle. */
static int mails_with(const char *needle)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    int n = 0;
    if (apr_dir_open(&d, env("LENZ_MAIL_DIR"), pool) != APR_SUCCESS)
        return -1;
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        const char *path;
        apr_file_t *f;
        char buf[65536];
        apr_size_t len = sizeof(buf) - 1;
        if (fi.name[0] == '.' || !strstr(fi.name, ".eml"))
            continue;
        path = apr_pstrcat(pool, env("LENZ_MAIL_DIR"), "/", fi.name, NULL);
        if (apr_file_open(&f, path, APR_FOPEN_READ, 0, pool) != APR_SUCCESS)
            continue;
        apr_file_read_full(f, buf, len, &len);
        apr_file_close(f);
        buf[len] = '\0';
        if (strstr(buf, needle))
            n++;
    }
    apr_dir_close(d);
    return n;
}

static int log_has(const char *needle)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t len, n;
    const char *path = apr_pstrcat(pool, env("LENZ_STACK_DIR"), "/smtp/log", NULL);
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS)
        return 0;
    len = (apr_size_t)fi.size;
    buf = apr_palloc(pool, len + 1);
    apr_file_read_full(f, buf, len, &len);
    apr_file_close(f);
    buf[len] = '\0';
    /* Not strstr: the sink logs what a TLS client sent it, NULs included. */
    for (n = strlen(needle); len >= n; buf++, len--)
        if (memcmp(buf, needle, n) == 0)
            return 1;
    return 0;
}

/* A message whose subject is marker, to rcpt. */
static void compose(const char *marker, const char *rcpt, lenz_smtp_msg *sm)
{
    lenz_mail m;
    lenz_mail_addr *a;
    const char *data, *why = NULL;
    apr_size_t len;
    apr_array_header_t *env_rcpt;

    memset(&m, 0, sizeof(m));
    m.from_addr = "stack-test@example.org";
    m.to = apr_array_make(pool, 1, sizeof(lenz_mail_addr));
    a = apr_array_push(m.to);
    a->name = NULL;
    a->addr = rcpt;
    m.subject = marker;
    m.text = "stack_smtp\n";
    if (lenz_mail_build(pool, &m, &data, &len, &env_rcpt, &why) != APR_SUCCESS)
        abort();
    memset(sm, 0, sizeof(*sm));
    sm->url = env("LENZ_SMTP_URL");
    sm->from = m.from_addr;
    sm->rcpt = env_rcpt;
    sm->data = data;
    sm->data_len = len;
    sm->timeout_ms = 5000;
}

int main(void)
{
    lenz_http *h;
    lenz_smtp_msg sm;
    const char *why, *mk;
    apr_status_t rv;
    long code;
    int tag;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    lenz_http_global_init();
    h = lenz_http_make(pool);
    tag = (int)(apr_time_now() % 1000000000);
    if (!ok(*env("LENZ_SMTP_URL") && *env("LENZ_MAIL_DIR"), "stack settings present (run through make test)"))
        return done_testing();

    mk = apr_psprintf(pool, "stack-smtp-%d-try", tag);
    compose(mk, "try@example.org", &sm);
    why = NULL;
    rv = lenz_smtp_send(h, pool, &sm, &code, &why);
    ok(rv == APR_SUCCESS, "STARTTLS when offered: the sink offers none, so plain: %s", why ? why : "sent");
    is_int(code, 250, "... the server's last reply code is 250");
    is_int(mails_with(mk), 1, "... the message is stored once");

    mk = apr_psprintf(pool, "stack-smtp-%d-never", tag);
    compose(mk, "never@example.org", &sm);
    sm.starttls = LENZ_STARTTLS_NEVER;
    ok(lenz_smtp_send(h, pool, &sm, &code, &why) == APR_SUCCESS, "STARTTLS never: sent in plain");
    is_int(mails_with(mk), 1, "... stored");

    mk = apr_psprintf(pool, "stack-smtp-%d-required", tag);
    compose(mk, "required@example.org", &sm);
    sm.starttls = LENZ_STARTTLS_REQUIRED;
    why = NULL;
    rv = lenz_smtp_send(h, pool, &sm, &code, &why);
    ok(rv != APR_SUCCESS, "STARTTLS required against a server without it: refused (%s: %s)",
       lenz_strerror(rv), why ? why : "");
    ok(why && strstr(why, "STARTTLS"), "... saying STARTTLS is missing");
    is_int(mails_with(mk), 0, "... and nothing was sent in clear");

    mk = apr_psprintf(pool, "stack-smtp-%d-auth", tag);
    compose(mk, "auth@example.org", &sm);
    sm.user = apr_psprintf(pool, "stack-user-%d", tag);
    sm.password = "secret";
    ok(lenz_smtp_send(h, pool, &sm, &code, &why) == APR_SUCCESS, "AUTH: sent");
    ok(log_has(apr_psprintf(pool, "to=<auth@example.org> size=")) && log_has(sm.user),
       "... the server saw the user");

    mk = apr_psprintf(pool, "stack-smtp-%d-smtps", tag);
    compose(mk, "smtps@example.org", &sm);
    sm.url = apr_pstrcat(pool, "smtps://", env("LENZ_SMTP_URL") + strlen("smtp://"), NULL);
    why = NULL;
    rv = lenz_smtp_send(h, pool, &sm, &code, &why);
    ok(rv != APR_SUCCESS, "smtps:// to a plain SMTP port fails (%s: %s)", lenz_strerror(rv), why ? why : "");
    is_int(mails_with(mk), 0, "... and sends nothing");

    compose("unreachable", "x@example.org", &sm);
    sm.url = "smtp://127.0.0.1:1";
    rv = lenz_smtp_send(h, pool, &sm, &code, &why);
    ok(rv == LENZ_EUNAVAIL && code == 0, "no server: unavailable, no reply code (%s)", lenz_strerror(rv));

    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
