/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listen.h - open the daemon's listening sockets before privileges drop
 *
 * "unix:/path" (stale socket file removed, owner, group and mode set) or
 * "inet:PORT@HOST" (HOST defaults to 127.0.0.1). Non-blocking, close-on-exec.
 */
#ifndef MXPATH_LISTEN_H
#define MXPATH_LISTEN_H

#include <stddef.h>

#include "mxpath/config/settings.h"

/* The listening fd, or -1 with err set ("socketmap.socket: ..."). */
int listen_open(const struct door_socket *socket, const char *what, char *err, size_t errlen);
/* Removes a unix socket file at shutdown; no-op for inet. */
void listen_cleanup(const struct door_socket *socket);
/* Connects to a "unix:/path" or "inet:PORT@HOST" spec (blocking); -1 with err. */
int listen_connect(const char *spec, char *err, size_t errlen);

#endif
