/* cmd_jobs.c - lenzctl commands for the job queue (sql/003_jobs.sql):
 * enqueue, jobs, job, retry-job, schedules, run-schedule.  They go
 * through the same SQL functions as the module (lenz_job_enqueue) and
 * wake the runners with NOTIFY lenz_jobs where they change the queue. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>

#include "commands.h"
#include "pg.h"

static int is_number(const char *s)
{
    char *end;
    if (!s || !*s)
        return 0;
    (void)strtod(s, &end);
    return *end == '\0';
}

static int is_id(const char *s)
{
    return s && *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 19;
}

/* Runs sql and prints its rows, tab-separated, under a header. */
static int print_rows(PGconn *db, const char *sql, int n, const char *const *params,
                      const char *header)
{
    PGresult *res = lenz_pg(db, sql, n, params);
    int r, c;
    if (!res)
        return 1;
    if (header)
        printf("%s\n", header);
    for (r = 0; r < PQntuples(res); r++) {
        for (c = 0; c < PQnfields(res); c++)
            printf("%s%s", c ? "\t" : "", PQgetisnull(res, r, c) ? "-" : PQgetvalue(res, r, c));
        printf("\n");
    }
    PQclear(res);
    return 0;
}

int lenz_cmd_enqueue(lenz_cli *cli, int argc, const char *const *argv)
{
    const char *kind = NULL, *payload = NULL, *in = "0", *key = NULL, *max = NULL;
    const char *params[5];
    PGconn *db;
    PGresult *res;
    int i, rc = 1;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--in") && i + 1 < argc) in = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc) key = argv[++i];
        else if (!strcmp(argv[i], "--max-attempts") && i + 1 < argc) max = argv[++i];
        else if (!kind && argv[i][0] != '-') kind = argv[i];
        else if (kind && !payload) payload = argv[i];
        else return lenz_cli_usage(cli);
    }
    if (!kind || !is_number(in) || (max && !is_id(max)))
        return lenz_cli_usage(cli);
    if (!(db = lenz_pg_connect(cli->settings->db)))
        return 1;
    params[0] = kind;
    params[1] = payload ? payload : "{}";
    params[2] = in;
    params[3] = key;
    params[4] = max;
    res = lenz_pg(db, "SELECT lenz_job_enqueue($1, $2::jsonb, now() + make_interval(secs => "
                  "$3::float8), $4, $5::int)", 5, params);
    if (res) {
        if (PQgetisnull(res, 0, 0))
            printf("lenzctl: a job with key %s exists already; nothing queued\n", key);
        else
            printf("job %s queued (%s)\n", PQgetvalue(res, 0, 0), kind);
        PQclear(res);
        rc = 0;
    }
    PQfinish(db);
    return rc;
}

int lenz_cmd_jobs(lenz_cli *cli, int argc, const char *const *argv)
{
    const char *params[3] = { NULL, NULL, "50" };
    PGconn *db;
    int i, rc;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--state") && i + 1 < argc) params[0] = argv[++i];
        else if (!strcmp(argv[i], "--kind") && i + 1 < argc) params[1] = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc && is_id(argv[i + 1])) params[2] = argv[++i];
        else return lenz_cli_usage(cli);
    }
    if (!(db = lenz_pg_connect(cli->settings->db)))
        return 1;
    rc = print_rows(db,
        "SELECT id, state, kind, attempts || '/' || max_attempts, "
        "to_char(CASE WHEN state IN ('done', 'dead') THEN finished_at ELSE run_at END "
        "AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), left(last_error, 100) FROM jobs "
        "WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2) "
        "ORDER BY id DESC LIMIT $3::int", 3, params,
        "ID\tSTATE\tKIND\tATTEMPTS\tRUN_AT/FINISHED (UTC)\tLAST_ERROR");
    PQfinish(db);
    return rc;
}

