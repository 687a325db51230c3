/* migrate.c - schema migrations for lenzctl (libpq: the tool runs
 * outside httpd, where mod_dbd is not available). */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_tables.h>

#include "migrate.h"
#include "crypto.h"

#define LOCK_ID "77100001"
#define MAX_SQL_FILE (8 * 1024 * 1024)

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* NNN_name.sql with at least three digits. */
static int is_migration(const char *n)
{
    apr_size_t len = strlen(n), i = 0;
    while (n[i] >= '0' && n[i] <= '9')
        i++;
    return i >= 3 && n[i] == '_' && len > 4 && strcmp(n + len - 4, ".sql") == 0;
}

static apr_array_header_t *list_files(apr_pool_t *p, const char *dir, FILE *err)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_array_header_t *a = apr_array_make(p, 16, sizeof(const char *));
    apr_status_t rv = apr_dir_open(&d, dir, p);
    if (rv != APR_SUCCESS) {
        fprintf(err, "migrate: cannot open %s\n", dir);
        return NULL;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS)
        if (fi.filetype == APR_REG && is_migration(fi.name))
            APR_ARRAY_PUSH(a, const char *) = apr_pstrdup(p, fi.name);
    apr_dir_close(d);
    qsort(a->elts, a->nelts, sizeof(const char *), cmp_names);
    return a;
}

static char *read_file(apr_pool_t *p, const char *path, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return NULL;
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS || fi.size > MAX_SQL_FILE) {
        apr_file_close(f);
        return NULL;
    }
    *len = (apr_size_t)fi.size;
    buf = apr_palloc(p, *len + 1);
    if (apr_file_read_full(f, buf, *len, len) != APR_SUCCESS && *len != 0) {
        apr_file_close(f);
        return NULL;
    }
    apr_file_close(f);
    buf[*len] = '\0';
    return buf;
}

static int exec_ok(PGconn *db, const char *sql, FILE *err, const char *what)
{
    PGresult *res = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(err, "migrate: %s failed: %s", what, PQerrorMessage(db));
    PQclear(res);
    return ok;
}

/* The checksum of an applied migration, or NULL when it was not applied. */
static char *applied_checksum(apr_pool_t *p, PGconn *db, const char *version, int *failed)
{
    const char *params[1] = { version };
    PGresult *res = PQexecParams(db, "SELECT checksum FROM schema_migrations WHERE version = $1",
                                 1, NULL, params, NULL, NULL, 0);
    char *out = NULL;
    *failed = PQresultStatus(res) != PGRES_TUPLES_OK;
    if (!*failed && PQntuples(res) == 1)
        out = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    PQclear(res);
    return out;
}

static int apply_one(apr_pool_t *p, PGconn *db, const char *dir, const char *name,
                     FILE *out, FILE *err)
{
    apr_size_t len = 0;
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    char *sql = read_file(p, path, &len);
    const char *version, *sum, *have;
    const char *params[3];
    PGresult *res;
    int failed;

    if (!sql) {
        fprintf(err, "migrate: cannot read %s\n", path);
        return 1;
    }
    version = apr_pstrmemdup(p, name, strchr(name, '_') - name);
    sum = lenz_sha256_hex(p, sql, len);
    have = applied_checksum(p, db, version, &failed);
    if (failed) {
        fprintf(err, "migrate: cannot read schema_migrations: %s", PQerrorMessage(db));
        return 1;
    }
    if (have) {
        if (strcmp(have, sum) != 0) {
            fprintf(err, "migrate: %s was changed after it was applied; write a new "
                    "migration instead of editing an applied one\n", name);
            return 1;
        }
        return 0;
    }
    if (!exec_ok(db, "BEGIN", err, "BEGIN"))
        return 1;
    if (!exec_ok(db, sql, err, name)) {
        exec_ok(db, "ROLLBACK", err, "ROLLBACK");
        return 1;
    }
    params[0] = version;
    params[1] = name;
    params[2] = sum;
    res = PQexecParams(db, "INSERT INTO schema_migrations (version, name, checksum) "
                           "VALUES ($1, $2, $3)", 3, NULL, params, NULL, NULL, 0);
    failed = PQresultStatus(res) != PGRES_COMMAND_OK;
    PQclear(res);
    if (failed) {
        fprintf(err, "migrate: recording %s failed: %s", name, PQerrorMessage(db));
        exec_ok(db, "ROLLBACK", err, "ROLLBACK");
        return 1;
    }
    if (!exec_ok(db, "COMMIT", err, "COMMIT"))
        return 1;
    fprintf(out, "migrate: applied %s\n", name);
    return 0;
}

int lenz_migrate(apr_pool_t *p, PGconn *db, const char *sqldir, FILE *out, FILE *err)
{
    apr_array_header_t *files = list_files(p, sqldir, err);
    int i, rc = 0;

    if (!files)
        return 1;
    if (files->nelts == 0) {
        fprintf(err, "migrate: no NNN_name.sql files in %s\n", sqldir);
        return 1;
    }
    if (!exec_ok(db, "SELECT pg_advisory_lock(" LOCK_ID ")", err, "lock"))
        return 1;
    if (!exec_ok(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version text PRIMARY KEY,"
                     " name text NOT NULL,"
                     " checksum text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now())", err, "schema_migrations")) {
        rc = 1;
        goto unlock;
    }
    for (i = 0; i < files->nelts && rc == 0; i++)
        rc = apply_one(p, db, sqldir, APR_ARRAY_IDX(files, i, const char *), out, err);
    if (rc == 0)
        fprintf(out, "migrate: schema is current (%d migrations)\n", files->nelts);
unlock:
    exec_ok(db, "SELECT pg_advisory_unlock(" LOCK_ID ")", err, "unlock");
    return rc;
}
