/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * address.c - parse and check IP addresses, CIDR blocks, domains, recipients
 *
 * Turns text from a configuration file, an MTA or a DNS answer into a
 * checked, normalised value, or says in a few words what is wrong with it.
 * Pure: no I/O, no locale (ASCII case folding only); a UTF-8 domain in a
 * recipient is converted to its A-label form by idna.c (libidn2).
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "mxpath/engine/address.h"
#include "mxpath/engine/idna.h"

#define IPV6_TAG "IPv6:"
#define IPV6_TAG_LEN (sizeof(IPV6_TAG) - 1)

static bool addr_is_v4_mapped(const struct mx_addr *addr);
static void addr_unmap_v4(const struct mx_addr *mapped, struct mx_addr *out);
static int cidr_parse_prefix(const char *text, unsigned max, unsigned *out);
static bool cidr_has_host_bits(const struct mx_cidr *cidr, unsigned max);
static bool bits_match(const unsigned char *a, const unsigned char *b, unsigned prefix);
static bool domain_is_label_char(unsigned char c);
static const char *domain_char_problem(unsigned char c);
static char ascii_lower(char c);
static bool text_has_control(const char *text, size_t len);
static int recipient_strip(const char **text, size_t *len, const char **why);
static void recipient_skip_route(const char **text, size_t *len);
static int recipient_parse_domain(const char *text, size_t len, struct recipient *out,
				  const char **why);
static int recipient_normalize_domain(const char *text, size_t len, char *out,
				      const char **why);

int addr_parse(const char *text, struct mx_addr *out)
{
	struct mx_addr addr;

	if (text == NULL || *text == '\0')
		return -1;
	memset(&addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, text, &addr.u.v4) == 1) {
		addr.family = AF_INET;
	} else if (inet_pton(AF_INET6, text, &addr.u.v6) == 1) {
		addr.family = AF_INET6;
	} else {
		return -1;
	}
	*out = addr;
	return 0;
}

const char *addr_format(const struct mx_addr *addr, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (inet_ntop(addr->family, &addr->u, buf, (socklen_t)len) == NULL)
		strncpy(buf, "?", len);
	buf[len - 1] = '\0';
	return buf;
}

int cidr_parse(const char *text, struct mx_cidr *out)
{
	char buf[MX_ADDR_TEXT_MAX];
	const char *slash;
	struct mx_cidr cidr;
	unsigned max;
	size_t len;

	if (text == NULL)
		return -1;
	slash = strchr(text, '/');
	len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (addr_parse(buf, &cidr.net) == -1)
		return -1;
	max = cidr.net.family == AF_INET ? 32 : 128;
	cidr.prefix = max;
	if (slash != NULL && cidr_parse_prefix(slash + 1, max, &cidr.prefix) == -1)
		return -1;
	/* Host bits below the prefix mean a typo, not a network. */
	if (cidr_has_host_bits(&cidr, max))
		return -1;
	*out = cidr;
	return 0;
}

bool cidr_contains(const struct mx_cidr *cidr, const struct mx_addr *addr)
{
	struct mx_addr unmapped;

	/* ::ffff:127.0.0.1 is 127.0.0.1: an AAAA record must not slip a v4
	 * address past an IPv4 block. */
	if (cidr->net.family == AF_INET && addr_is_v4_mapped(addr)) {
		addr_unmap_v4(addr, &unmapped);
		addr = &unmapped;
	}
	if (cidr->net.family != addr->family)
		return false;
	return bits_match((const unsigned char *)&cidr->net.u, (const unsigned char *)&addr->u,
			  cidr->prefix);
}

