/* migrate.h - applies sql/NNN_name.sql files in order, each inside its own
 * transaction, recorded in schema_migrations; safe to run again and from
 * several hosts at once (an advisory lock serialises runners). */
#ifndef LENZ_MIGRATE_H
#define LENZ_MIGRATE_H

#include <apr_pools.h>
#include <libpq-fe.h>

/* Returns 0 on success; prints what it does to out, errors to err. */
int lenz_migrate(apr_pool_t *p, PGconn *db, const char *sqldir, FILE *out, FILE *err);

#endif
