/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * idna.c - internationalized domain names: U-labels to A-labels
 *
 * An SMTPUTF8 MTA hands over recipients such as user@bücher.test; the
 * DNS knows the domain as xn--bcher-kva.test. libidn2 converts it:
 * IDNA2008 with the UTS #46 non-transitional mapping (so "ß" stays "ß",
 * upper case folds to lower case) on NFC-normalised input, which is what
 * browsers and current MTAs do. A name that is not valid UTF-8 (Latin-1
 * bytes, say) or not valid IDNA is refused with a reason; the caller
 * turns that into 501 5.1.3.
 *
 * Pure: libidn2 does no I/O and keeps no state; its result is copied
 * into the caller's buffer and freed at once.
 */
#include <idn2.h>
#include <string.h>

#include "mxpath/base/common.h"
#include "mxpath/engine/idna.h"

/* A U-label of 63 code points of 4 octets each, times a few labels, is far
 * beyond what fits in 253 octets once converted: longer input is refused
 * before libidn2 sees it. */
#define IDNA_INPUT_MAX 1024

bool idna_has_8bit(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)text[i] >= 0x80)
			return true;
	}
	return false;
}

int idna_domain_to_ascii(const char *in, size_t len, char *out, size_t size, const char **why)
{
	char input[IDNA_INPUT_MAX + 1];
	char *ascii = NULL;
	size_t ascii_len;
	int rc;

	if (len > IDNA_INPUT_MAX) {
		*why = "domain name longer than 253 octets";
		return -1;
	}
	memcpy(input, in, len);
	input[len] = '\0';
	rc = idn2_to_ascii_8z(input, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		*why = rc == IDN2_ENCODING_ERROR || rc == IDN2_ICONV_FAIL
			       ? "domain name is not valid UTF-8"
			       : "domain name is not a valid internationalized name (IDNA2008)";
		return -1;
	}
	ascii_len = strlen(ascii);
	if (ascii_len >= size) {
		idn2_free(ascii);
		*why = "domain name longer than 253 octets";
		return -1;
	}
	memcpy(out, ascii, ascii_len + 1);
	idn2_free(ascii);
	return 0;
}
