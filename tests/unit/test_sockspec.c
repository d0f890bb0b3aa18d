/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sockspec.c - the one socket-spec grammar: forms accepted and
 * refused, libmilter's spelling, numeric and named owners applied
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mxpath/config/sockspec.h"

static void test_accepted_forms_parse_to_their_parts(void **state)
{
	static const struct {
		const char *text;
		enum sockspec_kind kind;
		const char *path_or_host;
		unsigned port;
		int family;
		const char *libmilter;
	} cases[] = {
		{ "unix:/run/mxpath/milter.sock", SOCKSPEC_UNIX, "/run/mxpath/milter.sock", 0, 0,
		  "unix:/run/mxpath/milter.sock" },
		{ "inet:10025", SOCKSPEC_INET, "127.0.0.1", 10025, AF_INET,
		  "inet:10025@127.0.0.1" },
		{ "inet:1@192.0.2.1", SOCKSPEC_INET, "192.0.2.1", 1, AF_INET, "inet:1@192.0.2.1" },
		{ "inet:65535@::1", SOCKSPEC_INET, "::1", 65535, AF_INET6, "inet6:65535@::1" },
		{ "inet:10025@[2001:db8::1]", SOCKSPEC_INET, "2001:db8::1", 10025, AF_INET6,
		  "inet6:10025@2001:db8::1" },
		{ "inet:10025@LocalHost.", SOCKSPEC_INET, "localhost", 10025, AF_UNSPEC,
		  "inet:10025@localhost" },
	};
	char milter[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockspec spec;
		const char *why = NULL;

		if (sockspec_parse(cases[i].text, &spec, &why) != 0)
			fail_msg("%s: refused: %s", cases[i].text, why);
		assert_int_equal(spec.kind, cases[i].kind);
		assert_string_equal(spec.kind == SOCKSPEC_UNIX ? spec.path : spec.host,
				    cases[i].path_or_host);
		assert_int_equal(spec.port, cases[i].port);
		if (spec.kind == SOCKSPEC_INET)
			assert_int_equal(spec.family, cases[i].family);
		assert_int_equal(sockspec_libmilter(&spec, milter, sizeof(milter)), 0);
		assert_string_equal(milter, cases[i].libmilter);
	}
}

static void test_refused_forms_say_why(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{ "tcp:25", "expected unix:/path or inet:PORT@HOST" },
		{ "local:/run/m.sock", "expected unix:/path or inet:PORT@HOST" },
		{ "inet6:25@::1", "expected unix:/path or inet:PORT@HOST" },
		{ "", "expected unix:/path or inet:PORT@HOST" },
		{ "unix:run/m.sock", "unix socket path must be absolute" },
		{ "unix:/run/m\n.sock", "unix socket path must be absolute" },
		{ "inet:0", "bad port: expected 1..65535" },
		{ "inet:65536", "bad port: expected 1..65535" },
		{ "inet:", "bad port: expected 1..65535" },
		{ "inet:+25", "bad port: expected 1..65535" },
		{ "inet:25@", "bad host after '@': expected an address or a name" },
		{ "inet:25@[]", "bad host after '@': expected an address or a name" },
		{ "inet:25@[127.0.0.1]", "bad host after '@': expected an address or a name" },
		{ "inet:25@[localhost]", "bad host after '@': expected an address or a name" },
		{ "inet:25@bad..host", "bad host after '@': expected an address or a name" },
		/* an address with a trailing dot is no name (fuzz_config's find) */
		{ "inet:25@127.0.0.1.", "bad host after '@': expected an address or a name" },
	};
	char long_path[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockspec spec;
		const char *why = NULL;

		if (sockspec_parse(cases[i].text, &spec, &why) == 0)
			fail_msg("%s: accepted", cases[i].text);
		assert_string_equal(why, cases[i].why);
	}
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	memcpy(long_path, "unix:/", 6);
	{
		struct sockspec spec;
		const char *why = NULL;

		assert_int_equal(sockspec_parse(long_path, &spec, &why), -1);
		assert_string_equal(why, "unix socket path too long");
	}
}

static void test_unix_path_only_for_unix_specs(void **state)
{
	(void)state;
	assert_string_equal(sockspec_unix_path("unix:/run/m.sock"), "/run/m.sock");
	assert_null(sockspec_unix_path("inet:25"));
	assert_null(sockspec_unix_path("local:/run/m.sock"));
	assert_null(sockspec_unix_path(NULL));
}

static void test_accounts_by_name_or_number(void **state)
{
	uid_t uid;
	gid_t gid;

	(void)state;
	assert_int_equal(sockspec_uid("root", &uid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(sockspec_uid("65534", &uid), 0);
	assert_int_equal(uid, 65534);
	/* A number need not be in the passwd file. */
	assert_int_equal(sockspec_uid("4000123", &uid), 0);
	assert_int_equal(uid, 4000123);
	assert_int_equal(sockspec_gid("65534", &gid), 0);
	assert_int_equal(gid, 65534);
	assert_int_equal(sockspec_gid("root", &gid), 0);
	assert_int_equal(gid, 0);
	assert_int_equal(sockspec_uid("no-such-user-mxpath", &uid), -1);
	assert_int_equal(sockspec_gid("no-such-group-mxpath", &gid), -1);
	assert_int_equal(sockspec_uid("12x", &uid), -1);
	assert_int_equal(sockspec_uid("99999999999", &uid), -1);
	assert_int_equal(sockspec_uid("4294967295", &uid), -1);	/* (uid_t)-1: "unchanged" */
}

static void test_set_access_applies_numeric_owner_and_mode(void **state)
{
	char dir[] = "/tmp/mxpath-test-sockspec.XXXXXX", path[128], err[256];
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	if (geteuid() == 0) {
		assert_int_equal(sockspec_set_access(path, "65534", "65534", 0640, err,
						     sizeof(err)), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
	} else {
		assert_int_equal(sockspec_set_access(path, NULL, NULL, 0640, err, sizeof(err)), 0);
		assert_int_equal(stat(path, &st), 0);
	}
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(sockspec_set_access(path, "no-such-user-mxpath", NULL, 0, err,
					     sizeof(err)), -1);
	assert_non_null(strstr(err, "owner no-such-user-mxpath: no such user"));
	assert_int_equal(sockspec_set_access(path, NULL, "no-such-group-mxpath", 0, err,
					     sizeof(err)), -1);
	assert_non_null(strstr(err, "group no-such-group-mxpath: no such group"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_forms_parse_to_their_parts),
		cmocka_unit_test(test_refused_forms_say_why),
		cmocka_unit_test(test_unix_path_only_for_unix_specs),
		cmocka_unit_test(test_accounts_by_name_or_number),
		cmocka_unit_test(test_set_access_applies_numeric_owner_and_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
