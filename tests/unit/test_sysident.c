/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sysident.c - who "self" is: configured names and addresses, plus the
 * system's host name and interface addresses when self.addresses = "auto"
 */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mxpath/config/config.h"
#include "mxpath/dns/sysident.h"

static struct policy *policy_from(const char *text)
{
	char err[CONFIG_ERROR_MAX];
	struct policy *policy = NULL;

	if (config_load_string(text, "test", &policy, NULL, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return policy;
}

static bool has_address(const struct identity *id, const char *text)
{
	struct mx_addr addr;

	assert_int_equal(addr_parse(text, &addr), 0);
	return identity_has_address(id, &addr);
}

static void test_configured_names_and_addresses_only_without_auto(void **state)
{
	struct policy *policy = policy_from(
		"self = { names = [ \"A.CS.XYZ.EDU.\" ]; addresses = [ \"192.0.2.7\" ];"
		" proxy_addresses = [ \"198.51.100.7\" ]; };");
	struct identity *id;

	(void)state;
	id = sysident_build(policy);
	assert_true(identity_has_name(id, "a.cs.xyz.edu"));
	assert_true(has_address(id, "192.0.2.7"));
	assert_true(has_address(id, "198.51.100.7"));	/* proxy/NAT */
	/* Neither the host name nor the interfaces: addresses is a list. */
	assert_int_equal(id->n_names, 1);
	assert_int_equal(id->n_addrs, 2);
	identity_free(&id);
	policy_unref(&policy);
}

static void test_auto_adds_host_name_and_interface_addresses(void **state)
{
	struct policy *policy = policy_from("self = { names = [ \"mx.example.org\" ]; };");
	struct identity *id;
	struct ifaddrs *list;
	char host[256];

	(void)state;
	assert_true(policy->self_auto);
	id = sysident_build(policy);
	assert_true(identity_has_name(id, "mx.example.org"));
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	for (char *p = host; *p != '\0'; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	assert_true(identity_has_name(id, host));
	assert_true(has_address(id, "127.0.0.1"));	/* lo is up in any namespace we run in */

	/* Every interface address but IPv6 link-local ones. */
	assert_int_equal(getifaddrs(&list), 0);
	for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
		struct mx_addr addr = { 0 };

		if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != AF_INET6)
			continue;
		addr.family = AF_INET6;
		addr.u.v6 = ((const struct sockaddr_in6 *)(const void *)ifa->ifa_addr)->sin6_addr;
		assert_int_equal(identity_has_address(id, &addr),
				 !IN6_IS_ADDR_LINKLOCAL(&addr.u.v6));
	}
	freeifaddrs(list);
	identity_free(&id);
	policy_unref(&policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configured_names_and_addresses_only_without_auto),
		cmocka_unit_test(test_auto_adds_host_name_and_interface_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
