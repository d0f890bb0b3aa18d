/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control.h - the control socket: counters, reloads and routes for the admin
 *
 * A client connects, sends one request ("stats", "reload", "route ADDRESS"
 * or an HTTP GET /metrics), the daemon answers and closes. `mxpath stats`,
 * `mxpath reload` and `mxpath route --daemon` are its clients.
 */
#ifndef MXPATH_CONTROL_H
#define MXPATH_CONTROL_H

#include <stdint.h>
#include <stdio.h>

#include "mxpath/runtime/evloop.h"
#include "mxpath/dns/router.h"
#include "mxpath/doors/socketmap.h"

/* The packaged configuration's control.socket: `mxpath stats|reload` try it
 * when the configuration cannot be read. */
#define CONTROL_DEFAULT_SOCKET "unix:/run/mxpath/control.sock"

struct control;

/* socketmap may be NULL (door disabled); milter counters are read if it runs. */
struct control *control_new(struct evloop *loop, int listen_fd, struct router *router,
			    struct socketmap *socketmap);
void control_free(struct control **control);

/* What the control socket asks of the daemon. */
struct control_hooks {
	/* Loop thread: start a reload without waiting for it; the daemon
	 * later calls control_reload_done() with this ticket (or a later
	 * one: a reload answers every request made before it started).
	 * NULL: reload requests are refused. */
	void (*reload)(void *arg, uint64_t ticket);
	void *arg;
};
void control_set_hooks(struct control *control, const struct control_hooks *hooks);
/* Loop thread: the reload that began after request ticket is over; result
 * is "reloaded FILE\n" or "refused: FILE:LINE: why\n" (more lines may follow). */
void control_reload_done(struct control *control, uint64_t ticket, const char *result);

/* Client side: sends request (one line, no newline) and copies the
 * daemon's whole answer to out, waiting timeout_ms at most for each read.
 * 0, or -1 with err naming the socket. */
int control_ask(const char *spec, const char *request, FILE *out, int timeout_ms, char *err,
		size_t errlen);
/* control_ask(spec, "stats", ...), for `mxpath stats`. */
int control_fetch_stats(const char *spec, FILE *out, char *err, size_t errlen);

#endif
