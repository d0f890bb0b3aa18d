/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route_text.h - a route explained for people (mxpath route)
 *
 * One block per recipient: the decision line (action, rule, what matched,
 * the SMTP reply), an aligned table of hops, the pruned hosts with their
 * reasons, then TTL and cache state.
 */
#ifndef MXPATH_ROUTE_TEXT_H
#define MXPATH_ROUTE_TEXT_H

#include <stdio.h>

#include "mxpath/engine/route.h"

/* 0 or -1 (errno). */
int route_text_write(FILE *fp, const char *address, const struct route *route);

#endif
