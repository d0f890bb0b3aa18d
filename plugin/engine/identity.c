/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * identity.c - the set of names and addresses that mean "this host"
 *
 * Holds the set and answers membership questions for the route engine's
 * self-pruning. Filling it from the system (host name, interfaces) is
 * sysident.c's job; this file does no I/O. The sets are a handful of
 * entries, so a linear search beats anything cleverer.
 */
#include <stdlib.h>
#include <string.h>

#include "mxpath/base/common.h"
#include "mxpath/engine/identity.h"

struct identity *identity_new(void)
{
	return xcalloc(1, sizeof(struct identity));
}

void identity_free(struct identity **id)
{
	struct identity *self;

	if (id == NULL || *id == NULL)
		return;
	self = *id;
	for (size_t i = 0; i < self->n_names; i++)
		free(self->names[i]);
	free(self->names);
	free(self->addrs);
	free(self);
	*id = NULL;
}

int identity_add_name(struct identity *id, const char *name)
{
	char normal[MX_NAME_BUF];
	const char *why;

	if (name == NULL || domain_normalize(name, strlen(name), normal, &why) == -1)
		return -1;
	if (identity_has_name(id, normal))
		return 0;
	id->names = xreallocarray(id->names, id->n_names + 1, sizeof(*id->names));
	id->names[id->n_names++] = xstrdup(normal);
	return 0;
}

void identity_add_address(struct identity *id, const struct mx_addr *addr)
{
	if (identity_has_address(id, addr))
		return;
	id->addrs = xreallocarray(id->addrs, id->n_addrs + 1, sizeof(*id->addrs));
	id->addrs[id->n_addrs++] = *addr;
}

bool identity_has_name(const struct identity *id, const char *name)
{
	if (id == NULL)
		return false;
	for (size_t i = 0; i < id->n_names; i++) {
		if (strcmp(id->names[i], name) == 0)
			return true;
	}
	return false;
}

bool identity_has_address(const struct identity *id, const struct mx_addr *addr)
{
	struct mx_addr buf, own_buf;
	const struct mx_addr *plain;

	if (id == NULL)
		return false;
	/* ::ffff:127.0.0.1 is 127.0.0.1 (an AAAA record must not loop mail back). */
	plain = addr_unmap(addr, &buf);
	for (size_t i = 0; i < id->n_addrs; i++) {
		if (addr_equal(addr_unmap(&id->addrs[i], &own_buf), plain))
			return true;
	}
	return false;
}
