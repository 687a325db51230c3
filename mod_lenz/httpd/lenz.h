/* lenz.h - what every httpd-glue file of mod_lenz shares (httpd/, jobs/,
 * the areas and the top level; docs/architecture.md).
 *
 * Log tags: every error/warning line starts with LENZLOGNO(nnnn) so tests
 * and operators can match it.  Numbers are allocated per file:
 *   0001-0019 mod_lenz.c, config*.c    0020-0029 shared.c
 *   0030-0039 streams.c                0040-0049 pwgate.c
 *   0100-0149 router.c                 0150-0199 problem.c, render.c
 *   0200-0249 dbd.c                    0250-0299 metrics.c
 *   0300-0349 h_status.c               0350-0399 body.c
 *   0400-0449 rate.c                   0450-0499 keystore.c
 *   1000-1099 s3glue.c                 2000-2099 uploads
 *   2100-2199 downloads and links      2200-2299 accounts
 *   2300-2399 jobs and mail            2400-2499 events and notifications
 *   2040-2059 file requests (upload)  0050-0059 idem.c
 *   2500-2599 files (members' storage)
 */
#ifndef LENZ_H
#define LENZ_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#define LENZLOGNO(n) "LENZ" #n ": "

/* Everything is built with -fvisibility=hidden; the module record is the
 * one symbol httpd must find (exports.map says the same to the linker). */
extern module AP_MODULE_DECLARE_DATA lenz_module __attribute__((visibility("default")));

/* This process's HTTP/SMTP client (connection reuse across threads);
 * made in child_init. */
struct lenz_http;
struct lenz_http *lenz_process_http(void);

/* mod_lenz.c declares the module (which also does this). */
#if defined(APLOG_USE_MODULE) && !defined(LENZ_MODULE_C)
APLOG_USE_MODULE(lenz);
#endif

#endif
