/* pq.c - libpq, for what apr_dbd does not cover (see pq.h). */
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <libpq-fe.h>

#include "pq.h"

#define CONNECT_TIMEOUT "10"

static void quote(apr_pool_t *p, apr_array_header_t *out, const char *k, const char *v)
{
    const char *c;
    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, k, "='", NULL);
    for (c = v; *c; c++) {
        if (*c == '\'' || *c == '\\')
            APR_ARRAY_PUSH(out, const char *) = "\\";
        APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(p, c, 1);
    }
    APR_ARRAY_PUSH(out, const char *) = "' ";
}

const char *lenz_pq_conninfo(apr_pool_t *p, const char *conninfo, const char *app_name,
                             const char **why)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err), *o;
    apr_array_header_t *out;
    int has_timeout = 0, has_app = 0;

    if (!opts) {
        *why = apr_psprintf(p, "libpq cannot parse it: %s", err ? err : "out of memory");
        if (err)
            PQfreemem(err);
        while (*why && **why && ((*why)[strlen(*why) - 1] == '\n'))
            *why = apr_pstrndup(p, *why, strlen(*why) - 1);
        return NULL;
    }
    out = apr_array_make(p, 64, sizeof(const char *));
    for (o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        has_timeout |= strcmp(o->keyword, "connect_timeout") == 0;
        has_app |= strcmp(o->keyword, "application_name") == 0;
        quote(p, out, o->keyword, o->val);
    }
    PQconninfoFree(opts);
    if (!has_timeout)
        quote(p, out, "connect_timeout", CONNECT_TIMEOUT);
    if (!has_app && app_name)
        quote(p, out, "application_name", app_name);
    return apr_array_pstrcat(p, out, '\0');
}

apr_status_t lenz_pq_listen(void *native, const char *channel, const char **why)
{
    PGconn *c = native;
    char *id = PQescapeIdentifier(c, channel, strlen(channel));
    PGresult *res;
    apr_status_t rv = APR_SUCCESS;
    char sql[128];

    if (!id) {
        *why = PQerrorMessage(c);
        return APR_EGENERAL;
    }
    apr_snprintf(sql, sizeof(sql), "LISTEN %s", id);
    PQfreemem(id);
    res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *why = PQerrorMessage(c);
        rv = APR_EGENERAL;
    }
    PQclear(res);
    return rv;
}

int lenz_pq_notified(void *native, int *broken)
{
    return lenz_pq_notified_on(native, broken, NULL, NULL);
}

int lenz_pq_notified_on(void *native, int *broken, const char *channel,
                        void (*on_channel)(const char *payload))
{
    PGconn *c = native;
    PGnotify *n;
    int count = 0;

    *broken = 0;
    /* Never blocks: libpq keeps its socket non-blocking at the OS level
     * (its "blocking" calls wait in poll), so this reads what arrived. */
    if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
        *broken = 1;
        return 0;
    }
    while ((n = PQnotifies(c)) != NULL) {
        if (channel && on_channel && n->relname && strcmp(n->relname, channel) == 0)
            on_channel(n->extra);
        else
            count++;
        PQfreemem(n);
    }
    return count;
}

int lenz_pq_ok(void *native)
{
    return native && PQstatus((PGconn *)native) == CONNECTION_OK;
}

int lenz_pq_backend_pid(void *native)
{
    return native ? PQbackendPID((PGconn *)native) : 0;
}
