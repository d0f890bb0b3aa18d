# SPDX-License-Identifier: BSD-2-Clause
# sinks.sh - the shared part of the MTA bench: sinks, senders, waits
#
# Sourced by postfix.sh and sendmail.sh (and so by the integration tests,
# which report with tap.sh). Gives:
#   - smtp-sink instances standing in for mail exchangers, one per
#     127.0.0.x:PORT, each with its own dump file, started and stopped one
#     by one by PID;
#   - the MTAs' own resolver: libc cannot be given a port, so the MTAs'
#     mount namespaces name $MTA_NAMESERVER (port 53 on a 127.0.0.x of its
#     own), where a dnsmock serves tests/zones;
#   - senders (smtp-source for volume, swaks for one dialogue) and a
#     socketmap client (what mxpathd answers the MTA);
#   - bounded polling (mta_poll) instead of fixed sleeps, a free-port
#     picker, and stopping by PID.
# It starts nothing by itself and talks to nothing but 127.0.0.0/8.
#
# Usage:
#   sinks_init DIR                      dumps and logs go to DIR/sinks
#   sink_start NAME ADDR PORT [OPT...]  OPT: extra smtp-sink options
#   sink_restart NAME                   start a stopped sink again, dump kept
#   sink_stop NAME / sinks_stop_all
#   sink_messages NAME / sink_recipients NAME [ERE]
#   sinks_wait_messages N TIMEOUT NAME...   total over the sinks reaches N
#   mta_resolver_start DIR / mta_resolver_stop / mta_write_resolv_conf DIR
#   mta_socketmap_query SOCKET NAME KEY...
# and what postfix.sh and sendmail.sh share about an MTA instance:
#   mta_wait_smtpd WHO PORT STOP LOG... its listener on 127.0.0.1:PORT is up
#   mta_log_count FILE ERE / mta_wait_log FILE N ERE TIMEOUT
#   mta_local_count DIR [ERE]           messages its local mailer stored

# shellcheck shell=bash

SINKS_DIR=
declare -gA SINK_PID=()		# NAME -> PID of its smtp-sink
declare -gA SINK_ADDR=()	# NAME -> ADDR:PORT
SINK_USER=${SINK_USER:-nobody}	# smtp-sink drops to this user (-u)
MTA_LIB=${MTA_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
MTA_ZONES=${MTA_ZONES:-$MTA_LIB/../zones}
# The MTAs' resolver as libc sees it: resolv.conf has no port, so port 53
# on an address of its own: the first of these (no zone uses them) where
# nothing listens yet (another test run may hold some: sixteen to choose from).
MTA_NAMESERVERS=${MTA_NAMESERVERS:-127.0.0.53 127.0.0.54 127.0.0.55 127.0.0.56 $(echo 127.0.53.{1..12})}
MTA_NAMESERVER=
MTA_RESOLVER_PID=
# The envelope sender of test mail. Its domain must route cleanly (Postfix
# resolves senders through transport_maps too): oreilly.com has MX records.
MTA_SENDER=${MTA_SENDER:-sender@oreilly.com}

# Fatal set-up error: report it as a failed test (no silent skips), stop.
mta_die() { echo "not ok - $*"; exit 1; }

# mta_require CMD...: every command must exist (a missing one is a failure).
mta_require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || mta_die "prerequisite missing: $c"
	done
}

# ---------------------------------------------------------------- waiting

# mta_poll TIMEOUT CMD...: run CMD every 0.1 s until it succeeds (0) or
# TIMEOUT whole seconds have passed (1).
mta_poll() {
	local timeout=$1; shift
	local deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
	while :; do
		"$@" && return 0
		(( $(date +%s%N) >= deadline )) && return 1
		sleep 0.1
	done
}

# mta_is_listening ADDR PORT: a TCP listener on exactly ADDR:PORT.
mta_is_listening() {
	[ -n "$(ss -Hltn "src $1:$2" 2>/dev/null)" ]
}

