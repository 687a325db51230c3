/* jobkinds.c - every job kind this module runs and every schedule: the
 * one place to add either.  A runner claims only the kinds listed here,
 * so during a rolling upgrade an older host leaves a newer kind alone. */
#include "httpd/lenz.h"
#include "jobkinds.h"
#include "mailjob.h"
#include "s3garbage.h"
#include "requests.h"

const lenz_job_kind lenz_job_kinds[] = {
    { "mail", lenz_mail_job },
    { "selftest", lenz_selftest_job },
    { "lenz-purge-jobs", lenz_purge_jobs_job },
    { "lenz-purge-events", lenz_purge_events_job },
    { "lenz-s3-abort-abandoned", lenz_s3_abort_job },
    { "lenz-purge-expired", lenz_purge_expired_job },
    { "lenz-expire-files", lenz_expire_files_job },
    { "lenz-trash-purge", lenz_trash_purge_job },
    { LENZ_S3_GARBAGE_KIND, lenz_s3_garbage_job },
    { LENZ_REQUEST_BATCH_KIND, lenz_request_batch_job },
    { "lenz-mail-digest", lenz_mail_digest_job },
    { LENZ_DELETE_ACCOUNT_KIND, lenz_delete_account_job },
    { NULL }
};

/* name, kind, period (runs at multiples of the period, UTC). */
const lenz_schedule lenz_schedules[] = {
    { "lenz-purge-jobs", "lenz-purge-jobs", "1 hour" },
    { "lenz-purge-events", "lenz-purge-events", "1 hour" },
    { "lenz-s3-abort-abandoned", "lenz-s3-abort-abandoned", "1 hour" },
    { "lenz-purge-expired", "lenz-purge-expired", "1 hour" },
    { "lenz-expire-files", "lenz-expire-files", "10 minutes" },
    { "lenz-trash-purge", "lenz-trash-purge", "1 hour" },
    { "lenz-s3-garbage", LENZ_S3_GARBAGE_KIND, "5 minutes" },
    { "lenz-mail-digest", "lenz-mail-digest", "10 minutes" },
    { NULL }
};
