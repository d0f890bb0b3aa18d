/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hop_memory.h - the hop order the milter decided, kept for the socketmap
 *
 * Postfix asks the milter about a recipient at RCPT time and the
 * socketmap (transport_maps) about it again when it delivers; each
 * decision would shuffle the equal-preference hops afresh, so the order
 * the milter logs and stamps in its trace header would not be the one
 * Postfix tries. The milter's decision writes its order down here, keyed
 * by the recipient, and a socketmap decision for that recipient follows
 * it for a few minutes. Loop thread only (the router's).
 */
#ifndef MXPATH_HOP_MEMORY_H
#define MXPATH_HOP_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "mxpath/engine/route.h"

/* How long an order is kept after the milter's decision: from RCPT to the
 * MTA's delivery lookup (the DATA of a slow client, the queue manager's
 * pick-up). */
#define HOP_MEMORY_KEEP_MS 300000u	/* 5 minutes */
/* A milter decision for a recipient decided less than this ago follows
 * that order instead of shuffling (two messages to one recipient in
 * flight at once then agree); older, it shuffles afresh. */
#define HOP_MEMORY_SHARE_MS 30000u	/* 30 seconds */
#define HOP_MEMORY_ENTRIES 20000	/* the oldest goes first */

struct hop_memory;

struct hop_memory *hop_memory_new(size_t max_entries);
void hop_memory_free(struct hop_memory **memory);

/* The milter's decision: follows a recent order for recipient, or writes
 * this route's order down. */
void hop_memory_decide(struct hop_memory *memory, const char *recipient, struct route *route,
		       uint64_t now_ms);
/* The socketmap's decision: follows the order kept for recipient, if any. */
void hop_memory_follow(const struct hop_memory *memory, const char *recipient,
		       struct route *route, uint64_t now_ms);

size_t hop_memory_entries(const struct hop_memory *memory);

#endif
