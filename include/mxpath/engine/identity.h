/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * identity.h - who "self" is: the names and addresses of this MTA
 *
 * The route engine prunes every MX at or below the preference where this
 * host appears, by name or by address. This module only holds and answers
 * questions about the set; finding the system's names and interface
 * addresses is sysident.c's job (it does I/O).
 */
#ifndef MXPATH_IDENTITY_H
#define MXPATH_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "mxpath/engine/address.h"

struct identity {
	char **names;		/* normalised, no duplicates */
	size_t n_names;
	struct mx_addr *addrs;	/* interface, configured and proxy/NAT addresses */
	size_t n_addrs;
};

struct identity *identity_new(void);
void identity_free(struct identity **id);
/* Both normalise and ignore duplicates; -1 if the name is malformed. */
int identity_add_name(struct identity *id, const char *name);
void identity_add_address(struct identity *id, const struct mx_addr *addr);
/* name must already be normalised (lower case, no trailing dot). */
bool identity_has_name(const struct identity *id, const char *name);
bool identity_has_address(const struct identity *id, const struct mx_addr *addr);

#endif
