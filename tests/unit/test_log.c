/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_log.c - the log sink on stderr: the prefix, the level filter, and
 * lines held back by one thread until a flush
 *
 * stderr is replaced by one end of a SOCK_SEQPACKET pair: every write() is
 * one record there, so a test can tell one write of three lines from three
 * writes of one.
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mxpath/base/common.h"

#define RECORD_MAX 65536

struct sink {
	int read_fd;
	int saved_stderr;
	char prefix[64];	/* "test_log[PID]: " */
};

static int sink_setup(void **state);
static int sink_teardown(void **state);
static size_t sink_read(struct sink *s, char *buf, size_t cap);
static size_t sink_read_all(struct sink *s, char *buf, size_t cap);
static bool sink_is_empty(struct sink *s);

static int sink_setup(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	int sv[2];

	if (s == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	s->saved_stderr = dup(STDERR_FILENO);
	if (s->saved_stderr < 0 || dup2(sv[1], STDERR_FILENO) < 0)
		return -1;
	close(sv[1]);
	s->read_fd = sv[0];
	log_open_stderr("test_log");
	log_set_level(LOG_LEVEL_INFO);
	snprintf(s->prefix, sizeof(s->prefix), "test_log[%ld]: ", (long)getpid());
	*state = s;
	return 0;
}

static int sink_teardown(void **state)
{
	struct sink *s = *state;

	dup2(s->saved_stderr, STDERR_FILENO);
	close(s->saved_stderr);
	close(s->read_fd);
	free(s);
	return 0;
}

/* One record (one write), NUL-terminated; 0 if none is waiting. */
static size_t sink_read(struct sink *s, char *buf, size_t cap)
{
	ssize_t n = recv(s->read_fd, buf, cap - 1, MSG_DONTWAIT);

	if (n < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		n = 0;
	}
	buf[n] = '\0';
	return (size_t)n;
}

/* Every record waiting, one after the other, NUL-terminated. */
static size_t sink_read_all(struct sink *s, char *buf, size_t cap)
{
	size_t got = 0, n;

	while ((n = sink_read(s, buf + got, cap - got)) > 0)
		got += n;
	return got;
}

static bool sink_is_empty(struct sink *s)
{
	char buf[16];

	return recv(s->read_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) < 0 &&
	       errno == EAGAIN;
}

static void test_line_has_ident_pid_and_level(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX], want[256];

	log_warnx("disk %s", "full");
	sink_read(s, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%swarning: disk full\n", s->prefix);
	assert_string_equal(buf, want);
	log_info("plain");
	sink_read(s, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%splain\n", s->prefix);
	assert_string_equal(buf, want);
}

/* "2026-12-04T20:22:32.123+00:00 test_log[PID]: ..." */
static void assert_stamped(const char *line, const char *rest)
{
	regex_t re;
	regmatch_t m;

	assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
				 "\\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} ", REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, line, 1, &m, 0), 0);
	assert_string_equal(line + m.rm_eo, rest);
	regfree(&re);
}

static void test_timestamps_lead_the_line_when_asked(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX], want[256];

	log_set_timestamps(true);
	log_warnx("disk %s", "full");
	sink_read(s, buf, sizeof(buf));
	log_set_timestamps(false);
	snprintf(want, sizeof(want), "%swarning: disk full\n", s->prefix);
	assert_stamped(buf, want);
	log_info("plain");
	sink_read(s, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%splain\n", s->prefix);
	assert_string_equal(buf, want);
}

