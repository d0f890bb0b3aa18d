#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 50-milter-door.sh - the milter door of a real mxpathd, driven from the MTA side
#
# A loopback DNS server (tests/lib/dnsmock.py over tests/zones, SERVFAIL
# for broken.edge.test, 1 s late under slow.edge.test) and mxpathd with
# the milter door on. miltertest runs the scripts in tests/milter/ (each
# verdict, mixed messages, every rewrite, the trace header, aborts,
# negotiation, many sessions); a small protocol client (tests/lib/miltc.py)
# checks what miltertest cannot see: the exact SMTP reply on the wire,
# Postfix's local submission (port 0), RCPT parameters kept by
# SMFIR_ADDRCPT_PAR, and 300 sessions waiting at once. Then a daemon with
# the milter defaults, and a reload that turns reject_unroutable off.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT
require miltertest /usr/bin/python3

LUA_DIR=$MXPATH_ROOT/tests/milter
# A sanitizer build must be able to write its report at exit.
if [ "${SANITIZE:-0}" = 1 ]; then
	DAEMON_ACCOUNT='user = "root";
group = "root";'
else
	DAEMON_ACCOUNT='user = "nobody";
group = "nogroup";'
fi

# milter_conf NAME TEXT: instance NAME with the milter door alone (on
# DIR/milter.sock, with TEXT), self a.cs.xyz.edu, d.cs.xyz.edu a local
# host, the cluster cluster.cs.xyz.edu = b 10, d 20: c.cs.xyz.edu (MX a
# 10, b 10) loops back, the cluster's first hop is always b.
milter_conf() {
	mxpathd_conf "$1" "$(SELF_CONF='self = { names = [ "a.cs.xyz.edu" ]; addresses = [ ]; };' \
		mxpath_conf /dev/stdout dns "
local_hosts = [ \"d.cs.xyz.edu\" ];
clusters = ( { name = \"cluster.cs.xyz.edu\";
               members = ( { host = \"b.cs.xyz.edu\"; pref = 10; },
                           { host = \"d.cs.xyz.edu\"; pref = 20; } ); } );
milter = { socket = \"$(mxpathd_spec "$1" milter)\"; $2 };
socketmap = { };
$DAEMON_ACCOUNT")"
}

# lua SCRIPT [NAME=VALUE...]: runs one miltertest script against $SOCK;
# each of its "ok"/"not ok" lines is one result here, and a script that
# exits non-zero without saying why is one failure more.
lua() {
	local script=$1 d line rc failed=0 defs=()
	shift
	for d in "$@"; do defs+=(-D "$d"); done
	miltertest -D SOCK="$SOCK" -D MILTER_DIR="$LUA_DIR" "${defs[@]}" \
		-s "$LUA_DIR/$script" > "$WORK/lua.out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "$script: ${line#ok - }" ;;
		"not ok - "*) fail "$script: ${line#not ok - }"; failed=1 ;;
		*) echo "    # $line" ;;
		esac
	done < "$WORK/lua.out"
	[ "$rc" -eq 0 ] || [ "$failed" -eq 1 ] || fail "$script: miltertest exited $rc"
}

# expect_line FILE DESC FIXED-STRING: one line of FILE is exactly it.
expect_line() {
	if grep -qxF -- "$3" "$1"; then pass "$2"; else
		fail "$2"; echo "    # wanted: $3"; sed 's/^/    # /' "$1" | tail -n 15; fi
}

# expect_log DESC FIXED-STRING: the daemon logged a line containing it.
expect_log() {
	if grep -qF -- "$2" "$WORK/log"; then pass "$1"; else
		fail "$1"; echo "    # wanted in the log: $2"; fi
}

dns_start_mock dns --servfail broken.edge.test --delay slow.edge.test=1

# The door with everything on. WORK: the daemon's directory (its log and
# socket, what the clients print).
WORK=$(mxpathd_dir on)
SOCK=$WORK/milter.sock
milter_conf on 'rewrite_clusters = true; rewrite_local = "canonical.xyz.edu";
           trace_header = true;'
mxpathd_start on

for script in verdicts.lua rewrite.lua trace.lua abort.lua; do
	lua "$script"
done
lua negotiate.lua ACTIONS=on
lua sessions.lua COUNT=200

# ---- the exact SMTP replies, on the wire and in the log ----
$MILTC session "$SOCK" '<u@nullmx.edge.test>' '<u@nosuch.edge.test>' '<u@c.cs.xyz.edu>' \
	'<u@noaddronly.edge.test>' '<u@bad..edge.test>' '<u@broken.edge.test>' \
	> "$WORK/replies" 2>&1
expect_line "$WORK/replies" "null MX: 556 5.1.10 on the wire" \
	"rcpt <u@nullmx.edge.test> y 556 5.1.10 Recipient address has null MX"
expect_line "$WORK/replies" "NXDOMAIN: 550 5.1.2 on the wire" \
	"rcpt <u@nosuch.edge.test> y 550 5.1.2 domain nosuch.edge.test does not exist"
expect_line "$WORK/replies" "loop back to myself: 554 5.4.6 on the wire" \
	"rcpt <u@c.cs.xyz.edu> y 554 5.4.6 mail for c.cs.xyz.edu loops back to myself"
expect_line "$WORK/replies" "no address: 550 5.4.4 on the wire" \
	"rcpt <u@noaddronly.edge.test> y 550 5.4.4 no mail exchanger for noaddronly.edge.test has an address"
expect_line "$WORK/replies" "malformed: 501 5.1.3 on the wire" \
	"rcpt <u@bad..edge.test> y 501 5.1.3 bad recipient address syntax: empty label in domain name"
expect_line "$WORK/replies" "SERVFAIL: 451 4.4.3 on the wire (never an accept)" \
	"rcpt <u@broken.edge.test> y 451 4.4.3 temporary DNS failure looking up MX for broken.edge.test (servfail)"
expect_log "one log line per decision: rcpt, action, rule, hops, reply" \
	'rcpt=<u@nullmx.edge.test> action=reject rule=mx hops=- reply="556 5.1.10 Recipient address has null MX" conn='
expect_log "an accepted recipient's log line names its hops" \
	'rcpt=<s1@withmx.edge.test> action=relay rule=mx hops=real.edge.test reply=- conn='
expect_log "with {i} from the MTA the log line starts with the queue id" \
	': 4QUEUEID1: rcpt=<q@withmx.edge.test> action=relay rule=mx hops=real.edge.test reply=- conn='
if grep -qE ' mxpathd\[[0-9]+\]: NOQUEUE: rcpt=<u@nullmx.edge.test> action=reject .* conn=[0-9]+$' "$WORK/log"; then
	pass "a recipient refused before {i} exists: NOQUEUE first, conn=N last"
else
	fail "a recipient refused before {i} exists: NOQUEUE first, conn=N last"
fi
# An accepted recipient before {i}: held, and logged at end of message with
# the queue id the MTA gives there (Postfix's order: {i} from DATA on).
$MILTC session --eom-queue-id 4EOMQID9 "$SOCK" '<held@withmx.edge.test>' '<u@nullmx.edge.test>' \
	> "$WORK/held" 2>&1
expect_log "an accepted recipient before {i}: logged at end of message with the queue id" \
	': 4EOMQID9: rcpt=<held@withmx.edge.test> action=relay rule=mx hops=real.edge.test reply=- conn='
if grep -n -e 'rcpt=<held@withmx.edge.test>' -e '4EOMQID9' "$WORK/log" | head -n 1 | grep -q 4EOMQID9 &&
	! grep -q 'NOQUEUE: rcpt=<held@withmx' "$WORK/log"; then
	pass "... once, never as NOQUEUE"
else
	fail "... once, never as NOQUEUE"
fi

# ---- SMFIR_ADDRCPT_PAR keeps the RCPT parameters ----
$MILTC session "$SOCK" '<p@cluster.cs.xyz.edu> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;p@cluster.cs.xyz.edu' \
	> "$WORK/par" 2>&1
expect_line "$WORK/par" "Postfix's offer: ADDHDRS, ADDRCPT, ADDRCPT_PAR, DELRCPT asked; HELO, headers, body, DATA skipped" \
	"negotiate actions=0x8d steps=0x372"
expect_line "$WORK/par" "rewritten recipient keeps its ESMTP parameters" \
	"eom 2 <p@b.cs.xyz.edu> | NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;p@cluster.cs.xyz.edu"
expect_line "$WORK/par" "original recipient deleted in the form the MTA gave" \
	"eom - <p@cluster.cs.xyz.edu>"

# ---- Postfix's local submission: localhost, 127.0.0.1, port 0 ----
$MILTC session --host localhost --addr 127.0.0.1 --port 0 "$SOCK" \
	'<local@nullmx.edge.test>' '<local@cluster.cs.xyz.edu>' > "$WORK/local" 2>&1
expect_line "$WORK/local" "local submission: null MX recipient passes (no verdict)" \
	"rcpt <local@nullmx.edge.test> c"
if grep -q '^eom [-2+h]' "$WORK/local"; then
	fail "local submission: nothing rewritten, no header"; sed 's/^/    # /' "$WORK/local"
else
	pass "local submission: nothing rewritten, no header"
fi
if grep -q 'rcpt=<local@' "$WORK/log"; then
	fail "local submission: no route asked for"
else
	pass "local submission: no route asked for"
fi
$MILTC session --host localhost --addr 127.0.0.1 --port 41000 "$SOCK" \
	'<local2@nullmx.edge.test>' > "$WORK/local2" 2>&1
expect_line "$WORK/local2" "an SMTP client on localhost (real port) still gets verdicts" \
	"rcpt <local2@nullmx.edge.test> y 556 5.1.10 Recipient address has null MX"

# ---- concurrency: 300 sessions wait for DNS, another is not held up ----
$MILTC parallel "$SOCK" 300 '<u@s%d.slow.edge.test>' '<f@withmx.edge.test>' \
	> "$WORK/parallel" 2> "$WORK/parallel.err"
read -r replies all fast < <(sed -E 's/replies=([^ ]*) all=([^ ]*) fast=(.*)/\1 \2 \3/' \
	"$WORK/parallel")
echo "    # 300 slow sessions: replies=$replies, all done in ${all}s, fast one in ${fast}s"
if [ "${replies:-}" = "c:1,y550:300" ]; then
	pass "300 waiting sessions each get their own verdict"
else
	fail "300 waiting sessions each get their own verdict (got ${replies:-nothing})"
	sed 's/^/    # /' "$WORK/parallel.err" | tail -n 5
fi
# Each slow answer takes 1 s: in parallel the lot takes a few seconds.
if awk -v t="${all:-99}" 'BEGIN { exit !(t < 8) }'; then
	pass "300 sessions wait in parallel (${all}s)"
else
	fail "300 sessions wait in parallel (${all:-?}s, want < 8)"
fi
if awk -v t="${fast:-99}" 'BEGIN { exit !(t < 0.5) }'; then
	pass "a session with a cached route is not held up by them (${fast}s)"
else
	fail "a session with a cached route is not held up by them (${fast:-?}s, want < 0.5)"
fi

# ---- counters on the control socket ----
mxpathd_stats on > "$WORK/stats" 2>&1
expect_line "$WORK/stats" "counters: the local submission's recipients counted as skipped" \
	"mxpath_milter_skipped_total 2"
if grep -qE '^mxpath_milter_recipients_total\{action="reject"\} [1-9]' "$WORK/stats" &&
   grep -qE '^mxpath_milter_rewritten_total [1-9]' "$WORK/stats" &&
   grep -qE '^mxpath_errors_total\{door="milter"\} 0$' "$WORK/stats"; then
	pass "counters: recipients by action, rewrites, no errors"
else
	fail "counters: recipients by action, rewrites, no errors"
	grep milter "$WORK/stats" | sed 's/^/    # /'
fi

mxpathd_stop on
check "mxpathd exits 0 on SIGTERM" test $? -eq 0

# ---- the milter defaults: verdicts only ----
WORK=$(mxpathd_dir off)
SOCK=$WORK/milter.sock
milter_conf off ''
mxpathd_start off
lua negotiate.lua ACTIONS=off

# ---- reload: reject_unroutable off lets rejects through, never tempfails ----
milter_conf off 'reject_unroutable = false;'
mxpathd_reload off
expect_log "reload accepted" "reloaded $WORK/mxpath.conf"
$MILTC session "$SOCK" '<r@nullmx.edge.test>' '<r@broken.edge.test>' > "$WORK/noreject" 2>&1
expect_line "$WORK/noreject" "reject_unroutable = false: null MX recipient accepted" \
	"rcpt <r@nullmx.edge.test> c"
expect_line "$WORK/noreject" "reject_unroutable = false: DNS failure still tempfails" \
	"rcpt <r@broken.edge.test> y 451 4.4.3 temporary DNS failure looking up MX for broken.edge.test (servfail)"
expect_log "an unenforced reject is logged as such" \
	'rcpt=<r@nullmx.edge.test> action=reject rule=mx hops=- reply="556 5.1.10 Recipient address has null MX" (not enforced)'
mxpathd_stop off

if cat "$(mxpathd_dir on)/log" "$WORK/log" | grep -E 'error:|warning: milter' |
	grep -v 'does not offer' > "$WORK/errors"; then
	fail "no errors logged"; sed 's/^/    # /' "$WORK/errors" | head -n 10
else
	pass "no errors logged"
fi
finish
