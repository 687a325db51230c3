/* commands.h - lenzctl's commands (one function each). */
#ifndef LENZ_TOOL_COMMANDS_H
#define LENZ_TOOL_COMMANDS_H

#include <apr_pools.h>
#include "settings.h"

typedef struct lenz_cli {
    apr_pool_t *pool;
    lenz_settings *settings;
    struct lenz_http *http;
} lenz_cli;

/* Prints the usage to stderr and returns 2. */
int lenz_cli_usage(lenz_cli *cli);

int lenz_cmd_create_user(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_add_master_key(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_rotate_master_key(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_retire_master_key(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_import(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_decrypt(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_enqueue(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_jobs(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_job(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_retry_job(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_schedules(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_run_schedule(lenz_cli *cli, int argc, const char *const *argv);
int lenz_cmd_fill_folder(lenz_cli *cli, int argc, const char *const *argv);

#endif
