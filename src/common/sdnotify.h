/*
 * sdnotify.h - tell systemd a service is ready (Type=notify), without
 * linking libsystemd: one datagram to $NOTIFY_SOCKET, as sd_notify(3)
 * documents the protocol. Does nothing when the variable is not set (not
 * started by systemd), so a command can always call it.
 */
#ifndef DD_COMMON_SDNOTIFY_H
#define DD_COMMON_SDNOTIFY_H

#include <stdbool.h>

/*
 * Send state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...") to the
 * service manager. true when sent or when there is no manager to tell.
 */
bool sd_notify_state(const char *state);

#endif
