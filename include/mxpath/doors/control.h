/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control.h - the control socket: counters in Prometheus text format
 *
 * A client connects, the daemon writes the current counters and closes.
 * `mxpath stats` is that client.
 */
#ifndef MXPATH_CONTROL_H
#define MXPATH_CONTROL_H

#include <stdio.h>

#include "mxpath/runtime/evloop.h"
#include "mxpath/dns/router.h"
#include "mxpath/doors/socketmap.h"

struct control;

/* socketmap may be NULL (door disabled); milter counters are read if it runs. */
struct control *control_new(struct evloop *loop, int listen_fd, struct router *router,
			    struct socketmap *socketmap);
void control_free(struct control **control);

/* Client side, for `mxpath stats`: copies the daemon's answer to out. 0 or -1 (err). */
int control_fetch_stats(const char *spec, FILE *out, char *err, size_t errlen);

#endif
