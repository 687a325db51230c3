/* runner.h - the job runners inside httpd.
 *
 * Every httpd child process runs LenzJobWorkers runners.  Each runner is
 * a mod_watchdog instance of its own ("lenz-jobs-N": one thread) with its
 * own PostgreSQL connection (LenzJobsDB) on which it LISTENs for lenz_jobs
 * notifications.  Every 100 ms the watchdog calls it; it reads pending
 * notifications without blocking and, when one came or something is due
 * (the next job's run_at, a schedule, a pending event, or the poll
 * interval), dispatches events, enqueues due schedules and runs jobs one
 * at a time.  It stops between two jobs when httpd stops or restarts the
 * child, and closes its connection before the child exits.
 */
#ifndef LENZ_RUNNER_H
#define LENZ_RUNNER_H

#include "httpd/lenz.h"

/* check_config: mod_watchdog present, LenzJobsDB set and parseable.
 * Returns NULL, or the problem and (in *directive) the directive. */
const char *lenz_runner_check(apr_pool_t *ptemp, server_rec *s, const char **directive);
/* post_config: registers the runners with mod_watchdog. */
apr_status_t lenz_runner_post_config(apr_pool_t *pconf, server_rec *s);
/* child_init: the runners stop before the child's pool goes. */
void lenz_runner_child_init(apr_pool_t *pchild, server_rec *s);

#endif
