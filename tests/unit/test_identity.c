/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_identity.c - the set of names and addresses that mean "this host"
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mxpath/engine/address.h"
#include "mxpath/engine/identity.h"

static struct mx_addr addr_of(const char *text)
{
	struct mx_addr addr;

	assert_int_equal(addr_parse(text, &addr), 0);
	return addr;
}

static void test_new_identity_is_empty(void **state)
{
	struct identity *id = identity_new();
	struct mx_addr addr = addr_of("192.0.2.1");

	(void)state;
	assert_int_equal(id->n_names, 0);
	assert_int_equal(id->n_addrs, 0);
	assert_false(identity_has_name(id, "a.example"));
	assert_false(identity_has_address(id, &addr));
	identity_free(&id);
	assert_null(id);
}

static void test_names_are_normalised(void **state)
{
	struct identity *id = identity_new();

	(void)state;
	assert_int_equal(identity_add_name(id, "Mail.Software.COM."), 0);
	assert_true(identity_has_name(id, "mail.software.com"));
	assert_false(identity_has_name(id, "software.com"));
	assert_string_equal(id->names[0], "mail.software.com");
	identity_free(&id);
}

static void test_duplicate_names_are_kept_once(void **state)
{
	struct identity *id = identity_new();

	(void)state;
	assert_int_equal(identity_add_name(id, "a.cs.xyz.edu"), 0);
	assert_int_equal(identity_add_name(id, "A.CS.XYZ.EDU"), 0);
	assert_int_equal(identity_add_name(id, "a.cs.xyz.edu."), 0);
	assert_int_equal(identity_add_name(id, "b.cs.xyz.edu"), 0);
	assert_int_equal(id->n_names, 2);
	identity_free(&id);
}

static void test_malformed_names_are_refused(void **state)
{
	struct identity *id = identity_new();

	(void)state;
	assert_int_equal(identity_add_name(id, ""), -1);
	assert_int_equal(identity_add_name(id, "bad name.example"), -1);
	assert_int_equal(identity_add_name(id, "a..example"), -1);
	assert_int_equal(identity_add_name(id, NULL), -1);
	assert_int_equal(id->n_names, 0);
	identity_free(&id);
}

static void test_addresses_are_kept_once_and_compared_unmapped(void **state)
{
	struct identity *id = identity_new();
	struct mx_addr v4 = addr_of("192.0.2.21"), v6 = addr_of("2001:db8::21");
	struct mx_addr mapped = addr_of("::ffff:192.0.2.21"), other = addr_of("192.0.2.22");

	(void)state;
	identity_add_address(id, &v4);
	identity_add_address(id, &v4);
	identity_add_address(id, &v6);
	assert_int_equal(id->n_addrs, 2);
	assert_true(identity_has_address(id, &v4));
	assert_true(identity_has_address(id, &v6));
	assert_false(identity_has_address(id, &other));
	/* ::ffff:192.0.2.21 is 192.0.2.21 (issue 12 item 3). */
	assert_true(identity_has_address(id, &mapped));
	identity_free(&id);
}

static void test_free_of_null_is_harmless(void **state)
{
	struct identity *id = NULL;

	(void)state;
	identity_free(&id);
	identity_free(NULL);
	assert_null(id);
	assert_false(identity_has_name(NULL, "a.example"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_identity_is_empty),
		cmocka_unit_test(test_names_are_normalised),
		cmocka_unit_test(test_duplicate_names_are_kept_once),
		cmocka_unit_test(test_malformed_names_are_refused),
		cmocka_unit_test(test_addresses_are_kept_once_and_compared_unmapped),
		cmocka_unit_test(test_free_of_null_is_harmless),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
