/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udpsock.h - a fresh UDP socket, so a fresh source port, for every DNS
 * question c-ares sends (RFC 5452 section 9.2)
 *
 * c-ares 1.18 keeps one UDP socket per server while any query is in
 * flight, so a burst of questions leaves from one port and only the 16-bit
 * ID protects the answers; it has no ARES_OPT_UDP_MAX_QUERIES. These socket
 * functions (ares_set_socket_functions) give c-ares an epoll descriptor as
 * its "UDP socket" and send each datagram from a new connected socket
 * watched by it, as glibc's resolver does. TCP passes straight through.
 * Event-loop thread only, like the channel.
 */
#ifndef MXPATH_UDPSOCK_H
#define MXPATH_UDPSOCK_H

#include <ares.h>

struct udpsock;

/* max_wait_ms: the longest c-ares waits for one answer; a socket left
 * unanswered longer is closed. */
struct udpsock *udpsock_new(unsigned max_wait_ms);
/* Only after ares_destroy() of every channel it was attached to. */
void udpsock_free(struct udpsock **u);
/* Before the channel's first query. */
void udpsock_attach(struct udpsock *u, ares_channel channel);

#endif
