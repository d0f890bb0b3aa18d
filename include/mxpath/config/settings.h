/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * settings.h - the daemon's own settings: its sockets, user, pid file
 *
 * What mxpathd reads from the configuration for itself rather than for
 * routing: the doors' sockets (with owner, group and mode), the account
 * it runs as, its pid file and libmilter's I/O timeout. They take effect
 * at start only (a reload names the ones that changed), so they live
 * apart from the reference-counted struct policy that the engine and the
 * doors read per request. The engine never sees a socket spec.
 */
#ifndef MXPATH_SETTINGS_H
#define MXPATH_SETTINGS_H

#include <sys/types.h>

/* A socket a door listens on; the grammar is sockspec.h's. */
struct door_socket {
	char *spec;		/* NULL: this door is disabled */
	char *owner;		/* unix sockets: NULL keeps the daemon user */
	char *group;
	mode_t mode;		/* 0: not set (the socket stays 0600) */
};

struct daemon_settings {
	struct door_socket milter;	/* default: disabled, mode 0660 */
	struct door_socket socketmap;	/* default: disabled, mode 0660 */
	struct door_socket control;	/* default: disabled, mode 0600 */
	unsigned milter_timeout;	/* 7200: libmilter I/O timeout, seconds */
	char *user;			/* "mxpath" */
	char *group;			/* "mxpath" */
	char *pidfile;			/* NULL: none */
};

/* Frees the strings and zeroes *settings (the struct itself is the caller's). */
void daemon_settings_clear(struct daemon_settings *settings);

#endif
