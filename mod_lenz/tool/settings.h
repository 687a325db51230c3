/* settings.h - lenzctl's settings: the same names as stack.env and the
 * httpd directives' values, from the environment or a KEY=VALUE file. */
#ifndef LENZ_TOOL_SETTINGS_H
#define LENZ_TOOL_SETTINGS_H

#include <apr_pools.h>
#include "s3.h"

typedef struct lenz_settings {
    const char *db;                 /* LENZ_DB or LENZ_PG_CONNINFO */
    const char *master_key_file;    /* LENZ_MASTER_KEY_FILE */
    lenz_s3_conf s3;                /* LENZ_S3_ENDPOINT, _BUCKET, _REGION, _ACCESS_KEY, _SECRET_FILE */
    const char *s3_secret_file;
} lenz_settings;

/* Reads the environment, then (when file is not NULL) the file, whose
 * values win.  Returns NULL and prints why on failure. */
lenz_settings *lenz_settings_load(apr_pool_t *p, const char *file);

/* The S3 client, or NULL after printing what is missing. */
struct lenz_s3 *lenz_settings_s3(apr_pool_t *p, lenz_settings *st);
/* The master key ring, or NULL after printing why. */
struct lenz_keyring *lenz_settings_keyring(apr_pool_t *p, lenz_settings *st);

#endif
