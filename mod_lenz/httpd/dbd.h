/* dbd.h - PostgreSQL through mod_dbd's pooled connections.
 *
 * lenz_db_open() takes a connection from mod_dbd's pool for this request
 * and lenz_db_close() gives it back; a request-pool cleanup gives it back
 * if the caller did not.  Close before streaming a long body so a slow
 * client never pins a pool slot (ap_dbd_acquire would hold it until the
 * request ends).
 *
 * The job runner has a connection of its own (runner.c); lenz_db_wrap()
 * gives it the same interface, so job handlers and event subscribers use
 * the calls below exactly as request code does.
 *
 * Statements are prepared under labels (lenz_stmt tables of the areas);
 * values are passed and returned as text, and every returned value is
 * copied out of the driver's row before the next row is read.
 */
#ifndef LENZ_DBD_H
#define LENZ_DBD_H

#include "lenz.h"
#include "router.h"
#include <apr_dbd.h>
#include <mod_dbd.h>

typedef struct lenz_db lenz_db;

/* check_config: is mod_dbd loaded?  Returns an error text or NULL. */
const char *lenz_db_check_loaded(void);
/* post_config: registers every area's statements with mod_dbd. */
void lenz_db_prepare_all(server_rec *s);

lenz_db *lenz_db_open(request_rec *r);     /* NULL (and logged) when no DB */
/* The same with results and the release cleanup in p (a subpool, for
 * long-lived requests that query in a loop). */
lenz_db *lenz_db_open_in(request_rec *r, apr_pool_t *p);
void lenz_db_close(lenz_db *db);

/* A connection that is not mod_dbd's (the runner's): nothing is given
 * back on close, errors are logged against s, results come from p. */
lenz_db *lenz_db_wrap(apr_pool_t *p, server_rec *s, ap_dbd_t *conn);
/* Prepares on conn what mod_dbd prepares on its connections: every
 * area's, shared and event subscriber's statement. */
apr_status_t lenz_db_prepare_conn(apr_pool_t *p, ap_dbd_t *conn, const char **why);
server_rec *lenz_db_server(const lenz_db *db);
apr_pool_t *lenz_db_pool(const lenz_db *db);

/* Rows are arrays of ncols const char * (NULL for SQL NULL). */
typedef struct lenz_rows {
    int nrows, ncols;
    const char ***rows;
} lenz_rows;

apr_status_t lenz_db_select(lenz_db *db, const char *label, lenz_rows *out,
                            int nargs, const char *const *args);
/* The same with the result and the copied rows in pool p (a pool of the
 * caller's that it clears: reading a long result in batches). */
apr_status_t lenz_db_select_in(lenz_db *db, apr_pool_t *p, const char *label, lenz_rows *out,
                               int nargs, const char *const *args);
apr_status_t lenz_db_exec(lenz_db *db, const char *label, int *affected,
                          int nargs, const char *const *args);
/* Fails (and logs) when a transaction is open already: no nesting. */
apr_status_t lenz_db_begin(lenz_db *db);
/* Commits, or rolls back when an error happened inside the transaction. */
apr_status_t lenz_db_end(lenz_db *db, int rollback);

#endif
