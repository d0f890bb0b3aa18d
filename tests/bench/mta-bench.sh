#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# mta-bench.sh - the Postfix rows of tests/bench/run-bench: milter, routing
#
# One private Postfix 3.7 (tests/lib/postfix.sh), one mxpathd with both
# doors on the test DNS (dnsmock serving tests/zones), the do-nothing
# milter (null_milter), and smtp-sinks standing in for boston.travel.edu's
# three exchangers. smtp-source sends MESSAGES messages, 10 sessions, each
# to a distinct recipient NNNu@boston.travel.edu (-N: Postfix routes every
# one afresh); a run lasts from the first connection until the maillog
# shows every one of them sent. Configurations, interleaved run by run so
# that the machine's drift hits them alike:
#
#   milter row   transport_maps = the static lmdb: table, and smtpd with
#                  none      no milter
#                  null      null_milter (same protocol steps, no work)
#                  mxpathd   mxpathd's milter door (a route per RCPT)
#   routing row  no milter, and transport_maps =
#                  lmdb      lmdb: table with the very route mxpathd gives
#                  mxpathd   socketmap: on mxpathd
#
# The order of the configurations turns round from one run to the next.
# Each configuration has its own smtpd port (milter) or is switched with a
# Postfix reload (routing: trivial-rewrite reads transport_maps) followed
# by a warm-up batch, as Postfix starts its processes on demand. Each is
# checked: the mxpathd configurations must raise mxpathd's decision count
# by at least one per message, the others must leave it alone.
#
# usage: mta-bench.sh RUNS MESSAGES [ROWS]      ROWS: "milter routing" (default)
# prints: result row=R config=C run=N msgs=M seconds=S rate=R
# Exits 1, with an "error: ..." line, if anything cannot be set up or a
# message is not delivered. Everything runs on 127.0.0.0/8 and is stopped
# by PID on exit.
set -u
RUNS=${1:?usage: mta-bench.sh RUNS MESSAGES [ROWS]}
MESSAGES=${2:?usage: mta-bench.sh RUNS MESSAGES [ROWS]}
ROWS=${3:-milter routing}
SESSIONS=10
WARMUP=$((MESSAGES < 100 ? MESSAGES : 100))
DOMAIN=boston.travel.edu
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
. "$MXPATH_ROOT/tests/lib/postfix.sh"

NULL_MILTER_PID=
T=$(mktemp -d /tmp/mxpath-mta-bench.XXXXXX)
chmod 755 "$T"

die() { echo "error: $*" >&2; exit 1; }

