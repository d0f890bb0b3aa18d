/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.c - the mxpathd process: safety checks, its directories,
 * detaching, pid file, privileges, and the daemon's own counters
 *
 * Everything here runs once at start-up (before any thread exists) or at
 * shutdown, except the counters, which any thread may touch. Nothing here
 * knows about routes or doors; mxpathd.c puts the pieces in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mxpath/base/common.h"
#include "mxpath/config/include.h"
#include "mxpath/config/sockspec.h"
#include "mxpath/runtime/daemon.h"

static int privileges_verify(const struct daemon_user *user, char *err, size_t errlen);
static struct passwd *account_user(const char *name);
static struct group *account_group(const char *name);
static int dir_create(const char *dir, const char *what, const struct daemon_user *user,
		      bool create, char *err, size_t errlen);
static int include_check(const struct config_include *inc, void *ctx, char *err, size_t errlen);
static int config_dir_check(const char *file, char *err, size_t errlen);
static int fd_to_devnull(int fd);
static bool string_differs(const char *a, const char *b);
static bool socket_differs(const struct door_socket *a, const struct door_socket *b);
static void changes_add(char *out, size_t outlen, unsigned *count, const char *name);

/* The write end of the pipe the waiting parent reads (daemon_detach). */
static int detach_ready_fd = -1;

/* The pid file, held open and locked for the daemon's lifetime. */
static int pidfile_fd = -1;
static char *pidfile_path;

static _Atomic uint64_t stats_reloads_ok;
static _Atomic uint64_t stats_reloads_refused;
static _Atomic int64_t stats_started;
static atomic_bool stats_milter_enabled;

/* ---- who we run as ---- */

int daemon_find_user(const struct daemon_settings *settings, const char *file,
		     struct daemon_user *out, char *err, size_t errlen)
{
	const char *name = settings->user;
	struct passwd *pw;
	struct group *gr;

	memset(out, 0, sizeof(*out));
	if (name == NULL || name[0] == '\0') {
		snprintf(err, errlen, "%s: no user configured", file);
		return -1;
	}
	pw = account_user(name);
	if (pw == NULL) {
		snprintf(err, errlen, "user %s: no such user (set user = \"...\" in %s)", name,
			 file);
		return -1;
	}
	if (strlen(pw->pw_name) >= sizeof(out->name)) {
		snprintf(err, errlen, "user %s: name too long", name);
		return -1;
	}
	snprintf(out->name, sizeof(out->name), "%s", pw->pw_name);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	if (settings->group != NULL) {
		gr = account_group(settings->group);
		if (gr == NULL) {
			snprintf(err, errlen, "group %s: no such group", settings->group);
			return -1;
		}
		out->gid = gr->gr_gid;
	} else {
		gr = getgrgid(out->gid);
	}
	if (gr == NULL || strlen(gr->gr_name) >= sizeof(out->group)) {
		snprintf(err, errlen, "user %s: group %u has no usable name", name,
			 (unsigned)out->gid);
		return -1;
	}
	snprintf(out->group, sizeof(out->group), "%s", gr->gr_name);
	/* Root's powers only when the file says so in so many words. */
	out->stays_root = strcmp(name, "root") == 0;
	if (!out->stays_root && out->uid == 0) {
		snprintf(err, errlen, "user %s has uid 0: refusing to run as root unless "
			 "user = \"root\"", name);
		return -1;
	}
	if (!out->stays_root && out->gid == 0) {
		snprintf(err, errlen, "group %s has gid 0: refusing to run with root's group "
			 "unless user = \"root\"", out->group);
		return -1;
	}
	return 0;
}

/* A name, or a number (the configuration allows both). */
static struct passwd *account_user(const char *name)
{
	struct passwd *pw = getpwnam(name);
	char *end;
	unsigned long id;

	if (pw != NULL || name[0] < '0' || name[0] > '9')
		return pw;
	id = strtoul(name, &end, 10);
	return *end == '\0' && id < (unsigned long)(uid_t)-1 ? getpwuid((uid_t)id) : NULL;
}

