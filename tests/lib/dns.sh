# SPDX-License-Identifier: BSD-2-Clause
# dns.sh - loopback DNS servers for integration tests (sourced, after tap.sh)
#
# Every server listens on 127.0.0.1 on a free port, runs in the foreground
# from a scratch directory under $DNS_WORK, and is stopped by PID. A server
# that does not come up ends the script with "not ok" (no silent skips).
#
#   free_port                      print a port free for UDP and TCP on 127.0.0.1
#   dns_start_nsd NAME [ZONEDIR]   NSD serving every ZONEDIR/*.zone (default tests/zones);
#                                  on $NSD_ADDR:$NSD_PORT if set (e.g. port 53 of a
#                                  127.0.x.y of its own, for libc's resolv.conf)
#   dns_start_mock NAME [ARGS...]  tests/lib/dnsmock.py serving tests/zones, with ARGS
#                                  (--delay-all 0.05, --servfail NAME, ...)
#   dns_port NAME                  its port
#   dns_fault NAME [LINE...]       replace a mock's fault list ("servfail x.test",
#                                  "drop x.test", "delay-all 0.05"); none clears it
#   dns_queries NAME QNAME QTYPE   how many such queries a mock has seen
#   dns_stop NAME                  stop one server (waits for it to exit)
#   dns_cleanup                    stop every server, remove $DNS_WORK (for the EXIT trap)
#   mxpath_conf FILE NAME [TEXT]   write a config naming only server NAME, plus TEXT
#                                  ($DNS_OPTIONS replaces the timeouts in dns = { },
#                                  $SELF_CONF replaces its self = { } line)
#   route_setup nsd|mock NAME      how a `mxpath route` test starts: the EXIT trap,
#                                  that server, $CONF naming only it (mxpath_conf)
#   route_json ARGS...             `mxpath route --json -c $CONF ARGS`: sets OUT, RC
#   expect DESC ACTUAL EXPECTED    pass if equal, else fail showing both
#   $MXPATH                        the mxpath binary under test (from $BUILD)

# shellcheck shell=bash
set -u
: "${MXPATH_ROOT:?source tap.sh first}"
case $BUILD in
/*) MXPATH=$BUILD/mxpath ;;
*) MXPATH=$MXPATH_ROOT/$BUILD/mxpath ;;
esac
if [ ! -x "$MXPATH" ]; then
	echo "not ok - $MXPATH is not built"
	exit 1
fi
# shellcheck source=tests/lib/nsd.sh
. "$MXPATH_ROOT/tests/lib/nsd.sh"
DNS_WORK=$(mktemp -d /tmp/mxpath-dns.XXXXXX)
DNS_ZONES=$MXPATH_ROOT/tests/zones
declare -A DNS_PORT=() DNS_PID=()

free_port() {
	/usr/bin/python3 - <<'EOF'
import socket
while True:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(('127.0.0.1', 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(('127.0.0.1', port))
    except OSError:
        t.close()
        continue
    print(port)
    break
EOF
}

# Waits until the server on $2 answers at all (<= 5 s): both servers load
# their zones before they listen.
dns_wait_ready() {
	local name=$1 port=$2 addr=${3:-127.0.0.1} i
	for i in $(seq 1 50); do
		if dig @"$addr" -p "$port" +time=1 +tries=1 SOA edge.test 2>/dev/null |
			grep -q 'status:'; then
			return 0
		fi
		kill -0 "${DNS_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "not ok - DNS server $name did not come up on port $port"
	sed 's/^/    # /' "$DNS_WORK/$name/log" 2>/dev/null | tail -n 20
	exit 1
}

dns_start_nsd() {
	local name=$1 zonedir=${2:-$DNS_ZONES} dir=$DNS_WORK/$1 port addr=${NSD_ADDR:-127.0.0.1}
	port=${NSD_PORT:-$(free_port)}
	nsd_conf_write "$dir" "$zonedir" "$addr@$port" || { echo "not ok - $dir/nsd.conf"; exit 1; }
	nsd -d -c "$dir/nsd.conf" > "$dir/log" 2>&1 &
	DNS_PID[$name]=$!
	DNS_PORT[$name]=$port
	dns_wait_ready "$name" "$port" "$addr"
}

# A later --zonedir in ARGS replaces tests/zones.
dns_start_mock() {
	local name=$1 dir=$DNS_WORK/$1 port
	shift
	port=$(free_port)
	mkdir -p "$dir"
	: > "$dir/control"
	/usr/bin/python3 "$MXPATH_ROOT/tests/lib/dnsmock.py" --zonedir "$DNS_ZONES" \
		--port "$port" --control "$dir/control" "$@" > "$dir/log" 2>&1 &
	DNS_PID[$name]=$!
	DNS_PORT[$name]=$port
	dns_wait_ready "$name" "$port"
}

dns_port() {
	echo "${DNS_PORT[$1]}"
}

dns_fault() {
	local name=$1
	shift
	if [ $# -eq 0 ]; then
		: > "$DNS_WORK/$name/control"
	else
		printf '%s\n' "$@" > "$DNS_WORK/$name/control"
	fi
}

dns_queries() {
	grep -c -i -- "^Q [a-z]* $2 $3\$" "$DNS_WORK/$1/log"
}

dns_stop() {
	local name=$1 pid=${DNS_PID[$1]:-} i
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "DNS_PID[$name]"
}

dns_cleanup() {
	local name
	for name in "${!DNS_PID[@]}"; do
		dns_stop "$name"
	done
	rm -rf "$DNS_WORK"
}

# A configuration whose only DNS server is test server NAME, and which does
# not take this machine's interface addresses as self (the zones use 127/8).
mxpath_conf() {
	local file=$1 name=$2 text=${3:-} self=${SELF_CONF:-}
	[ -n "$self" ] || self='self = { names = [ ]; addresses = [ ]; };'
	cat > "$file" <<EOF
$self
dns = { servers = [ "127.0.0.1:${DNS_PORT[$name]}" ]; ${DNS_OPTIONS:-timeout_ms = 500; tries = 2;} };
$text
EOF
}

route_setup() {
	trap dns_cleanup EXIT
	"dns_start_$1" "$2"
	CONF=$DNS_WORK/mxpath.conf
	mxpath_conf "$CONF" "$2"
}

# route_json ARGS...: runs `mxpath route --json -c $CONF ARGS`; sets OUT, RC.
route_json() {
	OUT=$("$MXPATH" route --json -c "$CONF" "$@" 2>"$DNS_WORK/stderr")
	RC=$?
}

# expect DESC ACTUAL EXPECTED: pass if equal, else fail showing both.
expect() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1"
		echo "    # expected: $3"
		echo "    # got:      $2"
		sed 's/^/    # stderr: /' "$DNS_WORK/stderr" 2>/dev/null | head -n 5
	fi
}

# Route JSON digests for expect: "host/pref ...", "host/pref/reason ...",
# the first hop's addresses, "action rule code status".
hops_of() { jq -r '[.hops[] | "\(.host)/\(.pref // "-")"] | join(" ")' <<<"$1"; }
pruned_of() { jq -r '[.pruned[] | "\(.host)/\(.pref // "-")/\(.reason)"] | join(" ")' <<<"$1"; }
addrs_of() { jq -r '[.hops[0].addresses[]] | join(" ")' <<<"$1"; }
verdict_of() { jq -r '"\(.action) \(.rule) \(.reply.code // "-") \(.reply.status // "-")"' <<<"$1"; }