# mta_free_port: a TCP port below the ephemeral range with no listener on
# any address, so the same port is free on every 127.0.0.x we use.
mta_free_port() {
	local port i
	for (( i = 0; i < 200; i++ )); do
		port=$(( 20000 + RANDOM % 12000 ))
		[ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] &&
		[ -z "$(ss -Hlun "sport = :$port" 2>/dev/null)" ] && { echo "$port"; return 0; }
	done
	return 1
}

# mta_stop_pid PID [NAME]: SIGTERM, wait up to 5 s, then SIGKILL; reap it.
# Only ever a PID we started (a child of this shell).
mta_stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for (( i = 0; i < 50; i++ )); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# ${2:-$pid} did not stop on SIGTERM, killing" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# mta_stop_group PID [NAME]: stop a daemon that leads its own process group
# (the Postfix master, sendmail -bD) and wait until every process of that
# group is gone, so nothing of ours outlives the test.
mta_stop_group() {
	local pid=$1
	[ -n "$pid" ] || return 0
	mta_stop_pid "$pid" "${2:-$pid}"
	kill -0 -- "-$pid" 2>/dev/null || return 0
	kill -TERM -- "-$pid" 2>/dev/null
	mta_poll 5 _mta_group_is_gone "$pid" && return 0
	echo "# process group of ${2:-$pid} did not stop on SIGTERM, killing" >&2
	kill -KILL -- "-$pid" 2>/dev/null
	mta_poll 5 _mta_group_is_gone "$pid"
}
_mta_group_is_gone() { ! kill -0 -- "-$1" 2>/dev/null; }

# ---------------------------------------------------------------- sinks

# sinks_init DIR: the sinks' dumps and logs go below DIR/sinks.
sinks_init() {
	SINKS_DIR=$1/sinks
	mkdir -p "$SINKS_DIR" || return 1
	chown "$SINK_USER" "$SINKS_DIR"
}

# sink_start NAME ADDR PORT [smtp-sink options...]: an exchanger that
# accepts everything (unless the options say otherwise, e.g. -Q CONNECT
# for a 421 greeting) and appends each message to DIR/sinks/NAME.dump.
sink_start() {
	local name=$1
	[ -n "$SINKS_DIR" ] || { echo "sink_start: sinks_init first" >&2; return 1; }
	[ -z "${SINK_PID[$name]:-}" ] || { echo "sink_start: $name already runs" >&2; return 1; }
	: > "$SINKS_DIR/$name.dump"
	chown "$SINK_USER" "$SINKS_DIR/$name.dump"
	_sink_launch "$@"
}

# sink_restart NAME: start a stopped sink again on its address and port,
# its dump kept (the new deliveries are appended).
sink_restart() {
	local name=$1
	[ -z "${SINK_PID[$name]:-}" ] || { echo "sink_restart: $name still runs" >&2; return 1; }
	[ -n "${SINK_ADDR[$name]:-}" ] || { echo "sink_restart: $name never ran" >&2; return 1; }
	_sink_launch "$name" "${SINK_ADDR[$name]%:*}" "${SINK_ADDR[$name]##*:}"
}

_sink_launch() {
	local name=$1 addr=$2 port=$3; shift 3
	smtp-sink -u "$SINK_USER" -h "$name.sink.test" -D "$SINKS_DIR/$name.dump" "$@" \
		"$addr:$port" 128 >> "$SINKS_DIR/$name.log" 2>&1 &
	SINK_PID[$name]=$!
	SINK_ADDR[$name]=$addr:$port
	if ! mta_poll 5 mta_is_listening "$addr" "$port"; then
		echo "sink_start: $name on $addr:$port is not listening" >&2
		cat "$SINKS_DIR/$name.log" >&2
		sink_stop "$name"
		return 1
	fi
}

