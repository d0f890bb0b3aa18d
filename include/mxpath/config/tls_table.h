/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tls_table.h - the domains of a Postfix TLS policy table
 *
 * Reads the source file of the admin's smtp_tls_policy_maps (the text
 * postmap(1) compiles: "KEY LEVEL [ATTR...]" per line) and gives the
 * domain keys ("example.com", ".example.com"), which mxpath then leaves
 * to the MTA. "[host]" keys are skipped: they name next hops, not
 * domains, and Postfix still applies them to the hosts mxpath hands out.
 */
#ifndef MXPATH_TLS_TABLE_H
#define MXPATH_TLS_TABLE_H

#include <stddef.h>

/* Each MX decision scans them: a table is meant to be small. */
#define TLS_TABLE_DOMAINS_MAX 10000

/*
 * Appends each domain key of the file at path to *domains (grown with
 * xreallocarray, *n counts them), normalised.
 * 0, or -1 with err holding "PATH:LINE: what is wrong" (or "PATH: cannot
 * open: why").
 */
int tls_table_read(const char *path, char ***domains, size_t *n, char *err, size_t errlen);

#endif
