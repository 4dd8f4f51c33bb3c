/* pending_restore.c - commands of a module being written; the file goes away when it lands. */
#include "cli/cli.h"

CLI_PENDING(cli_cmd_restore, "restore")
CLI_PENDING(cli_cmd_info, "info")
