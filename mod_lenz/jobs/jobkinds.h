/* jobkinds.h - the handlers of the job kinds listed in jobkinds.c, and
 * the statements they prepare. */
#ifndef LENZ_JOBKINDS_H
#define LENZ_JOBKINDS_H

#include "jobs.h"
#include "schedule.h"

/* selftest.c: a job operators enqueue to see the queue work end to end. */
lenz_job_fn lenz_selftest_job;
/* purge.c: housekeeping of the queue's own tables. */
lenz_job_fn lenz_purge_jobs_job;
/* Runs a DELETE of at most LENZ_PURGE_BATCH rows (its statement says
 * LIMIT LENZ_PURGE_BATCH) until fewer go or LENZ_PURGE_BUDGET has passed
 * since start; logs the count.  A failure fails the job (retried). */
#define LENZ_PURGE_BATCH  1000
#define LENZ_PURGE_BUDGET apr_time_from_sec(60)
apr_status_t lenz_purge_batched(lenz_jobctx *jc, apr_time_t start, const char *label, int nargs,
                                const char *const *args, const char *what);
lenz_job_fn lenz_purge_events_job;
extern const lenz_stmt lenz_purge_stmts[];
/* s3abort.c: multipart uploads left unfinished. */
lenz_job_fn lenz_s3_abort_job;
extern const lenz_stmt lenz_s3abort_stmts[];
/* expire.c: expired codes, sessions, tokens, links, notifications; files
 * past their expiry (S3 objects deleted). */
lenz_job_fn lenz_purge_expired_job;
lenz_job_fn lenz_expire_files_job;
extern const lenz_stmt lenz_expire_stmts[];
/* trash.c: members' trash older than LenzTrashDays. */
lenz_job_fn lenz_trash_purge_job;
extern const lenz_stmt lenz_trash_stmts[];
/* s3garbage.c: objects of rows gone (s3_garbage), DeleteObjects. */
lenz_job_fn lenz_s3_garbage_job;

/* accounts_delete.c: an account an administrator deleted, with its files. */
#define LENZ_DELETE_ACCOUNT_KIND "lenz-delete-account"
lenz_job_fn lenz_delete_account_job;
extern const lenz_stmt lenz_delete_account_stmts[];

/* digest.c: mails waiting for a member's digest, as one mail. */
lenz_job_fn lenz_mail_digest_job;
extern const lenz_stmt lenz_digest_stmts[];
extern const lenz_stmt lenz_s3garbage_stmts[];

#endif
