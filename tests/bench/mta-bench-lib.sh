# SPDX-License-Identifier: BSD-2-Clause
# mta-bench-lib.sh - what mta-bench.sh (Postfix) and mta-bench-sendmail.sh
# share: the stack around the MTA, the timed runs, the interleaved pairs
#
# Sourced after tests/lib/postfix.sh or tests/lib/sendmail.sh (both bring
# sinks.sh); brings tests/lib/dns.sh and daemon.sh. Gives:
#   bench_args WARMUP_MAX PAIRS MESSAGES [ROWS]
#                           the script's arguments: $PAIRS, $MESSAGES, $ROWS
#                           (default "milter routing"), and $WARMUP, the
#                           messages of a warm-up batch (<= WARMUP_MAX)
#   bench_init NAME         scratch dir $T, ports $P (plain listener and
#                           the exchangers), $P_NULL, $P_MXPATHD (listeners
#                           with a milter), smtp-sinks for boston.travel.edu's
#                           three exchangers (+ a stray catch-all), the test
#                           DNS, the MTA resolver, mxpathd with both doors
#                           (socketmap $SOCKETMAP, milter $MILTER_SOCK, port
#                           $P in its relay answers) and null_milter
#                           ($NULL_SOCK). EXIT trap: bench_cleanup.
#   bench_measure ROW CONFIG PORT PAIR [PER_MESSAGE]
#                           one timed run of $MESSAGES messages to the MTA's
#                           listener on PORT, checked against mxpathd's
#                           counters; prints a "result ..." line
#   bench_pairs ROW A B SWITCH PORT_OF [PER_MESSAGE]
#                           $PAIRS pairs: A then B, then B then A, ...;
#                           SWITCH CONFIG prepares a configuration,
#                           PORT_OF CONFIG names its port
#   bench_milter_row        the milter row on $P (no milter), $P_NULL and
#                           $P_MXPATHD: $WARMUP messages through each, then
#                           pairs null / mxpathd, "none" for reference
#   bench_plain_port        PORT_OF for a row that switches the MTA's tables
#   bench_finish            every message at its exchanger, none astray
# The MTA script sets, before bench_measure, MTA_LOG (its maillog),
# MTA_SENT (ERE of one delivered recipient), MTA_FAILED (ERE of a
# deferral or bounce), MTA_REFUSED (ERE of a refusal in the SMTP
# dialogue, e.g. a 451 from a map or milter); it defines bench_mta_stop
# (called by bench_cleanup), may define bench_mta_queue (the MTA's queue
# listing, printed when messages are missing) and bench_mta_view OFFSET: more
# "key=value" words for the result line, the MTA's own view of the run
# (its maillog after byte OFFSET).
#
# A "result" line: row config pair (0: a reference run outside the pairs)
# msgs seconds rate, and what mxpathd counted meanwhile: decisions (both
# doors), lookups (socketmap queries), conns (socketmap connections
# opened), cpu_ms (its CPU time, user + system, from /proc), and
# null_cpu_ms (null_milter's).

# shellcheck shell=bash
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"

SESSIONS=10
DOMAIN=boston.travel.edu
NULL_MILTER_PID=
T=
MTA_LOG=
MTA_SENT=
MTA_FAILED=
MTA_REFUSED=

die() { echo "error: $*" >&2; exit 1; }

bench_mta_stop() { :; }

bench_args() {
	local usage="usage: ${0##*/} PAIRS MESSAGES [ROWS]"
	PAIRS=${2:?$usage}
	MESSAGES=${3:?$usage}
	# shellcheck disable=SC2034 # read by the MTA script
	ROWS=${4:-milter routing}
	WARMUP=$((MESSAGES < $1 ? MESSAGES : $1))
}
bench_mta_view() { :; }

# Runs once, to the end: a signal during the clean-up must not cut it short.
bench_cleanup() {
	trap '' INT TERM
	bench_mta_stop
	mta_stop_pid "$NULL_MILTER_PID" null_milter
	mta_stop_pid "${NULL_MAP_PID:-}" null_socketmap
	sinks_stop_all
	mta_resolver_stop
	mxpathd_cleanup
	dns_cleanup
	[ -z "$T" ] || rm -rf "$T"
}