int lenz_cmd_job(lenz_cli *cli, int argc, const char *const *argv)
{
    PGconn *db;
    PGresult *res;
    int rc = 1, c;

    if (argc != 1 || !is_id(argv[0]))
        return lenz_cli_usage(cli);
    if (!(db = lenz_pg_connect(cli->settings->db)))
        return 1;
    res = lenz_pg(db, "SELECT id, kind, state, attempts || '/' || max_attempts AS attempts, "
                  "run_at, created_at, finished_at, locked_by, locked_until, unique_key, "
                  "payload, result, last_error FROM jobs WHERE id = $1::bigint", 1, argv);
    if (res && PQntuples(res) == 1) {
        for (c = 0; c < PQnfields(res); c++)
            printf("%-13s %s\n", PQfname(res, c), PQgetisnull(res, 0, c) ? "-" : PQgetvalue(res, 0, c));
        rc = print_rows(db, "SELECT attempt, runner, started_at, "
                        "round(extract(epoch FROM finished_at - started_at)::numeric, 3), "
                        "CASE WHEN ok THEN 'ok' ELSE 'failed' END, error FROM job_runs "
                        "WHERE job_id = $1::bigint ORDER BY id", 1, argv,
                        "\nATTEMPT\tRUNNER\tSTARTED\tSECONDS\tOUTCOME\tERROR");
    }
    else if (res)
        fprintf(stderr, "lenzctl: no job %s\n", argv[0]);
    if (res)
        PQclear(res);
    PQfinish(db);
    return rc;
}

int lenz_cmd_retry_job(lenz_cli *cli, int argc, const char *const *argv)
{
    PGconn *db;
    PGresult *res;
    int rc = 1;

    if (argc != 1 || !is_id(argv[0]))
        return lenz_cli_usage(cli);
    if (!(db = lenz_pg_connect(cli->settings->db)))
        return 1;
    res = lenz_pg(db, "UPDATE jobs SET state = 'queued', attempts = 0, run_at = now(), "
                  "finished_at = NULL, updated_at = now() WHERE id = $1::bigint AND state = 'dead' "
                  "RETURNING id", 1, argv);
    if (res && PQntuples(res) == 1 && lenz_pg_do(db, "NOTIFY lenz_jobs")) {
        printf("job %s queued again\n", argv[0]);
        rc = 0;
    }
    else if (res)
        fprintf(stderr, "lenzctl: no dead job %s\n", argv[0]);
    if (res)
        PQclear(res);
    PQfinish(db);
    return rc;
}

int lenz_cmd_schedules(lenz_cli *cli, int argc, const char *const *argv)
{
    PGconn *db;
    int rc;
    if (argc != 0)
        return lenz_cli_usage(cli);
    if (!(db = lenz_pg_connect(cli->settings->db)))
        return 1;
    rc = print_rows(db, "SELECT name, kind, period, CASE WHEN enabled THEN 'on' ELSE 'off' END, "
                    "to_char(next_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "
                    "to_char(last_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), last_job_id "
                    "FROM job_schedules ORDER BY name", 0, NULL,
                    "NAME\tKIND\tPERIOD\tENABLED\tNEXT_RUN (UTC)\tLAST_RUN (UTC)\tLAST_JOB");
    PQfinish(db);
    return rc;
}

int lenz_cmd_run_schedule(lenz_cli *cli, int argc, const char *const *argv)
{
    PGconn *db;
    PGresult *res;
    int rc = 1;

    if (argc != 1)
        return lenz_cli_usage(cli);
    if (!(db = lenz_pg_connect(cli->settings->db)))
        return 1;
    res = lenz_pg(db, "UPDATE job_schedules SET next_run_at = now() WHERE name = $1 RETURNING name",
                  1, argv);
    if (res && PQntuples(res) == 1 && lenz_pg_do(db, "NOTIFY lenz_jobs")) {
        printf("schedule %s is due now\n", argv[0]);
        rc = 0;
    }
    else if (res)
        fprintf(stderr, "lenzctl: no schedule %s (a runner writes them when it starts)\n", argv[0]);
    if (res)
        PQclear(res);
    PQfinish(db);
    return rc;
}
