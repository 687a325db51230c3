/* metrics.h - counters shared by all processes of this httpd (one shared
 * memory segment per server generation, updated with atomics) and their
 * Prometheus text form.  Counters restart from zero on a restart, which
 * Prometheus handles as a counter reset.
 */
#ifndef LENZ_METRICS_H
#define LENZ_METRICS_H

#include "lenz.h"

typedef enum {
    LENZ_CNT_AEAD_AUTH_FAILURES = 0,   /* segments that failed authentication */
    LENZ_CNT_HEALTH_CHECKS,
    LENZ_CNT_JOBS_DONE,                /* jobs that finished */
    LENZ_CNT_JOBS_RETRIED,             /* failed attempts that will be retried */
    LENZ_CNT_JOBS_DEAD,                /* jobs given up */
    LENZ_CNT_EVENTS_DISPATCHED,        /* events every subscriber handled */
    LENZ_CNT_EVENTS_FAILED,            /* dispatch attempts that failed */
    LENZ_CNT_MAILS_SENT,               /* messages the SMTP server took */
    LENZ_CNT_STREAMS_OPENED,           /* live notification streams begun */
    LENZ_CNT_STREAMS_CLOSED,           /* ... and ended */
    LENZ_CNT__MAX
} lenz_counter;

/* post_config: create the segment (parent; children inherit it). */
apr_status_t lenz_metrics_init(apr_pool_t *pconf, server_rec *s);

void lenz_metrics_request(const request_rec *r, int area_index, int status,
                          apr_off_t bytes_in, apr_off_t bytes_out);
void lenz_metrics_s3(const char *op, double seconds, int status);
/* Bytes sent since the last take, on this host (shared memory): the job
 * runners add them to daily_traffic (jobs/traffic.c); give back what
 * could not be written. */
apr_uint64_t lenz_metrics_take_unflushed(void);
void lenz_metrics_give_back(apr_uint64_t n);
void lenz_metrics_db(int acquired, int released, int failed);
void lenz_metrics_add(lenz_counter c, apr_uint64_t n);

/* Writes every metric in Prometheus text format 0.0.4. */
void lenz_metrics_write(request_rec *r);

#endif
