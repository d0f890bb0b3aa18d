# SPDX-License-Identifier: BSD-2-Clause
# mailhost.sh - what runs on a host of the topology (sourced, after netns.sh)
#
# On a host made by netns_host: an authoritative DNS server (NSD), or a
# mail host: a private Postfix 3.7 bound to the host's own addresses
# (tests/lib/postfix.sh's instance, with its listener and client moved off
# loopback) and the host's own mxpathd, both doors wired (transport_maps
# socketmap, smtpd_milters). mxpathd gets no self names or addresses: it
# finds itself from the host name and interface addresses it sees. Every
# process is started in the host's namespaces (netns_spawn) and stopped by
# PID.
#
#   host_dns NAME ADDR ZONEDIR      NSD on ADDR:53 serving ZONEDIR/*.zone
#   host_mail_prepare NAME MYHOSTNAME ADDRS
#                                   Postfix's files (smtpd on ADDRS:25)
#   host_mail NAME...               start mxpathd (HOST_CONF[NAME]) and Postfix
#   host_postfix_start NAME / host_postfix_stop NAME
#   host_doors NAME on|off          Postfix with or without mxpathd's doors
#   host_flush NAME                 postqueue -f
#   host_queue NAME                 messages in its queue
#   host_local NAME [ERE]           messages delivered locally (for ERE)
#   host_send NAME COUNT RCPT [FROM]  smtp-source to NAME's smtpd, on NAME
#   host_stop_all                   stop everything started here
#
# Needs tests/lib/postfix.sh (pf_setup, mta_* helpers) and tests/lib/nsd.sh
# sourced first.

# shellcheck shell=bash

MXPATHD_BIN=${MXPATHD_BIN:?}
TOPO_NETWORKS="127.0.0.0/8 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24"
declare -gA HOST_PF_PID=() HOST_MXD_PID=() HOST_NSD_PID=() HOST_ADDRS=() HOST_CONF=()

host_dir() { echo "$NETNS_DIR/h/$1"; }

host_dns() {
	local name=$1 addr=$2 zonedir=$3 dir zone
	dir=$(host_dir "$name")/nsd
	nsd_conf_write "$dir" "$zonedir" "$addr@53" || return 1
	zone=$(basename "$(find "$zonedir" -name '*.zone' | head -n 1)" .zone)
	netns_spawn "$name" nsd -d -c "$dir/nsd.conf" > "$dir/log" 2>&1 &
	HOST_NSD_PID[$name]=$!
	mta_poll 10 _host_dns_answers "$name" "$addr" "$zone" && return 0
	echo "host_dns $name: NSD does not answer on $addr: $(tail -n 3 "$dir/log")" >&2
	return 1
}
_host_dns_answers() {
	netns_on "$1" dig @"$2" +time=1 +tries=1 SOA "$3" 2>/dev/null | grep -q 'status: NOERROR'
}

# host_mail_prepare NAME MYHOSTNAME ADDRS: the Postfix instance's files
# (no process is left running; several may be prepared in parallel).
host_mail_prepare() {
	local name=$1 myhostname=$2 addrs=$3 dir pf run
	dir=$(host_dir "$name")
	pf=$dir/pf
	run=$dir/run
	mkdir -p "$run" && chown nobody:nogroup "$run" && chmod 755 "$run"
	# shellcheck disable=SC2034 # pf_setup writes a resolv.conf naming it (unused here)
	MTA_NAMESERVER=${addrs%%,*}
	pf_setup "$pf" 25 "$myhostname" > "$dir/pf-setup.log" 2>&1 < /dev/null ||
		{ cat "$dir/pf-setup.log" >&2; return 1; }
	sed -i 's/^127\.0\.0\.1:25 /25 /' "$pf/etc/master.cf"
	postconf -c "$pf/etc" -e "inet_interfaces = $addrs" "smtp_bind_address =" \
		"relayhost =" "mynetworks = $TOPO_NETWORKS" \
		"default_process_limit = 5" "default_destination_concurrency_limit = 5" \
		"smtp_destination_concurrency_limit = 5" "initial_destination_concurrency = 5" \
		"queue_run_delay = 1s" "minimal_backoff_time = 1s" "maximal_backoff_time = 2s" \
		"smtp_connect_timeout = 10s" \
		"milter_default_action = tempfail" "smtpd_reject_unlisted_recipient = no" &&
		_host_doors_conf "$pf/etc" on
}

# _host_doors_conf ETC on|off: Postfix's two doors to mxpathd, or none.
_host_doors_conf() {
	if [ "$2" = on ]; then
		postconf -c "$1" -e \
			"transport_maps = socketmap:unix:$NETNS_DIR/self/run/socketmap.sock:transport" \
			"smtpd_milters = unix:$NETNS_DIR/self/run/milter.sock"
	else
		postconf -c "$1" -e "transport_maps =" "smtpd_milters ="
	fi
}