# sink_stop NAME: stop one sink (its dump stays for counting).
sink_stop() {
	local name=$1
	mta_stop_pid "${SINK_PID[$name]:-}" "sink $name"
	unset "SINK_PID[$name]"
}

sinks_stop_all() {
	local name
	# SIGTERM to all first, so they stop in parallel; then reap each.
	for name in "${!SINK_PID[@]}"; do
		kill -TERM "${SINK_PID[$name]}" 2>/dev/null
	done
	for name in "${!SINK_PID[@]}"; do
		sink_stop "$name"
	done
}

# sink_addr NAME: the ADDR:PORT it listens on.
sink_addr() { echo "${SINK_ADDR[$1]}"; }

# sink_messages NAME: messages the sink has received (one X-Mail-Args each).
sink_messages() {
	local n
	n=$(grep -c '^X-Mail-Args: ' "$SINKS_DIR/$1.dump" 2>/dev/null) || n=0
	echo "${n:-0}"
}

# sink_recipients NAME [ERE]: recipients received (matching ERE if given).
sink_recipients() {
	local n
	n=$(grep -Eic "^X-Rcpt-Args: <${2:-.*}>" "$SINKS_DIR/$1.dump" 2>/dev/null) || n=0
	echo "${n:-0}"
}

# sinks_total NAME...: messages over several sinks.
sinks_total() {
	local name total=0
	for name in "$@"; do
		total=$(( total + $(sink_messages "$name") ))
	done
	echo "$total"
}

# sinks_wait_messages N TIMEOUT NAME...: until the sinks hold N messages.
sinks_wait_messages() {
	local n=$1 timeout=$2; shift 2
	mta_poll "$timeout" _sinks_have "$n" "$@"
}
_sinks_have() { local n=$1; shift; (( $(sinks_total "$@") >= n )); }

# sinks_reset NAME...: empty the dumps (the sinks keep running).
sinks_reset() {
	local name
	for name in "$@"; do
		: > "$SINKS_DIR/$name.dump"
	done
}

# ---------------------------------------------------------------- resolver

# mta_resolver_start DIR: dnsmock serving tests/zones on port 53 for the
# MTAs' own lookups (nexthop names, MX when they route by themselves); log
# in DIR/resolver.log. Call it before pf_setup / sm_setup: it settles
# $MTA_NAMESERVER, the first of $MTA_NAMESERVERS with port 53 free.
mta_resolver_start() {
	local dir=$1 addr
	mta_require /usr/bin/python3 dig
	for addr in $MTA_NAMESERVERS; do
		_mta_port53_is_free "$addr" || continue
		MTA_NAMESERVER=$addr
		/usr/bin/python3 "$MTA_LIB/dnsmock.py" --zonedir "$MTA_ZONES" \
			--addr "$addr" --port 53 --recursive > "$dir/resolver.log" 2>&1 &
		MTA_RESOLVER_PID=$!
		mta_poll 10 _mta_resolver_answers && return 0
		mta_die "MTA resolver on $addr:53 does not answer ($(tail -n 3 "$dir/resolver.log"))"
	done
	mta_die "port 53 is taken on every address the MTAs' resolver may use ($MTA_NAMESERVERS)"
}
_mta_port53_is_free() {
	[ -z "$(ss -Hltun "src $1:53" 2>/dev/null)" ]
}
# True once the resolver answers a question with a record. Not "dig +short
# printed something": dig prints ";; communications error ..." on stdout
# too, and a SERVFAIL has no answer to print.
_mta_resolver_answers() {
	local out
	out=$(dig @"$MTA_NAMESERVER" +time=1 +tries=1 SOA edge.test 2>/dev/null) || return 1
	grep -q 'status: NOERROR' <<< "$out" && grep -Eq 'ANSWER: [1-9]' <<< "$out"
}

mta_resolver_stop() {
	mta_stop_pid "$MTA_RESOLVER_PID" "MTA resolver"
	MTA_RESOLVER_PID=
}

