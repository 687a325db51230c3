/* s3garbage.h - S3 objects whose rows are gone (table s3_garbage) are
 * deleted by the lenz-s3-garbage job (s3garbage.c): on its schedule, and
 * at once when a producer queues a run. */
#ifndef LENZ_S3GARBAGE_H
#define LENZ_S3GARBAGE_H

#include "httpd/dbd.h"

#define LENZ_S3_GARBAGE_KIND "lenz-s3-garbage"

/* Queues a run of the job in the caller's transaction (after keys were
 * put in s3_garbage), so the objects go soon rather than at the
 * schedule's next run. */
apr_status_t lenz_s3_garbage_enqueue(lenz_db *db);

#endif
