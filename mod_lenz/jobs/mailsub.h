/* mailsub.h - the subscriber that mails members about events (mailsub.c). */
#ifndef LENZ_MAILSUB_H
#define LENZ_MAILSUB_H

#include "httpd/lenz.h"
#include "events.h"

extern const lenz_stmt lenz_mailsub_stmts[];
apr_status_t lenz_mailsub_on_event(lenz_eventctx *ec, const lenz_event *ev);

/* Mails member user about ev with templates/mail/TMPL (data gets "name"
 * and "site_url"), unless they turned mails of kind off (sql/019; NULL:
 * always sent); with a digest on, the subject waits for it instead.
 * Once per event and template. */
apr_status_t lenz_mailsub_to_user(lenz_eventctx *ec, const lenz_event *ev, const char *user, const char *kind,
                                  const char *tmpl, const char *subject, lenz_json *data);

#endif
