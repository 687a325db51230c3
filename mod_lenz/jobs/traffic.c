/* traffic.c - bytes served per day (the admin console's dashboard): every
 * response's bytes are added up in this host's shared memory
 * (httpd/metrics.c); a job runner of the host takes the sum on each of
 * its passes and adds it to today's row of daily_traffic, one statement
 * per pass whatever the number of requests.  What a failed write took is
 * given back for the next pass.  Each host counts its own, so the rows
 * are the site's total. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "traffic.h"
#include "httpd/metrics.h"

const lenz_stmt lenz_traffic_stmts[] = {
    { "lenz_traffic_add",
      "INSERT INTO daily_traffic (day, bytes_out) VALUES ((now() AT TIME ZONE 'UTC')::date, %s::bigint) "
      "ON CONFLICT (day) DO UPDATE SET bytes_out = daily_traffic.bytes_out + EXCLUDED.bytes_out" },
    { NULL }
};

void lenz_traffic_flush(lenz_db *db)
{
    apr_uint64_t n = lenz_metrics_take_unflushed();
    const char *args[1];
    if (!n)
        return;
    args[0] = apr_psprintf(lenz_db_pool(db), "%" APR_UINT64_T_FMT, n);
    if (lenz_db_exec(db, "lenz_traffic_add", NULL, 1, args) != APR_SUCCESS)
        lenz_metrics_give_back(n);
}
