#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 30-daemon-milter - one process, both doors around one router: with the
# milter door on, libmilter's smfi_main() runs in the main thread and owns
# SIGTERM/SIGINT/SIGHUP (a stop), our signal thread still reloads on SIGUSR1,
# the milter socket gets its owner, group and mode, and a stop removes it
# (libmilter leaves it behind when running as root).
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap mxpathd_cleanup EXIT

require miltertest

route() {
	mxpathd_literal_route "$1"
	printf 'milter = { socket = "%s"; group = "nogroup"; mode = "0660"; };\n' \
		"$(mxpathd_spec m milter)"
}

D=$(mxpathd_dir m)
mxpathd_conf m "$(route 198.51.100.7)"
mxpathd_start m
check "the startup line names both doors" \
	grep -q "socketmap unix:$D/socketmap.sock; milter unix:$D/milter.sock; control" "$D/log"
check "milter socket has mode 0660" test "$(stat -c %a "$D/milter.sock")" = 660
check "milter socket has group nogroup, owner the daemon's user" \
	test "$(stat -c %U:%G "$D/milter.sock")" = root:nogroup

# One SMTP transaction through the milter door: a routable recipient goes
# on, a malformed one is rejected at RCPT.
cat > "$D/session.lua" <<'EOF'
local conn = mt.connect("unix:" .. SOCK, 20, 0.1)
if conn == nil then error("cannot connect") end
assert(mt.conninfo(conn, "client.test", "192.0.2.25") == nil, "conninfo")
assert(mt.getreply(conn) == SMFIR_CONTINUE, "connect not CONTINUE")
assert(mt.mailfrom(conn, "<sender@client.test>") == nil, "mailfrom")
assert(mt.getreply(conn) == SMFIR_CONTINUE, "mail not CONTINUE")
assert(mt.rcptto(conn, "<user@a.example.test>") == nil, "rcpt 1")
assert(mt.getreply(conn) == SMFIR_CONTINUE, "routable rcpt not CONTINUE")
assert(mt.rcptto(conn, "<user@bad..example.test>") == nil, "rcpt 2")
assert(mt.getreply(conn) == SMFIR_REPLYCODE, "malformed rcpt not rejected")
mt.disconnect(conn)
mt.echo("session ok")
EOF
miltertest -D SOCK="$D/milter.sock" -s "$D/session.lua" > "$D/mt.out" 2>&1
check "a milter session: routable recipient goes on, malformed one is rejected" \
	grep -q 'session ok' "$D/mt.out"
check "the socketmap door answers from the same router" \
	test "$(mxpathd_query m transport u@a.example.test)" = "smtp:[198.51.100.7]"
check "milter recipients are counted (relay 1)" \
	test "$(mxpathd_metric m 'mxpath_milter_recipients_total{action="relay"}')" = 1
check "milter recipients are counted (reject 1)" \
	test "$(mxpathd_metric m 'mxpath_milter_recipients_total{action="reject"}')" = 1
check "milter sessions are counted as connections" \
	test "$(mxpathd_metric m 'mxpath_connections_total{door="milter"}')" = 1
check "one router decided for both doors (3 decisions)" test "$(mxpathd_metric m mxpath_decisions_total)" = 3

mxpathd_conf m "$(route 203.0.113.9)"
mxpathd_reload m
check "SIGUSR1 reloads with the milter door on" test $? -eq 0
check "... the new policy answers" \
	test "$(mxpathd_query m transport u@a.example.test)" = "smtp:[203.0.113.9]"
miltertest -D SOCK="$D/milter.sock" -s "$D/session.lua" > "$D/mt.out" 2>&1
check "... and the milter door still serves" grep -q 'session ok' "$D/mt.out"

start=$(date +%s%N)
mxpathd_stop m
check "SIGTERM (through libmilter): exit 0" test $? -eq 0
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# stop took $ms ms (libmilter looks at its stop flag every 5 s)"
check "SIGTERM: the stop took less than 7 s" test "$ms" -lt 7000
check "SIGTERM: milter socket removed" test ! -e "$D/milter.sock"
check "SIGTERM: socketmap and control sockets removed" \
	test ! -e "$D/socketmap.sock" -a ! -e "$D/control.sock"
check "SIGTERM: pid file removed" test ! -e "$D/mxpathd.pid"
check "SIGTERM: the end is logged" grep -q 'mxpathd [0-9.]* stopped' "$D/log"

mxpathd_start m
mxpathd_stop m HUP
check "SIGHUP stops too (libmilter's rule), exit 0" test $? -eq 0
check "SIGHUP: milter socket removed" test ! -e "$D/milter.sock"

# Only the milter door: main waits in smfi_main, the loop serves control.
mxpathd_conf m "$(route 198.51.100.7)
socketmap = { };"
mxpathd_start m
check "a milter-only daemon starts" grep -q "socketmap off; milter unix:$D/milter.sock" "$D/log"
check "... has no socketmap socket" test ! -e "$D/socketmap.sock"
check "... and counts on its control socket" test -n "$(mxpathd_metric m mxpath_decisions_total)"
mxpathd_stop m INT
check "SIGINT stops a milter-only daemon, exit 0" test $? -eq 0

finish
