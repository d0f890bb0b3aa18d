/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_listen.c - listening sockets: unix (stale files, access), inet, specs
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mxpath/runtime/listen.h"

struct fixture {
	char dir[64];
	char path[128];
	char spec[160];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/mxpath-test-listen.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/door.sock", f->dir);
	snprintf(f->spec, sizeof(f->spec), "unix:%s", f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct door_socket unix_socket(struct fixture *f, mode_t mode)
{
	struct door_socket s = { .spec = f->spec, .mode = mode };

	return s;
}

static void test_unix_socket_gets_mode_and_accepts(void **state)
{
	struct fixture *f = *state;
	struct door_socket s = unix_socket(f, 0640);
	char err[256];
	struct stat st;
	int fd, client;

	fd = listen_open(&s, "socketmap.socket", err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	client = listen_connect(f->spec, err, sizeof(err));
	assert_true(client >= 0);
	close(client);
	close(fd);
}

static void test_unix_socket_without_mode_stays_private(void **state)
{
	struct fixture *f = *state;
	struct door_socket s = unix_socket(f, 0);
	char err[256];
	struct stat st;
	int fd;

	fd = listen_open(&s, "control.socket", err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	close(fd);
}

static void test_unix_socket_gets_owner_and_group(void **state)
{
	struct fixture *f = *state;
	struct door_socket s = unix_socket(f, 0660);
	struct passwd *pw;
	struct group *gr;
	char err[256], owner[64], group[64];
	uid_t uid;
	gid_t gid;
	struct stat st;
	int fd;

	/* As root any account will do; otherwise only our own. */
	pw = geteuid() == 0 ? getpwnam("nobody") : getpwuid(geteuid());
	gr = geteuid() == 0 ? getgrnam("nogroup") : getgrgid(getegid());
	assert_non_null(pw);
	assert_non_null(gr);
	uid = pw->pw_uid;
	gid = gr->gr_gid;
	snprintf(owner, sizeof(owner), "%s", pw->pw_name);
	snprintf(group, sizeof(group), "%s", gr->gr_name);
	s.owner = owner;
	s.group = group;
	fd = listen_open(&s, "milter.socket", err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
	close(fd);
}

static void test_unknown_owner_is_refused_and_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct door_socket s = unix_socket(f, 0660);
	char err[256];
	struct stat st;

	s.owner = "no-such-user-mxpath";
	assert_int_equal(listen_open(&s, "socketmap.socket", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "socketmap.socket: "));
	assert_non_null(strstr(err, "no such user"));
	assert_int_equal(lstat(f->path, &st), -1);
}

static void test_stale_socket_is_replaced(void **state)
{
	struct fixture *f = *state;
	struct door_socket s = unix_socket(f, 0660);
	char err[256];
	struct stat st;
	int fd, client;

	/* A socket file nobody listens on any more, as a crash leaves it
	 * (marked by its mode: the new one gets 0660 again). */
	fd = listen_open(&s, "socketmap.socket", err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(f->path, 0604), 0);
	assert_int_equal(listen_connect(f->spec, err, sizeof(err)), -1);

	fd = listen_open(&s, "socketmap.socket", err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	client = listen_connect(f->spec, err, sizeof(err));
	assert_true(client >= 0);
	close(client);
	close(fd);
}

static void test_socket_in_use_is_refused(void **state)
{
	struct fixture *f = *state;
	struct door_socket s = unix_socket(f, 0660);
	char err[256];
	int fd, client;

	fd = listen_open(&s, "socketmap.socket", err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(listen_open(&s, "socketmap.socket", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another process is listening"));
	/* ... and the first listener still works. */
	client = listen_connect(f->spec, err, sizeof(err));
	assert_true(client >= 0);
	close(client);
	close(fd);
}

static void test_regular_file_is_never_removed(void **state)
{
	struct fixture *f = *state;
	struct door_socket s = unix_socket(f, 0660);
	char err[256];
	struct stat st;
	int fd;

	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(listen_open(&s, "socketmap.socket", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	listen_cleanup(&s);
	assert_int_equal(lstat(f->path, &st), 0);
}

static void test_cleanup_removes_the_socket(void **state)
{
	struct fixture *f = *state;
	struct door_socket s = unix_socket(f, 0660);
	char err[256];
	struct stat st;
	int fd;

	fd = listen_open(&s, "socketmap.socket", err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	listen_cleanup(&s);
	assert_int_equal(lstat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_sockets_are_nonblocking_and_cloexec(void **state)
{
	struct fixture *f = *state;
	struct door_socket s = unix_socket(f, 0660);
	char err[256];
	int fd;

	fd = listen_open(&s, "socketmap.socket", err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A port nobody listens on now (the grammar has no port 0 for "any"). */
static unsigned free_port(int family)
{
	struct sockaddr_storage ss;
	int fd = socket(family, SOCK_STREAM, 0);
	unsigned port;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	else
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, family == AF_INET6 ?
			      sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)), 0);
	port = (unsigned)bound_port(fd);
	close(fd);
	return port;
}

/* Listens on "inet:PORT" + host_suffix, connects to inet:PORT@connect_host. */
static void check_inet(const char *host_suffix, const char *connect_host, int family)
{
	unsigned port = free_port(family);
	struct door_socket s;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char err[256], spec[96], listen_spec[96];
	int fd, client, one = 0;
	socklen_t one_len = sizeof(one);

	snprintf(listen_spec, sizeof(listen_spec), "inet:%u%s", port, host_suffix);
	s = (struct door_socket){ .spec = listen_spec };
	fd = listen_open(&s, "socketmap.socket", err, sizeof(err));
	if (fd < 0)
		fail_msg("%s: %s", listen_spec, err);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	assert_int_equal(ss.ss_family, family);
	assert_int_equal(bound_port(fd), (int)port);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, &one_len), 0);
	assert_true(one != 0);
	snprintf(spec, sizeof(spec), "inet:%d@%s", bound_port(fd), connect_host);
	client = listen_connect(spec, err, sizeof(err));
	assert_true(client >= 0);
	close(client);
	close(fd);
}

static void test_inet_defaults_to_ipv4_loopback(void **state)
{
	(void)state;
	check_inet("", "127.0.0.1", AF_INET);
}

static void test_inet_ipv6_loopback_bracketed_or_not(void **state)
{
	(void)state;
	check_inet("@[::1]", "::1", AF_INET6);
	check_inet("@::1", "[::1]", AF_INET6);
}

static void test_bad_specs_are_refused_with_the_reason(void **state)
{
	static const struct {
		const char *spec;
		const char *why;
	} cases[] = {
		{ "tcp:25", "expected unix:/path or inet:PORT@HOST" },
		{ "local:/tmp/x.sock", "expected unix:/path or inet:PORT@HOST" },
		{ "inet6:25@::1", "expected unix:/path or inet:PORT@HOST" },
		{ "unix:relative.sock", "must be absolute" },
		{ "inet:99999@127.0.0.1", "bad port: expected 1..65535" },
		{ "inet:0", "bad port: expected 1..65535" },
		{ "inet:@127.0.0.1", "bad port: expected 1..65535" },
		{ "inet:25x@127.0.0.1", "bad port: expected 1..65535" },
		{ "inet:25@[127.0.0.1]", "bad host after '@'" },
		{ "inet:25@", "bad host after '@'" },
		{ "unix:/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock", "too long" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct door_socket s = { .spec = (char *)cases[i].spec };

		assert_int_equal(listen_open(&s, "control.socket", err, sizeof(err)), -1);
		assert_non_null(strstr(err, "control.socket: "));
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].spec, err, cases[i].why);
		assert_int_equal(listen_connect(cases[i].spec, err, sizeof(err)), -1);
	}
}

static void test_connect_to_nothing_says_what_failed(void **state)
{
	struct fixture *f = *state;
	char err[256];

	assert_int_equal(listen_connect(f->spec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, f->path));
	assert_non_null(strstr(err, "connect"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unix_socket_gets_mode_and_accepts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unix_socket_without_mode_stays_private, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unix_socket_gets_owner_and_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_owner_is_refused_and_leaves_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_in_use_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regular_file_is_never_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_removes_the_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sockets_are_nonblocking_and_cloexec, setup,
						teardown),
		cmocka_unit_test(test_inet_defaults_to_ipv4_loopback),
		cmocka_unit_test(test_inet_ipv6_loopback_bracketed_or_not),
		cmocka_unit_test(test_bad_specs_are_refused_with_the_reason),
		cmocka_unit_test_setup_teardown(test_connect_to_nothing_says_what_failed, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
