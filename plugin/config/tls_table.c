/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tls_table.c - the domains of a Postfix TLS policy table
 *
 * Postfix's table source format (postmap(1), "regular" tables): a key,
 * white space, the value; lines that start with white space continue the
 * previous one; empty lines and lines whose first non-blank character is
 * '#' are comments. Only the keys matter here. Postfix looks the TLS
 * policy up by the verbatim next hop: "example.com" matches that domain
 * only, ".example.com" the names below it (smtp_tls_policy_maps is not in
 * parent_domain_matches_subdomains), exactly mxpath's route patterns.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxpath/base/common.h"
#include "mxpath/config/tls_table.h"
#include "mxpath/engine/address.h"

#define LINE_MAX_BYTES 4096

static int table_line_key(const char *line, char *key, size_t len);
static int table_add(const char *key, char ***domains, size_t *n, const char **why);

int tls_table_read(const char *path, char ***domains, size_t *n, char *err, size_t errlen)
{
	char line[LINE_MAX_BYTES], key[MX_NAME_BUF + 2];
	unsigned lineno = 0;
	FILE *fp = fopen(path, "re");
	int rc = 0;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		const char *why = NULL;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno,
				 LINE_MAX_BYTES - 2);
			rc = -1;
			break;
		}
		switch (table_line_key(line, key, sizeof(key))) {
		case 0:
			break;
		case 1:
			continue;	/* comment, continuation, "[host]" key */
		default:
			snprintf(err, errlen, "%s:%u: key too long", path, lineno);
			rc = -1;
			continue;
		}
		if (table_add(key, domains, n, &why) != 0) {
			snprintf(err, errlen, "%s:%u: bad domain \"%s\": %s", path, lineno, key, why);
			rc = -1;
		}
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	fclose(fp);
	return rc;
}

/* 0: a domain key in key; 1: nothing to take from this line; -1: key too long. */
static int table_line_key(const char *line, char *key, size_t len)
{
	size_t n = 0;

	if (line[0] == '\0' || isspace((unsigned char)line[0]) || line[0] == '#' ||
	    line[0] == '[')
		return 1;
	while (line[n] != '\0' && !isspace((unsigned char)line[n])) {
		if (n + 1 >= len)
			return -1;
		key[n] = line[n];
		n++;
	}
	key[n] = '\0';
	return 0;
}

static int table_add(const char *key, char ***domains, size_t *n, const char **why)
{
	char name[MX_NAME_BUF + 1] = ".";
	bool is_suffix = key[0] == '.';

	if (domain_normalize(key + is_suffix, strlen(key + is_suffix), name + 1, why) != 0)
		return -1;
	if (*n >= TLS_TABLE_DOMAINS_MAX) {
		*why = "more than 10000 domains";
		return -1;
	}
	*domains = xreallocarray(*domains, *n + 1, sizeof(**domains));
	(*domains)[(*n)++] = xstrdup(is_suffix ? name : name + 1);
	return 0;
}
