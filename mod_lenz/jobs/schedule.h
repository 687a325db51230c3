/* schedule.h - cron-like jobs: one run per period across every process
 * and host.  The module defines the schedules (jobkinds.c); job_schedules
 * holds their shared state.  A runner that finds one due moves its
 * next_run_at to the next multiple of the period and enqueues the job, in
 * one statement: the row lock (FOR UPDATE SKIP LOCKED) lets exactly one
 * runner do it, and the job's unique key (schedule:NAME:DUE-TIME) would
 * catch a second one anyway. */
#ifndef LENZ_SCHEDULE_H
#define LENZ_SCHEDULE_H

#include "httpd/lenz.h"
#include "httpd/dbd.h"

typedef struct lenz_schedule {
    const char *name;
    const char *kind;             /* a registered job kind */
    const char *period;           /* a PostgreSQL interval, at least 1 minute */
} lenz_schedule;

/* jobkinds.c: every schedule, ending with { NULL }. */
extern const lenz_schedule lenz_schedules[];

extern const lenz_stmt lenz_schedule_stmts[];

/* Writes the definitions into job_schedules (new ones due at once). */
apr_status_t lenz_schedules_sync(lenz_db *db);
/* Enqueues the schedules that are due and returns how many, or -1. */
int lenz_schedules_run(lenz_db *db, apr_pool_t *p, server_rec *s, const char *kinds);

#endif