static void test_log_file_gets_stamped_lines_and_stderr_none(void **state)
{
	struct sink *s = *state;
	char path[] = "/tmp/mxpath-test-log.XXXXXX", buf[RECORD_MAX], want[256], err[256];
	int fd = mkstemp(path);
	FILE *fp;
	struct stat st;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open_file("test_log", path, err, sizeof(err)), 0);
	log_info("to the file");
	assert_true(sink_is_empty(s));
	log_open_stderr("test_log");	/* back: the file is closed */
	log_info("to stderr");
	sink_read(s, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%sto stderr\n", s->prefix);
	assert_string_equal(buf, want);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	assert_null(fgets(buf + strlen(buf), (int)(sizeof(buf) - strlen(buf)), fp));
	fclose(fp);
	snprintf(want, sizeof(want), "%sto the file\n", s->prefix);
	assert_stamped(buf, want);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	assert_int_equal(log_open_file("test_log", "/nonexistent-dir/x.log", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent-dir/x.log: cannot open the log file: "));
}

static void test_journal_stream_is_recognised_by_device_and_inode(void **state MX_UNUSED)
{
	struct stat st;
	char value[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	unsetenv("JOURNAL_STREAM");
	assert_false(log_stderr_is_journal());
	snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", value, 1);
	assert_true(log_stderr_is_journal());
	snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", value, 1);
	assert_false(log_stderr_is_journal());
	setenv("JOURNAL_STREAM", "garbage", 1);
	assert_false(log_stderr_is_journal());
	unsetenv("JOURNAL_STREAM");
}

static void test_lines_above_the_level_are_dropped(void **state)
{
	struct sink *s = *state;

	log_debug("not shown");
	assert_true(sink_is_empty(s));
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("shown");
	assert_false(sink_is_empty(s));
}

static void test_long_message_is_cut_and_still_ends_the_line(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX], *big = malloc(5000);
	size_t n;

	memset(big, 'x', 4999);
	big[4999] = '\0';
	log_info("%s", big);
	n = sink_read(s, buf, sizeof(buf));
	assert_int_equal(n, 2048);	/* the longest line */
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(buf[n - 2], 'x');
	free(big);
}

static void test_buffered_lines_wait_for_flush_then_go_in_one_write(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX], want[512];

	log_buffer_begin();
	log_info("one");
	log_warnx("two");
	log_info("three");
	assert_true(sink_is_empty(s));
	log_flush();
	sink_read(s, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%sone\n%swarning: two\n%sthree\n", s->prefix, s->prefix,
		 s->prefix);
	assert_string_equal(buf, want);
	assert_true(sink_is_empty(s));
	log_buffer_end();
}

static void test_end_flushes_and_later_lines_go_at_once(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX], want[256];

	log_buffer_begin();
	log_info("held");
	log_buffer_end();
	sink_read(s, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%sheld\n", s->prefix);
	assert_string_equal(buf, want);
	log_info("direct");
	assert_false(sink_is_empty(s));
}

static void test_nested_begin_holds_until_the_outer_end(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX];

	log_buffer_begin();
	log_buffer_begin();
	log_info("inner");
	log_buffer_end();
	assert_true(sink_is_empty(s));
	log_buffer_end();
	sink_read(s, buf, sizeof(buf));
	assert_non_null(strstr(buf, "inner\n"));
}

static void *log_from_thread(void *arg)
{
	(void)arg;
	log_info("from another thread");
	return NULL;
}

static void test_other_threads_write_at_once_while_one_buffers(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX], want[256];
	pthread_t thread;

	log_buffer_begin();
	log_info("held by the loop");
	assert_int_equal(pthread_create(&thread, NULL, log_from_thread, NULL), 0);
	pthread_join(thread, NULL);
	sink_read(s, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%sfrom another thread\n", s->prefix);
	assert_string_equal(buf, want);
	assert_true(sink_is_empty(s));
	log_buffer_end();
	sink_read(s, buf, sizeof(buf));
	assert_non_null(strstr(buf, "held by the loop\n"));
}

static void *begin_in_thread(void *arg)
{
	bool *held = arg;

	/* The main thread owns the buffer: this one cannot, and writes at once. */
	log_buffer_begin();
	log_info("second thread");
	log_buffer_end();
	*held = false;
	return NULL;
}

static void test_only_one_thread_buffers_at_a_time(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX];
	bool held = true;
	pthread_t thread;

	log_buffer_begin();
	assert_int_equal(pthread_create(&thread, NULL, begin_in_thread, &held), 0);
	pthread_join(thread, NULL);
	assert_false(held);
	sink_read(s, buf, sizeof(buf));
	assert_non_null(strstr(buf, "second thread\n"));
	log_buffer_end();
}

