/* http.h - the project's only door to libcurl: HTTP(S) requests with
 * streamed bodies both ways, and SMTP(S) submission.
 *
 * One lenz_http per process (made after fork): it owns a curl share object
 * so connections, DNS and TLS sessions are reused across threads; each call
 * uses its own easy handle, so calls from several threads never collide.
 */
#ifndef LENZ_HTTP_H
#define LENZ_HTTP_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct lenz_http lenz_http;

/* Must be called once per process before threads start (post_config,
 * main() of a tool). */
apr_status_t lenz_http_global_init(void);

lenz_http *lenz_http_make(apr_pool_t *p);

/* Return the number of bytes written into buf (0 = end of body), or
 * a negative value to abort the transfer. */
typedef apr_ssize_t lenz_http_read_fn(void *baton, char *buf, apr_size_t len);
/* Consume a piece of the response body; non-APR_SUCCESS aborts. */
typedef apr_status_t lenz_http_write_fn(void *baton, const char *buf, apr_size_t len);

typedef struct lenz_http_req {
    const char *method;
    const char *url;
    apr_array_header_t *headers;   /* of const char * "Name: value" */
    /* request body: a buffer, or a reader with a known length */
    const char *body;
    apr_size_t body_len;
    lenz_http_read_fn *reader;
    void *reader_baton;
    apr_off_t reader_len;          /* -1: no body */
    /* response body: streamed to writer when set; otherwise collected up
     * to max_body bytes (larger bodies fail with LENZ_ETOOBIG) */
    lenz_http_write_fn *writer;
    void *writer_baton;
    apr_size_t max_body;
    /* only stream to writer when the status is 2xx; error bodies are then
     * collected (bounded by max_body) so the caller can parse them */
    int writer_only_2xx;
    long connect_timeout_ms;       /* 0: 10 s */
    long timeout_ms;               /* 0: none (streams); total time otherwise */
    long stall_seconds;            /* abort when no byte moved for this long; 0: 30 */
    int head;                      /* HEAD: no body expected */
} lenz_http_req;

typedef struct lenz_http_resp {
    long status;                   /* 0 when no answer came */
    apr_table_t *headers;          /* lower-case names */
    char *body;                    /* collected body, NUL-terminated, or NULL */
    apr_size_t body_len;
    double seconds;                /* total time */
    const char *error;             /* transport error text, or NULL */
} lenz_http_resp;

/* Performs the request.  APR_SUCCESS whenever an HTTP answer arrived (any
 * status); LENZ_ETIMEOUT for connect/total/stall timeouts; LENZ_EUNAVAIL
 * when the peer could not be reached; LENZ_ETOOBIG for an oversized
 * collected body; the reader's/writer's error when they aborted. */
apr_status_t lenz_http_perform(lenz_http *h, apr_pool_t *p,
                               const lenz_http_req *req, lenz_http_resp *resp);

/* SMTP */
typedef enum {
    LENZ_STARTTLS_TRY = 0,         /* upgrade when the server offers it (and then verify it) */
    LENZ_STARTTLS_REQUIRED,        /* upgrade or fail before anything else is sent */
    LENZ_STARTTLS_NEVER            /* plain SMTP */
} lenz_starttls;

typedef struct lenz_smtp_msg {
    const char *url;               /* smtp://host:port or smtps://host:port (TLS from
                                      the first byte, whatever starttls says) */
    const char *user, *password;   /* optional AUTH (after STARTTLS when TLS is used) */
    lenz_starttls starttls;        /* for smtp:// URLs */
    const char *ca_file;           /* PEM bundle the server's certificate must chain to,
                                      instead of the system store; NULL: the system store.
                                      The certificate and the host name are always verified. */
    const char *from;              /* envelope sender */
    apr_array_header_t *rcpt;      /* of const char * envelope recipients */
    const char *data;              /* the complete RFC 5322 message, CRLF lines */
    apr_size_t data_len;
    long timeout_ms;               /* 0: 30 s */
} lenz_smtp_msg;

/* Submits the message.  *code (optional) receives the server's last reply
 * code (550 for a refused recipient, 0 when no reply came): 5xx replies
 * are final, 4xx and transport errors are worth a retry. */
apr_status_t lenz_smtp_send(lenz_http *h, apr_pool_t *p, const lenz_smtp_msg *m,
                            long *code, const char **why);

/* Connect, read the greeting, EHLO, QUIT: is the SMTP server there?
 * ca_file as in lenz_smtp_msg (an smtps:// URL verifies the server). */
apr_status_t lenz_smtp_probe(lenz_http *h, apr_pool_t *p, const char *url,
                             const char *ca_file, long timeout_ms, const char **why);

#endif
