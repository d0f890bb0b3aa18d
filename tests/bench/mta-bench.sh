#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# mta-bench.sh - the Postfix rows of tests/bench/run-bench: milter, routing
#
# One private Postfix 3.7 (tests/lib/postfix.sh), one mxpathd with both
# doors on the test DNS (dnsmock serving tests/zones), the do-nothing
# milter (null_milter), and smtp-sinks standing in for boston.travel.edu's
# three exchangers (tests/bench/mta-bench-lib.sh). smtp-source sends
# MESSAGES messages, 10 sessions, each to a distinct recipient
# NNNu@boston.travel.edu (-N: Postfix routes every one afresh); a run lasts
# from the first connection until the maillog shows every one of them
# sent. Each row is PAIRS pairs of runs, one per configuration, A first
# in odd pairs and B first in even ones, so that drift hits both alike:
#
#   milter row   transport_maps = the static lmdb: table, and smtpd with
#                  null      null_milter (same protocol steps, no work)  A
#                  mxpathd   mxpathd's milter door (a route per RCPT)    B
#                  none      no milter: a reference run before pairs 1, 6,
#                            11, ... (pair=0 in its result line)
#   routing row  no milter, and transport_maps =
#                  lmdb      lmdb: table with the very route mxpathd gives  A
#                  mxpathd   socketmap: on mxpathd                         B
#   routing-null row (information, not in make bench's default rows)
#                  lmdb      as above                                       A
#                  nullmap   socketmap: on null_socketmap answering the     B
#                            same route at once: what a socketmap round
#                            trip costs Postfix, whoever answers
#
# Each milter configuration has its own smtpd port; the routing ones are
# switched before every run with a Postfix reload (trivial-rewrite reads
# transport_maps) followed by a warm-up batch, as Postfix starts its
# processes on demand (just after a reload, old processes still answer
# with the previous table for a while). Each run is checked: the mxpathd
# configurations must raise mxpathd's decision count by at least one per
# message (milter) or 1.9 (routing: smtpd's RCPT check and the queue
# manager each resolve the recipient, bar a few that Postfix answers from
# a cache: 1992 for 1000 messages), the others must leave it alone.
#
# usage: mta-bench.sh PAIRS MESSAGES [ROWS]
#        ROWS: "milter routing" (default), and/or routing-proxy, routing-null
# prints: result row=R config=C pair=N msgs=M seconds=S rate=R decisions=D
#         lookups=L conns=K cpu_ms=C   (mxpathd's counts during the run)
#         null_cpu_ms=C   (null_milter's CPU time during the run)
#         delay_a=.. delay_b=.. delay_c=.. delay_d=..   (Postfix's view, ms)
# Exits 1, with an "error: ..." line, if anything cannot be set up or a
# message is not delivered. Everything runs on 127.0.0.0/8 and is stopped
# by PID on exit.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/postfix.sh"
. "$MXPATH_ROOT/tests/bench/mta-bench-lib.sh"
bench_args 100 "$@"

bench_mta_stop() { pf_stop; }
# The queue, then what the maillog says of each message still in it, and
# of Postfix's own processes (warnings, throttling).
bench_mta_queue() {
	local q ids
	q=$(postqueue -c "$PF_DIR/etc" -p 2>&1)
	tail -n 30 <<< "$q"
	ids=$(grep -Eo '^[0-9A-F]{6,}' <<< "$q" | paste -sd'|')
	grep -E "${ids:-^$}|warning|fatal|panic|throttl" "$PF_DIR/maillog" | tail -n 40
}

# bench_mta_view OFFSET: Postfix's own view of a run: the mean of each part
# of "delays=a/b/c/d" over the deliveries logged after OFFSET, in ms
# (a: arrival to the queue manager, b: in the queue manager, which
# resolves every recipient through trivial-rewrite, c: connection set-up,
# d: transmission; delay_logging_resolution_limit = 6 below).
bench_mta_view() {
	tail -c +"$(($1 + 1))" "$MTA_LOG" | grep -F 'status=sent' |
		sed -n 's/.* delays=\([0-9.]*\)\/\([0-9.]*\)\/\([0-9.]*\)\/\([0-9.]*\),.*/\1 \2 \3 \4/p' |
		awk '{ for (i = 1; i <= 4; i++) s[i] += $i; n++ }
			END { if (n) printf "delay_a=%.2f delay_b=%.2f delay_c=%.2f delay_d=%.2f",
				s[1] * 1000 / n, s[2] * 1000 / n, s[3] * 1000 / n, s[4] * 1000 / n }'
}

