/* outbox.c - emitting domain events into the transactional outbox (the
 * runners in jobs/events.c dispatch them). */
#include <apr_strings.h>

#include "lenz.h"
#include "outbox.h"

const lenz_stmt lenz_outbox_stmts[] = {
    { "lenz_event_emit", "SELECT lenz_event_emit(%s, %s::uuid, %s, %s::jsonb)" },
    { NULL }
};

apr_status_t lenz_event_emit_ex(lenz_db *db, const char *type, const char *actor,
                                const char *subject, const lenz_json *payload, apr_int64_t *id)
{
    apr_pool_t *p = lenz_db_pool(db);
    const char *args[4];
    lenz_rows rows;
    apr_status_t rv;

    if (id)
        *id = 0;
    if (payload && lenz_json_typeof(payload) != LENZ_JSON_OBJECT) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, lenz_db_server(db),
                     LENZLOGNO(2400) "event %s: the payload must be an object", type);
        return APR_EINVAL;
    }
    args[0] = type;
    args[1] = actor;
    args[2] = subject;
    args[3] = payload ? lenz_json_dump(p, payload) : "{}";
    rv = lenz_db_select(db, "lenz_event_emit", &rows, 4, args);
    if (rv == APR_SUCCESS && id && rows.nrows == 1 && rows.rows[0][0])
        *id = apr_atoi64(rows.rows[0][0]);
    return rv;
}

apr_status_t lenz_event_emit(lenz_db *db, const char *type, const char *actor,
                             const char *subject, const lenz_json *payload)
{
    return lenz_event_emit_ex(db, type, actor, subject, payload, NULL);
}
