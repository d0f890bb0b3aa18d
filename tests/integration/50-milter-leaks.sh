#!/bin/bash
# 50-milter-leaks.sh - 1,000 milter sessions against mxpathd leak nothing
#
# mxpathd runs under valgrind --leak-check=full (or, in a SANITIZE=1 build,
# with AddressSanitizer's leak checker, since the two do not mix) with the
# milter door's rewriting and trace header on, serves 1,000 sessions
# (tests/milter/sessions.lua: two messages each, refused, accepted and
# rewritten recipients, aborts, dropped connections), then stops. Every
# byte a session or a transaction took must be back: no definitely or
# indirectly lost blocks, and no memory errors.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"

MXPATHD=$MXPATH_ROOT/$BUILD/mxpathd
[ -x "$MXPATHD" ] || MXPATHD=$BUILD/mxpathd
LUA_DIR=$MXPATH_ROOT/tests/milter
SESSIONS=1000
WORK=$(mktemp -d /tmp/mxpath-milter-leaks.XXXXXX)
SOCK=$WORK/milter.sock
DAEMON_PID=

daemon_stop() {
	local i
	[ -n "$DAEMON_PID" ] || return 0
	kill "$DAEMON_PID" 2>/dev/null
	for i in $(seq 1 300); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		fail "mxpathd stops within 30 s of SIGTERM"
		kill -9 "$DAEMON_PID" 2>/dev/null
	fi
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_RC=$?
	DAEMON_PID=
}

cleanup() {
	daemon_stop
	dns_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT

if [ "${SANITIZE:-0}" = 1 ]; then
	CHECKER=asan
	need=(miltertest)
else
	CHECKER=valgrind
	need=(miltertest valgrind)
fi
for tool in "${need[@]}"; do
	command -v "$tool" > /dev/null || { fail "prerequisite missing: $tool"; finish; exit 1; }
done
[ -x "$MXPATHD" ] || { fail "prerequisite missing: $MXPATHD (make first)"; finish; exit 1; }

dns_start_mock dns
# Root, so the checker can write its report at exit (nobody could not).
SELF_CONF='self = { names = [ "a.cs.xyz.edu" ]; addresses = [ ]; };'
mxpath_conf "$WORK/mxpath.conf" dns "
clusters = ( { name = \"cluster.cs.xyz.edu\";
               members = ( { host = \"b.cs.xyz.edu\"; pref = 10; },
                           { host = \"d.cs.xyz.edu\"; pref = 20; } ); } );
milter = { socket = \"unix:$SOCK\"; rewrite_clusters = true; trace_header = true; };
user = \"root\"; group = \"root\";"

if [ "$CHECKER" = valgrind ]; then
	valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		--log-file="$WORK/valgrind.log" \
		"$MXPATHD" -f -c "$WORK/mxpath.conf" > "$WORK/mxpathd.log" 2>&1 &
else
	ASAN_OPTIONS="log_path=$WORK/asan:detect_leaks=1:abort_on_error=0" \
		"$MXPATHD" -f -c "$WORK/mxpath.conf" > "$WORK/mxpathd.log" 2>&1 &
fi
DAEMON_PID=$!
for i in $(seq 1 300); do
	[ -S "$SOCK" ] && break
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done
if [ ! -S "$SOCK" ]; then
	fail "mxpathd under $CHECKER opens $SOCK"
	sed 's/^/    # /' "$WORK/mxpathd.log" "$WORK/valgrind.log" 2>/dev/null | tail -n 20
	finish
	exit 1
fi

start=$(date +%s)
if miltertest -D SOCK="$SOCK" -D MILTER_DIR="$LUA_DIR" -D COUNT="$SESSIONS" \
	-s "$LUA_DIR/sessions.lua" > "$WORK/lua.out" 2>&1; then
	pass "$SESSIONS milter sessions under $CHECKER ($(( $(date +%s) - start )) s)"
else
	fail "$SESSIONS milter sessions under $CHECKER"
	sed 's/^/    # /' "$WORK/lua.out" | tail -n 10
fi
decisions=$(grep -c 'milter: .*rcpt=.* action=' "$WORK/mxpathd.log")
# Per session: 2 messages x 3 recipients.
if [ "$decisions" -eq $((SESSIONS * 6)) ]; then
	pass "every recipient decided and logged ($decisions)"
else
	fail "every recipient decided and logged ($decisions, want $((SESSIONS * 6)))"
fi

daemon_stop
if [ "$CHECKER" = valgrind ]; then
	if [ "${DAEMON_RC:-1}" -eq 0 ]; then
		pass "valgrind: no leaks, no memory errors"
	else
		fail "valgrind: no leaks, no memory errors (exit ${DAEMON_RC:-?})"
		sed 's/^/    # /' "$WORK/valgrind.log" | head -n 60
	fi
else
	if ls "$WORK"/asan* > /dev/null 2>&1; then
		fail "AddressSanitizer: no leaks, no memory errors"
		cat "$WORK"/asan* | sed 's/^/    # /' | head -n 60
	elif [ "${DAEMON_RC:-1}" -ne 0 ]; then
		fail "mxpathd exits 0 (exit ${DAEMON_RC:-?})"
	else
		pass "AddressSanitizer: no leaks, no memory errors"
	fi
fi
finish