mta_require postmap
bench_init mta-bench
ROUTE="smtp:[san-francisco.target.edu]:$P, [chicago.target.edu]:$P, [toronto.target.edu]:$P"
answer=$(mta_socketmap_query "$SOCKETMAP" transport "u@$DOMAIN")
[ "$answer" = "OK $ROUTE" ] || die "mxpathd routes $DOMAIN as '$answer', not 'OK $ROUTE'"

pf_setup "$T/pf" "$P" mta.bench.test || die "postfix setup failed"
printf '%s %s\n' "$DOMAIN" "$ROUTE" > "$T/pf/etc/transport"
postmap -c "$T/pf/etc" "lmdb:$T/pf/etc/transport" || die "postmap lmdb: failed"
cat >> "$T/pf/etc/master.cf" <<EOF
127.0.0.1:$P_NULL inet n - n - - smtpd
  -o smtpd_milters=unix:$NULL_SOCK
127.0.0.1:$P_MXPATHD inet n - n - - smtpd
  -o smtpd_milters=unix:$MILTER_SOCK
EOF
pf_conf "transport_maps = lmdb:$T/pf/etc/transport" "milter_default_action = tempfail" \
	"delay_logging_resolution_limit = 6"
pf_start || die "postfix did not start"
mta_poll 10 mta_is_listening 127.0.0.1 "$P_NULL" || die "smtpd with null_milter is not listening"
mta_poll 10 mta_is_listening 127.0.0.1 "$P_MXPATHD" || die "smtpd with mxpathd is not listening"
MTA_LOG=$PF_DIR/maillog
MTA_SENT='status=sent'
MTA_FAILED='status=(deferred|bounced)'
MTA_REFUSED='NOQUEUE: reject|milter-reject'

# ---------------------------------------------------------------- milter row

if [[ " $ROWS " == *" milter "* ]]; then
	bench_milter_row
fi

# ---------------------------------------------------------------- routing row

# routing_switch lmdb|mxpathd|mxpathd-proxy: switch transport_maps, reload, warm up.
routing_switch() {
	case $1 in
	lmdb) pf_conf "transport_maps = lmdb:$T/pf/etc/transport" ;;
	mxpathd) pf_conf "transport_maps = socketmap:unix:$SOCKETMAP:transport" ;;
	mxpathd-proxy) pf_conf "transport_maps = proxy:socketmap:unix:$SOCKETMAP:transport" ;;
	nullmap) pf_conf "transport_maps = socketmap:unix:$T/nullmap.sock:transport" ;;
	esac
	pf_reload
	sleep 1
	bench_send "$P" "$WARMUP" > /dev/null || exit 1
}

if [[ " $ROWS " == *" routing "* ]]; then
	bench_pairs routing lmdb mxpathd routing_switch bench_plain_port 1.9
fi
if [[ " $ROWS " == *" routing-null "* ]]; then
	# umask 0: trivial-rewrite runs as postfix and must be able to connect.
	(umask 0 && exec "$BENCH_BIN/null_socketmap" "$T/nullmap.sock" "OK $ROUTE") \
		> "$T/nullmap.log" 2>&1 &
	NULL_MAP_PID=$!
	mta_poll 10 test -S "$T/nullmap.sock" || die "null_socketmap did not start"
	[ "$(mta_socketmap_query "$T/nullmap.sock" transport "u@$DOMAIN")" = "OK $ROUTE" ] ||
		die "null_socketmap does not answer the route"
	bench_pairs routing-null lmdb nullmap routing_switch bench_plain_port
fi
if [[ " $ROWS " == *" routing-proxy "* ]]; then
	bench_pairs routing-proxy lmdb mxpathd-proxy routing_switch bench_plain_port 1.9
fi

bench_finish
exit 0