# bench_init NAME: everything but the MTA (see the header).
bench_init() {
	local name=$1 null_milter
	T=$(mktemp -d "/tmp/mxpath-$name.XXXXXX")
	chmod 755 "$T"
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	case $BUILD in
	/*) BENCH_BIN=$BUILD/bench ;;
	*) BENCH_BIN=$MXPATH_ROOT/$BUILD/bench ;;
	esac
	null_milter=$BENCH_BIN/null_milter
	[ -x "$null_milter" ] || die "$null_milter is not built"
	mta_require smtp-source smtp-sink

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

	dns_start_mock dns
	mta_resolver_start "$T"

	local d
	d=$(mxpathd_dir mta)
	SOCKETMAP=$d/socketmap.sock
	MILTER_SOCK=$d/milter.sock
	mxpathd_conf mta "$(cat <<EOF
self = { names = [ "mta.bench.test" ]; addresses = [ ]; };
dns = { servers = [ "127.0.0.1:$(dns_port dns)" ]; };
socketmap = { socket = "unix:$SOCKETMAP"; group = "postfix"; mode = "0660"; port = $P; };
milter = { socket = "unix:$MILTER_SOCK"; group = "postfix"; mode = "0660"; };
EOF
)"
	mxpathd_start mta

	NULL_SOCK=$T/null.sock
	"$null_milter" "unix:$NULL_SOCK" > "$T/null_milter.log" 2>&1 &
	NULL_MILTER_PID=$!
	mta_poll 5 test -S "$NULL_SOCK" || die "null_milter did not start: $(cat "$T/null_milter.log")"
}

# bench_metric NAME [LABELS]: one of mxpathd's counters (0 if absent), e.g.
# bench_metric mxpath_connections_total 'door="socketmap"'.
bench_metric() {
	mxpathd_stats mta | awk -v m="$1${2:+{$2\}}" '$1 == m { v = $2 } END { print v + 0 }'
}

# bench_lookups: socketmap lookups so far, every map and answer.
bench_lookups() {
	mxpathd_stats mta | awk '$1 ~ /^mxpath_lookups_total/ { n += $2 } END { print n + 0 }'
}

# bench_cpu_ms PID: that process's CPU time so far (user + system), in ms.
bench_cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' \
		"/proc/$1/stat"
}

# bench_counters: "decisions lookups connections cpu_ms null_cpu_ms" so
# far (CPU times of mxpathd and of null_milter).
bench_counters() {
	echo "$(bench_metric mxpath_decisions_total) $(bench_lookups)" \
		"$(bench_metric mxpath_connections_total 'door="socketmap"')" \
		"$(bench_cpu_ms "$(mxpathd_pid mta)") $(bench_cpu_ms "$NULL_MILTER_PID")"
}

# log_count_since OFFSET ERE: lines of $MTA_LOG after byte OFFSET matching ERE.
log_count_since() {
	local n
	n=$(tail -c +"$(($1 + 1))" "$MTA_LOG" | grep -Ec -- "$2") || n=0
	echo "${n:-0}"
}

# bench_send PORT COUNT: COUNT messages through the listener on PORT, each
# to its own recipient (smtp-source -N); returns when all are logged
# delivered. Prints the milliseconds it took.
bench_send() {
	local port=$1 count=$2 offset t0 t1 sent=0 sunk0 sunk=0 i
	offset=$(stat -c %s "$MTA_LOG")
	sunk0=$(bench_sunk)
	t0=$(date +%s%N)
	smtp-source -c -N -s "$SESSIONS" -m "$count" -f "$MTA_SENDER" \
		-t "u@$DOMAIN" -S "mxpath bench" "127.0.0.1:$port" > /dev/null ||
		die "smtp-source to port $port failed"
	# The maillog, polled every 20 ms, says when; the sinks' dumps, read
	# once a second only (they cost more), are the ground truth if the
	# MTA's logger lost a line (seen once in CI under ASan load).
	for ((i = 1; i <= 6000; i++)); do	# 120 s
		sent=$(log_count_since "$offset" "$MTA_SENT")
		((sent >= count)) && break
		if ((i % 50 == 0)); then
			sunk=$(( $(bench_sunk) - sunk0 ))
			((sunk >= count)) && break
		fi
		sleep 0.02
	done
	t1=$(date +%s%N)
	if ((sent < count && sunk >= count)); then
		echo "# port $port: the maillog shows $sent of $count deliveries, the sinks got" \
			"all $count: time taken from the sinks (to within 1 s)" >&2
	elif ((sent < count)); then
		tail -c +"$((offset + 1))" "$MTA_LOG" | tail -n 20 | sed 's/^/# maillog: /' >&2
		! declare -F bench_mta_queue > /dev/null || bench_mta_queue | sed 's/^/# queue: /' >&2
		die "port $port: $sent of $count messages sent in 120 s" \
			"($(( $(bench_sunk) - sunk0 )) at the sinks," \
			"$(log_count_since "$offset" "$MTA_FAILED") deferred or bounced," \
			"$(log_count_since "$offset" "$MTA_REFUSED") refused)"
	fi
	echo "$(( (t1 - t0) / 1000000 ))"
}

# bench_sunk: messages the sinks (every exchanger, and stray) received so far.
bench_sunk() {
	echo $(( $(sink_messages sf) + $(sink_messages chicago) + $(sink_messages toronto) \
		+ $(sink_messages stray) ))
}

# bench_measure ROW CONFIG PORT PAIR [PER_MESSAGE]: one timed run,
# checked: a configuration with "mxpathd" in its name must raise the
# decision count by at least PER_MESSAGE (default 1, may be a fraction)
# per message, the others must leave it alone.
bench_measure() {
	local row=$1 config=$2 port=$3 pair=$4 per=${5:-1} before after ms offset
	read -ra before <<< "$(bench_counters)"
	offset=$(stat -c %s "$MTA_LOG")
	ms=$(bench_send "$port" "$MESSAGES") || exit 1
	read -ra after <<< "$(bench_counters)"
	local decided=$((after[0] - before[0]))
	if [[ $config == *mxpathd* ]]; then
		awk -v d="$decided" -v p="$per" -v m="$MESSAGES" 'BEGIN { exit !(d >= p * m) }' ||
			die "$row/$config: mxpathd decided $decided times for $MESSAGES messages" \
				"(at least $per each expected)"
	elif ((decided != 0)); then
		die "$row/$config: mxpathd was asked $decided times; it should not be"
	fi
	awk -v r="$row" -v c="$config" -v n="$pair" -v m="$MESSAGES" -v ms="$ms" \
		-v d="$decided" -v l="$((after[1] - before[1]))" -v k="$((after[2] - before[2]))" \
		-v cpu="$((after[3] - before[3]))" -v null_cpu="$((after[4] - before[4]))" \
		-v view="$(bench_mta_view "$offset")" '
		BEGIN { printf "result row=%s config=%s pair=%d msgs=%d seconds=%.3f rate=%.1f " \
			"decisions=%d lookups=%d conns=%d cpu_ms=%d null_cpu_ms=%d%s\n", r, c, n, m,
			ms / 1000, m * 1000 / ms, d, l, k, cpu, null_cpu, view == "" ? "" : " " view }'
}

# bench_pairs ROW A B SWITCH PORT_OF [PER_MESSAGE]: $PAIRS pairs of runs,
# A first in odd pairs and B first in even ones, so that drift within a
# pair hits both sides alike over the whole row; each run is prepared by
# "SWITCH CONFIG", sent to port "$(PORT_OF CONFIG)" and checked by
# bench_measure with PER_MESSAGE.
bench_pairs() {
	local row=$1 a=$2 b=$3 switch=$4 port_of=$5 per=${6:-1} pair config
	for ((pair = 1; pair <= PAIRS; pair++)); do
		if ((pair % 2)); then set -- "$a" "$b"; else set -- "$b" "$a"; fi
		for config in "$@"; do
			"$switch" "$config"
			bench_measure "$row" "$config" "$("$port_of" "$config")" "$pair" "$per"
		done
	done
}

# bench_plain_port CONFIG: the listener without a milter, whatever CONFIG.
bench_plain_port() { echo "$P"; }

# bench_milter_port CONFIG: the listener of none, null or mxpathd.
bench_milter_port() {
	case $1 in
	none) echo "$P" ;;
	null) echo "$P_NULL" ;;
	mxpathd) echo "$P_MXPATHD" ;;
	esac
}

# bench_milter_switch CONFIG: nothing to switch (a listener each); before
# pairs 1, 6, 11, ... a reference run without a milter (pair=0).
bench_milter_switch() {
	if ((BENCH_MILTER_RUNS++ % 10 == 0)); then
		bench_measure milter none "$P" 0
	fi
}

# bench_milter_row: the milter row: a warm-up batch through each listener,
# then $PAIRS pairs null_milter / mxpathd, none for reference.
bench_milter_row() {
	local config
	for config in none null mxpathd; do
		bench_send "$(bench_milter_port $config)" "$WARMUP" > /dev/null || exit 1
	done
	BENCH_MILTER_RUNS=0
	bench_pairs milter null mxpathd bench_milter_switch bench_milter_port
}

# bench_finish: the messages reached boston.travel.edu's exchangers, none
# the stray catch-all, and the MTA deferred or bounced none.
bench_finish() {
	local failed
	echo "# san-francisco received $(sink_messages sf) messages; chicago $(sink_messages chicago)," \
		"toronto $(sink_messages toronto), stray $(sink_messages stray)"
	[ "$(sink_messages stray)" -eq 0 ] || die "messages reached the catch-all relayhost"
	failed=$(mta_log_count "$MTA_LOG" "$MTA_FAILED")
	[ "$failed" -eq 0 ] || die "the MTA deferred or bounced $failed messages"
}
