#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 40-socketmap-limits.sh - the socketmap door under load and abuse: 64
# concurrent connections, 1,000 idle ones while others are served, the
# idle timeout, a client sending one byte per second, a client that never
# reads its answers (bounded memory), and socketmap.max_connections.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT

ulimit -n 4096 || { fail "cannot raise the descriptor limit to 4096"; exit 1; }
dns_start_nsd ns
mxpath_conf "$(mxpathd_dir sm)/base.conf" ns
conf() {
	mxpathd_conf sm "$(cat "$(mxpathd_dir sm)/base.conf")
socketmap = { socket = \"$(mxpathd_spec sm socketmap)\"; idle_timeout = 3; $1 };"
}
conf "max_connections = 1100;"
mxpathd_start sm
S=$(mxpathd_dir sm)/socketmap.sock
PID=$(mxpathd_pid sm)
SOFTWARE='OK smtp:[mail.software.com], [fallback.software.com], [mail.othercorp.com]'

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"
}

# ---- 64 concurrent connections ----
out=$($SMCLIENT concurrent "$S" 64 100 transport u@software.com "$SOFTWARE" 2>&1)
if [ "$out" = "ok 6400" ]; then pass "64 concurrent connections: 6,400 right answers"; else
	fail "64 concurrent connections: $out"; fi

# ---- 1,000 idle connections while others are served ----
rss_before=$(rss_kb)
$SMCLIENT hold "$S" 1000 2.5 > "$(mxpathd_dir sm)/hold" 2>&1 &
holder=$!
for i in $(seq 1 50); do
	[ -s "$(mxpathd_dir sm)/hold" ] && break
	sleep 0.1
done
open=$(mxpathd_metric sm 'mxpath_connections_open{door="socketmap"}')
began=$(date +%s%N)
out=$($SMCLIENT concurrent "$S" 8 100 transport u@software.com "$SOFTWARE" 2>&1)
ms=$((($(date +%s%N) - began) / 1000000))
rss_held=$(rss_kb)
wait $holder
if [ "$(head -n 1 "$(mxpathd_dir sm)/hold")" = "open 1000" ] && [ "${open:-0}" -ge 1000 ]; then
	pass "1,000 idle connections held open ($open open at the daemon)"
else
	fail "1,000 idle connections: $(head -n 1 "$(mxpathd_dir sm)/hold"), daemon says ${open:-?} open"
fi
if [ "$out" = "ok 800" ] && [ $ms -lt 2000 ]; then
	pass "meanwhile 800 lookups on 8 other connections in $ms ms"
else
	fail "lookups beside 1,000 idle connections: $out in $ms ms"
fi
growth=$((rss_held - rss_before))
check "1,000 idle connections cost $((growth / 1024)) MB of memory" test "$growth" -lt 16384

# ---- idle connections are closed after socketmap.idle_timeout ----
out=$($SMCLIENT hold "$S" 5 4.5 2>&1 | tail -n 1)
if [ "$out" = "closed 5" ] && mxpathd_wait_log sm 'idle for 3 s, closing' 5; then
	pass "idle connections closed after idle_timeout (3 s)"
else
	fail "idle timeout: $out"
fi

# ---- one byte per second cannot hold a slot ----
out=$($SMCLIENT slow "$S" transport u@software.com 1 20 2>&1)
secs=${out#closed after }
secs=${secs% s}
if [[ $out == "closed after "* ]] && [ "${secs%.*}" -ge 2 ] && [ "${secs%.*}" -le 5 ] &&
	mxpathd_wait_log sm 'request incomplete after 3000 ms, closing'; then
	pass "a client sending one byte per second: $out"
else
	fail "one byte per second: $out"
fi

# ---- a client that never reads: not read from, then closed; others served ----
rss_before=$(rss_kb)
$SMCLIENT noread "$S" transport u@software.com 20000 5 > "$(mxpathd_dir sm)/noread" 2>&1 &
noread=$!
sleep 1
out=$($SMCLIENT query "$S" transport u@software.com 2>&1)
rss_stuck=$(rss_kb)
wait $noread
stuck=$(cat "$(mxpathd_dir sm)/noread")
if [ "$out" = "$SOFTWARE" ]; then pass "served while a client does not read its answers"; else
	fail "beside a client that does not read: $out"; fi
if [ "$stuck" = closed ] && mxpathd_wait_log sm 'replies unread for 3 s, closing'; then
	pass "a client that never reads is closed after idle_timeout"
else
	fail "a client that never reads: $stuck"
fi
growth=$((rss_stuck - rss_before))
check "its 20,000 pipelined requests cost $growth kB (not read while it does not read)" \
	test "$growth" -lt 1024

# ---- socketmap.max_connections ----
conf "max_connections = 10;"
mxpathd_reload sm || fail "reload with max_connections = 10 refused"
$SMCLIENT hold "$S" 10 2 > /dev/null 2>&1 &
holder=$!
sleep 1
out=$($SMCLIENT query "$S" transport u@software.com 2>&1)
wait $holder
after=$($SMCLIENT query "$S" transport u@software.com 2>&1)
if [ "$out" != "$SOFTWARE" ] && mxpathd_wait_log sm 'max_connections\): refused 1 new connection' &&
	[ "$after" = "$SOFTWARE" ]; then
	pass "the 11th connection over max_connections = 10 is refused, served once a slot is free"
else
	fail "max_connections: 11th got '$out', later '$after'"
fi
check "the daemon is still running" kill -0 "$PID"
if mxpathd_stop sm; then pass "mxpathd stopped cleanly"; else fail "mxpathd exit status $?"; fi
finish
