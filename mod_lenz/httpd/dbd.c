/* dbd.c - the glue to mod_dbd. */
#include <apr_strings.h>
#include <apr_dbd.h>
#include <apr_optional.h>
#include <mod_dbd.h>
#include <libpq-fe.h>

#include "lenz.h"
#include "dbd.h"
#include "metrics.h"

struct lenz_db {
    request_rec *r;               /* NULL outside a request (the job runner) */
    server_rec *s;
    apr_pool_t *pool;             /* results and transactions live here */
    ap_dbd_t *conn;
    int txn;                      /* a transaction is open (BEGIN sent) */
    int pooled;                   /* from mod_dbd's pool: release() gives it back */
};

#define DB_LOG(db, level, ...) do { \
        if ((db)->r) ap_log_rerror(APLOG_MARK, (level), 0, (db)->r, __VA_ARGS__); \
        else ap_log_error(APLOG_MARK, (level), 0, (db)->s, __VA_ARGS__); \
    } while (0)

static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;
static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare;

const char *lenz_db_check_loaded(void)
{
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    if (!dbd_open || !dbd_close || !dbd_prepare)
        return "mod_dbd is not loaded (LoadModule dbd_module ...; DBDriver pgsql)";
    return NULL;
}

void lenz_db_prepare_all(server_rec *s)
{
    int a;
    const lenz_stmt *st;
    if (!dbd_prepare)
        return;
    for (a = 0; lenz_areas[a]; a++)
        for (st = lenz_areas[a]->stmts; st && st->label; st++)
            dbd_prepare(s, st->sql, st->label);
    for (a = 0; lenz_shared_stmts[a]; a++)
        for (st = lenz_shared_stmts[a]; st->label; st++)
            dbd_prepare(s, st->sql, st->label);
}

static apr_status_t prepare_list(apr_pool_t *p, ap_dbd_t *conn, const lenz_stmt *st,
                                 const char **why)
{
    for (; st && st->label; st++) {
        apr_dbd_prepared_t *stmt = NULL;
        int rc = apr_dbd_prepare(conn->driver, p, conn->handle, st->sql, st->label, &stmt);
        if (rc != 0) {
            const char *msg = apr_dbd_error(conn->driver, conn->handle, rc);
            *why = apr_psprintf(p, "preparing '%s' failed: %s", st->label,
                                msg ? msg : "(no message)");
            return APR_EGENERAL;
        }
        apr_hash_set(conn->prepared, st->label, APR_HASH_KEY_STRING, stmt);
    }
    return APR_SUCCESS;
}

apr_status_t lenz_db_prepare_conn(apr_pool_t *p, ap_dbd_t *conn, const char **why)
{
    apr_status_t rv = APR_SUCCESS;
    int a;
    if (!conn->prepared)
        conn->prepared = apr_hash_make(p);
    for (a = 0; rv == APR_SUCCESS && lenz_areas[a]; a++)
        rv = prepare_list(p, conn, lenz_areas[a]->stmts, why);
    for (a = 0; rv == APR_SUCCESS && lenz_shared_stmts[a]; a++)
        rv = prepare_list(p, conn, lenz_shared_stmts[a], why);
    return rv;
}

/* Transactions go straight through libpq on the connection's native
 * handle: apr_dbd_pgsql's transaction_start dereferences a NULL
 * transaction when BEGIN fails (a server that just went away), which
 * crashed the job runners when PostgreSQL stopped.  Statements still go
 * through apr_dbd; the caller says whether to commit. */
