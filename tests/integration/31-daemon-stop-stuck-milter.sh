#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 31-daemon-stop-stuck-milter - a stop is bounded even when libmilter never
# gives smfi_main() back. Debian's libmilter can deadlock in its own
# teardown (its pool controller destroys the pool's lock while the listener
# still takes it; seen under make tsan): smfi_main() then never returns.
# Here an LD_PRELOAD shim makes that happen every time: it runs the real
# smfi_main() and then never returns. mxpathd must still exit 0 within the
# bound that mxpathd(8) documents, say why in its log, and remove its
# sockets and pid file; the milter door must have served before the stop.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT

STOP_BOUND_S=10		# mxpathd(8), SIGNALS
D=$(mxpathd_dir stuck)

cat > "$D/stuck.c" <<'SHIM'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <unistd.h>

/* libmilter's smfi_main(), which then never returns. */
int smfi_main(void)
{
	int (*real)(void) = (int (*)(void))dlsym(RTLD_NEXT, "smfi_main");

	if (real != NULL)
		real();
	for (;;)
		pause();
}
SHIM
check "the shim builds" cc -shared -fPIC -o "$D/stuck.so" "$D/stuck.c" -ldl

dns_start_nsd ns
mxpath_conf "$D/base.conf" ns
mxpathd_conf stuck "$(cat "$D/base.conf")
milter = { socket = \"unix:$D/milter.sock\"; };"
# An ASan build wants its runtime first; the shim is loaded before it.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	MXPATHD_WRAPPER="env LD_PRELOAD=$D/stuck.so" mxpathd_start stuck
check "the milter door serves with the shim in place" \
	grep -q 'rcpt <u@oreilly.com> c' <($MILTC session "$D/milter.sock" '<u@oreilly.com>')

start=$(date +%s%N)
mxpathd_stop stuck
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "mxpathd exited with status 0 (status $rc)" test "$rc" -eq 0
check "the stop took ${ms} ms, within the documented ${STOP_BOUND_S} s" \
	test "$ms" -le $(( STOP_BOUND_S * 1000 ))
check "mxpathd logged that libmilter did not return, and stopped" \
	grep -q 'milter door: libmilter did not return within 7000 ms of the stop' "$D/log"
check "mxpathd logged its stop" grep -q 'mxpathd .* stopped$' "$D/log"
check "its sockets and pid file are gone" \
	test ! -e "$D/milter.sock" -a ! -e "$D/socketmap.sock" -a ! -e "$D/mxpathd.pid"
finish
