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
 */
#ifndef LENZ_MAILJOB_H
#define LENZ_MAILJOB_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"
#include "jobs.h"

#define LENZ_MAIL_ATTEMPTS 8    /* with the default backoff: about 2 hours of tries */

/* APR_EINVAL (logged: a programming error) for an unknown template,
 * LENZ_EFORMAT for an address lenz_mail_addr_ok() refuses. */
apr_status_t lenz_mail_enqueue(lenz_db *db, const char *tmpl, const char *to,
                               const char *subject, const lenz_json *data);
/* The same with a unique key ("otp:<request id>"): enqueueing it again
 * while the job exists queues no second mail. */
apr_status_t lenz_mail_enqueue_ex(lenz_db *db, const char *tmpl, const char *to,
                                  const char *subject, const lenz_json *data,
                                  const char *unique_key);

/* The "mail" job kind. */
lenz_job_fn lenz_mail_job;

#endif
