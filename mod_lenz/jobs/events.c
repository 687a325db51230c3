/* events.c - dispatching the outbox's events to their subscribers
 * (emitting them is httpd/outbox.c). */
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd/lenz.h"
#include "events.h"
#include "httpd/metrics.h"
#include "err.h"

#define RETRY_BASE 5            /* seconds before the first retry of a failed event */
#define RETRY_MAX  3600
#define MAX_ERROR  1000

const lenz_stmt lenz_events_stmts[] = {
    /* Oldest first; a runner skips an event another one is dispatching. */
    { "lenz_event_claim",
      "SELECT id, type, actor_id::text, subject, payload::text, created_at::text FROM events "
      "WHERE dispatched_at IS NULL AND dispatch_after <= now() "
      "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED" },
    { "lenz_event_done",
      "UPDATE events SET dispatched_at = now(), dispatch_error = NULL WHERE id = %s::bigint" },
    { "lenz_event_failed",
      "UPDATE events SET dispatch_attempts = dispatch_attempts + 1, dispatch_error = %s, "
      "dispatch_after = now() + make_interval(secs => least(" APR_STRINGIFY(RETRY_BASE)
      " * 2 ^ dispatch_attempts, " APR_STRINGIFY(RETRY_MAX) ")) "
      "WHERE id = %s::bigint RETURNING dispatch_attempts, "
      "extract(epoch FROM dispatch_after - now())" },
    { NULL }
};

int lenz_event_matches(const char *pattern, const char *type)
{
    apr_size_t n = strlen(pattern);
    if (strcmp(pattern, "*") == 0)
        return 1;
    if (n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.')
        return strncmp(pattern, type, n - 1) == 0 && type[n - 1] != '\0';
    return strcmp(pattern, type) == 0;
}

static const char *clean(apr_pool_t *p, const char *e)
{
    char *s = apr_pstrndup(p, e && *e ? e : "failed (no reason given)", MAX_ERROR), *c;
    for (c = s; *c; c++)
        if (apr_iscntrl(*c))
            *c = ' ';
    return s;
}

/* Runs every matching subscriber; the name of the one that failed. */
static const char *run_subscribers(lenz_eventctx *ec, const lenz_event *ev)
{
    const lenz_subscriber *sub;
    for (sub = lenz_subscribers; sub->pattern; sub++) {
        if (!lenz_event_matches(sub->pattern, ev->type))
            continue;
        if (sub->fn(ec, ev) != APR_SUCCESS) {
            if (!ec->error)
                ec->error = "failed";
            return sub->name;
        }
    }
    return NULL;
}

int lenz_events_dispatch_one(lenz_db *db, apr_pool_t *p, server_rec *s)
{
    lenz_rows rows;
    lenz_event ev;
    lenz_eventctx ec;
    const char **row, *why = NULL, *failed, *args[2];

    if (lenz_db_begin(db) != APR_SUCCESS)
        return -1;
    if (lenz_db_select(db, "lenz_event_claim", &rows, 0, NULL) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return -1;
    }
    if (rows.nrows == 0) {
        lenz_db_end(db, 0);
        return 0;
    }
    row = rows.rows[0];
    memset(&ev, 0, sizeof(ev));
    ev.id = apr_atoi64(row[0]);
    ev.type = row[1];
    ev.actor = row[2];
    ev.subject = row[3];
    ev.created = row[5];
    ev.payload = lenz_json_parse(p, row[4], strlen(row[4]), 0, &why);
    memset(&ec, 0, sizeof(ec));
    ec.pool = p;
    ec.s = s;
    ec.db = db;
    args[0] = row[0];

    if (!ev.payload) {
        failed = "(dispatcher)";
        ec.error = apr_pstrcat(p, "the payload cannot be read: ", why, NULL);
    }
    else
        failed = run_subscribers(&ec, &ev);
    if (!failed && lenz_db_exec(db, "lenz_event_done", NULL, 1, args) != APR_SUCCESS) {
        failed = "(dispatcher)";
        ec.error = "marking it dispatched failed";
    }
    if (!failed) {
        if (lenz_db_end(db, 0) != APR_SUCCESS)
            return -1;      /* nothing committed: it stays pending */
        lenz_metrics_add(LENZ_CNT_EVENTS_DISPATCHED, 1);
        return 1;
    }
    /* Everything the subscribers did goes with the rollback. */
    lenz_db_end(db, 1);
    lenz_metrics_add(LENZ_CNT_EVENTS_FAILED, 1);
    args[0] = clean(p, ec.error);
    args[1] = row[0];
    if (lenz_db_select(db, "lenz_event_failed", &rows, 2, args) != APR_SUCCESS || rows.nrows != 1)
        return -1;
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                 LENZLOGNO(2410) "event %s (%s): subscriber %s failed (attempt %s): %s; "
                 "retrying in %.0f s", row[0], ev.type, failed, rows.rows[0][0], args[0],
                 atof(rows.rows[0][1]));
    return 1;
}