static int tx_exec(lenz_db *db, const char *sql)
{
    PGconn *pg = apr_dbd_native_handle(db->conn->driver, db->conn->handle);
    PGresult *res;
    int ok;
    if (!pg)
        return 0;
    res = PQexec(pg, sql);
    ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        DB_LOG(db, APLOG_ERR, LENZLOGNO(0202) "statement '%s' failed: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    return ok;
}

static apr_status_t release(void *data)
{
    lenz_db *db = data;
    if (db->conn && db->pooled) {
        if (db->txn)
            tx_exec(db, "ROLLBACK");
        dbd_close(db->s, db->conn);
        db->conn = NULL;
        db->txn = 0;
        lenz_metrics_db(0, 1, 0);
    }
    return APR_SUCCESS;
}

/* A pooled connection whose server went away (a restart, a fail-over, an
 * idle timeout) still looks fine to mod_dbd until a statement fails on
 * it.  And when mod_dbd's check finds it broken, apr_dbd_pgsql repairs it
 * with PQreset(): a new server session, in which the statements mod_dbd
 * prepared when it made the connection do not exist -- every statement
 * on that pooled connection would then fail with "prepared statement ...
 * does not exist" for as long as it lives.  So before a request uses a
 * connection: read what the server sent (a closed connection shows up
 * without blocking), reconnect now if it is gone, and when the server
 * session is not the one last seen on this connection (its backend pid),
 * make sure our statements exist in it.  One cheap query per new session;
 * nothing on the common path but a non-blocking read. */
#define PID_KEY "lenz:backend-pid"

static apr_status_t session_check(request_rec *r, ap_dbd_t *conn)
{
    PGconn *pg;
    PGresult *res;
    int *seen = NULL, pid, present;
    const char *probe;

    if (strcmp(apr_dbd_name(conn->driver), "pgsql") != 0
        || !(pg = apr_dbd_native_handle(conn->driver, conn->handle)))
        return APR_SUCCESS;
    /* Twice: a server that went away sent an error and then closed; the
     * first read takes the error, the second sees the end. */
    if (!PQconsumeInput(pg) || !PQconsumeInput(pg) || PQstatus(pg) != CONNECTION_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "database connection lost (%s); reconnecting",
                      PQerrorMessage(pg));
        if (apr_dbd_check_conn(conn->driver, r->pool, conn->handle) != APR_SUCCESS)
            return APR_EGENERAL;
    }
    pid = PQbackendPID(pg);
    apr_pool_userdata_get((void **)&seen, PID_KEY, conn->pool);
    if (seen && *seen == pid)
        return APR_SUCCESS;
    /* A session we have not seen yet: are our statements in it? */
    probe = lenz_areas[0] && lenz_areas[0]->stmts ? lenz_areas[0]->stmts->label : NULL;
    if (!probe)
        return APR_SUCCESS;
    res = PQexecParams(pg, "SELECT 1 FROM pg_prepared_statements WHERE name = $1", 1, NULL,
                       &probe, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LENZLOGNO(0203) "checking the database session "
                      "failed: %s", PQerrorMessage(pg));
        PQclear(res);
        return APR_EGENERAL;
    }
    present = PQntuples(res) == 1;
    PQclear(res);
    if (!present) {
        const char *why = "";
        /* In the connection's pool: the statements live as long as it. */
        if (lenz_db_prepare_conn(conn->pool, conn, &why) != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LENZLOGNO(0204) "on a new database session: %s",
                          why);
            return APR_EGENERAL;
        }
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LENZLOGNO(0205) "the database connection "
                      "was re-established (new session, backend pid %d): statements prepared again",
                      pid);
    }
    if (!seen) {
        seen = apr_palloc(conn->pool, sizeof(*seen));
        apr_pool_userdata_setn(seen, PID_KEY, NULL, conn->pool);
    }
    *seen = pid;
    return APR_SUCCESS;
}

lenz_db *lenz_db_open(request_rec *r)
{
    return lenz_db_open_in(r, r->pool);
}

lenz_db *lenz_db_open_in(request_rec *r, apr_pool_t *p)
{
    lenz_db *db;
    ap_dbd_t *conn = dbd_open ? dbd_open(p, r->server) : NULL;
    if (conn && session_check(r, conn) != APR_SUCCESS) {
        dbd_close(r->server, conn);
        conn = NULL;
    }
    if (!conn) {
        lenz_metrics_db(0, 0, 1);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      LENZLOGNO(0200) "no database connection available");
        return NULL;
    }
    lenz_metrics_db(1, 0, 0);
    db = apr_pcalloc(p, sizeof(*db));
    db->r = r;
    db->s = r->server;
    db->pool = p;
    db->conn = conn;
    db->pooled = 1;
    apr_pool_cleanup_register(p, db, release, apr_pool_cleanup_null);
    return db;
}

void lenz_db_close(lenz_db *db)
{
    if (db && db->pooled)
        apr_pool_cleanup_run(db->pool, db, release);
}

lenz_db *lenz_db_wrap(apr_pool_t *p, server_rec *s, ap_dbd_t *conn)
{
    lenz_db *db = apr_pcalloc(p, sizeof(*db));
    db->s = s;
    db->pool = p;
    db->conn = conn;
    return db;
}

server_rec *lenz_db_server(const lenz_db *db)
{
    return db->s;
}

apr_pool_t *lenz_db_pool(const lenz_db *db)
{
    return db->pool;
}

static apr_dbd_prepared_t *stmt(lenz_db *db, const char *label)
{
    apr_dbd_prepared_t *st = apr_hash_get(db->conn->prepared, label, APR_HASH_KEY_STRING);
    if (!st)
        DB_LOG(db, APLOG_ERR, LENZLOGNO(0201) "prepared statement '%s' is missing "
                      "(did preparing it fail at connect? see mod_dbd's messages)", label);
    return st;
}