int domain_normalize(const char *in, size_t len, char *out, const char **why)
{
	size_t label = 0;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0) {
		*why = "empty domain name";
		return -1;
	}
	if (len > MX_NAME_MAX) {
		*why = "domain name longer than 253 octets";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '.') {
			if (label == 0) {
				*why = "empty label in domain name";
				return -1;
			}
			label = 0;
		} else if (!domain_is_label_char(c)) {
			*why = domain_char_problem(c);
			return -1;
		} else if (++label > MX_LABEL_MAX) {
			*why = "label longer than 63 octets in domain name";
			return -1;
		}
		out[i] = ascii_lower((char)c);
	}
	if (label == 0) {		/* "example.org.." */
		*why = "empty label in domain name";
		return -1;
	}
	out[len] = '\0';
	return 0;
}

int host_name_normalize(const char *in, size_t len, char *out, const char **why)
{
	struct mx_addr addr;

	if (domain_normalize(in, len, out, why) != 0)
		return -1;
	/* On the normalised name: a trailing dot must not hide an address. */
	if (addr_parse(out, &addr) == 0) {
		*why = "an IP address, not a name (a literal is written \"[192.0.2.1]\")";
		return -1;
	}
	return 0;
}

int recipient_parse(const char *text, struct recipient *out, const char **why)
{
	const char *at;
	size_t len;

	if (text == NULL) {
		*why = "no address";
		return -1;
	}
	len = strlen(text);
	if (text_has_control(text, len)) {
		*why = "control character in address";
		return -1;
	}
	if (recipient_strip(&text, &len, why) == -1)
		return -1;
	recipient_skip_route(&text, &len);
	if (len == 0) {
		*why = "empty address";
		return -1;
	}
	at = memrchr(text, '@', len);
	out->has_local = at != NULL;
	out->local[0] = '\0';
	if (at != NULL) {
		size_t local_len = (size_t)(at - text);

		if (local_len == 0) {
			*why = "empty local part";
			return -1;
		}
		if (local_len > MX_LOCAL_MAX) {
			*why = "local part longer than 256 octets";
			return -1;
		}
		memcpy(out->local, text, local_len);
		out->local[local_len] = '\0';
		len -= local_len + 1;
		text = at + 1;
	}
	return recipient_parse_domain(text, len, out, why);
}

const struct mx_addr *addr_unmap(const struct mx_addr *addr, struct mx_addr *buf)
{
	if (!addr_is_v4_mapped(addr))
		return addr;
	addr_unmap_v4(addr, buf);
	return buf;
}

static bool addr_is_v4_mapped(const struct mx_addr *addr)
{
	return addr->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&addr->u.v6);
}

static void addr_unmap_v4(const struct mx_addr *mapped, struct mx_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	memcpy(&out->u.v4, &mapped->u.v6.s6_addr[12], 4);
}

