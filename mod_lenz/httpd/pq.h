/* pq.h - the module's only door to libpq.  The job runners open their
 * connections through apr_dbd's pgsql driver (so handlers get the usual
 * lenz_db calls); what apr_dbd cannot do - parse a connection string,
 * LISTEN, read notifications - happens here on the driver's native
 * PGconn. */
#ifndef LENZ_PQ_H
#define LENZ_PQ_H

#include <apr_pools.h>

/* Parses conninfo (key=value pairs or a postgresql:// URI) and returns it
 * as key='value' pairs, with connect_timeout and, when app_name is not
 * NULL, application_name added unless it sets them.  NULL with *why for a
 * string libpq cannot parse. */
const char *lenz_pq_conninfo(apr_pool_t *p, const char *conninfo, const char *app_name,
                             const char **why);

/* LISTEN channel on the native connection (a PGconn *). */
apr_status_t lenz_pq_listen(void *native, const char *channel, const char **why);

/* Reads what the server sent without blocking and drops the notifications
 * it holds; returns how many there were.  *broken is set when the
 * connection is gone. */
int lenz_pq_notified(void *native, int *broken);

/* The same, handing each notification on channel to on_channel with its
 * payload instead (they are not part of the returned count). */
int lenz_pq_notified_on(void *native, int *broken, const char *channel,
                        void (*on_channel)(const char *payload));

/* 1 while the connection is usable. */
int lenz_pq_ok(void *native);

/* The server's pid for this connection (for logs). */
int lenz_pq_backend_pid(void *native);

#endif
