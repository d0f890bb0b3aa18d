/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * null_milter.c - a do-nothing libmilter milter: the baseline that the
 * "milter" row of tests/bench/run-bench measures mxpathd's milter door
 * against
 *
 * It asks the MTA for the same protocol steps as plugin/doors/milter.c
 * (connect, MAIL, RCPT, end of message; no HELO, headers or body) and
 * answers each at once without looking at it, so what is left is the
 * cost of the milter protocol itself: libmilter's thread per connection,
 * the socket round trips, the MTA's side. Runs until killed.
 *
 *   null_milter unix:PATH | inet:PORT@127.0.0.1
 */
#include <stdbool.h>
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <sys/stat.h>

/* The steps plugin/doors/milter.c drops (STEPS_UNUSED there). */
#define NULL_STEPS_UNUSED (SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | \
			   SMFIP_NOUNKNOWN | SMFIP_NODATA)

static sfsistat null_negotiate(SMFICTX *ctx, unsigned long offered_actions,
			       unsigned long offered_steps, unsigned long f2, unsigned long f3,
			       unsigned long *actions, unsigned long *steps, unsigned long *p2,
			       unsigned long *p3);
static sfsistat null_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr);
static sfsistat null_envelope(SMFICTX *ctx, char **argv);
static sfsistat null_eom(SMFICTX *ctx);
static sfsistat null_continue(SMFICTX *ctx);

static struct smfiDesc null_desc = {
	.xxfi_name = "null",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_connect = null_connect,
	.xxfi_envfrom = null_envelope,
	.xxfi_envrcpt = null_envelope,
	.xxfi_eom = null_eom,
	.xxfi_abort = null_continue,
	.xxfi_close = null_continue,
	.xxfi_negotiate = null_negotiate,
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: null_milter unix:PATH | inet:PORT@HOST\n");
		return 2;
	}
	umask(0);	/* the MTA's user must be able to connect to the socket */
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(null_desc) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "null_milter: listening on %s\n", argv[1]);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}

static sfsistat null_negotiate(SMFICTX *ctx, unsigned long offered_actions,
			       unsigned long offered_steps, unsigned long f2, unsigned long f3,
			       unsigned long *actions, unsigned long *steps, unsigned long *p2,
			       unsigned long *p3)
{
	(void)ctx;
	(void)offered_actions;
	(void)f2;
	(void)f3;
	*actions = 0;
	*steps = NULL_STEPS_UNUSED & offered_steps;
	*p2 = 0;
	*p3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat null_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	(void)hostname;
	(void)hostaddr;
	return null_continue(ctx);
}

static sfsistat null_envelope(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return null_continue(ctx);
}

static sfsistat null_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static sfsistat null_continue(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}
