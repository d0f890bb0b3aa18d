#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 30-daemon-reload - SIGUSR1 reloads the configuration: a changed policy
# applies to the next lookups, a bad file is refused (logged as "reload
# refused: FILE:LINE: message") while the running policy keeps serving,
# settings that need a restart are named in a warning, and the outcomes
# are counted on the control socket.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap mxpathd_cleanup EXIT

route() { mxpathd_literal_route "$1"; }
answer() { mxpathd_query r transport u@a.example.test; }

D=$(mxpathd_dir r)
mxpathd_conf r "$(route 198.51.100.7)"
mxpathd_start r
check "before: the first policy answers" test "$(answer)" = "smtp:[198.51.100.7]"

mxpathd_conf r "$(route 203.0.113.9)"
mxpathd_reload r
check "SIGUSR1 with a changed file: reloaded" test $? -eq 0
check "after: the new policy answers" test "$(answer)" = "smtp:[203.0.113.9]"
check "the reload is logged with the file" grep -q "reloaded $D/mxpath.conf" "$D/log"

cp "$D/mxpath.conf" "$D/good.conf"
printf 'routes = ( { domain = ".example.test";\n\n  hosts = oops } );\n' > "$D/mxpath.conf"
mxpathd_reload r
check "SIGUSR1 with a syntax error: refused" test $? -eq 1
check "... logged as reload refused: FILE:LINE: message" \
	grep -q "reload refused: $D/mxpath.conf:3: " "$D/log"
check "... and the running policy still answers" test "$(answer)" = "smtp:[203.0.113.9]"

mxpathd_conf r "$(route 203.0.113.10)
mx = { max_hosts = 5000; };"
mxpathd_reload r
check "SIGUSR1 with an invalid value: refused" test $? -eq 1
check "... naming the line of the value" grep -Eq "reload refused: $D/mxpath.conf:[0-9]+: mx.max_hosts" "$D/log"
check "... and the running policy still answers" test "$(answer)" = "smtp:[203.0.113.9]"

mxpathd_conf r "$(route 203.0.113.11)"
chmod 0666 "$D/mxpath.conf"
mxpathd_reload r
check "SIGUSR1 with a world-writable file: refused" test $? -eq 1
check "... saying why" grep -q "reload refused: $D/mxpath.conf: writable by others" "$D/log"
check "... and the running policy still answers" test "$(answer)" = "smtp:[203.0.113.9]"

mxpathd_conf r "$(route 203.0.113.13)
@include \"more.conf\""
printf 'mx = { max_hosts = 7; };\n' > "$D/more.conf"
chmod 0666 "$D/more.conf"
mxpathd_reload r
check "SIGUSR1 with a world-writable @include file: refused" test $? -eq 1
check "... naming the FILE:LINE of the @include" grep -Eq \
	"reload refused: $D/mxpath.conf:[0-9]+: @include \"more.conf\": $D/more.conf: writable by others" "$D/log"
check "... and the running policy still answers" test "$(answer)" = "smtp:[203.0.113.9]"

cp "$D/good.conf" "$D/mxpath.conf"
chmod 0644 "$D/mxpath.conf"
mxpathd_conf r "$(route 203.0.113.12)
socketmap = { socket = \"unix:$D/elsewhere.sock\"; };
user = \"nobody\";"
mxpathd_reload r
check "SIGUSR1 with a new socket and user: the policy is reloaded" test $? -eq 0
check "... with a warning naming what needs a restart" \
	grep -q 'reload: socketmap.socket, user changed in .*; the running value stays until a restart' "$D/log"
check "... the old socket keeps serving the new policy" test "$(answer)" = "smtp:[203.0.113.12]"
check "... and no new socket appeared" test ! -e "$D/elsewhere.sock"

check "reloads that worked are counted (2)" test "$(mxpathd_metric r 'mxpath_reloads_total{result="ok"}')" = 2
check "reloads refused are counted (4)" \
	test "$(mxpathd_metric r 'mxpath_reloads_total{result="refused"}')" = 4

# Many reloads in a row while lookups go on: every answer is one policy or the other.
mxpathd_conf r "$(route 198.51.100.7)"
bad=0
for i in $(seq 1 20); do
	kill -USR1 "$(mxpathd_pid r)"
	a=$(answer)
	case $a in "smtp:[198.51.100.7]" | "smtp:[203.0.113.12]") ;; *) bad=$((bad + 1)) ;; esac
done
check "20 reloads under lookups: every answer came from a whole policy" test "$bad" -eq 0
# (Signals sent while one is pending merge: wait for one more reload to settle.)
check "... and a last one settles on the last file" mxpathd_reload r
check "... which answers" test "$(answer)" = "smtp:[198.51.100.7]"

mxpathd_stop r
check "it stops cleanly after all that (exit 0)" test $? -eq 0

finish
