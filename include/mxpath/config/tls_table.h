/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tls_table.h - the domains of a Postfix TLS policy table
 *
 * Reads the source file of the admin's smtp_tls_policy_maps (the text
 * postmap(1) compiles: "KEY LEVEL [ATTR...]" per line) and gives the
 * domain keys ("example.com", ".example.com") with their level, which
 * mxpath then leaves to the MTA (or, for a domain its own clusters and
 * routes name, carries to their hosts). "[host]" keys are skipped: they name next hops, not
 * domains, and Postfix still applies them to the hosts mxpath hands out.
 */
#ifndef MXPATH_TLS_TABLE_H
#define MXPATH_TLS_TABLE_H

#include <stddef.h>

/* Each MX decision scans them: a table is meant to be small. */
#define TLS_TABLE_DOMAINS_MAX 10000
#define TLS_TABLE_WORD_MAX 32

/* One domain entry: its key normalised ("example.com", ".example.com"),
 * its level word as written ("encrypt", "fingerprint", "" if none). */
struct tls_table_entry {
	const char *domain;
	const char *level;
	unsigned line;
};

/* Returns 0, or -1 with err set (the reader adds nothing to it). */
typedef int (*tls_table_fn)(void *ctx, const struct tls_table_entry *entry, char *err,
			    size_t errlen);

/*
 * Calls each(ctx, entry) for each domain entry of the file at path, in
 * file order, at most TLS_TABLE_DOMAINS_MAX. 0, or -1 with err holding
 * "PATH:LINE: what is wrong", "PATH: cannot open: why" or what each() said.
 */
int tls_table_read(const char *path, tls_table_fn each, void *ctx, char *err, size_t errlen);

#endif
