/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.h - the mxpathd process: safety checks, its directories,
 * detaching, pid file, privileges, and the daemon's own counters
 *
 * What a daemon must get right before it serves anything: refuse files
 * and directories others could tamper with, make a missing directory for
 * its sockets and pid file (no systemd, no tmpfiles), leave the terminal (telling
 * the parent whether start-up worked), hold a locked pid file, and give
 * up root for good. mxpathd.c wires these together with the doors.
 */
#ifndef MXPATH_DAEMON_H
#define MXPATH_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mxpath/config/settings.h"

/* sysexits.h: a configuration that cannot be used. */
#define DAEMON_EXIT_CONFIG 78

/* Who the daemon runs as once privileges are dropped. */
struct daemon_user {
	char name[64];		/* the account's names, as passwd and group have them */
	char group[64];
	uid_t uid;
	gid_t gid;
	bool stays_root;	/* user = "root" in the file: nothing to drop */
};

/* Resolves settings' user/group (file names the configuration in messages).
 * A uid 0 account other than "root" is refused. */
int daemon_find_user(const struct daemon_settings *settings, const char *file,
		     struct daemon_user *out, char *err, size_t errlen);

/* The configuration must be a regular file owned by root or by us and
 * writable by nobody else (not by its group, not by others). */
int daemon_check_config_file(const char *path, char *err, size_t errlen);
/* The same for every file it @includes (errors "FILE:LINE: @include ..."),
 * and no file's directory may be writable by its group or others unless it
 * is sticky. */
int daemon_check_config_files(const char *path, char *err, size_t errlen);
/* A unix socket's directory must exist and not be writable by others,
 * unless it is sticky. No-op for inet sockets and disabled doors. */
int daemon_check_socket_dir(const struct door_socket *socket, const char *what, char *err,
			    size_t errlen);

/* What to do when the directory of a socket or of the pid file is missing. */
enum dir_missing {
	DIR_MISSING_REFUSE,	/* an error */
	DIR_MISSING_CHECK,	/* fine if it could be created (mxpathd -t) */
	DIR_MISSING_CREATE,	/* create it: one level, 0750, owned by user */
};

/* The checks of daemon_check_socket_dir, and a missing directory (whose
 * parent exists and is writable by us) handled as missing says; the
 * socket's own path must be free or a socket. user may be NULL with
 * DIR_MISSING_REFUSE only. */
int daemon_ready_socket_dir(const struct door_socket *socket, const char *what,
			    const struct daemon_user *user, enum dir_missing missing, char *err,
			    size_t errlen);
/* The same for the directory of the file FILE (the pid file). */
int daemon_ready_file_dir(const char *file, const char *what, const struct daemon_user *user,
			  enum dir_missing missing, char *err, size_t errlen);

/*
 * Forks; the parent waits until the child calls daemon_detach_done() and
 * exits 0 (or 1 if the child died first). The child leaves the session,
 * moves to / and points stdin and stdout to /dev/null; stderr stays open
 * for start-up errors until daemon_detach_done(). Call before any thread.
 */
int daemon_detach(char *err, size_t errlen);
void daemon_detach_done(void);

/* Creates, locks (one daemon per pid file) and writes the pid file; keeps
 * it open. -1 with err if another process holds it. */
int daemon_pidfile_write(const char *path, char *err, size_t errlen);
/* Unlinks it or, without the right to (privileges dropped), empties it. */
void daemon_pidfile_remove(void);

/* setgroups, setgid, setuid; then checks root cannot be regained. */
int daemon_drop_privileges(const struct daemon_user *user, char *err, size_t errlen);

/* Names the settings that differ and only take effect at a restart
 * ("socketmap.socket, user"); returns how many. */
unsigned daemon_restart_changes(const struct daemon_settings *running,
				const struct daemon_settings *loaded, char *out, size_t outlen);

/* The daemon's own counters, for the control socket. Thread-safe. */
struct daemon_stats {
	uint64_t reloads_ok;
	uint64_t reloads_refused;
	int64_t started;		/* Unix time; 0 before daemon_stats_started() */
	bool milter_enabled;		/* the milter door runs */
};

void daemon_stats_started(bool milter_enabled);
void daemon_stats_reloaded(bool ok);
void daemon_get_stats(struct daemon_stats *out);

#endif
