/* mailq.h - queueing a mail.  The job queue renders
 * templates/mail/<tmpl>.txt (and .html when present) with data and sends
 * it with retries; queueing joins the caller's transaction. */
#ifndef LENZ_MAILQ_H
#define LENZ_MAILQ_H

#include "dbd.h"
#include "json.h"

apr_status_t lenz_mail_enqueue(lenz_db *db, const char *tmpl, const char *to,
                               const char *subject, const lenz_json *data);

#endif