/* Decimal, no sign, no leading zeros, at most max. */
static int cidr_parse_prefix(const char *text, unsigned max, unsigned *out)
{
	unsigned value = 0;
	size_t len = strlen(text);

	if (len == 0 || len > 3 || (len > 1 && text[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		value = value * 10 + (unsigned)(text[i] - '0');
	}
	if (value > max)
		return -1;
	*out = value;
	return 0;
}

static bool cidr_has_host_bits(const struct mx_cidr *cidr, unsigned max)
{
	const unsigned char *bytes = (const unsigned char *)&cidr->net.u;

	for (unsigned bit = cidr->prefix; bit < max; bit++) {
		if (bytes[bit / 8] & (0x80u >> (bit % 8)))
			return true;
	}
	return false;
}

static bool bits_match(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;
	unsigned char mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xffu << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

static bool domain_is_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Why c cannot be in a label; 8-bit bytes are an IDNA name not in its A-label form. */
static const char *domain_char_problem(unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		return "control character in domain name";
	if (c >= 0x80)
		return "non-ASCII character in domain name (IDNA names need their xn-- form)";
	return "invalid character in domain name";
}

static char ascii_lower(char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

static bool text_has_control(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* Drops surrounding blanks and one pair of angle brackets. */
static int recipient_strip(const char **text, size_t *len, const char **why)
{
	const char *s = *text;
	size_t n = *len;

	while (n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n > 0 && s[0] == '<') {
		if (n < 2 || s[n - 1] != '>') {
			*why = "unbalanced angle brackets";
			return -1;
		}
		s++;
		n -= 2;
	} else if (n > 0 && s[n - 1] == '>') {
		*why = "unbalanced angle brackets";
		return -1;
	}
	*text = s;
	*len = n;
	return 0;
}

/* RFC 5321 4.1.2: "@relay1,@relay2:user@domain" - the source route is
 * accepted and ignored. */
static void recipient_skip_route(const char **text, size_t *len)
{
	const char *colon;

	if (*len == 0 || (*text)[0] != '@')
		return;
	colon = memchr(*text, ':', *len);
	if (colon == NULL)
		return;
	*len -= (size_t)(colon + 1 - *text);
	*text = colon + 1;
}

static int recipient_parse_domain(const char *text, size_t len, struct recipient *out,
				  const char **why)
{
	if (len == 0) {
		*why = "empty domain";
		return -1;
	}
	if (text[0] == '[') {
		out->kind = RECIPIENT_LITERAL;
		return addr_literal_parse(text, len, false, &out->literal, out->domain, why);
	}
	out->kind = RECIPIENT_DOMAIN;
	memset(&out->literal, 0, sizeof(out->literal));
	return recipient_normalize_domain(text, len, out->domain, why);
}

/* A UTF-8 domain (SMTPUTF8) is routed by its A-label form. */
static int recipient_normalize_domain(const char *text, size_t len, char *out,
				      const char **why)
{
	char ascii[MX_NAME_MAX + 2];	/* a trailing dot is still there */

	if (!idna_has_8bit(text, len))
		return domain_normalize(text, len, out, why);
	if (idna_domain_to_ascii(text, len, ascii, sizeof(ascii), why) == -1)
		return -1;
	return domain_normalize(ascii, strlen(ascii), out, why);
}

/*
 * The one address-literal parser (recipients, the configuration, the
 * engine's hosts): "[192.0.2.1]" or "[IPv6:2001:db8::1]"; with
 * tag_optional, "[2001:db8::1]" too. canon (MX_NAME_BUF), if not NULL,
 * gets the normalised text, always tagged for IPv6.
 */
int addr_literal_parse(const char *text, size_t len, bool tag_optional, struct mx_addr *addr,
		       char *canon, const char **why)
{
	char inner[MX_ADDR_TEXT_MAX + IPV6_TAG_LEN];
	char formatted[MX_ADDR_TEXT_MAX];
	const char *body = inner;
	bool tagged = false;
	size_t n;

	if (len < 3 || text[0] != '[' || text[len - 1] != ']') {
		*why = "address literal without closing bracket";
		return -1;
	}
	n = len - 2;
	if (n >= sizeof(inner)) {
		*why = "address literal too long";
		return -1;
	}
	memcpy(inner, text + 1, n);
	inner[n] = '\0';
	if (n > IPV6_TAG_LEN && strncasecmp(inner, IPV6_TAG, IPV6_TAG_LEN) == 0) {
		tagged = true;
		body = inner + IPV6_TAG_LEN;
	}
	if (addr_parse(body, addr) == -1) {
		*why = "malformed address literal";
		return -1;
	}
	if (tagged ? addr->family != AF_INET6 : addr->family == AF_INET6 && !tag_optional) {
		*why = tagged ? "IPv6: literal holding an IPv4 address"
			      : "IPv6 address literal without the IPv6: tag";
		return -1;
	}
	if (canon == NULL)
		return 0;
	addr_format(addr, formatted, sizeof(formatted));
	/* Fits: "[IPv6:" + 45 + "]" is far below MX_NAME_BUF. */
	strcpy(canon, addr->family == AF_INET6 ? "[" IPV6_TAG : "[");
	strcat(canon, formatted);
	strcat(canon, "]");
	return 0;
}
