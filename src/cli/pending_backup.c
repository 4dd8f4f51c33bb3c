/* pending_backup.c - commands of a module being written; the file goes away when it lands. */
#include "cli/cli.h"

CLI_PENDING(cli_cmd_verify, "verify")
CLI_PENDING(cli_cmd_expire, "expire")
