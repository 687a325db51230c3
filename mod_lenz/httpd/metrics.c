/* metrics.c - process-shared counters in anonymous shared memory. */
#include <apr_shm.h>
#include <apr_atomic.h>
#include <apr_strings.h>

#include "lenz.h"
#include "metrics.h"
#include "router.h"

#define MAX_AREAS   16
#define MIN_STATUS  100
#define MAX_STATUS  599

/* S3 operations we time; anything else is counted as "other". */
static const char *const s3_ops[] = {
    "HeadBucket", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
    "AbortMultipartUpload", "ListParts", "ListMultipartUploads", "GetObject",
    "HeadObject", "CopyObject", "DeleteObject", "ListObjectsV2", "other"
};
#define N_OPS (sizeof(s3_ops) / sizeof(s3_ops[0]))

static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static const char *const counter_names[LENZ_CNT__MAX][2] = {
    { "lenz_aead_auth_failures_total", "encrypted segments that failed authentication" },
    { "lenz_health_checks_total", "health checks run" },
    { "lenz_jobs_done_total", "background jobs that finished" },
    { "lenz_jobs_retried_total", "failed job attempts that will be retried" },
    { "lenz_jobs_dead_total", "background jobs given up after their last attempt" },
    { "lenz_events_dispatched_total", "events every subscriber handled" },
    { "lenz_events_failed_total", "event dispatch attempts that failed" },
    { "lenz_mails_sent_total", "mails the SMTP server accepted" },
    { "lenz_event_streams_opened_total", "live notification streams begun" },
    { "lenz_event_streams_closed_total", "live notification streams ended" },
};

typedef struct {
    volatile apr_uint64_t req[MAX_AREAS][MAX_STATUS - MIN_STATUS + 1];
    volatile apr_uint64_t bytes_in[MAX_AREAS];
    volatile apr_uint64_t bytes_out[MAX_AREAS];
    volatile apr_uint64_t unflushed_out;    /* bytes sent not yet in daily_traffic */
    volatile apr_uint64_t s3_le[N_OPS][N_BUCKETS];
    volatile apr_uint64_t s3_count[N_OPS];
    volatile apr_uint64_t s3_sum_us[N_OPS];
    volatile apr_uint64_t s3_errors[N_OPS];
    volatile apr_uint64_t db_acquired, db_released, db_failed;
    volatile apr_uint64_t counters[LENZ_CNT__MAX];
} shared_metrics;

/* Set in the parent by post_config; the mapping is inherited by children. */
static shared_metrics *M;

static apr_status_t forget(void *data)
{
    M = NULL;
    return APR_SUCCESS;
}

