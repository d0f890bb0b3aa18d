/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * include.c - find the files a configuration pulls in with @include
 *
 * Reads the text as libconfig 1.5's scanner does for this one purpose: a
 * directive is `@include "NAME"` at the start of a line (after blanks),
 * outside a block comment; NAME may hold \" and \\; it is opened as
 * INCLUDE_DIR/NAME, INCLUDE_DIR being the top file's directory for every
 * level. Settings are not parsed: that stays with config.c and libconfig.
 */
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxpath/base/common.h"
#include "mxpath/config/include.h"

struct walk {
	const char *dir;	/* the top file's directory */
	config_include_fn each;
	void *ctx;
	char *err;
	size_t errlen;
};

static int walk_file(struct walk *w, const char *path, int depth);
static int walk_line(struct walk *w, const char *path, int line, const char *text,
		     bool *in_comment, int depth);
static const char *directive_name(const char *text, char *name, size_t len);
static const char *skip_string(const char *p);
static void skip_code(const char *p, bool *in_comment);

int config_include_walk(const char *path, config_include_fn each, void *ctx, char *err,
			size_t errlen)
{
	char *copy = xstrdup(path);
	struct walk w = { dirname(copy), each, ctx, err, errlen };
	int rc = walk_file(&w, path, 0);

	free(copy);
	return rc;
}

static int walk_file(struct walk *w, const char *path, int depth)
{
	FILE *fp = fopen(path, "r");
	bool in_comment = false;
	char *text = NULL;
	size_t size = 0;
	int line = 0, rc = 0;

	if (fp == NULL) {
		snprintf(w->err, w->errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && getline(&text, &size, fp) >= 0)
		rc = walk_line(w, path, ++line, text, &in_comment, depth);
	free(text);
	fclose(fp);
	return rc;
}

/* One line: a directive at its start, then whatever opens or closes a comment. */
static int walk_line(struct walk *w, const char *path, int line, const char *text,
		     bool *in_comment, int depth)
{
	char name[4096], *full;
	const char *rest = *in_comment ? NULL : directive_name(text, name, sizeof(name));
	struct config_include inc = { path, line, name, NULL };
	size_t size;
	int rc;

	if (rest == NULL) {
		skip_code(text, in_comment);
		return 0;
	}
	skip_code(rest, in_comment);
	size = strlen(w->dir) + 1 + strlen(name) + 1;
	full = xmalloc(size);
	snprintf(full, size, "%s/%s", w->dir, name);
	inc.path = full;
	rc = w->each(&inc, w->ctx, w->err, w->errlen);
	/* Deeper than libconfig goes: it refuses the file itself, with its line. */
	if (rc == 0 && depth + 1 < CONFIG_INCLUDE_DEPTH_MAX)
		rc = walk_file(w, full, depth + 1);
	free(full);
	return rc;
}

/*
 * `[ \t]*@include[ \t]+"NAME"`: NAME unescaped into name, and where the
 * line goes on after the closing quote; NULL if this is no directive (or
 * the name runs past the line or past len).
 */
static const char *directive_name(const char *text, char *name, size_t len)
{
	const char *p = text + strspn(text, " \t");
	size_t n = 0;

	if (strncmp(p, "@include", 8) != 0 || (p[8] != ' ' && p[8] != '\t'))
		return NULL;
	p += 8 + strspn(p + 8, " \t");
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		if (*p == '\0' || *p == '\n' || n + 1 >= len)
			return NULL;
		name[n++] = *p;
	}
	name[n] = '\0';
	return p + 1;
}

/* Past the string p starts in (after its opening quote), or at the line's end. */
static const char *skip_string(const char *p)
{
	for (; *p != '\0' && *p != '"'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return *p == '"' ? p + 1 : p;
}

/* Follows strings and comments to the line's end; *in_comment says where it ends. */
static void skip_code(const char *p, bool *in_comment)
{
	while (*p != '\0') {
		if (*in_comment) {
			const char *end = strstr(p, "*/");

			if (end == NULL)
				break;
			*in_comment = false;
			p = end + 2;
		} else if (*p == '"') {
			p = skip_string(p + 1);
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			break;
		} else if (p[0] == '/' && p[1] == '*') {
			*in_comment = true;
			p += 2;
		} else {
			p++;
		}
	}
}