static struct group *account_group(const char *name)
{
	struct group *gr = getgrnam(name);
	char *end;
	unsigned long id;

	if (gr != NULL || name[0] < '0' || name[0] > '9')
		return gr;
	id = strtoul(name, &end, 10);
	return *end == '\0' && id < (unsigned long)(gid_t)-1 ? getgrgid((gid_t)id) : NULL;
}

int daemon_drop_privileges(const struct daemon_user *user, char *err, size_t errlen)
{
	if (user->stays_root)
		return 0;
	if (geteuid() != 0) {
		/* Started directly as the configured user: nothing to give up. */
		if (geteuid() == user->uid && getuid() == user->uid)
			return privileges_verify(user, err, errlen);
		snprintf(err, errlen, "started as uid %u: only root can switch to user %s",
			 (unsigned)geteuid(), user->name);
		return -1;
	}
	if (setgroups(1, &user->gid) < 0) {
		snprintf(err, errlen, "setgroups(%u): %s", (unsigned)user->gid, strerror(errno));
		return -1;
	}
	if (setresgid(user->gid, user->gid, user->gid) < 0) {
		snprintf(err, errlen, "setgid(%u): %s", (unsigned)user->gid, strerror(errno));
		return -1;
	}
	if (setresuid(user->uid, user->uid, user->uid) < 0) {
		snprintf(err, errlen, "setuid(%u): %s", (unsigned)user->uid, strerror(errno));
		return -1;
	}
	return privileges_verify(user, err, errlen);
}

static int privileges_verify(const struct daemon_user *user, char *err, size_t errlen)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0) {
		snprintf(err, errlen, "getresuid: %s", strerror(errno));
		return -1;
	}
	if (ruid != user->uid || euid != user->uid || suid != user->uid) {
		snprintf(err, errlen, "still uid %u/%u/%u after switching to user %s",
			 (unsigned)ruid, (unsigned)euid, (unsigned)suid, user->name);
		return -1;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "could regain root after switching to user %s",
			 user->name);
		return -1;
	}
	return 0;
}

/* ---- files others must not control ---- */

