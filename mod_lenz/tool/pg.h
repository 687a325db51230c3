/* pg.h - the few libpq helpers lenzctl needs (text parameters, text
 * results; errors are printed). */
#ifndef LENZ_TOOL_PG_H
#define LENZ_TOOL_PG_H

#include <libpq-fe.h>

PGconn *lenz_pg_connect(const char *conninfo);
/* Runs sql with n text parameters; NULL (after printing the error) unless
 * it returned tuples or completed. */
PGresult *lenz_pg(PGconn *db, const char *sql, int n, const char *const *params);
/* Runs a parameterless command; 1 on success. */
int lenz_pg_do(PGconn *db, const char *sql);

#endif
