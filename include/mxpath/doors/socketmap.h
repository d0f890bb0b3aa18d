/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * socketmap.h - the socketmap door: Postfix transport_maps and sendmail
 * mailertable lookups over netstrings, served on the event loop
 */
#ifndef MXPATH_SOCKETMAP_H
#define MXPATH_SOCKETMAP_H

#include <stdint.h>

#include "mxpath/runtime/evloop.h"
#include "mxpath/dns/router.h"

struct socketmap;

struct socketmap_stats {
	uint64_t connections;		/* accepted, total */
	unsigned open;			/* now */
	/* [transport|mailertable|tls][relay,local,reject,tempfail,notfound];
	 * a tls answer with a policy counts as relay (a relay host's policy) */
	uint64_t lookups[3][5];
	uint64_t errors;		/* malformed requests, oversize, I/O errors */
	uint64_t refused;		/* over socketmap.max_connections */
};

/* Serves the already listening listen_fd (opened by the daemon). */
struct socketmap *socketmap_new(struct evloop *loop, struct router *router, int listen_fd);
/* Stops accepting, answers what is in flight, then closes everything. */
void socketmap_free(struct socketmap **sm);
void socketmap_get_stats(const struct socketmap *sm, struct socketmap_stats *out);

#endif
