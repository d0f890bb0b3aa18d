#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# mta-bench-sendmail.sh - the sendmail rows of tests/bench/run-bench:
# sendmail milter, sendmail routing
#
# The same bench as mta-bench.sh (Postfix), through sendmail 8.17: the
# unpacked sendmail of tests/lib/sendmail.sh (its own mount namespace with
# resolv.conf and hosts on loopback), one mxpathd with both doors on the
# test DNS, null_milter, and smtp-sinks for boston.travel.edu's three
# exchangers (tests/bench/mta-bench-lib.sh). smtp-source sends MESSAGES
# messages, 10 sessions, each to a distinct recipient; a run lasts from
# the first connection until sendmail's maillog shows every one of them
# Sent. LogLevel 9 (sendmail's default; the tests' 14 logs every milter
# step). Each row is PAIRS pairs of runs, A first in odd pairs and B first
# in even ones:
#
#   milter row   mailertable = the static hash map, and a listener with
#                  null      null_milter (same protocol steps, no work)  A
#                  mxpathd   mxpathd's milter door (a route per RCPT)    B
#                  none      no milter: a reference run before pairs 1, 6,
#                            11, ... (pair=0 in its result line)
#                (one sendmail, three listeners: DAEMON_OPTIONS with
#                InputMailFilters= naming the milter of each)
#   routing row  no milter, and FEATURE(`mailertable', ...) =
#                  hash      hash map (makemap) holding the very route
#                            mxpathd gives                               A
#                  mxpathd   socket unix:mxpathd's socketmap             B
#
# The routing configurations are two .cf files; before every routing run
# sendmail is stopped, started on the other one and warmed up. Each run is
# checked: the mxpathd configurations must raise mxpathd's decision count
# by at least one per message (milter) or 1.9 (routing: the mailertable is
# asked when the recipient is accepted and again when it is delivered, as
# in mta-bench.sh), the others must leave it alone.
#
# usage: mta-bench-sendmail.sh PAIRS MESSAGES [ROWS]   ROWS: "milter routing" (default)
# prints: result row=R config=C pair=N msgs=M seconds=S rate=R decisions=D
#         lookups=L conns=K cpu_ms=C   (mxpathd's counts during the run)
#         null_cpu_ms=C   (null_milter's CPU time during the run)
# Exits 1, with an "error: ..." line, if anything cannot be set up or a
# message is not delivered. Everything runs on 127.0.0.0/8 and is stopped
# by PID on exit.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/sendmail.sh"
. "$MXPATH_ROOT/tests/bench/mta-bench-lib.sh"
bench_args 50 "$@"

bench_mta_stop() { sm_stop; }
bench_mta_queue() { echo "$(find "$SM_DIR/mqueue" -name 'qf*' -type f | wc -l) message(s) in sendmail's queue"; }

bench_init mta-bench-sm
ROUTE="esmtp:[san-francisco.target.edu]:[chicago.target.edu]:[toronto.target.edu]"
answer=$(mta_socketmap_query "$SOCKETMAP" mailertable "$DOMAIN")
[ "$answer" = "OK $ROUTE" ] || die "mxpathd routes $DOMAIN as '$answer', not 'OK $ROUTE'"

# ---------------------------------------------------------------- sendmail

sm_setup "$T/sm" "$P" "$P" "$SOCKETMAP" || die "sendmail setup failed"
MILTER_TIMEOUTS='T=C:5s;S:10s;R:10s;E:30s'
sed -i -e "s|^define(\`confLOG_LEVEL', \`14')dnl|define(\`confLOG_LEVEL', \`9')dnl|" \
	-e "/^MAILER(\`local')dnl/i\\
MAIL_FILTER(\`null', \`S=unix:$NULL_SOCK, F=T, $MILTER_TIMEOUTS')dnl\\
MAIL_FILTER(\`mxpath', \`S=unix:$MILTER_SOCK, F=T, $MILTER_TIMEOUTS')dnl\\
DAEMON_OPTIONS(\`Port=$P_NULL, Addr=127.0.0.1, Name=MTA-null, InputMailFilters=null')dnl\\
DAEMON_OPTIONS(\`Port=$P_MXPATHD, Addr=127.0.0.1, Name=MTA-mxpath, InputMailFilters=mxpath')dnl" \
	"$SM_DIR/sendmail.mc"
grep -q "^define(\`confLOG_LEVEL', \`9')" "$SM_DIR/sendmail.mc" &&
	grep -q "InputMailFilters=mxpath" "$SM_DIR/sendmail.mc" ||
	die "cannot edit $SM_DIR/sendmail.mc (tests/lib/mta/sendmail.mc.in changed?)"

# sm_cf NAME MAILERTABLE: $SM_DIR/sendmail-NAME.cf with that mailertable map.
sm_cf() {
	sed "s|^FEATURE(\`mailertable', .*|FEATURE(\`mailertable', \`$2')dnl|" \
		"$SM_DIR/sendmail.mc" > "$SM_DIR/sendmail-$1.mc"
	grep -qF "FEATURE(\`mailertable', \`$2')" "$SM_DIR/sendmail-$1.mc" ||
		die "no mailertable line in $SM_DIR/sendmail.mc"
	m4 "$SM_DIR/sendmail-$1.mc" > "$SM_DIR/sendmail-$1.cf" 2> "$SM_DIR/m4.log" ||
		die "m4 sendmail-$1.mc: $(cat "$SM_DIR/m4.log")"
}
printf '%s %s\n' "$DOMAIN" "$ROUTE" > "$SM_DIR/mailertable"
LD_LIBRARY_PATH=$SM_CACHE/root/usr/lib/x86_64-linux-gnu \
	"$SM_CACHE/root/usr/libexec/sendmail/makemap" -C "$SM_DIR/sendmail.cf" hash "$SM_DIR/mailertable" \
	< "$SM_DIR/mailertable" 2> "$SM_DIR/makemap.log" ||
	die "makemap hash $SM_DIR/mailertable failed: $(cat "$SM_DIR/makemap.log")"
sm_cf hash "hash -o $SM_DIR/mailertable"
sm_cf mxpathd "socket unix:$SOCKETMAP"

# sm_use NAME: sendmail (re)started on sendmail-NAME.cf.
sm_use() {
	[ -z "$SM_PID" ] || sm_stop
	cp "$SM_DIR/sendmail-$1.cf" "$SM_DIR/sendmail.cf"
	sm_start || die "sendmail did not start on sendmail-$1.cf"
}
MTA_LOG=$SM_DIR/maillog
MTA_SENT='stat=Sent'
MTA_FAILED='stat=Deferred|dsn=[45]'
MTA_REFUSED='reject=|Milter: .*(reject|tempfail)'
sm_use hash
mta_poll 10 mta_is_listening 127.0.0.1 "$P_NULL" || die "sendmail with null_milter is not listening"
mta_poll 10 mta_is_listening 127.0.0.1 "$P_MXPATHD" || die "sendmail with mxpathd is not listening"

# ---------------------------------------------------------------- milter row

if [[ " $ROWS " == *" milter "* ]]; then
	bench_milter_row
fi

# ---------------------------------------------------------------- routing row

# routing_switch hash|mxpathd: restart sendmail on that mailertable, warm up.
routing_switch() {
	sm_use "$1"
	bench_send "$P" "$WARMUP" > /dev/null || exit 1
}

if [[ " $ROWS " == *" routing "* ]]; then
	bench_pairs routing hash mxpathd routing_switch bench_plain_port 1.9
fi

bench_finish
exit 0