static void log_db_error(lenz_db *db, const char *label, int rc)
{
    const char *msg = apr_dbd_error(db->conn->driver, db->conn->handle, rc);
    DB_LOG(db, APLOG_ERR, LENZLOGNO(0202) "statement '%s' failed: %s", label,
           msg ? msg : "(no message)");
}

apr_status_t lenz_db_select(lenz_db *db, const char *label, lenz_rows *out,
                            int nargs, const char *const *args)
{
    return lenz_db_select_in(db, db->pool, label, out, nargs, args);
}

apr_status_t lenz_db_select_in(lenz_db *db, apr_pool_t *p, const char *label, lenz_rows *out,
                               int nargs, const char *const *args)
{
    apr_dbd_prepared_t *st;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *rows;
    int rc, i;

    memset(out, 0, sizeof(*out));
    if (!db->conn || !(st = stmt(db, label)))
        return APR_EGENERAL;
    /* random=1: the whole (small, LIMITed) result at once, so the column
     * count is known before the first row is read. */
    rc = apr_dbd_pselect(db->conn->driver, p, db->conn->handle, &res, st, 1,
                         nargs, (const char **)args);
    if (rc != 0) {
        log_db_error(db, label, rc);
        return APR_EGENERAL;
    }
    out->ncols = apr_dbd_num_cols(db->conn->driver, res);
    rows = apr_array_make(p, 4, sizeof(const char **));
    while (apr_dbd_get_row(db->conn->driver, p, res, &row, -1) == 0) {
        const char **vals = apr_pcalloc(p, sizeof(char *) * (out->ncols ? out->ncols : 1));
        for (i = 0; i < out->ncols; i++) {
            /* The driver's value dies with the next row: copy it now.
             * apr_dbd_get_entry() gives "" for NULL with pgsql; the datum
             * call tells NULL (APR_ENOENT) apart. */
            const char *v = NULL;
            if (apr_dbd_datum_get(db->conn->driver, row, i, APR_DBD_TYPE_STRING, &v) != APR_SUCCESS)
                v = NULL;
            vals[i] = v ? apr_pstrdup(p, v) : NULL;
        }
        APR_ARRAY_PUSH(rows, const char **) = vals;
    }
    out->nrows = rows->nelts;
    out->rows = (const char ***)rows->elts;
    return APR_SUCCESS;
}

apr_status_t lenz_db_exec(lenz_db *db, const char *label, int *affected,
                          int nargs, const char *const *args)
{
    apr_dbd_prepared_t *st;
    int n = 0, rc;
    if (!db->conn || !(st = stmt(db, label)))
        return APR_EGENERAL;
    rc = apr_dbd_pquery(db->conn->driver, db->pool, db->conn->handle, &n, st,
                        nargs, (const char **)args);
    if (rc != 0) {
        log_db_error(db, label, rc);
        return APR_EGENERAL;
    }
    if (affected)
        *affected = n;
    return APR_SUCCESS;
}

apr_status_t lenz_db_begin(lenz_db *db)
{
    if (db->txn) {
        /* A second BEGIN would only warn, and the inner end would commit
         * the outer transaction: refuse it. */
        DB_LOG(db, APLOG_ERR, LENZLOGNO(0206) "a transaction is already open on this connection");
        return APR_EGENERAL;
    }
    if (!tx_exec(db, "BEGIN"))
        return APR_EGENERAL;
    db->txn = 1;
    return APR_SUCCESS;
}

apr_status_t lenz_db_end(lenz_db *db, int rollback)
{
    int ok;
    if (!db->txn)
        return APR_EGENERAL;
    /* COMMIT of a transaction in which a statement failed rolls it back
     * and says so ("ROLLBACK"): that is a failure too. */
    if (rollback) {
        ok = tx_exec(db, "ROLLBACK");
    }
    else {
        PGconn *pg = apr_dbd_native_handle(db->conn->driver, db->conn->handle);
        PGresult *res = pg ? PQexec(pg, "COMMIT") : NULL;
        ok = res && PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0;
        if (!ok)
            DB_LOG(db, APLOG_ERR, LENZLOGNO(0202) "statement 'COMMIT' failed: %s",
                   pg ? (*PQerrorMessage(pg) ? PQerrorMessage(pg) : "the transaction was rolled back")
                      : "no connection");
        PQclear(res);
    }
    db->txn = 0;
    return ok ? APR_SUCCESS : APR_EGENERAL;
}
