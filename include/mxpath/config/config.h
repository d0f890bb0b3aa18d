/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - load and validate a configuration file (libconfig syntax)
 *
 * A missing key takes its default; every error is reported as
 * "FILE:LINE: what is wrong" and the whole file is refused.
 */
#ifndef MXPATH_CONFIG_H
#define MXPATH_CONFIG_H

#include <stddef.h>

#include "mxpath/config/settings.h"
#include "mxpath/engine/policy.h"

#define CONFIG_DEFAULT_FILE "/etc/mxpath/mxpath.conf"
#define CONFIG_ERROR_MAX 512

/* The built-in defaults, as if from an empty file. Never fails. */
struct policy *config_defaults(void);
void config_settings_defaults(struct daemon_settings *settings);	/* clear them after */

/*
 * 0 and *out set, or -1 with err holding "FILE:LINE: message". settings,
 * if not NULL, gets the daemon's own settings (daemon_settings_clear()
 * them); NULL when only the policy is wanted.
 */
int config_load_file(const char *path, struct policy **out, struct daemon_settings *settings,
		     char *err, size_t errlen);
/*
 * A comma-separated list of DNS servers ("192.0.2.53,[2001:db8::53]:5353"),
 * each checked and normalised as dns.servers in a file, duplicates refused
 * (mxpath route --dns). 0 with *servers (free each, then the array) and *n
 * set, or -1 with err ("bad DNS server \"x\": not an IP address").
 */
int config_parse_servers(const char *list, char ***servers, size_t *n, char *err, size_t errlen);

/* The same from a string; name stands for the file in messages. */
int config_load_string(const char *text, const char *name, struct policy **out,
		       struct daemon_settings *settings, char *err, size_t errlen);
/* The string at key ("control.socket") if the file is valid libconfig
 * syntax, whatever else is wrong with it: 0, or -1. */
int config_peek_string(const char *path, const char *key, char *out, size_t outlen);

#endif
