/* lenz_smtp_send against the test stack's SMTP sink, which listens three
 * ways: STARTTLS offered (AUTH only inside TLS), implicit TLS (smtps://),
 * and a plain relay that never offers STARTTLS.  Its certificate comes
 * from the stack's own CA (LENZ_SMTP_CA_FILE); LENZ_SMTP_OTHER_CA_FILE is
 * a CA that signed nothing.  Checked here: each LenzSMTPTLS mode does what
 * it says and the sink's log says whether the session was encrypted
 * (tls=yes|no); the certificate is verified - a wrong CA, the system
 * store or a host name it does not hold fails before anything is sent,
 * also when STARTTLS is only "when offered"; AUTH goes inside TLS; "required" refuses a server without
 * STARTTLS; smtps:// insists on TLS from the first byte; reply codes come
 * back.  Needs the stack (make test exports LENZ_SMTP_URL etc.). */
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include "tap.h"
#include "http.h"
#include "mail.h"
#include "err.h"

static apr_pool_t *pool;
static int tag;

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

/* The sink's log line for the message to rcpt ("" when there is none):
 * "... to=<rcpt> size=N auth=USER mech=M tls=yes|no". */
static const char *log_line(const char *rcpt)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf, *end;
    apr_size_t len, n, i;
    const char *needle = apr_pstrcat(pool, " to=<", rcpt, "> ", NULL);
    const char *path = apr_pstrcat(pool, env("LENZ_STACK_DIR"), "/smtp/log", NULL);
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS)
        return "";
    len = (apr_size_t)fi.size;
    buf = apr_palloc(pool, len + 1);
    apr_file_read_full(f, buf, len, &len);
    apr_file_close(f);
    buf[len] = '\0';
    /* Not strstr: the log holds what a TLS client sent the plain port,
     * NULs included. */
    n = strlen(needle);
    for (i = 0; i + n <= len; i++) {
        if (memcmp(buf + i, needle, n) != 0)
            continue;
        end = memchr(buf + i, '\n', len - i);
        return apr_pstrmemdup(pool, buf + i + 1, end ? (apr_size_t)(end - buf - i - 1) : len - i - 1);
    }
    return "";
}

/* Ends with " tls=WANT", and so says whether the session was encrypted. */
static int logged_tls(const char *line, const char *want)
{
    const char *t = apr_pstrcat(pool, " tls=", want, NULL);
    apr_size_t n = strlen(line), m = strlen(t);
    return n >= m && strcmp(line + n - m, t) == 0;
}

/* A message to NAME-TAG@example.org whose subject is the same. */
static const char *compose(const char *name, lenz_smtp_msg *sm)
{
    lenz_mail m;
    lenz_mail_addr *a;
    const char *data, *why = NULL, *rcpt;
    apr_size_t len;
    apr_array_header_t *env_rcpt;

    rcpt = apr_psprintf(pool, "%s-%d@example.org", name, tag);
    memset(&m, 0, sizeof(m));
    m.from_addr = "stack-test@example.org";
    m.to = apr_array_make(pool, 1, sizeof(lenz_mail_addr));
    a = apr_array_push(m.to);
    a->name = NULL;
    a->addr = rcpt;
    m.subject = rcpt;
    m.text = "stack_smtp\n";
    if (lenz_mail_build(pool, &m, &data, &len, &env_rcpt, &why) != APR_SUCCESS)
        abort();
    memset(sm, 0, sizeof(*sm));
    sm->url = env("LENZ_SMTP_URL");
    sm->ca_file = env("LENZ_SMTP_CA_FILE");
    sm->from = m.from_addr;
    sm->rcpt = env_rcpt;
    sm->data = data;
    sm->data_len = len;
    sm->timeout_ms = 5000;
    return rcpt;
}

/* lenz_smtp_send; *why is "" when it says nothing, else ": reason"
 * after a success (for the test's message) and "reason" after a failure. */
static apr_status_t submit(lenz_http *h, lenz_smtp_msg *sm, long *code, const char **why)
{
    apr_status_t rv;
    *why = NULL;
    rv = lenz_smtp_send(h, pool, sm, code, why);
    if (!*why)
        *why = "";
    else if (rv == APR_SUCCESS)
        *why = apr_pstrcat(pool, ": ", *why, NULL);
    return rv;
}

/* A refused send: nothing delivered, and libcurl said the certificate
 * could not be verified. */
static void refused_cert(lenz_http *h, lenz_smtp_msg *sm, const char *rcpt, const char *what)
{
    const char *why;
    long code;
    apr_status_t rv = submit(h, sm, &code, &why);
    ok(rv != APR_SUCCESS, "%s: refused (%s: %s)", what, lenz_strerror(rv), why);
    ok(strstr(why, "certificate") != NULL, "... saying the certificate is not trusted");
    is_int(mails_with(rcpt), 0, "... and nothing was delivered");
    is_str(log_line(rcpt), "", "... nor reached the sink");
}