static void test_full_buffer_is_written_before_the_line_that_overflows(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX], line[128], *all = malloc(200000);
	size_t got = 0, n;
	int i;

	log_buffer_begin();
	for (i = 0; i < 1000; i++)
		log_info("line %04d ...........................................", i);
	/* 1000 lines of about 80 bytes do not fit in 32 KiB: some went out. */
	assert_false(sink_is_empty(s));
	log_buffer_end();
	while ((n = sink_read(s, buf, sizeof(buf))) > 0) {
		assert_int_equal(buf[n - 1], '\n');	/* whole lines per write */
		memcpy(all + got, buf, n);
		got += n;
	}
	all[got] = '\0';
	for (i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "%sline %04d ", s->prefix, i);
		assert_non_null(strstr(all, line));
	}
	/* In order: each line starts where the previous one ended. */
	for (i = 0; i + 1 < 1000; i++) {
		char next[128];

		snprintf(line, sizeof(line), "line %04d ", i);
		snprintf(next, sizeof(next), "line %04d ", i + 1);
		assert_true(strstr(all, line) < strstr(all, next));
	}
	free(all);
}

static void test_fatal_writes_held_lines_then_its_own(void **state)
{
	struct sink *s = *state;
	char all[RECORD_MAX];
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		log_buffer_begin();
		log_info("before the end");
		fatal("out of %s", "luck");
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 70);
	sink_read_all(s, all, sizeof(all));
	assert_non_null(strstr(all, "before the end\n"));
	assert_non_null(strstr(all, "error: out of luck\n"));
	assert_true(strstr(all, "before the end") < strstr(all, "out of luck"));
}

static void test_exit_writes_held_lines(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX];
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		log_buffer_begin();
		log_info("said before exit");
		exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	sink_read(s, buf, sizeof(buf));
	assert_non_null(strstr(buf, "said before exit\n"));
}

static void test_child_lines_carry_the_child_pid(void **state)
{
	struct sink *s = *state;
	char buf[RECORD_MAX], want[64];
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		log_info("child");
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	sink_read(s, buf, sizeof(buf));
	snprintf(want, sizeof(want), "test_log[%ld]: child\n", (long)pid);
	assert_string_equal(buf, want);
}

static void test_lines_held_by_the_parent_are_not_repeated_by_a_child(void **state)
{
	struct sink *s = *state;
	char all[RECORD_MAX];
	int status;
	pid_t pid;

	log_buffer_begin();
	log_info("parent's line");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		log_info("child's line");
		exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	log_buffer_end();
	sink_read_all(s, all, sizeof(all));
	assert_non_null(strstr(all, "child's line\n"));
	assert_non_null(strstr(all, "parent's line\n"));
	assert_null(strstr(strstr(all, "parent's line") + 1, "parent's line"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timestamps_lead_the_line_when_asked, sink_setup,
						sink_teardown),
		cmocka_unit_test_setup_teardown(test_log_file_gets_stamped_lines_and_stderr_none,
						sink_setup, sink_teardown),
		cmocka_unit_test_setup_teardown(test_journal_stream_is_recognised_by_device_and_inode,
						sink_setup, sink_teardown),
		cmocka_unit_test_setup_teardown(test_line_has_ident_pid_and_level, sink_setup,
						sink_teardown),
		cmocka_unit_test_setup_teardown(test_lines_above_the_level_are_dropped, sink_setup,
						sink_teardown),
		cmocka_unit_test_setup_teardown(test_long_message_is_cut_and_still_ends_the_line,
						sink_setup, sink_teardown),
		cmocka_unit_test_setup_teardown(
			test_buffered_lines_wait_for_flush_then_go_in_one_write, sink_setup,
			sink_teardown),
		cmocka_unit_test_setup_teardown(test_end_flushes_and_later_lines_go_at_once,
						sink_setup, sink_teardown),
		cmocka_unit_test_setup_teardown(test_nested_begin_holds_until_the_outer_end,
						sink_setup, sink_teardown),
		cmocka_unit_test_setup_teardown(test_other_threads_write_at_once_while_one_buffers,
						sink_setup, sink_teardown),
		cmocka_unit_test_setup_teardown(test_only_one_thread_buffers_at_a_time, sink_setup,
						sink_teardown),
		cmocka_unit_test_setup_teardown(
			test_full_buffer_is_written_before_the_line_that_overflows, sink_setup,
			sink_teardown),
		cmocka_unit_test_setup_teardown(test_fatal_writes_held_lines_then_its_own,
						sink_setup, sink_teardown),
		cmocka_unit_test_setup_teardown(test_exit_writes_held_lines, sink_setup,
						sink_teardown),
		cmocka_unit_test_setup_teardown(test_child_lines_carry_the_child_pid, sink_setup,
						sink_teardown),
		cmocka_unit_test_setup_teardown(
			test_lines_held_by_the_parent_are_not_repeated_by_a_child, sink_setup,
			sink_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
