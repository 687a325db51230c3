/* cmd_fill.c - lenzctl fill-folder: N files rows in one member's folder,
 * made by the database in batches, for benchmarks (bench/storage) and for
 * trying a large folder by hand.
 *
 * The rows are stored 'plain' and 'ready' with no S3 object behind them
 * (their keys, "fill/<run>/<n>", name none): listing, sorting, searching,
 * renaming, moving and the trash work on them; a download or preview does
 * not.  They go in through the table, so the table's triggers treat them
 * as every other new file (sql/012_storage.sql): lenz_files_place takes
 * "name (2)" for a name taken in the folder, and lenz_usage_track adds
 * each one's size to the member's storage_usage, which stays exact.  The
 * member's quota is not checked (httpd's setting; lenzctl does not know
 * it).
 *
 * Each batch is one INSERT ... SELECT over generate_series, committed by
 * itself: every row takes an advisory lock in files_place (held to the
 * end of its transaction) and adds to the same storage_usage row, so one
 * transaction for all would hold N locks and N versions of that row.  A
 * run that is interrupted keeps the batches it committed. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <apr_uuid.h>

#include "commands.h"
#include "pg.h"
#include "codec.h"
#include "names.h"

#define FILL_BATCH     1000
#define FILL_MAX       10000000L
#define FILL_PREFIX_MAX 180         /* + the longest generated name < 255 bytes */

/* One batch: files n = $5 .. $6 of the folder.  n picks one of ten kinds
 * of file (n % 10) and a number unique within its kind (m = n / 10), so
 * the names are unique, and a hash of n the size (log-uniform between
 * the kind's bounds, one in 500 empty) and the time it was last changed
 * (within the last two years). */
static const char FILL_SQL[] =
    "INSERT INTO files (owner_id, folder_id, name, content_type, size, storage, s3_key, state, "
    "                   created_at, updated_at) "
    "SELECT $1::uuid, $2::uuid, $3::text || CASE k "
    "  WHEN 0 THEN 'invoice-' || (2018 + m % 8) || '-' || right('0000' || m, greatest(5, length(m::text))) || '.pdf' "
    "  WHEN 1 THEN 'IMG_' || (1000 + m) || '.jpg' "
    "  WHEN 2 THEN 'Screenshot ' || to_char(timestamp '2021-01-01' + m * interval '1 hour 7 minutes 13 seconds', "
    "                                       'YYYY-MM-DD \"at\" HH24.MI.SS') || '.png' "
    "  WHEN 3 THEN 'Quarterly report Q' || (1 + m % 4) || ' ' || (2015 + m % 10) || ' v' || m || '.xlsx' "
    "  WHEN 4 THEN 'scan_' || right('00000' || m, greatest(6, length(m::text))) || '.pdf' "
    "  WHEN 5 THEN 'DSC' || right('0000' || m, greatest(5, length(m::text))) || '.JPG' "
    "  WHEN 6 THEN 'meeting-notes-' || to_char(date '2019-01-01' + (m % 2500)::int, 'YYYY-MM-DD') || '-' || m || '.docx' "
    "  WHEN 7 THEN 'backup_' || m || '.tar.gz' "
    "  WHEN 8 THEN 'Track ' || right('000' || m, greatest(4, length(m::text))) || ' - demo.mp3' "
    "  ELSE 'contract_' || (ARRAY['acme','globex','initech','umbrella','hooli','stark'])[1 + m % 6] "
    "       || '_' || m || '.pdf' END, "
    " (ARRAY['application/pdf', 'image/jpeg', 'image/png', "
    "        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'application/pdf', "
    "        'image/jpeg', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', "
    "        'application/gzip', 'audio/mpeg', 'application/pdf'])[k + 1], "
    " CASE WHEN h % 500 = 0 THEN 0 ELSE round(lo[k + 1] * power(hi[k + 1] / lo[k + 1], u))::bigint END, "
    " 'plain', $4::text || n, 'ready', t, t "
    "FROM (SELECT n, (n % 10)::int AS k, n / 10 AS m, hashint8(n) & 2147483647 AS h, "
    "             (hashint8(n) & 1048575) / 1048576.0::float8 AS u, "
    "             now() - make_interval(secs => ((hashint8(-n) & 2147483647) % 63072000)::float8) AS t, "
    "             ARRAY[20e3, 1.2e6, 80e3, 8e3, 150e3, 3e6, 12e3, 1e6, 2e6, 40e3]::float8[] AS lo, "
    "             ARRAY[400e3, 6e6, 3e6, 2e6, 8e6, 14e6, 300e3, 50e6, 15e6, 1.5e6]::float8[] AS hi "
    "      FROM generate_series($5::bigint, $6::bigint) AS n) s";

static int usage_fill(lenz_cli *cli, const char *why)
{
    if (why)
        fprintf(stderr, "lenzctl: fill-folder: %s\n", why);
    return lenz_cli_usage(cli);
}

