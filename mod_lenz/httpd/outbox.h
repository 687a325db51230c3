/* outbox.h - domain events: a change emits them on its own connection,
 * inside its own transaction, so an event exists if and only if its change
 * committed (jobs/events.h says how they are dispatched). */
#ifndef LENZ_OUTBOX_H
#define LENZ_OUTBOX_H

#include "lenz.h"
#include "dbd.h"
#include "json.h"

extern const lenz_stmt lenz_outbox_stmts[];

/* type: "area.verb" ("user.registered", "file.uploaded", "link.created",
 * "link.downloaded"); actor: the acting user's id or NULL; subject: what
 * it is about (a file, link or user id) or NULL; payload: an object or
 * NULL.  *id (optional) receives the event's id. */
apr_status_t lenz_event_emit(lenz_db *db, const char *type, const char *actor,
                             const char *subject, const lenz_json *payload);
apr_status_t lenz_event_emit_ex(lenz_db *db, const char *type, const char *actor,
                                const char *subject, const lenz_json *payload, apr_int64_t *id);

#endif
