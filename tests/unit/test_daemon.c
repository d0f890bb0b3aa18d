/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_daemon.c - the daemon's process chores: who it runs as, files it
 * refuses, the pid file, detaching, dropping root, what needs a restart
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mxpath/runtime/daemon.h"

struct fixture {
	char dir[64];
	char file[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/mxpath-test-daemon.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->file, sizeof(f->file), "%s/file", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static struct daemon_settings settings_for(char *user, char *group)
{
	struct daemon_settings s = { .user = user, .group = group };

	return s;
}

/* ---- daemon_find_user ---- */

static void test_user_and_group_resolve_to_ids_and_names(void **state)
{
	struct daemon_settings p = settings_for("nobody", "nogroup");
	struct daemon_user u;
	char err[256];

	(void)state;
	assert_int_equal(daemon_find_user(&p, "test.conf", &u, err, sizeof(err)), 0);
	assert_int_equal(u.uid, getpwnam("nobody")->pw_uid);
	assert_int_equal(u.gid, getgrnam("nogroup")->gr_gid);
	assert_string_equal(u.name, "nobody");
	assert_string_equal(u.group, "nogroup");
	assert_false(u.stays_root);
}

static void test_numeric_user_and_group_resolve(void **state)
{
	struct daemon_settings p = settings_for("65534", "65534");
	struct daemon_user u;
	char err[256];

	(void)state;
	assert_int_equal(daemon_find_user(&p, "test.conf", &u, err, sizeof(err)), 0);
	assert_string_equal(u.name, getpwuid(65534)->pw_name);
	assert_string_equal(u.group, getgrgid(65534)->gr_name);
}

static void test_group_defaults_to_the_users_own(void **state)
{
	struct daemon_settings p = settings_for("nobody", NULL);
	struct daemon_user u;
	char err[256];

	(void)state;
	assert_int_equal(daemon_find_user(&p, "test.conf", &u, err, sizeof(err)), 0);
	assert_int_equal(u.gid, getpwnam("nobody")->pw_gid);
}

static void test_root_by_name_stays_root(void **state)
{
	struct daemon_settings p = settings_for("root", "root");
	struct daemon_user u;
	char err[256];

	(void)state;
	assert_int_equal(daemon_find_user(&p, "test.conf", &u, err, sizeof(err)), 0);
	assert_true(u.stays_root);
	assert_int_equal(u.uid, 0);
}

static void test_uid_zero_under_another_name_is_refused(void **state)
{
	struct daemon_settings p = settings_for("0", "root");
	struct daemon_user u;
	char err[256];

	(void)state;
	assert_int_equal(daemon_find_user(&p, "test.conf", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "user 0 has uid 0"));
}

static void test_root_group_for_another_user_is_refused(void **state)
{
	struct daemon_settings p = settings_for("nobody", "root");
	struct daemon_user u;
	char err[256];

	(void)state;
	assert_int_equal(daemon_find_user(&p, "test.conf", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "group root has gid 0"));
}

static void test_unknown_user_or_group_is_named(void **state)
{
	struct daemon_settings p = settings_for("no-such-user-mxpath", "nogroup");
	struct daemon_user u;
	char err[256];

	(void)state;
	assert_int_equal(daemon_find_user(&p, "test.conf", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "user no-such-user-mxpath: no such user"));
	assert_non_null(strstr(err, "test.conf"));
	p = settings_for("nobody", "no-such-group-mxpath");
	assert_int_equal(daemon_find_user(&p, "test.conf", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "group no-such-group-mxpath: no such group"));
}

/* ---- daemon_check_config_file ---- */

static void test_config_owned_by_root_not_writable_by_others_is_fine(void **state)
{
	struct fixture *f = *state;
	char err[256];

	write_file(f->file, "user = \"root\";\n", 0644);
	assert_int_equal(daemon_check_config_file(f->file, err, sizeof(err)), 0);
	assert_int_equal(chmod(f->file, 0600), 0);
	assert_int_equal(daemon_check_config_file(f->file, err, sizeof(err)), 0);
}

static void test_config_writable_by_others_or_group_is_refused(void **state)
{
	struct fixture *f = *state;
	char err[256];

	write_file(f->file, "", 0646);
	assert_int_equal(daemon_check_config_file(f->file, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by others (mode 0646)"));
	assert_int_equal(chmod(f->file, 0664), 0);
	assert_int_equal(daemon_check_config_file(f->file, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by its group (mode 0664)"));
}

static void test_config_owned_by_someone_else_is_refused(void **state)
{
	struct fixture *f = *state;
	uid_t other = geteuid() == 0 ? 65534 : 0;
	char err[256];

	write_file(f->file, "", 0644);
	if (geteuid() == 0) {
		assert_int_equal(chown(f->file, other, (gid_t)-1), 0);
		assert_int_equal(daemon_check_config_file(f->file, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "owned by uid 65534"));
	} else {
		/* Not root: a file of ours is fine (root's files are too). */
		assert_int_equal(daemon_check_config_file(f->file, err, sizeof(err)), 0);
	}
}

static void test_config_missing_or_not_a_file_is_refused(void **state)
{
	struct fixture *f = *state;
	char err[256];

	assert_int_equal(daemon_check_config_file(f->file, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": cannot open: No such file or directory"));
	assert_int_equal(daemon_check_config_file(f->dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
}

/* ---- daemon_check_config_files: @include and directories ---- */

/* dir/top.conf (0600) including dir/sub/inc.conf through line 3. */
static void write_include_tree(struct fixture *f, const char *inc_text, mode_t inc_mode)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/sub", f->dir);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/top.conf", f->dir);
	write_file(path, "# top\n/* @include \"sub/not-read.conf\" */\n@include \"sub/inc.conf\"\n",
		   0600);
	snprintf(path, sizeof(path), "%s/sub/inc.conf", f->dir);
	write_file(path, inc_text, inc_mode);
}

static int check_files(struct fixture *f, char *err, size_t errlen)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/top.conf", f->dir);
	return daemon_check_config_files(path, err, errlen);
}

/* A safe include, and an include loop (it ends where libconfig stops and
 * refuses the file itself). */
static void test_safe_includes_are_fine(void **state)
{
	static const char *const included[] = { "user = \"root\";\n", "@include \"sub/inc.conf\"\n" };
	struct fixture *f = *state;
	char err[512];

	for (size_t i = 0; i < sizeof(included) / sizeof(included[0]); i++) {
		write_include_tree(f, included[i], 0644);
		assert_int_equal(check_files(f, err, sizeof(err)), 0);
	}
}

/* Nested names are relative to the top file's directory, as libconfig 1.5 opens them. */
static void test_nested_include_is_checked_too(void **state)
{
	struct fixture *f = *state;
	char err[512], path[192], want[512];

	write_include_tree(f, "\n  @include \"deep \\\"q\\\".conf\" # quoted\n", 0644);
	snprintf(path, sizeof(path), "%s/deep \"q\".conf", f->dir);
	write_file(path, "", 0664);
	assert_int_equal(check_files(f, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/sub/inc.conf:2: @include \"deep \"q\".conf\": %s: "
		 "writable by its group (mode 0664)", f->dir, path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got \"%s\"", err);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(check_files(f, err, sizeof(err)), 0);
}

/* Refusals, word for word; DIR stands for the fixture's directory. */
static const struct include_refusal {
	const char *included;	/* the text of sub/inc.conf */
	mode_t mode;		/* and its mode */
	const char *want;
} include_refusals[] = {
	{ "user = \"root\";\n", 0666,
	  "DIR/top.conf:3: @include \"sub/inc.conf\": DIR/sub/inc.conf: writable by others "
	  "(mode 0666): refusing it; chmod go-w DIR/sub/inc.conf" },
	{ "@include \"nowhere.conf\"\n", 0644,
	  "DIR/sub/inc.conf:1: @include \"nowhere.conf\": DIR/nowhere.conf: cannot open: "
	  "No such file or directory" },
};

/* template with every "DIR" replaced by dir. */
static void expand_dir(const char *template, const char *dir, char *out, size_t len)
{
	const char *mark;
	size_t used = 0;

	while ((mark = strstr(template, "DIR")) != NULL && used < len) {
		used += (size_t)snprintf(out + used, len - used, "%.*s%s", (int)(mark - template),
					 template, dir);
		template = mark + 3;
	}
	if (used < len)
		snprintf(out + used, len - used, "%s", template);
}

static void test_unsafe_or_missing_include_is_refused_with_its_line(void **state)
{
	struct fixture *f = *state;
	char err[512], want[512];

	for (size_t i = 0; i < sizeof(include_refusals) / sizeof(include_refusals[0]); i++) {
		write_include_tree(f, include_refusals[i].included, include_refusals[i].mode);
		assert_int_equal(check_files(f, err, sizeof(err)), -1);
		expand_dir(include_refusals[i].want, f->dir, want, sizeof(want));
		assert_string_equal(err, want);
	}
}

static void test_config_dir_writable_by_others_is_refused_unless_sticky(void **state)
{
	struct fixture *f = *state;
	char err[512], sub[192];

	write_include_tree(f, "", 0644);
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(check_files(f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "top.conf:3: @include \"sub/inc.conf\": "));
	assert_non_null(strstr(err, "/sub is writable by others (mode 0777), not sticky"));
	assert_int_equal(chmod(sub, 01777), 0);
	assert_int_equal(check_files(f, err, sizeof(err)), 0);
	assert_int_equal(chmod(sub, 0775), 0);
	assert_int_equal(check_files(f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/sub is writable by its group (mode 0775), not sticky"));
	assert_int_equal(chmod(sub, 0755), 0);
	/* The top file's own directory. */
	assert_int_equal(chmod(f->dir, 0757), 0);
	assert_int_equal(check_files(f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/top.conf: directory "));
	assert_non_null(strstr(err, "is writable by others (mode 0757), not sticky"));
	assert_int_equal(chmod(f->dir, 0700), 0);
}

/* ---- daemon_check_socket_dir ---- */

static void check_socket_dir(struct fixture *f, mode_t mode, int want)
{
	char spec[160], err[256];
	struct door_socket s = { .spec = spec };

	assert_int_equal(chmod(f->dir, mode), 0);
	snprintf(spec, sizeof(spec), "unix:%s/s.sock", f->dir);
	assert_int_equal(daemon_check_socket_dir(&s, "socketmap.socket", err, sizeof(err)), want);
	if (want < 0) {
		assert_non_null(strstr(err, "socketmap.socket: directory "));
		assert_non_null(strstr(err, "is writable by others"));
	}
}

static void test_socket_dir_writable_by_others_is_refused_unless_sticky(void **state)
{
	struct fixture *f = *state;

	check_socket_dir(f, 0755, 0);
	check_socket_dir(f, 0770, 0);
	check_socket_dir(f, 0777, -1);
	check_socket_dir(f, 0703, -1);
	check_socket_dir(f, 01777, 0);
	assert_int_equal(chmod(f->dir, 0700), 0);
}

static void test_socket_dir_check_ignores_inet_and_disabled_doors(void **state)
{
	struct door_socket inet = { .spec = "inet:9999@127.0.0.1" };
	struct door_socket off = { .spec = NULL };
	struct door_socket missing = { .spec = "unix:/nonexistent-mxpath/s.sock" };
	char err[256];

	(void)state;
	assert_int_equal(daemon_check_socket_dir(&inet, "milter.socket", err, sizeof(err)), 0);
	assert_int_equal(daemon_check_socket_dir(&off, "milter.socket", err, sizeof(err)), 0);
	assert_int_equal(daemon_check_socket_dir(&missing, "milter.socket", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "milter.socket: directory /nonexistent-mxpath: No such file"));
}

/* ---- pid file ---- */

static void test_pidfile_holds_our_pid_and_is_removed(void **state)
{
	struct fixture *f = *state;
	char err[256], text[32] = "", want[32];
	FILE *fp;

	assert_int_equal(daemon_pidfile_write(f->file, err, sizeof(err)), 0);
	fp = fopen(f->file, "r");
	assert_non_null(fp);
	assert_non_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	assert_string_equal(text, want);
	daemon_pidfile_remove();
	assert_int_equal(access(f->file, F_OK), -1);
}

static void test_pidfile_held_by_another_is_refused_and_kept(void **state)
{
	struct fixture *f = *state;
	char err[256], want[64];
	struct stat st;

	assert_int_equal(daemon_pidfile_write(f->file, err, sizeof(err)), 0);
	/* A second open file description: flock() says someone holds it. */
	assert_int_equal(daemon_pidfile_write(f->file, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "held by a running mxpathd (pid %ld)", (long)getpid());
	assert_non_null(strstr(err, want));
	assert_int_equal(stat(f->file, &st), 0);
	assert_true(st.st_size > 0);
	daemon_pidfile_remove();
}

static void test_pidfile_left_by_a_dead_daemon_is_taken_over(void **state)
{
	struct fixture *f = *state;
	char err[256];

	write_file(f->file, "999999\n", 0644);
	assert_int_equal(daemon_pidfile_write(f->file, err, sizeof(err)), 0);
	daemon_pidfile_remove();
}

static void test_pidfile_symlink_is_not_followed(void **state)
{
	struct fixture *f = *state;
	char err[256], target[160];

	snprintf(target, sizeof(target), "%s/target", f->dir);
	write_file(target, "precious\n", 0644);
	assert_int_equal(symlink(target, f->file), 0);
	assert_int_equal(daemon_pidfile_write(f->file, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "pid file"));
}

/* ---- detaching ---- */

/*
 * Runs daemon_detach() in a child ("the starting process"); the detached
 * grandchild reports its session and working directory through a pipe,
 * then says ready (or not). Returns the starting process's exit status.
 */
static int run_detach(bool say_ready, char *report, size_t len)
{
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256], line[128], cwd[64];

		close(fds[0]);
		if (daemon_detach(err, sizeof(err)) < 0)
			_exit(3);
		snprintf(line, sizeof(line), "sid=%d cwd=%s stdin=%s",
			 getsid(0) == getpid(), getcwd(cwd, sizeof(cwd)) ? cwd : "?",
			 fcntl(0, F_GETFD) >= 0 ? "open" : "closed");
		if (write(fds[1], line, strlen(line)) < 0)
			_exit(4);
		close(fds[1]);
		if (say_ready)
			daemon_detach_done();
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	n = read(fds[0], report, len - 1);
	report[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_detach_parent_exits_0_once_the_child_is_ready(void **state)
{
	char report[128];

	(void)state;
	assert_int_equal(run_detach(true, report, sizeof(report)), 0);
	assert_string_equal(report, "sid=1 cwd=/ stdin=open");
}

static void test_detach_parent_exits_1_if_the_child_dies_first(void **state)
{
	char report[128];

	(void)state;
	assert_int_equal(run_detach(false, report, sizeof(report)), 1);
}

/* ---- dropping root ---- */

static void test_drop_privileges_for_good(void **state)
{
	struct daemon_settings p = settings_for("nobody", "nogroup");
	struct daemon_user u;
	char err[256];
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(daemon_find_user(&p, "test.conf", &u, err, sizeof(err)), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		gid_t groups[4];
		uid_t r, e, s;

		if (geteuid() != 0) {
			/* Not root: the drop must be refused, clearly. */
			_exit(daemon_drop_privileges(&u, err, sizeof(err)) == -1 &&
			      strstr(err, "only root can switch to user nobody") ? 0 : 1);
		}
		if (daemon_drop_privileges(&u, err, sizeof(err)) < 0)
			_exit(2);
		if (getresuid(&r, &e, &s) < 0 || r != u.uid || e != u.uid || s != u.uid)
			_exit(3);
		if (getgid() != u.gid || getegid() != u.gid)
			_exit(4);
		if (getgroups(4, groups) != 1 || groups[0] != u.gid)
			_exit(5);
		if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
			_exit(6);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_staying_root_changes_nothing(void **state)
{
	struct daemon_user u = { .name = "root", .stays_root = true };
	char err[256];
	uid_t before = geteuid();

	(void)state;
	assert_int_equal(daemon_drop_privileges(&u, err, sizeof(err)), 0);
	assert_int_equal(geteuid(), before);
}

/* ---- what a reload cannot change ---- */

static void test_restart_changes_names_each_setting(void **state)
{
	struct daemon_settings a = settings_for("mxpath", "mxpath");
	struct daemon_settings b = settings_for("mxpath", "mxpath");
	char out[128];

	(void)state;
	a.socketmap.spec = "unix:/run/mxpath/socketmap.sock";
	b.socketmap.spec = "unix:/run/mxpath/socketmap.sock";
	a.socketmap.mode = b.socketmap.mode = 0660;
	assert_int_equal(daemon_restart_changes(&a, &b, out, sizeof(out)), 0);
	assert_string_equal(out, "");

	b.socketmap.mode = 0666;
	b.user = "nobody";
	b.milter.spec = "unix:/run/mxpath/milter.sock";
	b.pidfile = "/run/mxpath/mxpathd.pid";
	assert_int_equal(daemon_restart_changes(&a, &b, out, sizeof(out)), 4);
	assert_string_equal(out, "milter.socket, socketmap.socket, user, pidfile");
}

/* ---- counters ---- */

static void test_reloads_are_counted_by_outcome(void **state)
{
	struct daemon_stats before, after;

	(void)state;
	daemon_get_stats(&before);
	daemon_stats_reloaded(true);
	daemon_stats_reloaded(true);
	daemon_stats_reloaded(false);
	daemon_stats_started(true);
	daemon_get_stats(&after);
	assert_int_equal(after.reloads_ok - before.reloads_ok, 2);
	assert_int_equal(after.reloads_refused - before.reloads_refused, 1);
	assert_true(after.milter_enabled);
	assert_true(after.started > 0);
}

/* A missing directory: -t only asks whether it could be made; a start makes
 * it, one level deep, 0750; a missing parent is refused either way. */
static void test_missing_file_dir_is_checked_or_created_one_level(void **state)
{
	struct fixture *f = *state;
	struct daemon_user user = { .name = "root", .group = "root", .stays_root = true };
	char dir[160], file[192], deep[224], err[512];
	struct stat st;

	user.uid = geteuid();
	user.gid = getegid();
	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	snprintf(file, sizeof(file), "%s/mxpathd.pid", dir);
	snprintf(deep, sizeof(deep), "%s/a/b/s.sock", f->dir);
	assert_int_equal(daemon_ready_file_dir(file, "pidfile", &user, DIR_MISSING_REFUSE, err,
					       sizeof(err)), -1);
	assert_non_null(strstr(err, "pidfile: directory "));
	assert_int_equal(daemon_ready_file_dir(file, "pidfile", &user, DIR_MISSING_CHECK, err,
					       sizeof(err)), 0);
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(daemon_ready_file_dir(file, "pidfile", &user, DIR_MISSING_CREATE, err,
					       sizeof(err)), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_uid, user.uid);
	assert_int_equal(daemon_ready_file_dir(deep, "milter.socket", &user, DIR_MISSING_CREATE,
					       err, sizeof(err)), -1);
	assert_non_null(strstr(err, "milter.socket: directory "));
	assert_non_null(strstr(err, "/a/b: No such file or directory, and it cannot be created in "));
	snprintf(dir, sizeof(dir), "%s/a", f->dir);
	assert_int_equal(stat(dir, &st), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_user_and_group_resolve_to_ids_and_names),
		T(test_numeric_user_and_group_resolve),
		T(test_group_defaults_to_the_users_own),
		T(test_root_by_name_stays_root),
		T(test_uid_zero_under_another_name_is_refused),
		T(test_root_group_for_another_user_is_refused),
		T(test_unknown_user_or_group_is_named),
		T(test_config_owned_by_root_not_writable_by_others_is_fine),
		T(test_config_writable_by_others_or_group_is_refused),
		T(test_config_owned_by_someone_else_is_refused),
		T(test_config_missing_or_not_a_file_is_refused),
		T(test_safe_includes_are_fine),
		T(test_unsafe_or_missing_include_is_refused_with_its_line),
		T(test_nested_include_is_checked_too),
		T(test_config_dir_writable_by_others_is_refused_unless_sticky),
		T(test_socket_dir_writable_by_others_is_refused_unless_sticky),
		T(test_socket_dir_check_ignores_inet_and_disabled_doors),
		T(test_missing_file_dir_is_checked_or_created_one_level),
		T(test_pidfile_holds_our_pid_and_is_removed),
		T(test_pidfile_held_by_another_is_refused_and_kept),
		T(test_pidfile_left_by_a_dead_daemon_is_taken_over),
		T(test_pidfile_symlink_is_not_followed),
		T(test_detach_parent_exits_0_once_the_child_is_ready),
		T(test_detach_parent_exits_1_if_the_child_dies_first),
		T(test_drop_privileges_for_good),
		T(test_staying_root_changes_nothing),
		T(test_restart_changes_names_each_setting),
		T(test_reloads_are_counted_by_outcome),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
