/* pending_proxy.c - commands of a module being written; the file goes away when it lands. */
#include "cli/cli.h"

CLI_PENDING(cli_cmd_proxy, "proxy")
CLI_PENDING(cli_cmd_proxy_ctl, "proxy-ctl")
