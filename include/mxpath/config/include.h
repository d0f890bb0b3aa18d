/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * include.h - the files a configuration pulls in with @include
 *
 * Finds every @include directive the way libconfig 1.5 reads them, without
 * parsing the settings, so the daemon can judge each file (owner, mode,
 * directory) before libconfig opens it.
 */
#ifndef MXPATH_CONFIG_INCLUDE_H
#define MXPATH_CONFIG_INCLUDE_H

#include <stddef.h>

/* libconfig 1.5's MAX_INCLUDE_DEPTH: it refuses deeper nesting itself. */
#define CONFIG_INCLUDE_DEPTH_MAX 10

struct config_include {
	const char *from;	/* the including file, as opened */
	int line;		/* of the directive in it */
	const char *name;	/* as written between the quotes */
	const char *path;	/* what libconfig opens: INCLUDE_DIR/name */
};

/*
 * Calls each() for every @include of path and, depth first, of the files
 * they include (each() is called before a file is read). Names are relative
 * to the top file's directory, as config_load_file() sets it. Stops at the
 * first each() that returns -1 (its err kept) or at a file it cannot read
 * ("FILE: cannot open: why"). 0 when every call returned 0.
 */
typedef int (*config_include_fn)(const struct config_include *inc, void *ctx, char *err,
				 size_t errlen);
int config_include_walk(const char *path, config_include_fn each, void *ctx, char *err,
			size_t errlen);

#endif
