/* pwgate.c - at most N password hashes at once per process (pwgate.h). */
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <apr_strings.h>

#include "lenz.h"
#include "pwgate.h"
#include "problem.h"
#include "err.h"

static struct {
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    int busy, slots;
    apr_interval_time_t wait;
} gate;

void lenz_pw_child_init(apr_pool_t *pchild, server_rec *s, int n, int wait)
{
    gate.slots = n > 0 ? n : LENZ_PW_GATE_DEFAULT;
    gate.wait = apr_time_from_sec(wait > 0 ? wait : LENZ_PW_WAIT_DEFAULT);
    gate.busy = 0;
    if (apr_thread_mutex_create(&gate.mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&gate.cond, pchild) != APR_SUCCESS) {
        gate.mutex = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, LENZLOGNO(0040)
                     "cannot create the password-hash gate: hashes are not bounded in this process");
    }
}

static int enter(void)
{
    apr_time_t until = apr_time_now() + gate.wait;
    if (!gate.mutex)
        return 1;
    apr_thread_mutex_lock(gate.mutex);
    while (gate.busy >= gate.slots) {
        apr_time_t now = apr_time_now();
        if (now >= until) {
            apr_thread_mutex_unlock(gate.mutex);
            return 0;
        }
        apr_thread_cond_timedwait(gate.cond, gate.mutex, until - now);
    }
    gate.busy++;
    apr_thread_mutex_unlock(gate.mutex);
    return 1;
}

static void leave(void)
{
    if (!gate.mutex)
        return;
    apr_thread_mutex_lock(gate.mutex);
    gate.busy--;
    apr_thread_cond_signal(gate.cond);
    apr_thread_mutex_unlock(gate.mutex);
}

static void full(request_rec *r)
{
    static apr_time_t logged;
    apr_time_t now = apr_time_now();
    if (now - logged >= apr_time_from_sec(60)) {
        logged = now;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, LENZLOGNO(0041)
                      "password hashing is busy (%d at once in this process, LenzPasswordHashes): "
                      "requests waited %" APR_TIME_T_FMT " s and were answered 503; further ones "
                      "are not logged for a minute", gate.slots, apr_time_sec(gate.wait));
    }
}

apr_status_t lenz_pw_verify(request_rec *r, const char *password, const char *phc)
{
    apr_status_t rv;
    if (!enter()) {
        full(r);
        return LENZ_EUNAVAIL;
    }
    rv = lenz_passwd_verify(r->pool, password, phc);
    leave();
    return rv;
}

apr_status_t lenz_pw_hash(request_rec *r, const char *password, const lenz_passwd_params *pp,
                          const char **phc)
{
    apr_status_t rv;
    if (!enter()) {
        full(r);
        return LENZ_EUNAVAIL;
    }
    rv = lenz_passwd_hash(r->pool, password, pp, phc);
    leave();
    return rv;
}

apr_status_t lenz_pw_dummy(request_rec *r, const char *password)
{
    if (!enter()) {
        full(r);
        return LENZ_EUNAVAIL;
    }
    lenz_passwd_dummy_verify(password, NULL);
    leave();
    return APR_SUCCESS;
}

int lenz_pw_busy(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Retry-After", "2");
    return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_SERVICE_UNAVAILABLE, "busy", "Busy",
                     "too many sign-ins at once; try again in a moment");
}
