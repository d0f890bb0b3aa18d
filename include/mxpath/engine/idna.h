/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * idna.h - internationalized domain names: U-labels to A-labels
 *
 * The one place where a domain written in Unicode (an SMTPUTF8 recipient
 * such as user@bücher.test) becomes the ASCII name the DNS knows
 * (xn--bcher-kva.test): IDNA2008 with the UTS #46 non-transitional
 * mapping, as libidn2 implements it. Pure: libidn2 is a function library
 * (no I/O, no global state).
 */
#ifndef MXPATH_IDNA_H
#define MXPATH_IDNA_H

#include <stdbool.h>
#include <stddef.h>

/* True if text holds a byte outside ASCII. */
bool idna_has_8bit(const char *text, size_t len);

/*
 * The A-label form of the UTF-8 domain in[0..len) in out (size bytes,
 * NUL-terminated), not yet checked as a host name (domain_normalize()
 * does that). Returns 0, or -1 with *why set to a static text when the
 * name is not valid UTF-8 or not a valid IDNA name, or too long.
 */
int idna_domain_to_ascii(const char *in, size_t len, char *out, size_t size, const char **why);

#endif