int daemon_check_config_file(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u: refusing a configuration not owned "
			 "by root or by uid %u", path, (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: writable by %s (mode %04o): refusing it; "
			 "chmod go-w %s", path, (st.st_mode & S_IWOTH) ? "others" : "its group",
			 (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

int daemon_check_config_files(const char *path, char *err, size_t errlen)
{
	if (daemon_check_config_file(path, err, errlen) < 0 ||
	    config_dir_check(path, err, errlen) < 0)
		return -1;
	return config_include_walk(path, include_check, NULL, err, errlen);
}

/* One @include: the file and its directory as strictly as the top file. */
static int include_check(const struct config_include *inc, void *ctx, char *err, size_t errlen)
{
	char why[1024];

	(void)ctx;
	if (daemon_check_config_file(inc->path, why, sizeof(why)) == 0 &&
	    config_dir_check(inc->path, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "%s:%d: @include \"%s\": %s", inc->from, inc->line, inc->name, why);
	return -1;
}

/*
 * Whoever may replace files in the directory controls the file (sticky:
 * only their owners). Its owner is not judged: tests and some layouts keep
 * the configuration beside the sockets, in the daemon user's directory.
 */
static int config_dir_check(const char *file, char *err, size_t errlen)
{
	char *copy = xstrdup(file);
	const char *dir = dirname(copy);
	struct stat st;
	int rc = -1;

	if (stat(dir, &st) < 0)
		snprintf(err, errlen, "%s: directory %s: %s", file, dir, strerror(errno));
	else if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		snprintf(err, errlen, "%s: directory %s is writable by %s (mode %04o), not "
			 "sticky: refusing it; chmod go-w %s", file, dir,
			 (st.st_mode & S_IWOTH) ? "others" : "its group",
			 (unsigned)(st.st_mode & 07777), dir);
	else
		rc = 0;
	free(copy);
	return rc;
}

int daemon_check_socket_dir(const struct door_socket *socket, const char *what, char *err,
			    size_t errlen)
{
	return daemon_ready_socket_dir(socket, what, NULL, DIR_MISSING_REFUSE, err, errlen);
}

int daemon_ready_socket_dir(const struct door_socket *socket, const char *what,
			    const struct daemon_user *user, enum dir_missing missing, char *err,
			    size_t errlen)
{
	const char *path = sockspec_unix_path(socket->spec);
	struct stat st;

	if (path == NULL)
		return 0;
	if (daemon_ready_file_dir(path, what, user, missing, err, errlen) < 0)
		return -1;
	/* A socket left by an earlier run is replaced at start; anything else
	 * there is not ours to remove. */
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: unix:%s: exists and is not a socket; not removing it",
			 what, path);
		return -1;
	}
	return 0;
}

int daemon_ready_file_dir(const char *file, const char *what, const struct daemon_user *user,
			  enum dir_missing missing, char *err, size_t errlen)
{
	const char *slash = strrchr(file, '/');
	char dir[256];
	struct stat st;

	if (slash == NULL || (size_t)(slash - file) >= sizeof(dir)) {
		snprintf(err, errlen, "%s: %s: bad path", what, file);
		return -1;
	}
	if (slash == file)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT || missing == DIR_MISSING_REFUSE || user == NULL) {
			snprintf(err, errlen, "%s: directory %s: %s", what, dir, strerror(errno));
			return -1;
		}
		return dir_create(dir, what, user, missing == DIR_MISSING_CREATE, err, errlen);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: %s is not a directory", what, dir);
		return -1;
	}
	/* Anyone could swap the socket for their own (the sticky bit stops that). */
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen, "%s: directory %s is writable by others (mode %04o): "
			 "refusing to put a socket there", what, dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * A missing directory for our files (/run/mxpath without systemd, a socket
 * inside Postfix's queue directory): made, one level only, 0750 and owned
 * by the daemon's user and group, so that the daemon can remove its files
 * after giving up root and the MTA reaches them through the group. With
 * create false (-t), only whether it could be made.
 */
static int dir_create(const char *dir, const char *what, const struct daemon_user *user,
		      bool create, char *err, size_t errlen)
{
	const char *slash = strrchr(dir, '/');
	char parent[256];

	snprintf(parent, sizeof(parent), "%.*s", slash == dir ? 1 : (int)(slash - dir), dir);
	if (access(parent, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "%s: directory %s: No such file or directory, and it "
			 "cannot be created in %s: %s", what, dir, parent, strerror(errno));
		return -1;
	}
	if (!create)
		return 0;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create directory %s: %s", what, dir,
			 strerror(errno));
		return -1;
	}
	if (chmod(dir, 0750) < 0 ||
	    (geteuid() == 0 && chown(dir, user->uid, user->gid) < 0)) {
		snprintf(err, errlen, "%s: directory %s: %s", what, dir, strerror(errno));
		return -1;
	}
	log_info("created directory %s (%s:%s, mode 0750) for %s", dir, user->name, user->group,
		 what);
	return 0;
}

/* ---- leaving the terminal ---- */