# host_mail NAMES...: start mxpathd (CONF: $HOST_CONF[NAME]), then Postfix
# on each prepared host, all at once; returns once all of them serve.
host_mail() {
	local name
	for name in "$@"; do host_mxpathd_spawn "$name"; done
	for name in "$@"; do host_mxpathd_wait "$name" || return 1; done
	for name in "$@"; do host_postfix_spawn "$name"; done
	for name in "$@"; do host_postfix_wait "$name" || return 1; done
}

host_mxpathd_spawn() {
	local name=$1 dir
	dir=$(host_dir "$name")
	: > "$dir/mxpathd.log"
	netns_spawn "$name" "$MXPATHD_BIN" -f -c "${HOST_CONF[$name]}" >> "$dir/mxpathd.log" 2>&1 \
		< /dev/null &
	HOST_MXD_PID[$name]=$!
}

host_mxpathd_wait() {
	local log
	log=$(host_dir "$1")/mxpathd.log
	mta_poll 10 grep -q ' started: ' "$log" && return 0
	echo "host_mail $1: mxpathd did not start:" >&2
	tail -n 5 "$log" >&2
	return 1
}

host_postfix_spawn() {
	local name=$1 dir
	dir=$(host_dir "$name")/pf
	# The master leads its own process group (no -d): that is how it stops
	# its children on SIGTERM; nsenter execs it, so $! is the master.
	netns_spawn "$name" "$PF_MASTER" -c "$dir/etc" -s >> "$dir/master.log" 2>&1 < /dev/null &
	HOST_PF_PID[$name]=$!
}

host_postfix_wait() {
	local name=$1 addr dir
	dir=$(host_dir "$name")/pf
	addr=${HOST_ADDRS[$name]%%,*}
	mta_poll 10 _host_listens "$name" "$addr" 25 && return 0
	echo "host_mail $name: smtpd not listening on $addr:25" >&2
	tail -n 5 "$dir/maillog" "$dir/master.log" >&2
	return 1
}

host_postfix_start() {
	host_postfix_spawn "$1" && host_postfix_wait "$1"
}
_host_listens() {
	[ -n "$(netns_on "$1" ss -Hltn "src $2:$3" 2>/dev/null)" ]
}

host_postfix_stop() {
	mta_stop_group "${HOST_PF_PID[$1]:-}" "postfix on $1"
	unset "HOST_PF_PID[$1]"
}

# (on the host itself: postqueue wants inet_interfaces among its addresses)
# host_doors NAME on|off: wire Postfix to mxpathd's two doors, or not
# (the same Postfix on its own, for a difference), and restart it: a
# reload lets idle daemons serve on with the old settings for a while.
host_doors() {
	_host_doors_conf "$(host_dir "$1")/pf/etc" "$2" &&
		host_postfix_stop "$1" && host_postfix_start "$1"
}

host_flush() {
	netns_on "$1" postqueue -c "$(host_dir "$1")/pf/etc" -f
}

host_queue() {
	find "$(host_dir "$1")"/pf/spool/{incoming,active,deferred,hold,maildrop} -type f 2>/dev/null |
		wc -l
}

host_local() {
	mta_local_count "$(host_dir "$1")/pf/local" "${2:-}"
}

# host_send NAME COUNT RECIPIENT [FROM]: COUNT messages submitted to host
# NAME's own smtpd from inside the host, message k to kRECIPIENT.
host_send() {
	local name=$1 count=$2 rcpt=$3 from=${4:-postmaster@relay.hp.com}
	netns_on "$name" smtp-source -c -N -s 4 -m "$count" -f "$from" -t "$rcpt" \
		-S "topology" "${HOST_ADDRS[$name]%%,*}:25" > /dev/null
}

host_stop_all() {
	local name
	# SIGTERM to every daemon first, so they stop in parallel; then reap.
	for name in "${!HOST_PF_PID[@]}" "${!HOST_MXD_PID[@]}" "${!HOST_NSD_PID[@]}"; do
		kill -TERM "${HOST_PF_PID[$name]:-}" "${HOST_MXD_PID[$name]:-}" \
			"${HOST_NSD_PID[$name]:-}" 2>/dev/null
	done
	for name in "${!HOST_PF_PID[@]}"; do
		host_postfix_stop "$name"
	done
	for name in "${!HOST_MXD_PID[@]}"; do
		mta_stop_pid "${HOST_MXD_PID[$name]}" "mxpathd on $name"
		unset "HOST_MXD_PID[$name]"
	done
	for name in "${!HOST_NSD_PID[@]}"; do
		mta_stop_pid "${HOST_NSD_PID[$name]}" "nsd on $name"
		unset "HOST_NSD_PID[$name]"
	done
}
