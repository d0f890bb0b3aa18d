/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route_json.h - a route as one line of JSON (mxpath route --json, traces)
 *
 * {"address":..., "domain":..., "action":"relay|local|reject|tempfail",
 *  "rule":..., "reply":{"code":556,"status":"5.1.10","text":...}|null,
 *  "hops":[{"host":...,"pref":10,"addresses":[...],"via":...}],
 *  "pruned":[{"host":...,"pref":20,"reason":...}], "ttl":..., "cache":...}
 * pref is null for fallback relays; every string is escaped, and bytes
 * that are not UTF-8 become U+FFFD.
 */
#ifndef MXPATH_ROUTE_JSON_H
#define MXPATH_ROUTE_JSON_H

#include <stdio.h>

#include "mxpath/engine/route.h"

/* Writes the object and a newline; address is the recipient as given. 0 or -1 (errno). */
int route_json_write(FILE *fp, const char *address, const struct route *route);
/* One JSON string literal, quotes included. */
void json_write_string(FILE *fp, const char *s);

#endif
