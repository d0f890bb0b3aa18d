/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * settings.c - release the daemon's settings (see settings.h)
 *
 * config.c fills a struct daemon_settings; whoever holds it clears it.
 */
#include <stdlib.h>
#include <string.h>

#include "mxpath/config/settings.h"

static void door_socket_clear(struct door_socket *socket);

void daemon_settings_clear(struct daemon_settings *settings)
{
	door_socket_clear(&settings->milter);
	door_socket_clear(&settings->socketmap);
	door_socket_clear(&settings->control);
	free(settings->user);
	free(settings->group);
	free(settings->pidfile);
	memset(settings, 0, sizeof(*settings));
}

static void door_socket_clear(struct door_socket *socket)
{
	free(socket->spec);
	free(socket->owner);
	free(socket->group);
}
