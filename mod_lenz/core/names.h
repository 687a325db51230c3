/* names.h - names people chose (file names above all) as others see them.
 *
 * Unicode's bidirectional controls change the order in which the
 * characters after them are shown: "photo<U+202E>gpj.exe" shows as
 * "photoexe.jpg".  Names are refused with them where they enter
 * (uploads, lenzctl import); names stored before that are shown with
 * each one replaced by '_' (Content-Disposition, ZIP entries, pages,
 * mails, notifications).  The controls: U+061C ALM, U+200E LRM, U+200F
 * RLM, U+202A-U+202E (LRE, RLE, PDF, LRO, RLO), U+2066-U+2069 (LRI, RLI,
 * FSI, PDI), in UTF-8.  Pure functions. */
#ifndef LENZ_NAMES_H
#define LENZ_NAMES_H

#include <apr_pools.h>

/* 1 when name holds a bidirectional control, else 0 (also for NULL). */
int lenz_name_has_bidi(const char *name);

/* name with every bidirectional control replaced by one '_' (from p), or
 * name itself when it holds none; NULL for NULL. */
const char *lenz_name_neutral(apr_pool_t *p, const char *name);

/* NULL when name may name a file or folder, else why not: empty, "." or
 * "..", over 255 bytes, a '/', '\\' or control character, invalid UTF-8
 * (overlong, surrogate, past U+10FFFF, cut short), or a bidi control. */
const char *lenz_name_problem(const char *name);

#endif
