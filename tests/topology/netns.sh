# SPDX-License-Identifier: BSD-2-Clause
# netns.sh - hosts as network namespaces on private switches (sourced)
#
# A "host" here is what a machine is to a mail system: its own network
# stack (a network namespace with veth links to switches), its own host
# name (a UTS namespace) and its own /etc/resolv.conf and /etc/hosts (a
# private mount namespace). Each host is held open by one small process
# (`sleep infinity` inside the three namespaces); every program of the host
# is started in them with nsenter, so the host's MTA, its mxpathd and its
# DNS server see only that host's interfaces, name and resolver.
#
# Switches are Linux bridges inside one "switch" namespace. Addresses come
# from the TEST-NET ranges only; there is no link to this machine's own
# interfaces and no default route, so no packet can leave. Every name
# (namespace, veth) carries $NETNS_SUFFIX, random per run, so two runs
# never clash, and everything is deleted by name in netns_teardown (call
# it from an EXIT trap: it also runs after a failure).
#
#   netns_init DIR              scratch DIR; picks the suffix
#   netns_switch BRIDGE         a bridge in the switch namespace
#   netns_host NAME HOSTNAME RESOLVER [HOSTS_LINE...]
#                               namespace + holder: host name HOSTNAME,
#                               resolv.conf naming RESOLVER, hosts file with
#                               localhost and the lines given; DIR/h/NAME is
#                               also mounted on DIR/self (this host's files)
#   netns_link NAME BRIDGE IF ADDR/LEN   a veth from the host to a switch
#   netns_on NAME CMD...        run CMD on host NAME
#   netns_spawn NAME CMD... &   the same in the background: $! is CMD's PID
#   netns_teardown              stop the holders, delete namespaces by name
#   netns_leftovers             what is left of this run (empty when clean)

# shellcheck shell=bash

NETNS_DIR=
NETNS_SUFFIX=
NETNS_SWITCH=
NETNS_HOSTS=()
NETNS_VETHS=()
declare -gA NETNS_NS=() NETNS_HOLDER=()
declare -gA NETNS_INODE=()	# "net:[N]" (as /proc/PID/ns/net reads) -> namespace
NETNS_VETH_SEQ=0

netns_init() {
	NETNS_DIR=$1
	NETNS_SUFFIX=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	NETNS_SWITCH=mxsw-$NETNS_SUFFIX
	mkdir -p "$NETNS_DIR/h" "$NETNS_DIR/self" || return 1
	ip netns add "$NETNS_SWITCH" || return 1
	_netns_remember "$NETNS_SWITCH"
	ip -n "$NETNS_SWITCH" link set lo up
}

# _netns_remember NS: its identity, to find processes in it once its name
# is gone.
_netns_remember() {
	NETNS_INODE["net:[$(stat -L -c %i "/run/netns/$1")]"]=$1
}

netns_switch() {
	ip -n "$NETNS_SWITCH" link add "$1" type bridge &&
		ip -n "$NETNS_SWITCH" link set "$1" up
}

netns_host() {
	local name=$1 hostname=$2 resolver=$3 ns=mx$1-$NETNS_SUFFIX dir=$NETNS_DIR/h/$1 pid
	shift 3
	mkdir -p "$dir" && chmod 755 "$dir" || return 1
	printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$resolver" > "$dir/resolv.conf"
	{ printf '127.0.0.1 localhost\n'; printf '%s\n' "$@"; } > "$dir/hosts"
	ip netns add "$ns" || return 1
	_netns_remember "$ns"
	NETNS_NS[$name]=$ns
	NETNS_HOSTS+=("$name")
	ip -n "$ns" link set lo up
	# ip netns exec and unshare exec in turn, so $! is the holder itself.
	# shellcheck disable=SC2016 # expanded by the inner sh
	ip netns exec "$ns" unshare --uts --mount --propagation private sh -c '
		hostname "$1" &&
		mount --bind "$2/resolv.conf" /etc/resolv.conf &&
		mount --bind "$2/hosts" /etc/hosts &&
		mount --bind "$2" "$3" &&
		exec sleep infinity' holder "$hostname" "$dir" "$NETNS_DIR/self" \
		> "$dir/holder.log" 2>&1 < /dev/null &
	pid=$!
	NETNS_HOLDER[$name]=$pid
	mta_poll 5 _netns_host_ready "$pid" "$hostname" && return 0
	echo "netns_host $name: the holder did not come up: $(cat "$dir/holder.log")" >&2
	return 1
}
_netns_host_ready() {
	[ "$(nsenter -t "$1" -u hostname 2>/dev/null)" = "$2" ] &&
		nsenter -t "$1" -m test -f "$NETNS_DIR/self/resolv.conf" 2>/dev/null
}

