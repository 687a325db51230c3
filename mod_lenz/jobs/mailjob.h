/* mailjob.h - e-mail through the job queue.
 *
 * lenz_mail_enqueue() queues a "mail" job in the caller's transaction; a
 * runner renders templates/mail/NAME.txt.mustache (required) and
 * NAME.html.mustache (optional, then multipart/alternative) with the data
 * plus "site" {name, base_url}, composes the message with core/mail.h
 * (From LenzMailFrom; Message-ID on LenzPublicURL's host) and submits it
 * with lenz_smtp_send (LenzSMTPURL, LenzSMTPTLS, LenzSMTPAuthFile,
 * LenzSMTPCAFile).
 * Text templates must use {{{triple}}} mustaches: {{double}} escapes HTML.
 *
 * The subject may come from users: line breaks and other control
 * characters in it become spaces at send time, so its text arrives and no
 * header can be added.  Retries keep one Message-ID; once the server has
 * taken the message the job records it, so a retry never sends again.
 *
 * Secrets (a reset link, a one-time code) never sit in the queue in
 * clear: lenz_mail_enqueue_sealed() takes them apart from the data and
 * stores them as "sealed", a sealed token (core/token.h: AES-256-GCM
 * under HKDF(master key, info LENZ_MAIL_SEAL_PURPOSE), a key of their
 * own) bound to the template and the recipient, plus "sealed_fields",
 * their names only.  The runner opens them for rendering alone; when the
 * job ends, sent (done) or given up (dead), the "sealed" member is
 * removed from the row (jobs.c), so the job's retention (LenzJobRetention)
 * and `lenzctl job` keep nothing that opens an account.  A mail that
 * fails is retried with its sealed part until then.
 */
#ifndef LENZ_MAILJOB_H
#define LENZ_MAILJOB_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"
#include "jobs.h"

#define LENZ_MAIL_ATTEMPTS 8    /* with the default backoff: about 2 hours of tries */
#define LENZ_MAIL_SEAL_PURPOSE "mail-secret"
/* A sealed part older than this does not open (its link or code died
 * long before): the job dies unsent. */
#define LENZ_MAIL_SEAL_TTL (7 * 24 * 3600)

/* APR_EINVAL (logged: a programming error) for an unknown template,
 * LENZ_EFORMAT for an address lenz_mail_addr_ok() refuses. */
apr_status_t lenz_mail_enqueue(lenz_db *db, const char *tmpl, const char *to,
                               const char *subject, const lenz_json *data);
/* The same with a unique key ("otp:<request id>"): enqueueing it again
 * while the job exists queues no second mail. */
apr_status_t lenz_mail_enqueue_ex(lenz_db *db, const char *tmpl, const char *to,
                                  const char *subject, const lenz_json *data,
                                  const char *unique_key);

/* The same with secret fields: secret (an object of template fields, or
 * NULL) is sealed into the job and merged into data only when the mail
 * is rendered (a secret field overrides a data field of that name).
 * APR_EINVAL or the seal's error (logged) when it cannot be sealed. */
apr_status_t lenz_mail_enqueue_sealed(lenz_db *db, const char *tmpl, const char *to,
                                      const char *subject, const lenz_json *data,
                                      const lenz_json *secret, const char *unique_key);

/* The "mail" job kind. */
lenz_job_fn lenz_mail_job;

#endif
