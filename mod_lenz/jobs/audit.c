/* audit.c - the audit subscriber.  One audit_log row per event: the
 * insert commits together with the event's dispatched mark, and
 * event_id is unique, so a second dispatch of the same event (which the
 * mark already prevents) could not add a second row either. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "audit.h"

const lenz_stmt lenz_audit_stmts[] = {
    { "lenz_audit_insert",
      "INSERT INTO audit_log (event_id, type, actor_id, subject, payload, created_at) "
      "SELECT id, type, actor_id, subject, payload, created_at FROM events WHERE id = %s::bigint "
      "ON CONFLICT (event_id) DO NOTHING" },
    { NULL }
};

apr_status_t lenz_audit_on_event(lenz_eventctx *ec, const lenz_event *ev)
{
    const char *args[1];
    args[0] = apr_psprintf(ec->pool, "%" APR_INT64_T_FMT, ev->id);
    if (lenz_db_exec(ec->db, "lenz_audit_insert", NULL, 1, args) != APR_SUCCESS) {
        ec->error = "writing the audit row failed";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}