netns_link() {
	local name=$1 bridge=$2 ifname=$3 addr=$4 ns=${NETNS_NS[$1]} here there
	NETNS_VETH_SEQ=$((NETNS_VETH_SEQ + 1))
	here=mxh$NETNS_VETH_SEQ$NETNS_SUFFIX
	there=mxp$NETNS_VETH_SEQ$NETNS_SUFFIX
	NETNS_VETHS+=("$here" "$there")
	# Created in the host's namespace and the peer moved to the switch:
	# neither end ever sits among this machine's own interfaces.
	ip -n "$ns" link add "$here" type veth peer name "$there" &&
		ip -n "$ns" link set "$there" netns "$NETNS_SWITCH" &&
		ip -n "$ns" link set "$here" name "$ifname" &&
		ip -n "$ns" addr add "$addr" dev "$ifname" &&
		ip -n "$ns" link set "$ifname" up &&
		ip -n "$NETNS_SWITCH" link set "$there" master "$bridge" &&
		ip -n "$NETNS_SWITCH" link set "$there" up
}

# netns_on NAME CMD...: nsenter execs CMD after joining the holder's
# network, UTS and mount namespaces (the working directory becomes /).
netns_on() {
	local name=$1
	shift
	nsenter -t "${NETNS_HOLDER[$name]}" -n -u -m -- "$@"
}

# netns_spawn NAME CMD... &: a function run with & is a subshell of its
# own; exec makes that subshell become nsenter, and nsenter becomes CMD.
netns_spawn() {
	local name=$1
	shift
	exec nsenter -t "${NETNS_HOLDER[$name]}" -n -u -m -- "$@"
}

# netns_pids NAME: processes still in host NAME's network namespace.
netns_pids() {
	ip netns pids "${NETNS_NS[$1]}" 2>/dev/null
}

netns_teardown() {
	local name pid
	for name in "${NETNS_HOSTS[@]}"; do
		pid=${NETNS_HOLDER[$name]:-}
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		unset "NETNS_HOLDER[$name]"
	done
	for name in "${NETNS_HOSTS[@]}"; do
		# A daemon's children may outlive it by a moment (NSD's servers).
		mta_poll 5 _netns_is_empty "$name"
		ip netns del "${NETNS_NS[$name]}" 2>/dev/null
	done
	[ -z "$NETNS_SWITCH" ] || ip netns del "$NETNS_SWITCH" 2>/dev/null
	return 0
}

_netns_is_empty() { [ -z "$(netns_pids "$1")" ]; }

# netns_leftovers: namespaces, links and processes of this run that are
# still there, one per line.
netns_leftovers() {
	[ -n "$NETNS_SUFFIX" ] || return 0
	ip netns list | awk -v s="-$NETNS_SUFFIX" 'index($1, s) { print "namespace " $1 }'
	ip -o link | awk -v s="$NETNS_SUFFIX" -F': ' 'index($2, s) { print "link " $2 }'
	local link pid
	# Any process still in one of the namespaces (deleted by name or not).
	for link in /proc/[0-9]*/ns/net; do
		pid=${link#/proc/}
		pid=${pid%%/*}
		link=$(readlink "$link" 2>/dev/null) || continue
		[ -n "${NETNS_INODE[$link]:-}" ] || continue
		echo "process $pid in ${NETNS_INODE[$link]}: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
	done
	ps -eo pid=,args= | awk -v d="$NETNS_DIR/" 'index($0, d) && !/awk/ { print "process " $0 }'
}
