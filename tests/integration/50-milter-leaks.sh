#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
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
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT

LUA_DIR=$MXPATH_ROOT/tests/milter
SESSIONS=1000
D=$(mxpathd_dir leaks)
SOCK=$D/milter.sock

if [ "${SANITIZE:-0}" = 1 ]; then
	CHECKER=asan
	require miltertest
else
	CHECKER=valgrind
	require miltertest valgrind
	# shellcheck disable=SC2034 # read by mxpathd_start
	MXPATHD_WRAPPER="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file=$D/valgrind.log"
fi

dns_start_mock dns
# Root, so the checker can write its report at exit (nobody could not).
mxpathd_conf leaks "$(SELF_CONF='self = { names = [ "a.cs.xyz.edu" ]; addresses = [ ]; };' \
	mxpath_conf /dev/stdout dns "
clusters = ( { name = \"cluster.cs.xyz.edu\";
               members = ( { host = \"b.cs.xyz.edu\"; pref = 10; },
                           { host = \"d.cs.xyz.edu\"; pref = 20; } ); } );
milter = { socket = \"unix:$SOCK\"; rewrite_clusters = true; trace_header = true; };
socketmap = { };
control = { };
user = \"root\";
group = \"root\";")"
# AddressSanitizer's reports (a SANITIZE=1 build) go here, for this script.
ASAN_OPTIONS="log_path=$D/asan:detect_leaks=1:abort_on_error=0" mxpathd_start leaks

start=$(date +%s)
if miltertest -D SOCK="$SOCK" -D MILTER_DIR="$LUA_DIR" -D COUNT="$SESSIONS" \
	-s "$LUA_DIR/sessions.lua" > "$D/lua.out" 2>&1; then
	pass "$SESSIONS milter sessions under $CHECKER ($(( $(date +%s) - start )) s)"
else
	fail "$SESSIONS milter sessions under $CHECKER"
	sed 's/^/    # /' "$D/lua.out" | tail -n 10
fi
decisions=$(grep -Ec ': (NOQUEUE|[0-9A-Za-z]+): rcpt=.* action=.* conn=[0-9]+$' "$D/log")
# Per session: 2 messages x 3 recipients.
if [ "$decisions" -eq $((SESSIONS * 6)) ]; then
	pass "every recipient decided and logged ($decisions)"
else
	fail "every recipient decided and logged ($decisions, want $((SESSIONS * 6)))"
fi

mxpathd_stop leaks
rc=$?
if [ "$CHECKER" = valgrind ]; then
	if [ "$rc" -eq 0 ]; then
		pass "valgrind: no leaks, no memory errors"
	else
		fail "valgrind: no leaks, no memory errors (exit $rc)"
		sed 's/^/    # /' "$D/valgrind.log" | head -n 60
	fi
else
	if ls "$D"/asan* > /dev/null 2>&1; then
		fail "AddressSanitizer: no leaks, no memory errors"
		cat "$D"/asan* | sed 's/^/    # /' | head -n 60
	elif [ "$rc" -ne 0 ]; then
		fail "mxpathd exits 0 (exit $rc)"
	else
		pass "AddressSanitizer: no leaks, no memory errors"
	fi
fi
finish
