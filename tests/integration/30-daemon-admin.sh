#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 30-daemon-admin - what an admin asks the running daemon: `mxpath route
# --daemon` (the daemon's decision, its cache and identity, and the exact
# reply of each socketmap map, checked against what postmap gets),
# `mxpath reload` (reloaded / refused FILE:LINE, exit 0 / 78), `mxpath
# stats` and `reload` with a broken file on disk, and the daemon's own log
# sinks: timestamps on -f (none under the journal), -L FILE, and the
# warning when nothing listens on /dev/log. And a control socket on TCP
# seen from another host (two network namespaces this test creates, on
# TEST-NET-1, linked only to each other): counters yes, reload and route
# no.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
NS_D=mxpath-admin-d-$$ NS_C=mxpath-admin-c-$$
netns_cleanup() {
	ip netns del "$NS_D" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
}
trap 'mxpathd_cleanup; dns_cleanup; netns_cleanup' EXIT

STAMP='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} '

dns_start_nsd ns
D=$(mxpathd_dir a)
SELF_CONF='self = { names = [ "chicago.target.edu" ]; addresses = [ ]; };' \
	mxpath_conf /dev/stdout ns > "$D/base.conf"
mxpathd_conf a "$(cat "$D/base.conf")"
cp "$D/mxpath.conf" "$D/good.conf"
mxpathd_start a

# ---- route --daemon ----
sm=$(mxpathd_query a transport u@boston.travel.edu)
check "postmap gets the route through the socketmap (warms the daemon's cache)" \
	test "$sm" = "smtp:[san-francisco.target.edu]"
"$MXPATH" route --daemon -c "$D/mxpath.conf" u@boston.travel.edu > "$D/route" 2> "$D/route.err"
check "route --daemon: exit 0 for a relay" test $? -eq 0
check "... the explanation: relay by MX, self (the daemon's identity) an MX" \
	grep -q '^u@boston.travel.edu: relay (rule mx, domain boston.travel.edu) \[self is an MX\]' "$D/route"
check "... chicago pruned as self" grep -Eq '^ +10 +chicago.target.edu +self' "$D/route"
check "... answered from the daemon's cache" grep -q 'cache hit' "$D/route"
check "... the transport map's reply is exactly what postmap got" \
	grep -Fxq "transport    u@boston.travel.edu -> OK $sm" "$D/route"
check "... the mailertable map's reply in sendmail's syntax" \
	grep -Fxq "mailertable  boston.travel.edu -> OK esmtp:[san-francisco.target.edu]" "$D/route"
check "... the same as the socketmap door gives sendmail" \
	test "OK $(mxpathd_query a mailertable boston.travel.edu)" = "OK esmtp:[san-francisco.target.edu]"
"$MXPATH" route -c "$D/mxpath.conf" --no-auto-self u@boston.travel.edu > "$D/local" 2>&1
check "... where the local route (its own cache) missed" grep -q 'cache miss' "$D/local"

"$MXPATH" route --daemon --socket "$(mxpathd_spec a control)" u@nullmx.edge.test > "$D/route" 2>&1
check "route --daemon of a null MX domain: exit 1" test $? -eq 1
check "... reject with 556 5.1.10" grep -q 'reject.*556 5.1.10' "$D/route"
"$MXPATH" route --daemon -c "$D/mxpath.conf" a@boston.travel.edu b@nullmx.edge.test > "$D/route" 2>&1
check "route --daemon of two addresses: both shown, exit 1" \
	test $? -eq 1 -a "$(grep -c '^transport ' "$D/route")" = 2
"$MXPATH" route --daemon --json -c "$D/mxpath.conf" u@boston.travel.edu > /dev/null 2>&1
check "route --daemon --json: a usage error (64)" test $? -eq 64

# ---- reload ----
"$MXPATH" reload -c "$D/mxpath.conf" > "$D/reload" 2>&1
check "mxpath reload: exit 0" test $? -eq 0
check "... prints reloaded FILE" grep -Fxq "reloaded $D/mxpath.conf" "$D/reload"
check "... counted" test "$(mxpathd_metric a 'mxpath_reloads_total{result="ok"}')" = 1

