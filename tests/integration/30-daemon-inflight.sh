#!/bin/bash
# 30-daemon-inflight - what happens to lookups waiting for DNS when the
# daemon reloads or stops: a reload lets them finish on the policy they
# started with (the next ones use the new one); a stop answers them (a
# temporary failure, so the MTA retries) instead of dropping the
# connection, promptly, and still removes its sockets and pid file.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT

SMCLIENT="/usr/bin/python3 $MXPATH_ROOT/tests/lib/smclient.py"

# Every DNS answer takes 1.5 s (once the server is up): a cold lookup needs
# two rounds (MX, then the addresses).
dns_start_mock slow
dns_fault slow "delay-all 1.5"
DNS_OPTIONS='timeout_ms = 5000; tries = 1;'
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

# ---- stop while a lookup waits ----
$SMCLIENT query "$S" transport u@oreilly.com > "$D/second" 2>&1 &
client=$!
sleep 0.5
start=$(date +%s%N)
mxpathd_stop f
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait "$client"
check "SIGTERM while a lookup waits: exit 0" test "$rc" -eq 0
echo "# the stop took $ms ms"
check "... within 2 s" test "$ms" -lt 2000
check "... the waiting client got an answer, a temporary failure" grep -q '^TEMP ' "$D/second"
check "... sockets removed" test ! -e "$D/socketmap.sock" -a ! -e "$D/control.sock"
check "... pid file removed" test ! -e "$D/mxpathd.pid"

finish
