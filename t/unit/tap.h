/* tap.h - a minimal TAP producer for the C unit tests.
 *
 * Each test binary prints "1..N" (declared up front with plan(N), or at the
 * end with done_testing()) and one "ok"/"not ok" line per check.  The
 * harness (t/run-tests.pl) counts them, so a test that exits early or runs
 * fewer checks than planned fails.
 */
#ifndef LENZ_TAP_H
#define LENZ_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>

static int tap_n, tap_failed, tap_planned = -1;

static __attribute__((unused)) void plan(int n) { tap_planned = n; printf("1..%d\n", n); fflush(stdout); }

static int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tap_n++;
    printf("%sok %d - ", cond ? "" : "not ", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond) {
        tap_failed++;
        printf("#   Failed at %s line %d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do { \
    long long g_ = (long long)(got), w_ = (long long)(want); \
    if (!tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__)) \
        printf("#   got: %lld\n#   expected: %lld\n", g_, w_); \
} while (0)

#define is_str(got, want, ...) do { \
    const char *g_ = (got), *w_ = (want); \
    int eq_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_; \
    if (!tap_ok(eq_, __FILE__, __LINE__, __VA_ARGS__)) \
        printf("#   got:      '%s'\n#   expected: '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define is_mem(got, want, n, ...) \
    tap_ok(memcmp((got), (want), (n)) == 0, __FILE__, __LINE__, __VA_ARGS__)

static __attribute__((unused)) void diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* Call at the end of main(): prints the plan when none was declared and
 * returns the exit status. */
static int done_testing(void)
{
    if (tap_planned < 0)
        printf("1..%d\n", tap_n);
    else if (tap_planned != tap_n)
        printf("# planned %d tests but ran %d\n", tap_planned, tap_n);
    fflush(stdout);
    return tap_failed || (tap_planned >= 0 && tap_planned != tap_n) ? 1 : 0;
}

/* Read a whole (small, test-data) file; returns NULL on error. */
static __attribute__((unused)) char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = '\0'; if (len) *len = (size_t)n; }
    return buf;
}

#endif
