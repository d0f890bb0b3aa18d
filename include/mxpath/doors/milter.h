/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * milter.h - the milter door: RCPT-time verdicts and envelope rewriting
 *
 * libmilter runs one thread per MTA connection; each asks the router (on
 * the event loop) and waits. smfi_main() owns SIGHUP/SIGTERM/SIGINT.
 */
#ifndef MXPATH_MILTER_H
#define MXPATH_MILTER_H

#include <stddef.h>
#include <stdint.h>

#include "mxpath/config/settings.h"
#include "mxpath/engine/policy.h"
#include "mxpath/dns/router.h"

struct milter_stats {
	uint64_t sessions;
	uint64_t recipients[4];		/* by route_action */
	uint64_t skipped;		/* recipients of locally submitted mail: no verdict */
	uint64_t rewritten;
	uint64_t errors;
};

/* As root: registers the filter, opens the socket, sets its owner and mode. */
int milter_setup(struct router *router, const struct door_socket *socket, unsigned timeout,
		 char *err, size_t errlen);
/* Blocks in smfi_main() until milter_stop() or a stop signal; 0 or -1. */
int milter_run(void);
void milter_stop(void);
void milter_get_stats(struct milter_stats *out);

#endif
