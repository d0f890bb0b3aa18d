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

static int table_line_words(const char *line, char *key, size_t key_len, char *level,
			    size_t level_len);
static size_t table_word(const char *text, char *out, size_t len);

int tls_table_read(const char *path, tls_table_fn each, void *ctx, char *err, size_t errlen)
{
	char line[LINE_MAX_BYTES], key[MX_NAME_BUF + 2], level[TLS_TABLE_WORD_MAX];
	char name[MX_NAME_BUF + 1];
	struct tls_table_entry entry = { .domain = name, .level = level };
	size_t entries = 0;
	FILE *fp = fopen(path, "re");
	int rc = 0;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		const char *why = NULL;
		bool is_suffix;

		entry.line++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, entry.line,
				 LINE_MAX_BYTES - 2);
			rc = -1;
			break;
		}
		rc = table_line_words(line, key, sizeof(key), level, sizeof(level));
		if (rc == 1) {
			rc = 0;
			continue;	/* comment, continuation, "[host]" key */
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s:%u: key or level too long", path, entry.line);
			break;
		}
		is_suffix = key[0] == '.';
		name[0] = '.';
		if (domain_normalize(key + is_suffix, strlen(key + is_suffix), name + is_suffix,
				     &why) != 0) {
			snprintf(err, errlen, "%s:%u: bad domain \"%s\": %s", path, entry.line, key,
				 why);
			rc = -1;
		} else if (++entries > TLS_TABLE_DOMAINS_MAX) {
			snprintf(err, errlen, "%s:%u: more than %d domains", path, entry.line,
				 TLS_TABLE_DOMAINS_MAX);
			rc = -1;
		} else {
			rc = each(ctx, &entry, err, errlen);
		}
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	fclose(fp);
	return rc;
}

/* 0: a domain key and its level word; 1: nothing to take from this line;
 * -1: a word too long. */
static int table_line_words(const char *line, char *key, size_t key_len, char *level,
			    size_t level_len)
{
	size_t n;

	if (line[0] == '\0' || isspace((unsigned char)line[0]) || line[0] == '#' ||
	    line[0] == '[')
		return 1;
	n = table_word(line, key, key_len);
	if (n == 0)
		return -1;
	while (line[n] != '\0' && isspace((unsigned char)line[n]))
		n++;
	if (line[n] == '\0') {
		level[0] = '\0';
		return 0;
	}
	return table_word(line + n, level, level_len) == 0 ? -1 : 0;
}

/* Copies the word at text (up to white space) into out; its length, 0 if too long. */
static size_t table_word(const char *text, char *out, size_t len)
{
	size_t n = 0;

	while (text[n] != '\0' && !isspace((unsigned char)text[n])) {
		if (n + 1 >= len)
			return 0;
		out[n] = text[n];
		n++;
	}
	out[n] = '\0';
	return n;
}
