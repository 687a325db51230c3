/* lenzctl - mod_lenz's command-line tool: schema migrations, accounts'
 * keys and the master key, import and disaster-recovery decryption, the
 * job queue.  It links the same core as the module. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_info.h>

#include "commands.h"
#include "migrate.h"
#include "pg.h"
#include "keys.h"
#include "http.h"

#define VERSION "0.1.0"

int lenz_cli_usage(lenz_cli *cli)
{
    fprintf(stderr,
        "usage: lenzctl [-e SETTINGS] [-d CONNINFO] COMMAND [ARGS]\n"
        "\n"
        "  migrate [SQLDIR]                 apply sql/NNN_*.sql migrations in order\n"
        "  gen-master-key FILE              write a new master key file (mode 0600)\n"
        "  add-master-key                   append a new master key version to the key file\n"
        "  rotate-master-key                re-wrap every user key under the newest version\n"
        "  retire-master-key VERSION        drop a version no user key uses any more\n"
        "  create-user EMAIL [--name N] [--admin|--lab] [--password-stdin]\n"
        "  import --owner USER FILE [--name N] [--type MIME]\n"
        "                                   encrypt a local file into USER's storage\n"
        "  decrypt FILE_ID [--range A-B]    stream a stored file's plaintext to stdout\n"
        "  enqueue KIND [JSON] [--in SECONDS] [--key KEY] [--max-attempts N]\n"
        "                                   queue a job (e.g. selftest '{\"mail_to\":\"me@x.org\"}')\n"
        "  jobs [--state S] [--kind K] [--limit N]\n"
        "                                   list jobs, newest first\n"
        "  job ID                           a job with its payload, result and every run\n"
        "  retry-job ID                     queue a dead job again (attempts start over)\n"
        "  schedules                        the scheduled jobs and when they run next\n"
        "  run-schedule NAME                make a scheduled job due now\n"
        "  fill-folder --user USER --count N [--folder ID|root] [--prefix NAME]\n"
        "                                   add N files (rows only, no S3 objects: for\n"
        "                                   benchmarks) to USER's folder, in batches\n"
        "  version\n"
        "\n"
        "Settings come from the environment or the -e file (KEY=VALUE lines, as in\n"
        "var/dev/stack.env): LENZ_DB (or LENZ_PG_CONNINFO), LENZ_MASTER_KEY_FILE,\n"
        "LENZ_S3_ENDPOINT, LENZ_S3_BUCKET, LENZ_S3_REGION, LENZ_S3_ACCESS_KEY,\n"
        "LENZ_S3_SECRET_FILE.\n");
    return 2;
}

static const char *default_sqldir(apr_pool_t *p)
{
    apr_finfo_t fi;
    if (apr_stat(&fi, "sql/001_init.sql", APR_FINFO_TYPE, p) == APR_SUCCESS)
        return "sql";
    return LENZ_DATADIR "/sql";
}

static int cmd_migrate(lenz_cli *cli, int argc, const char *const *argv)
{
    const char *dir = argc > 0 ? argv[0] : default_sqldir(cli->pool);
    PGconn *db = lenz_pg_connect(cli->settings->db);
    int rc;
    if (!db)
        return 1;
    rc = lenz_migrate(cli->pool, db, dir, stdout, stderr);
    PQfinish(db);
    return rc;
}

static int cmd_gen_master_key(lenz_cli *cli, int argc, const char *const *argv)
{
    const char *why = NULL;
    if (argc != 1)
        return lenz_cli_usage(cli);
    if (lenz_keyring_create_file(cli->pool, argv[0], &why) != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: %s\n", why ? why : "cannot write the key file");
        return 1;
    }
    printf("lenzctl: wrote a new master key (version 1) to %s\n", argv[0]);
    return 0;
}

static int cmd_version(lenz_cli *cli, int argc, const char *const *argv)
{
    printf("lenzctl " VERSION "\n");
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(lenz_cli *, int, const char *const *);
} commands[] = {
    { "migrate", cmd_migrate },
    { "gen-master-key", cmd_gen_master_key },
    { "add-master-key", lenz_cmd_add_master_key },
    { "rotate-master-key", lenz_cmd_rotate_master_key },
    { "retire-master-key", lenz_cmd_retire_master_key },
    { "create-user", lenz_cmd_create_user },
    { "import", lenz_cmd_import },
    { "decrypt", lenz_cmd_decrypt },
    { "enqueue", lenz_cmd_enqueue },
    { "jobs", lenz_cmd_jobs },
    { "job", lenz_cmd_job },
    { "retry-job", lenz_cmd_retry_job },
    { "schedules", lenz_cmd_schedules },
    { "run-schedule", lenz_cmd_run_schedule },
    { "fill-folder", lenz_cmd_fill_folder },
    { "version", cmd_version },
};

int main(int argc, const char *const *argv)
{
    lenz_cli cli;
    const char *settings_file = NULL, *db = NULL;
    int i = 1, rc = 2;
    apr_size_t c;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    memset(&cli, 0, sizeof(cli));
    apr_pool_create(&cli.pool, NULL);

    while (i < argc && argv[i][0] == '-') {
        if (!strcmp(argv[i], "-d") && i + 1 < argc) {
            db = argv[i + 1];
            i += 2;
        }
        else if (!strcmp(argv[i], "-e") && i + 1 < argc) {
            settings_file = argv[i + 1];
            i += 2;
        }
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            lenz_cli_usage(&cli);
            return 0;
        }
        else {
            return lenz_cli_usage(&cli);
        }
    }
    if (i >= argc)
        return lenz_cli_usage(&cli);
    if (!(cli.settings = lenz_settings_load(cli.pool, settings_file)))
        return 1;
    if (db)
        cli.settings->db = db;
    if (lenz_http_global_init() != APR_SUCCESS || !(cli.http = lenz_http_make(cli.pool))) {
        fprintf(stderr, "lenzctl: libcurl failed to initialise\n");
        return 1;
    }
    for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
        if (!strcmp(argv[i], commands[c].name)) {
            rc = commands[c].fn(&cli, argc - i - 1, argv + i + 1);
            break;
        }
    }
    if (c == sizeof(commands) / sizeof(commands[0])) {
        fprintf(stderr, "lenzctl: unknown command '%s'\n", argv[i]);
        rc = lenz_cli_usage(&cli);
    }
    apr_pool_destroy(cli.pool);
    return rc;
}