apr_status_t lenz_metrics_init(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv = apr_shm_create(&shm, sizeof(shared_metrics), NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     LENZLOGNO(0250) "cannot create shared memory for metrics");
        return rv;
    }
    M = apr_shm_baseaddr_get(shm);
    memset((void *)M, 0, sizeof(*M));
    apr_pool_cleanup_register(pconf, NULL, forget, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

void lenz_metrics_request(const request_rec *r, int area, int status,
                          apr_off_t bytes_in, apr_off_t bytes_out)
{
    if (!M || area < 0 || area >= MAX_AREAS)
        return;
    if (status >= MIN_STATUS && status <= MAX_STATUS)
        apr_atomic_inc64(&M->req[area][status - MIN_STATUS]);
    if (bytes_in > 0)
        apr_atomic_add64(&M->bytes_in[area], (apr_uint64_t)bytes_in);
    if (bytes_out > 0) {
        apr_atomic_add64(&M->bytes_out[area], (apr_uint64_t)bytes_out);
        apr_atomic_add64(&M->unflushed_out, (apr_uint64_t)bytes_out);
    }
}

apr_uint64_t lenz_metrics_take_unflushed(void)
{
    return M ? apr_atomic_xchg64(&M->unflushed_out, 0) : 0;
}

void lenz_metrics_give_back(apr_uint64_t n)
{
    if (M && n)
        apr_atomic_add64(&M->unflushed_out, n);
}

void lenz_metrics_s3(const char *op, double seconds, int status)
{
    apr_size_t i, b;
    if (!M)
        return;
    for (i = 0; i < N_OPS - 1; i++)
        if (strcmp(op, s3_ops[i]) == 0)
            break;
    for (b = 0; b < N_BUCKETS; b++)
        if (seconds <= buckets[b])
            apr_atomic_inc64(&M->s3_le[i][b]);
    apr_atomic_inc64(&M->s3_count[i]);
    apr_atomic_add64(&M->s3_sum_us[i], (apr_uint64_t)(seconds * 1e6));
    if (status == 0 || status >= 500)
        apr_atomic_inc64(&M->s3_errors[i]);
}

void lenz_metrics_db(int acquired, int released, int failed)
{
    if (!M)
        return;
    if (acquired)
        apr_atomic_add64(&M->db_acquired, (apr_uint64_t)acquired);
    if (released)
        apr_atomic_add64(&M->db_released, (apr_uint64_t)released);
    if (failed)
        apr_atomic_add64(&M->db_failed, (apr_uint64_t)failed);
}

void lenz_metrics_add(lenz_counter c, apr_uint64_t n)
{
    if (M && c < LENZ_CNT__MAX)
        apr_atomic_add64(&M->counters[c], n);
}

static apr_uint64_t rd(volatile apr_uint64_t *v)
{
    return apr_atomic_read64(v);
}

void lenz_metrics_write(request_rec *r)
{
    int a, st;
    apr_size_t i, b;

    if (!M)
        return;
    ap_rputs("# HELP lenz_requests_total Requests answered by mod_lenz, by area and status.\n"
             "# TYPE lenz_requests_total counter\n", r);
    for (a = 0; lenz_areas[a] && a < MAX_AREAS; a++)
        for (st = MIN_STATUS; st <= MAX_STATUS; st++) {
            apr_uint64_t v = rd(&M->req[a][st - MIN_STATUS]);
            if (v)
                ap_rprintf(r, "lenz_requests_total{handler=\"%s\",status=\"%d\"} %" APR_UINT64_T_FMT "\n",
                           lenz_areas[a]->name, st, v);
        }
    ap_rputs("# HELP lenz_bytes_in_total Request body bytes read, by area.\n"
             "# TYPE lenz_bytes_in_total counter\n", r);
    for (a = 0; lenz_areas[a] && a < MAX_AREAS; a++)
        ap_rprintf(r, "lenz_bytes_in_total{handler=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   lenz_areas[a]->name, rd(&M->bytes_in[a]));
    ap_rputs("# HELP lenz_bytes_out_total Response bytes sent, by area.\n"
             "# TYPE lenz_bytes_out_total counter\n", r);
    for (a = 0; lenz_areas[a] && a < MAX_AREAS; a++)
        ap_rprintf(r, "lenz_bytes_out_total{handler=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   lenz_areas[a]->name, rd(&M->bytes_out[a]));

    ap_rputs("# HELP lenz_s3_request_duration_seconds S3 call latency, by operation.\n"
             "# TYPE lenz_s3_request_duration_seconds histogram\n", r);
    for (i = 0; i < N_OPS; i++) {
        apr_uint64_t n = rd(&M->s3_count[i]);
        if (!n)
            continue;
        for (b = 0; b < N_BUCKETS; b++)
            ap_rprintf(r, "lenz_s3_request_duration_seconds_bucket{op=\"%s\",le=\"%g\"} %"
                       APR_UINT64_T_FMT "\n", s3_ops[i], buckets[b], rd(&M->s3_le[i][b]));
        ap_rprintf(r, "lenz_s3_request_duration_seconds_bucket{op=\"%s\",le=\"+Inf\"} %"
                   APR_UINT64_T_FMT "\n", s3_ops[i], n);
        ap_rprintf(r, "lenz_s3_request_duration_seconds_sum{op=\"%s\"} %.6f\n",
                   s3_ops[i], (double)rd(&M->s3_sum_us[i]) / 1e6);
        ap_rprintf(r, "lenz_s3_request_duration_seconds_count{op=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   s3_ops[i], n);
    }
    ap_rputs("# HELP lenz_s3_errors_total S3 calls that failed (no answer or 5xx).\n"
             "# TYPE lenz_s3_errors_total counter\n", r);
    for (i = 0; i < N_OPS; i++)
        if (rd(&M->s3_count[i]))
            ap_rprintf(r, "lenz_s3_errors_total{op=\"%s\"} %" APR_UINT64_T_FMT "\n",
                       s3_ops[i], rd(&M->s3_errors[i]));

    {
        apr_uint64_t acq = rd(&M->db_acquired), rel = rd(&M->db_released);
        ap_rprintf(r, "# HELP lenz_db_connections_in_use Pooled DB connections held by mod_lenz now.\n"
                   "# TYPE lenz_db_connections_in_use gauge\n"
                   "lenz_db_connections_in_use %" APR_UINT64_T_FMT "\n"
                   "# HELP lenz_db_acquired_total DB connections taken from mod_dbd's pool.\n"
                   "# TYPE lenz_db_acquired_total counter\n"
                   "lenz_db_acquired_total %" APR_UINT64_T_FMT "\n"
                   "# HELP lenz_db_acquire_failures_total Times no DB connection could be had.\n"
                   "# TYPE lenz_db_acquire_failures_total counter\n"
                   "lenz_db_acquire_failures_total %" APR_UINT64_T_FMT "\n",
                   acq >= rel ? acq - rel : 0, acq, rd(&M->db_failed));
    }
    for (i = 0; i < LENZ_CNT__MAX; i++)
        ap_rprintf(r, "# HELP %s %s.\n# TYPE %s counter\n%s %" APR_UINT64_T_FMT "\n",
                   counter_names[i][0], counter_names[i][1], counter_names[i][0],
                   counter_names[i][0], rd(&M->counters[i]));
    {
        apr_uint64_t o = rd(&M->counters[LENZ_CNT_STREAMS_OPENED]);
        apr_uint64_t c = rd(&M->counters[LENZ_CNT_STREAMS_CLOSED]);
        ap_rprintf(r, "# HELP lenz_event_streams Live notification streams open now "
                   "(each holds a worker thread).\n# TYPE lenz_event_streams gauge\n"
                   "lenz_event_streams %" APR_UINT64_T_FMT "\n", o >= c ? o - c : 0);
    }
}