int main(void)
{
    lenz_http *h;
    lenz_smtp_msg sm;
    const char *why, *rcpt, *line, *user;
    apr_status_t rv;
    long code;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    lenz_http_global_init();
    h = lenz_http_make(pool);
    tag = (int)(apr_time_now() % 1000000000);
    if (!ok(*env("LENZ_SMTP_URL") && *env("LENZ_MAIL_DIR") && *env("LENZ_SMTPS_URL")
            && *env("LENZ_SMTP_PLAIN_URL") && *env("LENZ_SMTP_CA_FILE")
            && *env("LENZ_SMTP_OTHER_CA_FILE") && *env("LENZ_SMTP_PORT") && *env("LENZ_SMTPS_PORT"),
            "stack settings present (run through make test)"))
        return done_testing();

    /* The port that offers STARTTLS. */
    rcpt = compose("try", &sm);
    rv = submit(h, &sm, &code, &why);
    ok(rv == APR_SUCCESS, "STARTTLS when offered (the default), the stack's CA: sent%s", why);
    is_int(code, 250, "... the server's last reply code is 250");
    is_int(mails_with(rcpt), 1, "... the message is stored once");
    line = log_line(rcpt);
    ok(logged_tls(line, "yes"), "... over TLS: %s", line);

    rcpt = compose("required", &sm);
    sm.starttls = LENZ_STARTTLS_REQUIRED;
    rv = submit(h, &sm, &code, &why);
    ok(rv == APR_SUCCESS && code == 250, "STARTTLS required, the stack's CA: sent%s", why);
    is_int(mails_with(rcpt), 1, "... stored");
    line = log_line(rcpt);
    ok(logged_tls(line, "yes"), "... over TLS: %s", line);

    rcpt = compose("never", &sm);
    sm.starttls = LENZ_STARTTLS_NEVER;
    rv = submit(h, &sm, &code, &why);
    ok(rv == APR_SUCCESS, "STARTTLS never: sent%s", why);
    is_int(mails_with(rcpt), 1, "... stored");
    line = log_line(rcpt);
    ok(logged_tls(line, "no"), "... in plain: %s", line);

    rcpt = compose("auth", &sm);
    sm.starttls = LENZ_STARTTLS_REQUIRED;
    sm.user = user = apr_psprintf(pool, "stack-user-%d", tag);
    sm.password = "secret";
    rv = submit(h, &sm, &code, &why);
    ok(rv == APR_SUCCESS, "AUTH with STARTTLS required: sent%s", why);
    line = log_line(rcpt);
    ok(strstr(line, apr_psprintf(pool, " auth=%s mech=PLAIN tls=yes", user)) != NULL,
       "... the sink saw AUTH PLAIN as the user, inside TLS: %s", line);

    /* The sink offers AUTH only inside TLS, as a real submission server
     * does: without TLS libcurl sees no AUTH and sends unauthenticated, so
     * the password never crosses in clear (a server that insists on AUTH
     * would then refuse the mail). */
    rcpt = compose("auth-never", &sm);
    sm.starttls = LENZ_STARTTLS_NEVER;
    sm.user = user;
    sm.password = "secret";
    rv = submit(h, &sm, &code, &why);
    line = log_line(rcpt);
    ok(rv == APR_SUCCESS && strstr(line, " auth=- mech=- tls=no") != NULL,
       "AUTH with STARTTLS never: AUTH is not offered in clear, no password sent: %s", line);

    /* Certificate verification: a CA that did not sign the sink's
     * certificate, and the system store (which does not hold the stack's
     * CA).  "When offered" must not fall back to plain either. */
    rcpt = compose("other-ca", &sm);
    sm.starttls = LENZ_STARTTLS_REQUIRED;
    sm.ca_file = env("LENZ_SMTP_OTHER_CA_FILE");
    refused_cert(h, &sm, rcpt, "STARTTLS required, another CA");

    rcpt = compose("system-store", &sm);
    sm.starttls = LENZ_STARTTLS_REQUIRED;
    sm.ca_file = NULL;
    refused_cert(h, &sm, rcpt, "STARTTLS required, the system store");

    rcpt = compose("try-other-ca", &sm);
    sm.ca_file = env("LENZ_SMTP_OTHER_CA_FILE");
    refused_cert(h, &sm, rcpt, "STARTTLS when offered, another CA (no fallback to plain)");

    rcpt = compose("try-other-ca-auth", &sm);
    sm.ca_file = env("LENZ_SMTP_OTHER_CA_FILE");
    sm.user = user;
    sm.password = "secret";
    refused_cert(h, &sm, rcpt, "STARTTLS when offered, another CA, AUTH");

    /* Implicit TLS. */
    rcpt = compose("smtps", &sm);
    sm.url = env("LENZ_SMTPS_URL");
    sm.user = user;
    sm.password = "secret";
    rv = submit(h, &sm, &code, &why);
    ok(rv == APR_SUCCESS && code == 250, "smtps:// to the smtps port, the stack's CA, AUTH: sent%s", why);
    is_int(mails_with(rcpt), 1, "... stored");
    line = log_line(rcpt);
    ok(strstr(line, apr_psprintf(pool, " auth=%s mech=PLAIN tls=yes", user)) != NULL,
       "... over TLS, authenticated: %s", line);

    rcpt = compose("smtps-other-ca", &sm);
    sm.url = env("LENZ_SMTPS_URL");
    sm.ca_file = env("LENZ_SMTP_OTHER_CA_FILE");
    refused_cert(h, &sm, rcpt, "smtps://, another CA");

    rcpt = compose("smtps-system-store", &sm);
    sm.url = env("LENZ_SMTPS_URL");
    sm.ca_file = NULL;
    refused_cert(h, &sm, rcpt, "smtps://, the system store");

    /* The host name is verified too.  libcurl resolves localhost and
     * *.localhost to loopback itself (RFC 6761), so a name the sink's
     * certificate (127.0.0.1, localhost) does not hold needs no DNS. */
    rcpt = compose("smtps-localhost", &sm);
    sm.url = apr_pstrcat(pool, "smtps://localhost:", env("LENZ_SMTPS_PORT"), NULL);
    rv = submit(h, &sm, &code, &why);
    ok(rv == APR_SUCCESS && mails_with(rcpt) == 1, "smtps://localhost (a name in the certificate): sent%s", why);

    rcpt = compose("smtps-other-name", &sm);
    sm.url = apr_pstrcat(pool, "smtps://lenz-other-name.localhost:", env("LENZ_SMTPS_PORT"), NULL);
    rv = submit(h, &sm, &code, &why);
    ok(rv != APR_SUCCESS, "smtps:// to a name the certificate does not hold: refused (%s: %s)",
       lenz_strerror(rv), why);
    ok(strstr(why, "lenz-other-name.localhost") != NULL, "... naming the host name that did not match");
    is_int(mails_with(rcpt), 0, "... and nothing was delivered");

    rcpt = compose("starttls-other-name", &sm);
    sm.url = apr_pstrcat(pool, "smtp://lenz-other-name.localhost:", env("LENZ_SMTP_PORT"), NULL);
    sm.starttls = LENZ_STARTTLS_REQUIRED;
    rv = submit(h, &sm, &code, &why);
    ok(rv != APR_SUCCESS && strstr(why, "lenz-other-name.localhost") != NULL,
       "STARTTLS required to a name the certificate does not hold: refused (%s: %s)",
       lenz_strerror(rv), why);
    is_int(mails_with(rcpt), 0, "... and nothing was delivered");

    /* The health probe verifies an smtps:// server too. */
    why = NULL;
    rv = lenz_smtp_probe(h, pool, env("LENZ_SMTPS_URL"), env("LENZ_SMTP_CA_FILE"), 5000, &why);
    ok(rv == APR_SUCCESS, "probe smtps://, the stack's CA: up%s%s", why ? ": " : "", why ? why : "");
    why = NULL;
    rv = lenz_smtp_probe(h, pool, env("LENZ_SMTPS_URL"), env("LENZ_SMTP_OTHER_CA_FILE"), 5000, &why);
    ok(rv != APR_SUCCESS && why && strstr(why, "certificate"),
       "probe smtps://, another CA: down (%s)", why ? why : "");

    /* The plain relay: no STARTTLS, AUTH in clear. */
    rcpt = compose("plain-required", &sm);
    sm.url = env("LENZ_SMTP_PLAIN_URL");
    sm.starttls = LENZ_STARTTLS_REQUIRED;
    rv = submit(h, &sm, &code, &why);
    ok(rv != APR_SUCCESS, "STARTTLS required against a server without it: refused (%s: %s)",
       lenz_strerror(rv), why);
    ok(strstr(why, "STARTTLS") != NULL, "... saying STARTTLS is missing");
    is_int(mails_with(rcpt), 0, "... and nothing was sent in clear");

    rcpt = compose("plain-auth", &sm);
    sm.url = env("LENZ_SMTP_PLAIN_URL");
    sm.user = user;
    sm.password = "secret";
    rv = submit(h, &sm, &code, &why);
    ok(rv == APR_SUCCESS, "STARTTLS when offered, a server without it, AUTH: sent in plain%s", why);
    line = log_line(rcpt);
    ok(strstr(line, apr_psprintf(pool, " auth=%s mech=PLAIN tls=no", user)) != NULL,
       "... AUTH in clear to the loopback relay: %s", line);

    rcpt = compose("smtps-plain", &sm);
    sm.url = apr_pstrcat(pool, "smtps://", env("LENZ_SMTP_PLAIN_URL") + strlen("smtp://"), NULL);
    rv = submit(h, &sm, &code, &why);
    ok(rv != APR_SUCCESS, "smtps:// to a plain SMTP port fails (%s: %s)", lenz_strerror(rv), why);
    is_int(mails_with(rcpt), 0, "... and sends nothing");

    compose("unreachable", &sm);
    sm.url = "smtp://127.0.0.1:1";
    rv = submit(h, &sm, &code, &why);
    ok(rv == LENZ_EUNAVAIL && code == 0, "no server: unavailable, no reply code (%s)", lenz_strerror(rv));

    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
