/* dbd.h - PostgreSQL through mod_dbd's pooled connections.
 *
 * lenz_db_open() takes a connection from mod_dbd's pool for this request
 * and lenz_db_close() gives it back; a request-pool cleanup gives it back
 * if the caller did not.  Close before streaming a long body so a slow
 * client never pins a pool slot (ap_dbd_acquire would hold it until the
 * request ends).
 *
 * Statements are prepared under labels (lenz_stmt tables of the areas);
 * values are passed and returned as text, and every returned value is
 * copied out of the driver's row before the next row is read.
 */
#ifndef LENZ_DBD_H
#define LENZ_DBD_H

#include "lenz.h"
#include "router.h"

typedef struct lenz_db lenz_db;

/* check_config: is mod_dbd loaded?  Returns an error text or NULL. */
const char *lenz_db_check_loaded(void);
/* post_config: registers every area's statements with mod_dbd. */
void lenz_db_prepare_all(server_rec *s);

lenz_db *lenz_db_open(request_rec *r);     /* NULL (and logged) when no DB */
void lenz_db_close(lenz_db *db);

/* Rows are arrays of ncols const char * (NULL for SQL NULL). */
typedef struct lenz_rows {
    int nrows, ncols;
    const char ***rows;
} lenz_rows;

apr_status_t lenz_db_select(lenz_db *db, const char *label, lenz_rows *out,
                            int nargs, const char *const *args);
apr_status_t lenz_db_exec(lenz_db *db, const char *label, int *affected,
                          int nargs, const char *const *args);
apr_status_t lenz_db_begin(lenz_db *db);
/* Commits, or rolls back when an error happened inside the transaction. */
apr_status_t lenz_db_end(lenz_db *db, int rollback);

#endif
