/* settings.c - lenzctl settings from the environment or a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "settings.h"
#include "keys.h"
#include "crypto.h"

static void set(apr_pool_t *p, lenz_settings *st, const char *k, const char *v)
{
    if (!v || !*v)
        return;
    v = apr_pstrdup(p, v);
    if (!strcmp(k, "LENZ_DB") || !strcmp(k, "LENZ_PG_CONNINFO"))
        st->db = v;
    else if (!strcmp(k, "LENZ_MASTER_KEY_FILE"))
        st->master_key_file = v;
    else if (!strcmp(k, "LENZ_S3_ENDPOINT"))
        st->s3.endpoint = v;
    else if (!strcmp(k, "LENZ_S3_BUCKET"))
        st->s3.bucket = v;
    else if (!strcmp(k, "LENZ_S3_REGION"))
        st->s3.region = v;
    else if (!strcmp(k, "LENZ_S3_ACCESS_KEY"))
        st->s3.access_key = v;
    else if (!strcmp(k, "LENZ_S3_SECRET_FILE"))
        st->s3_secret_file = v;
}

static const char *const keys[] = {
    "LENZ_PG_CONNINFO", "LENZ_DB", "LENZ_MASTER_KEY_FILE", "LENZ_S3_ENDPOINT",
    "LENZ_S3_BUCKET", "LENZ_S3_REGION", "LENZ_S3_ACCESS_KEY", "LENZ_S3_SECRET_FILE", NULL
};

lenz_settings *lenz_settings_load(apr_pool_t *p, const char *file)
{
    lenz_settings *st = apr_pcalloc(p, sizeof(*st));
    int i;
    for (i = 0; keys[i]; i++)
        set(p, st, keys[i], getenv(keys[i]));
    if (file) {
        char line[4096];
        FILE *f = fopen(file, "r");
        if (!f) {
            fprintf(stderr, "lenzctl: cannot read settings file %s\n", file);
            return NULL;
        }
        while (fgets(line, sizeof(line), f)) {
            char *eq = strchr(line, '='), *v, *e;
            if (line[0] == '#' || !eq)
                continue;
            *eq = '\0';
            v = eq + 1;
            e = v + strlen(v);
            while (e > v && apr_isspace(e[-1]))
                *--e = '\0';
            if (*v == '"' && e > v + 1 && e[-1] == '"') {
                v++;
                e[-1] = '\0';
            }
            set(p, st, line, v);
        }
        fclose(f);
    }
    if (!st->s3.region)
        st->s3.region = "us-east-1";
    st->s3.path_style = 1;
    st->s3.connect_timeout_ms = 10000;
    st->s3.op_timeout_ms = 60000;
    st->s3.stall_seconds = 60;
    return st;
}

struct lenz_s3 *lenz_settings_s3(apr_pool_t *p, lenz_settings *st)
{
    char buf[1024];
    FILE *f;
    size_t n;
    lenz_s3 *s3;
    const char *why = NULL;

    if (!st->s3_secret_file || !(f = fopen(st->s3_secret_file, "r"))) {
        fprintf(stderr, "lenzctl: set LENZ_S3_SECRET_FILE to a readable file\n");
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    while (n > 0 && apr_isspace(buf[n - 1]))
        n--;
    buf[n] = '\0';
    st->s3.secret_key = apr_pstrdup(p, buf);
    lenz_wipe(buf, sizeof(buf));        /* a memset may be optimised away */
    if (lenz_s3_make(p, &st->s3, &s3, &why) != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: S3 settings (LENZ_S3_*): %s\n", why);
        return NULL;
    }
    return s3;
}

struct lenz_keyring *lenz_settings_keyring(apr_pool_t *p, lenz_settings *st)
{
    const char *why = NULL;
    lenz_keyring *kr;
    if (!st->master_key_file) {
        fprintf(stderr, "lenzctl: set LENZ_MASTER_KEY_FILE\n");
        return NULL;
    }
    kr = lenz_keyring_load(p, st->master_key_file, &why);
    if (!kr)
        fprintf(stderr, "lenzctl: %s\n", why);
    return kr;
}
