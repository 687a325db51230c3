/* pwgate.h - password hashes through a per-process gate.
 *
 * A password hash (scrypt, core/passwd.h) costs 128 MiB and about 0.4 s
 * of a core.  Without a bound, N requests that each check a password run N
 * hashes at once: N * 128 MiB, a memory exhaustion anyone can cause.  Every
 * hash the glue computes goes through here: at most LenzPasswordHashes (2)
 * at once per process; a request that finds them busy waits (at most the
 * directive's WAIT, 10 s) and is then told LENZ_EUNAVAIL, which callers
 * answer 503 with Retry-After.  The sign-in limits run before the gate, so
 * a guesser cannot fill it with tries past them. */
#ifndef LENZ_PWGATE_H
#define LENZ_PWGATE_H

#include "lenz.h"
#include "passwd.h"

#define LENZ_PW_GATE_DEFAULT 2
#define LENZ_PW_WAIT_DEFAULT 10

/* child_init: the gate, with n slots and waits of at most wait seconds. */
void lenz_pw_child_init(apr_pool_t *pchild, server_rec *s, int n, int wait);

/* lenz_passwd_verify / _hash / _dummy_verify through the gate; each
 * returns LENZ_EUNAVAIL when no slot came free in time. */
apr_status_t lenz_pw_verify(request_rec *r, const char *password, const char *phc);
apr_status_t lenz_pw_hash(request_rec *r, const char *password, const lenz_passwd_params *pp,
                          const char **phc);
apr_status_t lenz_pw_dummy(request_rec *r, const char *password);

/* Answers 503 (Retry-After) for a full gate; returns OK. */
int lenz_pw_busy(request_rec *r);

#endif
