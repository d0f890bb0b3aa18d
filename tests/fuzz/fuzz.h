/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz.h - what every libFuzzer harness shares: the abort on a broken promise
 *
 * A harness defines FUZZ_NAME ("fuzz_idna") before including this file;
 * require(ok, what) then aborts with "fuzz_idna: what" when ok is false,
 * which libFuzzer reports as a find with the input that caused it. So a
 * result that breaks a module's header contract is a find, not only a
 * crash.
 */
#ifndef MXPATH_TESTS_FUZZ_H
#define MXPATH_TESTS_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz.h"
#endif

static inline void require(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "%s: %s\n", FUZZ_NAME, what);
	abort();
}

#endif