printf 'routes = ( { domain = ".example.test";\n\n  hosts = oops } );\n' > "$D/mxpath.conf"
"$MXPATH" reload --socket "$(mxpathd_spec a control)" > "$D/reload" 2> "$D/reload.err"
check "mxpath reload of a file with a syntax error: exit 78" test $? -eq 78
check "... stderr says refused: FILE:LINE: why" grep -q "^mxpath: refused: $D/mxpath.conf:3: " "$D/reload.err"
check "... nothing on stdout" test ! -s "$D/reload"
check "... and the daemon still answers" \
	test "$(mxpathd_query a transport u@boston.travel.edu)" = "$sm"
"$MXPATH" stats -c "$D/mxpath.conf" > "$D/stats" 2> "$D/stats.err"
check "mxpath stats -c FILE with a syntax error: tries the packaged default socket" \
	grep -q "asking the daemon on unix:/run/mxpath/control.sock (the default)" "$D/stats.err"
check "... after saying what is wrong with the file" grep -q "warning: $D/mxpath.conf:3: " "$D/stats.err"

{ cat "$D/good.conf"; echo 'mx = { max_hosts = 5000; };'; } > "$D/mxpath.conf"
"$MXPATH" stats -c "$D/mxpath.conf" > "$D/stats" 2> "$D/stats.err"
check "mxpath stats -c FILE with an invalid value: exit 0 (control.socket read alone)" test $? -eq 0
check "... the counters" grep -q '^mxpath_reloads_total{result="refused"} 1$' "$D/stats"
check "... and the warning names the value" grep -q "mx.max_hosts" "$D/stats.err"
"$MXPATH" reload -c "$D/mxpath.conf" > /dev/null 2> "$D/reload.err"
check "mxpath reload -c FILE with an invalid value: exit 78" test $? -eq 78
check "... refused: FILE:LINE: mx.max_hosts" grep -Eq "^mxpath: refused: $D/mxpath.conf:[0-9]+: mx.max_hosts" "$D/reload.err"

{ cat "$D/good.conf"; echo 'user = "nobody";'; } | grep -v '^user = "root"' > "$D/mxpath.conf"
"$MXPATH" reload -c "$D/mxpath.conf" > "$D/reload" 2>&1
check "mxpath reload with a setting that needs a restart: exit 0" test $? -eq 0
check "... and a warning line naming it" grep -q '^warning: user changed; the running value stays until a restart' "$D/reload"
cp "$D/good.conf" "$D/mxpath.conf"
pids=()
for i in 1 2 3 4 5; do "$MXPATH" reload -c "$D/mxpath.conf" > "$D/r$i" 2>&1 & pids+=($!); done
wait "${pids[@]}"
check "5 reloads asked at once: each one answered reloaded" \
	test "$(cat "$D"/r[1-5] | grep -c "^reloaded $D/mxpath.conf$")" = 5
check "the systemd unit reloads through mxpath reload" \
	grep -q '^ExecReload=/usr/bin/mxpath reload$' "$MXPATH_ROOT/contrib/systemd/mxpathd.service"

# ---- the log: timestamps on -f ----
check "-f: every line starts with its time" \
	sh -c "! grep -Ev '^$STAMP' '$D/log' | grep -q ." 
check "... e.g. the start line" grep -Eq "^${STAMP}mxpathd\[[0-9]+\]: mxpathd [0-9.]+ started: " "$D/log"
mxpathd_stop a
check "route --daemon with the daemon gone: exit 69" \
	sh -c "'$MXPATH' route --daemon -c '$D/mxpath.conf' u@boston.travel.edu 2>/dev/null; test \$? -eq 69"
check "reload with the daemon gone: exit 69" \
	sh -c "'$MXPATH' reload -c '$D/mxpath.conf' 2>/dev/null; test \$? -eq 69"

J=$(mxpathd_dir j)
mxpathd_conf j "$(mxpathd_literal_route)"
: > "$J/log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$J/log") mxpathd_start j
check "-f under the journal (JOURNAL_STREAM is stderr): no timestamps" \
	grep -Eq '^mxpathd\[[0-9]+\]: mxpathd [0-9.]+ started: ' "$J/log"
mxpathd_stop j

