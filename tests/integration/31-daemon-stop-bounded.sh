#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 31-daemon-stop-bounded - a stop under load ends within the bound that
# mxpathd(8) documents, and every client still waiting gets a temporary
# failure, not a dropped connection: 10 milter sessions and 10 socketmap
# lookups wait for DNS answers that never come (the server drops the
# queries; mxpathd would wait 20 s a try for each), then SIGTERM. Each milter
# client must get 451 4.3.2 for its recipient, each socketmap client TEMP;
# a socketmap client that connects after the signal must be refused; the
# process must be gone within STOP_BOUND_S seconds.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'cp "$(mxpathd_dir s)/log" /tmp/stop-test.log 2>/dev/null; mxpathd_cleanup; dns_cleanup' EXIT

STOP_BOUND_S=10		# mxpathd(8), SIGNALS: "a stop takes at most 10 s"
WAITERS=10

dns_start_mock dead
dns_fault dead "drop slow.test"
DNS_OPTIONS='timeout_ms = 20000; tries = 3;'	# 20 s a try: no answer before the stop, however slowly the clients start
export DNS_OPTIONS
export SMCLIENT_TIMEOUT=60	# the lookups wait on purpose
D=$(mxpathd_dir s)
mxpath_conf "$D/base.conf" dead
mxpathd_conf s "$(cat "$D/base.conf")
milter = { socket = \"unix:$D/milter.sock\"; };"
mxpathd_start s
S=unix:$D/socketmap.sock

# One lookup at a time, each waiting for DNS before the next starts:
# libmilter's worker pool may leave a session that became ready at the same
# instant as another unserved while every worker waits (milter.c, Threads).
asked() { grep -cE "^Q udp $1 MX\$" "$DNS_WORK/dead/log"; }
waits() {	# NAME: its MX question reached the server (30 s: slow starts under load)
	local _
	for _ in $(seq 1 300); do (( $(asked "$1") > 0 )) && return 0; sleep 0.1; done
	return 1
}
pids=()
waiting=0
for i in $(seq 1 "$WAITERS"); do
	$MILTC session "$D/milter.sock" "<u$i@m$i.slow.test>" > "$D/out-milter.$i" 2>&1 &
	pids+=($!)
	waits "m$i\.slow\.test" && waiting=$((waiting + 1))
	$SMCLIENT query "$S" transport "u$i@s$i.slow.test" > "$D/out-sockmap.$i" 2>&1 &
	pids+=($!)
	waits "s$i\.slow\.test" && waiting=$((waiting + 1))
done
check "$(( 2 * WAITERS )) lookups wait for DNS answers that never come ($waiting)" \
	test "$waiting" -eq $(( 2 * WAITERS ))

start=$(date +%s%N)
kill -TERM "$(mxpathd_pid s)"
sleep 0.5
late=$(timeout 5 $SMCLIENT query "$S" transport u@oreilly.com 2>&1)
mxpathd_stop s
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
for pid in "${pids[@]}"; do wait "$pid"; done

check "the stop ended with status 0 (status $rc)" test "$rc" -eq 0
check "the stop took ${ms} ms, within the documented ${STOP_BOUND_S} s" \
	test "$ms" -le $(( STOP_BOUND_S * 1000 ))
check "a client that came after the signal was refused, not left waiting ($late)" \
	grep -Eqi 'refused|no such file|connect' <<< "$late"
all_milter_451() {	# else print the sessions without it, with what they printed
	local f rc=0
	for f in "$D"/out-milter.*; do
		grep -q 'rcpt <u[0-9]*@m[0-9]*\.slow\.test> y 451 4\.3\.2' "$f" && continue
		echo "$f:"; tail -n 5 "$f"; rc=1
	done
	return $rc
}
check "each of the $WAITERS milter sessions got 451 4.3.2 for its recipient" all_milter_451
sockmap_ok=$(grep -l '^TEMP ' "$D"/out-sockmap.* | wc -l)
check "each of the $WAITERS socketmap lookups got TEMP ($sockmap_ok)" \
	test "$sockmap_ok" -eq "$WAITERS"
check "mxpathd logged how many it answered with a temporary failure" \
	grep -Eq 'stopping: [0-9]+ lookup\(s\) waiting for DNS answered with a temporary failure' \
	"$D/log"
finish
