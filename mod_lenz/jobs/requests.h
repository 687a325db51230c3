/* requests.h - telling a file request's owner what arrived: the
 * "lenz-request-batch" job (requests.c).  The first finished upload of an
 * uploader's batch queues it LenzFileRequestNotifyDelay seconds ahead
 * (one per batch while it waits: its unique key is the batch); when it
 * runs, the files finished by then that the owner has not heard of become
 * one event, file_request.received, which the notification and mail
 * subscribers turn into one notice.  A file finished after the run queues
 * the next notice. */
#ifndef LENZ_REQUESTS_H
#define LENZ_REQUESTS_H

#include "httpd/dbd.h"
#include "jobs.h"

#define LENZ_REQUEST_BATCH_KIND "lenz-request-batch"

extern const lenz_stmt lenz_requests_stmts[];

/* Queues the batch's notice in the caller's transaction (no-op while one
 * is already waiting for it). */
apr_status_t lenz_request_batch_queue(lenz_db *db, const char *transfer_id, int delay_secs);

lenz_job_fn lenz_request_batch_job;

#endif
