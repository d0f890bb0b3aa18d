#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 46-security.sh - what 30-daemon-privileges.sh and 30-daemon-reload.sh
# leave out (issue 7): with all three doors on, every thread (libmilter's
# too) runs without root, before and after a reload; each door's socket
# gets its configured owner, group and mode; a milter or control socket
# directory writable by others is refused like the socketmap's; and one
# daemon run - cold and warm socketmap lookups, bad requests, the control
# socket, two reloads (same and new DNS servers), a stop with a lookup in
# flight - under valgrind --leak-check=full reports no definite leak and no
# memory error (with a SANITIZE=1 build, LeakSanitizer instead: the two
# do not mix).
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT

ROUTE=$(mxpathd_literal_route)

# One line of /proc/PID/status without its name.
status_field() { grep "^$2:" "$1/status" | cut -f 2-; }
ZERO_CAPS=0000000000000000

# every_thread_unprivileged PID WHEN: each task's ids are 65534 and it
# holds no capability at all.
every_thread_unprivileged() {
	local pid=$1 when=$2 t bad= n=0 caps
	for t in /proc/"$pid"/task/*; do
		n=$((n + 1))
		[ "$(status_field "$t" Uid)" = "$(printf '65534\t65534\t65534\t65534')" ] ||
			bad+=" $(basename "$t"):uid"
		[ "$(status_field "$t" Gid)" = "$(printf '65534\t65534\t65534\t65534')" ] ||
			bad+=" $(basename "$t"):gid"
		[ "$(status_field "$t" Groups | tr -d ' ')" = 65534 ] || bad+=" $(basename "$t"):groups"
		caps=$(for c in CapInh CapPrm CapEff CapAmb; do status_field "$t" $c; done | sort -u)
		[ "$caps" = $ZERO_CAPS ] || bad+=" $(basename "$t"):caps"
	done
	if [ -z "$bad" ] && [ "$n" -ge 4 ]; then
		pass "$when: all $n threads run as nobody:nogroup with no capability"
	else
		fail "$when: all threads unprivileged ($n threads; wrong:${bad:- too few threads})"
	fi
}

# ---- all three doors, as nobody ----
D=$(mxpathd_dir all)
chown nobody:nogroup "$D"
mxpathd_conf all "$ROUTE
user = \"nobody\";
group = \"nogroup\";
socketmap = { socket = \"$(mxpathd_spec all socketmap)\"; group = \"nogroup\"; mode = \"0660\"; };
milter = { socket = \"$(mxpathd_spec all milter)\"; owner = \"root\"; mode = \"0600\"; };
control = { socket = \"$(mxpathd_spec all control)\"; mode = \"0640\"; };"
# LeakSanitizer cannot follow a process that changed its uid.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 mxpathd_start all
PID=$(mxpathd_pid all)
every_thread_unprivileged "$PID" "with the milter door on"
check "socketmap socket: nobody:nogroup, mode 0660 (as configured)" \
	test "$(stat -c '%U:%G %a' "$D/socketmap.sock")" = "nobody:nogroup 660"
check "milter socket: root:nogroup, mode 0600 (as configured)" \
	test "$(stat -c '%U:%G %a' "$D/milter.sock")" = "root:nogroup 600"
check "control socket: nobody:nogroup, mode 0640 (as configured)" \
	test "$(stat -c '%U:%G %a' "$D/control.sock")" = "nobody:nogroup 640"
check "it serves as nobody" \
	test "$(mxpathd_query all transport u@a.example.test)" = "smtp:[198.51.100.7]"
mxpathd_reload all
check "it reloads as nobody" test $? -eq 0
every_thread_unprivileged "$PID" "after a reload"
mxpathd_stop all
check "it stops cleanly (exit 0)" test $? -eq 0

# ---- milter and control socket directories writable by others ----
D=$(mxpathd_dir dirs)
mkdir -m 0777 "$D/open"
chmod 0777 "$D/open"
for door in milter control; do
	mxpathd_conf dirs "$ROUTE
$door = { socket = \"unix:$D/open/$door.sock\"; };"
	mxpathd_run dirs -f -c "$D/mxpath.conf"
	check "a $door socket directory writable by others: refused" test $? -ne 0
	check "... saying why" \
		grep -q "$door.socket: directory $D/open is writable by others (mode 0777)" "$D/out"
	check "... before any socket is made" \
		test ! -e "$D/open/$door.sock" -a ! -e "$D/socketmap.sock"
done

# ---- one daemon run under valgrind ----
dns_start_mock ns --delay puntacana.dr=0.5
dns_start_mock other
D=$(mxpathd_dir vg)
mxpath_conf "$D/base.conf" ns
mxpathd_conf vg "$(cat "$D/base.conf")
local_hosts = [ \"b.cs.xyz.edu\" ];"
if [ "${SANITIZE:-0}" = 1 ]; then
	CHECKER="LeakSanitizer (SANITIZE=1 build)"
	MXPATHD_WRAPPER=
else
	require valgrind
	CHECKER=valgrind
	MXPATHD_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite
		--error-exitcode=1 --log-file=$D/valgrind.log"
fi
began=$(date +%s)
MXPATHD_WRAPPER=$MXPATHD_WRAPPER mxpathd_start vg
S=$D/socketmap.sock
out=$($SMCLIENT query "$S" transport u@boston.travel.edu u@boston.travel.edu u@b.cs.xyz.edu \
	u@nullmx.edge.test u@nosuch.edge.test 'u@[192.0.2.1]' 'u@bad..name' '*' 2>&1)
check "under $CHECKER: cold, warm, local, reject, literal and bad lookups answered" \
	test "$(wc -l <<< "$out")" -eq 8 -a "$(grep -c '^OK ' <<< "$out")" -eq 6
$SMCLIENT raw "$S" '5:a\x00b c,3:abc;' > /dev/null 2>&1
$SMCLIENT abandon "$S" transport u@listo.puntacana.dr 0.1 > /dev/null 2>&1
mxpathd_stats vg > "$D/stats" 2>&1
check "... the control socket answers" grep -q '^mxpath_decisions_total' "$D/stats"
mxpathd_reload vg
check "... a reload with the same DNS servers" test $? -eq 0
mxpath_conf "$D/base.conf" other
mxpathd_conf vg "$(cat "$D/base.conf")"
mxpathd_reload vg
check "... a reload with other DNS servers (new resolver, cache flushed)" test $? -eq 0
check "... the new servers answer" \
	test "$($SMCLIENT query "$S" transport u@software.com | cut -d, -f1)" = "OK smtp:[mail.software.com]"
# A lookup in flight when the stop comes: answered within the stop's wait.
mxpath_conf "$D/base.conf" ns
mxpathd_conf vg "$(cat "$D/base.conf")"
mxpathd_reload vg
$SMCLIENT query "$S" transport u@hep.puntacana.dr > "$D/inflight" 2>&1 &
client=$!
sleep 0.2
mxpathd_stop vg
rc=$?
wait "$client"
check "... a lookup in flight at the stop gets its answer" grep -q '^OK smtp:' "$D/inflight"
if [ "$rc" -eq 0 ]; then
	pass "$CHECKER: no definite leak, no memory error, exit 0 ($(( $(date +%s) - began )) s)"
else
	fail "$CHECKER: no definite leak, no memory error (exit $rc)"
	sed 's/^/    # /' "$D/valgrind.log" 2>/dev/null | grep -v '^    # ==[0-9]*== *$' | head -n 60
fi
if [ "$CHECKER" = valgrind ]; then
	check "valgrind's summary: nothing definitely lost" \
		grep -Eq 'definitely lost: 0 bytes|All heap blocks were freed' "$D/valgrind.log"
fi

finish
