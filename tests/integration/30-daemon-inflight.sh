#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 30-daemon-inflight - what happens to lookups waiting for DNS when the
# daemon reloads or stops: a reload lets them finish on the policy they
# started with (the next ones use the new one); a stop closes the doors at
# once (a new client is refused, not left hanging), waits up to 2 s for the
# lookups in flight so they get their real answer, answers what is still
# waiting then with a temporary failure (the MTA retries) instead of
# dropping the connection, and still removes its sockets and pid file.
# (31-daemon-stop-bounded: the same under load, with the milter door.)
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT

# Every DNS answer takes 0.8 s (once the server is up): a cold lookup needs
# two rounds (MX, then the addresses).
dns_start_mock slow
dns_fault slow "delay-all 0.8"
# A dropped query would wait 10 s: longer than a stop waits.
DNS_OPTIONS='timeout_ms = 10000; tries = 1;'
export DNS_OPTIONS
D=$(mxpathd_dir f)
mxpath_conf "$D/base.conf" slow
mxpathd_conf f "$(cat "$D/base.conf")"
mxpathd_start f
S=unix:$D/socketmap.sock

# ---- reload while a lookup waits ----
$SMCLIENT query "$S" transport u@boston.travel.edu > "$D/first" 2>&1 &
client=$!
sleep 0.5
# The new policy routes boston.travel.edu statically.
mxpathd_conf f "$(cat "$D/base.conf")
routes = ( { domain = \"boston.travel.edu\";
             hosts = ( { host = \"[203.0.113.5]\"; pref = 10; } ); } );"
mxpathd_reload f
check "a reload while a lookup waits for DNS succeeds" test $? -eq 0
wait "$client"
check "the waiting lookup finished on its own policy (DNS MX route)" \
	grep -q 'OK smtp:\[san-francisco.target.edu\]' "$D/first"
check "the next lookup uses the new policy (static route)" \
	test "$(mxpathd_query f transport u@boston.travel.edu)" = "smtp:[203.0.113.5]"

# stop_while_waiting NAME KEY OUT: asks KEY, sends SIGTERM 0.5 s later while
# it waits for DNS, then tries a new lookup during the stop; sets rc, ms
# (how long the stop took) and late (the new lookup's output).
stop_while_waiting() {
	local name=$1 key=$2 out=$3 client start
	$SMCLIENT query "$S" transport "$key" > "$out" 2>&1 &
	client=$!
	sleep 0.5
	start=$(date +%s%N)
	kill -TERM "$(mxpathd_pid "$name")"
	sleep 0.3
	late=$(timeout 5 $SMCLIENT query "$S" transport u@oreilly.com 2>&1)
	mxpathd_stop "$name"
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	wait "$client"
}

# ---- stop while a lookup waits, DNS answers within the window ----
# oreilly.com: MX at 0.8 s, addresses at 1.6 s, 1.1 s after the stop.
stop_while_waiting f u@oreilly.com "$D/second"
check "SIGTERM while a lookup waits: exit 0" test "$rc" -eq 0
echo "# the stop took $ms ms"
check "... the waiting client got its real answer, not a failure" \
	grep -q '^OK smtp:\[ora.oreilly.com\]' "$D/second"
check "... the stop waited for it, and no longer (1 s to 2 s)" \
	test "$ms" -ge 1000 -a "$ms" -lt 2000
check "... a new client during the stop is refused at once" \
	grep -Eq 'No such file|Connection refused' <<< "$late"
check "... sockets removed" test ! -e "$D/socketmap.sock" -a ! -e "$D/control.sock"
check "... pid file removed" test ! -e "$D/mxpathd.pid"
check "... no lookup left over at the deadline" \
	sh -c "! grep -q 'answered with a temporary failure' '$D/log'"

# ---- stop while a lookup waits past the window ----
# software.com's MX query is never answered (c-ares would wait 10 s).
dns_fault slow "delay-all 0.8" "drop software.com"
mxpathd_start f
stop_while_waiting f u@software.com "$D/third"
check "SIGTERM while a lookup waits past the window: exit 0" test "$rc" -eq 0
echo "# the stop took $ms ms"
check "... the stop gave up after 2 s (2 s to 3.5 s)" test "$ms" -ge 2000 -a "$ms" -lt 3500
check "... the waiting client got a temporary failure" \
	grep -q '^TEMP .*stopping' "$D/third"
check "... the log says one lookup was cut short" \
	grep -q 'stopping: 1 lookup(s) waiting for DNS answered with a temporary failure' "$D/log"
check "... sockets removed" test ! -e "$D/socketmap.sock" -a ! -e "$D/control.sock"
check "... pid file removed" test ! -e "$D/mxpathd.pid"

finish
