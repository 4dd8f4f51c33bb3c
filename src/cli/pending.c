/*
 * pending.c - commands whose modules are being written. Each says so and
 * exits 1; the file goes away as they land.
 */
#include "cli/cli.h"
#include "common/log.h"

#define PENDING(fn, name)                                                                         \
    int fn(CliContext *ctx, int argc, char **argv)                                                \
    {                                                                                             \
        (void)ctx;                                                                                \
        (void)argc;                                                                               \
        (void)argv;                                                                               \
        log_error("\"%s\" is not available in this build yet", name);                            \
        return DD_EXIT_FAIL;                                                                      \
    }

PENDING(cli_cmd_backup, "backup")
PENDING(cli_cmd_info, "info")
PENDING(cli_cmd_restore, "restore")
PENDING(cli_cmd_verify, "verify")
PENDING(cli_cmd_expire, "expire")
PENDING(cli_cmd_proxy, "proxy")
PENDING(cli_cmd_proxy_ctl, "proxy-ctl")
PENDING(cli_cmd_switchover, "switchover")