# mta_write_resolv_conf DIR: DIR/resolv.conf naming the MTA resolver, for
# an instance's mount namespace.
mta_write_resolv_conf() {
	[ -n "$MTA_NAMESERVER" ] || mta_die "$1: mta_resolver_start first (the MTA's resolver)"
	printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$MTA_NAMESERVER" > "$1/resolv.conf"
}

# ---------------------------------------------------------------- an MTA

# mta_wait_smtpd WHO PORT STOP LOG...: until 127.0.0.1:PORT accepts
# connections (10 s); else says so on stderr with the last lines of each
# LOG, runs STOP (the MTA's stop function) and fails.
mta_wait_smtpd() {
	local who=$1 port=$2 stop=$3; shift 3
	mta_poll 10 mta_is_listening 127.0.0.1 "$port" && return 0
	echo "$who not listening on 127.0.0.1:$port" >&2
	tail -n 20 "$@" >&2
	"$stop"
	return 1
}

# mta_log_count FILE ERE: lines of the MTA's log FILE matching ERE.
mta_log_count() {
	local n
	n=$(grep -Ec -- "$2" "$1" 2>/dev/null) || n=0
	echo "${n:-0}"
}

# mta_wait_log FILE N ERE TIMEOUT: until FILE has N lines matching ERE.
mta_wait_log() {
	mta_poll "$4" _mta_log_has "$1" "$2" "$3"
}
_mta_log_has() { (( $(mta_log_count "$1" "$3") >= $2 )); }

# mta_local_count DIR [ERE]: messages the local mailer (mta/local-deliver.sh)
# stored in DIR, for recipients matching ERE if given.
mta_local_count() {
	local n
	n=$(cat "$1"/msg.* 2>/dev/null | grep -Eic "^X-Local-Rcpt: <${2:-.*}>") || n=0
	echo "${n:-0}"
}

# ---------------------------------------------------------------- senders

# mta_send_many ADDR:PORT COUNT RECIPIENT [SESSIONS]: COUNT messages with
# smtp-source, each to a distinct recipient "N<RECIPIENT>" (-N: defeats
# Postfix's resolve cache, so every message is routed afresh).
mta_send_many() {
	local server=$1 count=$2 rcpt=$3 sessions=${4:-5}
	smtp-source -c -N -s "$sessions" -m "$count" -f "$MTA_SENDER" \
		-t "$rcpt" -S "mxpath bench" "$server" > /dev/null
}

# mta_swaks ADDR:PORT FROM TO [swaks options...]: one dialogue; the
# transcript goes to stdout (exit status is swaks').
mta_swaks() {
	local server=$1 from=$2 to=$3; shift 3
	swaks --server "$server" --from "$from" --to "$to" --timeout 20 \
		--h-Subject "mxpath bench" "$@" 2>&1
}

# mta_socketmap_query SOCKET NAME KEY...: one reply line per KEY, e.g.
# "OK smtp:[a.cs.xyz.edu]:2525, [b.cs.xyz.edu]:2525" (tests/lib/smclient.py).
mta_socketmap_query() {
	local sock=$1; shift
	/usr/bin/python3 "$MTA_LIB/smclient.py" query "$sock" "$@"
}

# mta_rcpt_reply ADDR:PORT RECIPIENT: the server's (last) reply line to
# RCPT TO, e.g. "550 5.1.10 <u@d>: Recipient address rejected: ...".
mta_rcpt_reply() {
	mta_swaks "$1" "$MTA_SENDER" "$2" --quit-after RCPT | awk '
		/^ *-> RCPT TO:/ { rcpt = 1; next }
		rcpt && /^ *<[-*~]* / { sub(/^ *<[-*~]* +/, ""); reply = $0; next }
		rcpt && /^ *->/ { rcpt = 0 }
		END { print reply }'
}