int lenz_cmd_fill_folder(lenz_cli *cli, int argc, const char *const *argv)
{
    apr_pool_t *p = cli->pool;
    const char *user_arg = NULL, *folder_arg = "root", *prefix = "", *count_s = NULL;
    const char *params[6], *user, *email, *folder, *path, *why;
    char run[APR_UUID_FORMATTED_LENGTH + 1];
    apr_uuid_t uuid;
    apr_time_t t0;
    long count, start, done = 0;
    PGconn *db;
    PGresult *res;
    char *end;
    int i, rc = 1;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--user") && i + 1 < argc) user_arg = argv[++i];
        else if (!strcmp(argv[i], "--folder") && i + 1 < argc) folder_arg = argv[++i];
        else if (!strcmp(argv[i], "--count") && i + 1 < argc) count_s = argv[++i];
        else if (!strcmp(argv[i], "--prefix") && i + 1 < argc) prefix = argv[++i];
        else return usage_fill(cli, apr_psprintf(p, "unexpected argument '%s'", argv[i]));
    }
    if (!user_arg || !count_s)
        return usage_fill(cli, "--user and --count are required");
    count = strtol(count_s, &end, 10);
    if (!*count_s || *end || count < 1 || count > FILL_MAX)
        return usage_fill(cli, apr_psprintf(p, "--count takes 1 to %ld", FILL_MAX));
    if (strcmp(folder_arg, "root") && !lenz_uuid_ok(folder_arg))
        return usage_fill(cli, "--folder takes a folder's id or 'root'");
    if (*prefix && (strlen(prefix) > FILL_PREFIX_MAX
                    || (why = lenz_name_problem(apr_pstrcat(p, prefix, "x", NULL))))) {
        fprintf(stderr, "lenzctl: fill-folder: the prefix %s\n",
                strlen(prefix) > FILL_PREFIX_MAX ? apr_psprintf(p, "is over %d bytes", FILL_PREFIX_MAX) : why);
        return 1;
    }
    if (!(db = lenz_pg_connect(cli->settings->db)))
        return 1;

    params[0] = user_arg;
    res = lenz_pg(db, "SELECT id, email FROM users WHERE id::text = $1 OR email = $1", 1, params);
    if (!res)
        goto out;
    if (PQntuples(res) != 1) {
        fprintf(stderr, "lenzctl: no user %s\n", user_arg);
        PQclear(res);
        goto out;
    }
    user = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    email = apr_pstrdup(p, PQgetvalue(res, 0, 1));
    PQclear(res);

    params[0] = user;
    if (!strcmp(folder_arg, "root")) {
        /* As lenz_fs_root (files/store.c): the root is made on first use. */
        if (!(res = lenz_pg(db, "INSERT INTO folders (owner_id, name, path, depth) VALUES ($1::uuid, '', '/', 0) "
                                "ON CONFLICT (owner_id) WHERE parent_id IS NULL DO NOTHING", 1, params)))
            goto out;
        PQclear(res);
        res = lenz_pg(db, "SELECT id, path FROM folders WHERE owner_id = $1::uuid AND parent_id IS NULL",
                      1, params);
    }
    else {
        params[1] = folder_arg;
        res = lenz_pg(db, "SELECT id, path FROM folders WHERE owner_id = $1::uuid AND id = $2::uuid "
                          "AND trashed_at IS NULL AND left(path, 2) <> '//'", 2, params);
    }
    if (!res)
        goto out;
    if (PQntuples(res) != 1) {
        fprintf(stderr, "lenzctl: %s has no folder %s (or it is in the trash)\n", email, folder_arg);
        PQclear(res);
        goto out;
    }
    folder = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    path = apr_pstrdup(p, PQgetvalue(res, 0, 1));
    PQclear(res);

    /* Numbering goes on from the files the folder has, so a second run
     * into the same folder makes new names rather than "name (2)"s. */
    params[0] = folder;
    if (!(res = lenz_pg(db, "SELECT count(*) FROM files WHERE folder_id = $1::uuid", 1, params)))
        goto out;
    start = strtol(PQgetvalue(res, 0, 0), NULL, 10) + 1;
    PQclear(res);

    apr_uuid_get(&uuid);
    apr_uuid_format(run, &uuid);
    params[0] = user;
    params[1] = folder;
    params[2] = prefix;
    params[3] = apr_pstrcat(p, "fill/", run, "/", NULL);
    t0 = apr_time_now();
    while (done < count) {
        long n = count - done < FILL_BATCH ? count - done : FILL_BATCH;
        params[4] = apr_ltoa(p, start + done);
        params[5] = apr_ltoa(p, start + done + n - 1);
        if (!(res = lenz_pg(db, FILL_SQL, 6, params))) {
            fprintf(stderr, "lenzctl: fill-folder stopped after %ld files (each batch of %d is kept)\n",
                    done, FILL_BATCH);
            goto out;
        }
        PQclear(res);
        done += n;
    }

    /* The planner sees the new rows now rather than when autovacuum gets
     * to them (a table's owner may; otherwise autovacuum will). */
    if ((res = lenz_pg(db, "ANALYZE files", 0, NULL)))
        PQclear(res);
    else
        fprintf(stderr, "lenzctl: note: ANALYZE files failed (above); autovacuum will do it\n");

    /* The trigger kept storage_usage exact: say so, from the rows. */
    params[0] = user;
    res = lenz_pg(db, "SELECT coalesce((SELECT used FROM storage_usage WHERE user_id = $1::uuid), 0), "
                      "coalesce((SELECT sum(size) FROM files WHERE owner_id = $1::uuid AND state <> 'deleted'), 0), "
                      "(SELECT count(*) FROM files WHERE folder_id = $2::uuid AND trashed_at IS NULL "
                      " AND state = 'ready')", 2, params);
    if (!res)
        goto out;
    printf("%ld files added to %s (folder %s) of %s in %.1f s; the folder holds %s files; "
           "storage used %s bytes\n", count, path, folder, email,
           (double)(apr_time_now() - t0) / APR_USEC_PER_SEC, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 0));
    if (strcmp(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)) != 0)
        fprintf(stderr, "lenzctl: storage_usage says %s bytes but the member's files add up to %s\n",
                PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    else
        rc = 0;
    PQclear(res);
out:
    PQfinish(db);
    return rc;
}