L=$(mxpathd_dir l)
mxpathd_conf l "$(mxpathd_literal_route)"
: > "$L/log"
"$MXPATHD_BIN" -c "$L/mxpath.conf" -p "$L/pid" -L "$L/file.log" 2> "$L/stderr"
check "-L FILE (detached): starts" test $? -eq 0
for _ in $(seq 50); do grep -q ' started: ' "$L/file.log" 2>/dev/null && break; sleep 0.1; done
check "... its lines go to FILE, with their time" \
	grep -Eq "^${STAMP}mxpathd\[[0-9]+\]: mxpathd [0-9.]+ started: " "$L/file.log"
check "... mode 0640" test "$(stat -c %a "$L/file.log")" = 640
check "... no /dev/log warning (it does not use syslog)" sh -c "! grep -q /dev/log '$L/stderr'"
mxpathd_query l transport u@a.example.test > /dev/null
check "... decisions are logged there" grep -q 'key=u@a.example.test' "$L/file.log"
kill "$(cat "$L/pid")"
for _ in $(seq 50); do [ -e "$L/pid" ] || break; sleep 0.1; done
check "... and the stop" grep -q 'stopped' "$L/file.log"
"$MXPATHD_BIN" -f -c "$L/mxpath.conf" -L "$L/no/such.log" > "$L/out" 2>&1
check "-L in a directory that does not exist: exit 1" test $? -eq 1
check "... naming the file" grep -q "$L/no/such.log: cannot open the log file" "$L/out"

# Without -f and -L, nothing listening on /dev/log: a warning on stderr.
nolog() {
	if [ -e /dev/log ]; then
		unshare -m sh -c 'mount --bind /dev/null /dev/log && exec "$@"' sh "$@"
	else
		"$@"
	fi
}
nolog "$MXPATHD_BIN" -c "$L/mxpath.conf" -p "$L/pid" 2> "$L/stderr"
check "detached, /dev/log missing: starts (exit 0)" test $? -eq 0
check "... after a warning on stderr" \
	grep -q 'warning: nothing listens on /dev/log: the daemon.s log lines will be lost' "$L/stderr"
for _ in $(seq 50); do [ -s "$L/pid" ] && break; sleep 0.1; done
kill "$(cat "$L/pid")" 2>/dev/null
for _ in $(seq 50); do [ -e "$L/pid" ] || break; sleep 0.1; done

# ---- a TCP client on another host: the counters, never reload or route
ip netns add "$NS_D" && ip netns add "$NS_C" &&
	ip link add mxa-d-$$ type veth peer name mxa-c-$$ &&
	ip link set mxa-d-$$ netns "$NS_D" && ip link set mxa-c-$$ netns "$NS_C" &&
	ip -n "$NS_D" addr add 192.0.2.1/24 dev mxa-d-$$ && ip -n "$NS_D" link set mxa-d-$$ up &&
	ip -n "$NS_D" link set lo up &&
	ip -n "$NS_C" addr add 192.0.2.2/24 dev mxa-c-$$ && ip -n "$NS_C" link set mxa-c-$$ up
check "two network namespaces on TEST-NET-1, linked to each other only" test $? -eq 0
mxpathd_conf r "$(mxpathd_literal_route)
control = { socket = \"inet:9100@192.0.2.1\"; };"
MXPATHD_WRAPPER="ip netns exec $NS_D" mxpathd_start r
from_c() { ip netns exec "$NS_C" "$@"; }
from_c "$MXPATH" stats --socket inet:9100@192.0.2.1 > "$L/remote-stats" 2>&1
check "from 192.0.2.2: mxpath stats gets the counters" grep -q '^mxpath_decisions_total ' "$L/remote-stats"
check "... and curl GET /metrics: 200" \
	test "$(from_c curl -sS -o /dev/null -w '%{http_code}' http://192.0.2.1:9100/metrics)" = 200
from_c "$MXPATH" reload --socket inet:9100@192.0.2.1 > /dev/null 2> "$L/remote-reload"
check "... mxpath reload: refused (exit 69)" test $? -eq 69
check "... saying it is taken from this host only" \
	grep -q 'error: reload is only taken from this host' "$L/remote-reload"
from_c "$MXPATH" route --daemon --socket inet:9100@192.0.2.1 u@a.example.test > /dev/null 2> "$L/remote-route"
check "... mxpath route --daemon: refused (exit 69)" test $? -eq 69
check "... nothing was reloaded" test "$(grep -c 'reloading' "$(mxpathd_dir r)/log")" -eq 0
MXPATHD_WRAPPER= mxpathd_stop r

finish