int daemon_detach(char *err, size_t errlen)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid > 0) {
		char byte;
		ssize_t n;

		/* The parent: succeed only when the child says it is serving. */
		close(fds[1]);
		do
			n = read(fds[0], &byte, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? 0 : 1);
	}
	close(fds[0]);
	detach_ready_fd = fds[1];
	if (setsid() < 0 || chdir("/") < 0 || fd_to_devnull(STDIN_FILENO) < 0 ||
	    fd_to_devnull(STDOUT_FILENO) < 0) {
		snprintf(err, errlen, "detaching: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void daemon_detach_done(void)
{
	char byte = 1;

	if (detach_ready_fd < 0)
		return;
	if (write(detach_ready_fd, &byte, 1) < 0)
		log_warnx("cannot tell the starting process we are ready: %s", strerror(errno));
	close(detach_ready_fd);
	detach_ready_fd = -1;
	(void)fd_to_devnull(STDERR_FILENO);
}

static int fd_to_devnull(int fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return -1;
	if (null != fd && dup2(null, fd) < 0) {
		close(null);
		return -1;
	}
	if (null != fd)
		close(null);
	return 0;
}

/* ---- pid file ---- */

int daemon_pidfile_write(const char *path, char *err, size_t errlen)
{
	char line[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t len = errno == EWOULDBLOCK ? read(fd, line, sizeof(line) - 1) : -1;

		line[len > 0 ? len : 0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		if (len > 0)
			snprintf(err, errlen, "pid file %s: held by a running mxpathd (pid %s)",
				 path, line);
		else
			snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, line, (size_t)n) != n) {
		snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	pidfile_fd = fd;
	pidfile_path = xstrdup(path);
	return 0;
}

void daemon_pidfile_remove(void)
{
	if (pidfile_fd < 0)
		return;
	/* Without write access to the directory (privileges dropped), an
	 * empty file at least names no process. */
	if (unlink(pidfile_path) < 0 && ftruncate(pidfile_fd, 0) < 0)
		log_warnx("cannot remove or empty pid file %s: %s", pidfile_path,
			  strerror(errno));
	close(pidfile_fd);
	pidfile_fd = -1;
	free(pidfile_path);
	pidfile_path = NULL;
}

/* ---- what a reload cannot change ---- */

unsigned daemon_restart_changes(const struct daemon_settings *running,
				const struct daemon_settings *loaded, char *out, size_t outlen)
{
	unsigned count = 0;

	if (outlen > 0)
		out[0] = '\0';
	if (socket_differs(&running->milter, &loaded->milter))
		changes_add(out, outlen, &count, "milter.socket");
	if (running->milter_timeout != loaded->milter_timeout)
		changes_add(out, outlen, &count, "milter.timeout");
	if (socket_differs(&running->socketmap, &loaded->socketmap))
		changes_add(out, outlen, &count, "socketmap.socket");
	if (socket_differs(&running->control, &loaded->control))
		changes_add(out, outlen, &count, "control.socket");
	if (string_differs(running->user, loaded->user))
		changes_add(out, outlen, &count, "user");
	if (string_differs(running->group, loaded->group))
		changes_add(out, outlen, &count, "group");
	if (string_differs(running->pidfile, loaded->pidfile))
		changes_add(out, outlen, &count, "pidfile");
	return count;
}

static bool string_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static bool socket_differs(const struct door_socket *a, const struct door_socket *b)
{
	return string_differs(a->spec, b->spec) || string_differs(a->owner, b->owner) ||
	       string_differs(a->group, b->group) || a->mode != b->mode;
}

static void changes_add(char *out, size_t outlen, unsigned *count, const char *name)
{
	size_t len = strnlen(out, outlen);

	if (len < outlen)
		snprintf(out + len, outlen - len, "%s%s", *count > 0 ? ", " : "", name);
	(*count)++;
}

/* ---- counters ---- */

void daemon_stats_started(bool milter_enabled)
{
	atomic_store(&stats_started, (int64_t)time(NULL));
	atomic_store(&stats_milter_enabled, milter_enabled);
}

void daemon_stats_reloaded(bool ok)
{
	if (ok)
		atomic_fetch_add(&stats_reloads_ok, 1);
	else
		atomic_fetch_add(&stats_reloads_refused, 1);
}

void daemon_get_stats(struct daemon_stats *out)
{
	out->reloads_ok = atomic_load(&stats_reloads_ok);
	out->reloads_refused = atomic_load(&stats_reloads_refused);
	out->started = atomic_load(&stats_started);
	out->milter_enabled = atomic_load(&stats_milter_enabled);
}
