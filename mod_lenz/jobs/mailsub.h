/* mailsub.h - the subscriber that mails members about events (mailsub.c). */
#ifndef LENZ_MAILSUB_H
#define LENZ_MAILSUB_H

#include "httpd/lenz.h"
#include "events.h"

extern const lenz_stmt lenz_mailsub_stmts[];
apr_status_t lenz_mailsub_on_event(lenz_eventctx *ec, const lenz_event *ev);

#endif
