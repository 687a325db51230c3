/* audit.h - the audit log: one row per event, written by a subscriber. */
#ifndef LENZ_AUDIT_H
#define LENZ_AUDIT_H

#include "events.h"

extern const lenz_stmt lenz_audit_stmts[];

lenz_subscriber_fn lenz_audit_on_event;

#endif