# Runs once, to the end: a signal during the clean-up must not cut it short.
cleanup() {
	trap '' INT TERM
	pf_stop
	mta_stop_pid "$NULL_MILTER_PID" null_milter
	sinks_stop_all
	mta_resolver_stop
	mxpathd_cleanup
	dns_cleanup
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case $BUILD in
/*) NULL_MILTER=$BUILD/bench/null_milter ;;
*) NULL_MILTER=$MXPATH_ROOT/$BUILD/bench/null_milter ;;
esac
[ -x "$NULL_MILTER" ] || die "$NULL_MILTER is not built"
mta_require smtp-source smtp-sink postmap

# ---------------------------------------------------------------- set-up

P=$(mta_free_port) || die "no free port"
P_NULL=$(mta_free_port) || die "no free port"
P_MXPATHD=$(mta_free_port) || die "no free port"
[ "$P" != "$P_NULL" ] && [ "$P" != "$P_MXPATHD" ] && [ "$P_NULL" != "$P_MXPATHD" ] ||
	die "port picker gave the same port twice"

# tests/zones: boston.travel.edu MX 0 san-francisco, 10 chicago, 20 toronto.target.edu
sinks_init "$T"
sink_start sf 127.0.0.11 "$P" || die "sink sf did not start"
sink_start chicago 127.0.0.12 "$P" || die "sink chicago did not start"
sink_start toronto 127.0.0.13 "$P" || die "sink toronto did not start"
sink_start stray 127.0.0.254 "$P" || die "sink stray did not start"
ROUTE="smtp:[san-francisco.target.edu]:$P, [chicago.target.edu]:$P, [toronto.target.edu]:$P"

dns_start_mock dns
mta_resolver_start "$T"

D=$(mxpathd_dir mta)
mxpathd_conf mta "$(cat <<EOF
self = { names = [ "mta.bench.test" ]; addresses = [ ]; };
dns = { servers = [ "127.0.0.1:$(dns_port dns)" ]; };
socketmap = { socket = "unix:$D/socketmap.sock"; group = "postfix"; mode = "0660"; port = $P; };
milter = { socket = "unix:$D/milter.sock"; group = "postfix"; mode = "0660"; };
EOF
)"
mxpathd_start mta
answer=$(mta_socketmap_query "$D/socketmap.sock" transport "u@$DOMAIN")
[ "$answer" = "OK $ROUTE" ] || die "mxpathd routes $DOMAIN as '$answer', not 'OK $ROUTE'"

"$NULL_MILTER" "unix:$T/null.sock" > "$T/null_milter.log" 2>&1 &
NULL_MILTER_PID=$!
mta_poll 5 test -S "$T/null.sock" || die "null_milter did not start: $(cat "$T/null_milter.log")"

pf_setup "$T/pf" "$P" mta.bench.test || die "postfix setup failed"
printf '%s %s\n' "$DOMAIN" "$ROUTE" > "$T/pf/etc/transport"
postmap -c "$T/pf/etc" "lmdb:$T/pf/etc/transport" || die "postmap lmdb: failed"
cat >> "$T/pf/etc/master.cf" <<EOF
127.0.0.1:$P_NULL inet n - n - - smtpd
  -o smtpd_milters=unix:$T/null.sock
127.0.0.1:$P_MXPATHD inet n - n - - smtpd
  -o smtpd_milters=unix:$D/milter.sock
EOF
pf_conf "transport_maps = lmdb:$T/pf/etc/transport" "milter_default_action = tempfail"
pf_start || die "postfix did not start"
mta_poll 10 mta_is_listening 127.0.0.1 "$P_NULL" || die "smtpd with null_milter is not listening"
mta_poll 10 mta_is_listening 127.0.0.1 "$P_MXPATHD" || die "smtpd with mxpathd is not listening"

# ---------------------------------------------------------------- measuring

# decisions: mxpathd's decision count so far.
decisions() {
	mxpathd_stats mta | awk '$1 == "mxpath_decisions_total" { print $2 }'
}

# log_count_since OFFSET ERE: maillog lines after byte OFFSET matching ERE.
log_count_since() {
	local n
	n=$(tail -c +"$(($1 + 1))" "$PF_DIR/maillog" | grep -Ec -- "$2") || n=0
	echo "${n:-0}"
}

# send PORT COUNT: COUNT messages through smtpd on PORT, each to its own
# recipient; returns when all are logged sent. Prints the seconds it took.
send() {
	local port=$1 count=$2 offset t0 t1 sent i
	offset=$(stat -c %s "$PF_DIR/maillog")
	t0=$(date +%s%N)
	smtp-source -c -N -s "$SESSIONS" -m "$count" -f sender@client.test \
		-t "u@$DOMAIN" -S "mxpath bench" "127.0.0.1:$port" > /dev/null ||
		die "smtp-source to port $port failed"
	for ((i = 0; i < 6000; i++)); do	# 120 s
		sent=$(log_count_since "$offset" 'status=sent')
		((sent >= count)) && break
		sleep 0.02
	done
	t1=$(date +%s%N)
	((sent >= count)) || die "port $port: $sent of $count messages sent in 120 s" \
		"($(log_count_since "$offset" 'status=(deferred|bounced)') deferred or bounced)"
	echo "$(( (t1 - t0) / 1000000 ))"
}

# measure ROW CONFIG PORT RUN: one measured run, checked against mxpathd's count.
measure() {
	local row=$1 config=$2 port=$3 run=$4 before after ms
	before=$(decisions)
	ms=$(send "$port" "$MESSAGES") || exit 1
	after=$(decisions)
	if [ "$config" = mxpathd ]; then
		((after - before >= MESSAGES)) ||
			die "$row/$config: mxpathd decided $((after - before)) times for $MESSAGES messages"
	elif ((after != before)); then
		die "$row/$config: mxpathd was asked $((after - before)) times; it should not be"
	fi
	awk -v r="$row" -v c="$config" -v n="$run" -v m="$MESSAGES" -v ms="$ms" 'BEGIN {
		printf "result row=%s config=%s run=%d msgs=%d seconds=%.3f rate=%.1f\n",
			r, c, n, m, ms / 1000, m * 1000 / ms }'
}

# use_transport lmdb|mxpathd: switch transport_maps, reload, warm up.
use_transport() {
	case $1 in
	lmdb) pf_conf "transport_maps = lmdb:$T/pf/etc/transport" ;;
	mxpathd) pf_conf "transport_maps = socketmap:unix:$D/socketmap.sock:transport" ;;
	esac
	pf_reload
	sleep 1
	send "$P" "$WARMUP" > /dev/null || exit 1
}

# rotate N WORD...: the words, starting at the (N mod count)th.
rotate() {
	local n=$1
	shift
	local words=("$@") i
	for ((i = 0; i < ${#words[@]}; i++)); do
		echo "${words[(n + i) % ${#words[@]}]}"
	done
}

declare -A MILTER_PORT=([none]=$P [null]=$P_NULL [mxpathd]=$P_MXPATHD)
if [[ " $ROWS " == *" milter "* ]]; then
	for config in none null mxpathd; do
		send "${MILTER_PORT[$config]}" "$WARMUP" > /dev/null || exit 1
	done
	for ((run = 1; run <= RUNS; run++)); do
		for config in $(rotate "$run" none null mxpathd); do
			measure milter "$config" "${MILTER_PORT[$config]}" "$run"
		done
	done
fi
if [[ " $ROWS " == *" routing "* ]]; then
	for ((run = 1; run <= RUNS; run++)); do
		for config in $(rotate "$run" lmdb mxpathd); do
			use_transport "$config"
			measure routing "$config" "$P" "$run"
		done
	done
fi

total=$(sink_messages sf)
echo "# san-francisco received $total messages; chicago $(sink_messages chicago)," \
	"toronto $(sink_messages toronto), stray $(sink_messages stray)"
[ "$(sink_messages stray)" -eq 0 ] || die "messages reached the catch-all relayhost"
[ "$(pf_log_count 'status=(deferred|bounced)')" -eq 0 ] ||
	die "Postfix deferred or bounced $(pf_log_count 'status=(deferred|bounced)') messages"
exit 0
