/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xalloc.c - allocation that never returns NULL
 *
 * A daemon that runs out of memory has nothing sensible left to do for the
 * request at hand; one clear fatal line beats a crash three frames later.
 */
#include <stdlib.h>
#include <string.h>

#include "mxpath/base/common.h"

static void *check(void *p, size_t size)
{
	if (p == NULL && size != 0)
		fatal("out of memory allocating %zu bytes", size);
	return p;
}

void *xmalloc(size_t size)
{
	return check(malloc(size), size);
}

void *xcalloc(size_t nmemb, size_t size)
{
	return check(calloc(nmemb, size), nmemb * size);
}

void *xrealloc(void *ptr, size_t size)
{
	return check(realloc(ptr, size), size);
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > (size_t)-1 / size)
		fatal("allocation of %zu x %zu bytes overflows", nmemb, size);
	return xrealloc(ptr, nmemb * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	return check(strndup(s, n), n + 1);
}
