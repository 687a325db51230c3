/* pg.c - libpq helpers for lenzctl. */
#include <stdio.h>
#include "pg.h"

/* Server notices ("already exists, skipping") are not the user's business. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *lenz_pg_connect(const char *conninfo)
{
    PGconn *db;
    if (!conninfo) {
        fprintf(stderr, "lenzctl: no database: use -d CONNINFO or set LENZ_DB\n");
        return NULL;
    }
    db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "lenzctl: cannot connect to the database: %s", PQerrorMessage(db));
        PQfinish(db);
        return NULL;
    }
    PQsetNoticeProcessor(db, quiet, NULL);
    return db;
}

PGresult *lenz_pg(PGconn *db, const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fprintf(stderr, "lenzctl: database: %s", PQerrorMessage(db));
        PQclear(res);
        return NULL;
    }
    return res;
}

int lenz_pg_do(PGconn *db, const char *sql)
{
    PGresult *res = lenz_pg(db, sql, 0, NULL);
    if (!res)
        return 0;
    PQclear(res);
    return 1;
}
