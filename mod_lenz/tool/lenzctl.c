/* lenzctl - mod_lenz's command-line tool: schema migrations, key
 * management and disaster recovery, linked against the same core as the
 * module. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_getopt.h>
#include <apr_file_info.h>
#include <libpq-fe.h>

#include "migrate.h"
#include "keys.h"
#include "http.h"

#define VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: lenzctl [-d CONNINFO] COMMAND [ARGS]\n"
        "\n"
        "  migrate [SQLDIR]          apply sql/NNN_*.sql migrations in order\n"
        "  gen-master-key FILE       write a new master key file (mode 0600)\n"
        "  version                   print the version\n"
        "\n"
        "  -d CONNINFO   libpq connection string (default: $LENZ_DB, then libpq's PG* variables)\n");
}

static PGconn *connect_db(const char *conninfo)
{
    PGconn *db = PQconnectdb(conninfo ? conninfo : "");
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "lenzctl: cannot connect to the database: %s", PQerrorMessage(db));
        PQfinish(db);
        return NULL;
    }
    PQsetNoticeProcessor(db, NULL, NULL);
    return db;
}

static const char *default_sqldir(void)
{
    apr_finfo_t fi;
    apr_pool_t *p;
    const char *d = "sql";
    apr_pool_create(&p, NULL);
    if (apr_stat(&fi, "sql/001_init.sql", APR_FINFO_TYPE, p) != APR_SUCCESS)
        d = LENZ_DATADIR "/sql";
    apr_pool_destroy(p);
    return d;
}

static int cmd_migrate(apr_pool_t *p, const char *conninfo, int argc, const char *const *argv)
{
    const char *dir = argc > 0 ? argv[0] : default_sqldir();
    PGconn *db = connect_db(conninfo);
    int rc;
    if (!db)
        return 1;
    rc = lenz_migrate(p, db, dir, stdout, stderr);
    PQfinish(db);
    return rc;
}

static int cmd_gen_master_key(apr_pool_t *p, int argc, const char *const *argv)
{
    const char *why = NULL;
    if (argc != 1) {
        usage(stderr);
        return 2;
    }
    if (lenz_keyring_create_file(p, argv[0], &why) != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: %s\n", why ? why : "cannot write the key file");
        return 1;
    }
    printf("lenzctl: wrote a new master key (version 1) to %s\n", argv[0]);
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    const char *conninfo = getenv("LENZ_DB");
    const char *cmd;
    int i = 1, rc;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);

    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            conninfo = argv[i + 1];
            i += 2;
        }
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        else {
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    cmd = argv[i++];
    if (lenz_http_global_init() != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: libcurl failed to initialise\n");
        return 1;
    }
    if (strcmp(cmd, "migrate") == 0)
        rc = cmd_migrate(p, conninfo, argc - i, argv + i);
    else if (strcmp(cmd, "gen-master-key") == 0)
        rc = cmd_gen_master_key(p, argc - i, argv + i);
    else if (strcmp(cmd, "version") == 0) {
        printf("lenzctl " VERSION "\n");
        rc = 0;
    }
    else {
        fprintf(stderr, "lenzctl: unknown command '%s'\n", cmd);
        usage(stderr);
        rc = 2;
    }
    apr_pool_destroy(p);
    return rc;
}
