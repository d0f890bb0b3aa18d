# SPDX-License-Identifier: BSD-2-Clause
# daemon.sh - start and stop mxpathd in integration tests (sourced, after tap.sh)
#
# Each instance NAME runs "$BUILD/mxpathd -f" in the foreground from its own
# scratch directory under $MXPATHD_WORK, logs to NAME/log and is stopped by
# PID. Its sockets are DIR/socketmap.sock, DIR/milter.sock, DIR/control.sock
# (DIR = mxpathd_dir NAME). A daemon that does not come up ends the script
# with "not ok" (no silent skips).
#
#   mxpathd_dir NAME                  the instance's directory (created, mode 0755)
#   mxpathd_spec NAME DOOR            "unix:DIR/DOOR.sock" (DOOR: socketmap, milter, control)
#   mxpathd_conf NAME [TEXT]          write DIR/mxpath.conf: TEXT, plus for each of user,
#                                     group, socketmap, control that TEXT does not set
#                                     (top-level keys start a line in TEXT):
#                                     user = "root", group = "root", the socketmap and
#                                     control doors on DIR's sockets
#   mxpathd_start NAME [ARGS...]      start it (-f -c DIR/mxpath.conf -p DIR/mxpathd.pid
#                                     ARGS) and wait until it serves; $MXPATHD_WRAPPER,
#                                     if set, runs it (e.g. "valgrind -q ...")
#   mxpathd_run NAME [ARGS...]        run it to completion (10 s at most), output in
#                                     DIR/out; returns its exit code (for refusals, -t)
#   mxpathd_pid NAME                  its PID
#   mxpathd_reload NAME               SIGUSR1; waits for the outcome in the log:
#                                     0 reloaded, 1 refused
#   mxpathd_stop NAME [SIGNAL]        SIGTERM (or SIGNAL); waits up to 10 s (60 s under
#                                     a wrapper); returns its exit status (SIGKILL and
#                                     "not ok" if it hangs)
#   mxpathd_wait_log NAME REGEX [N]   wait (10 s) until the log has N (default 1) matches
#   mxpathd_log NAME                  print the log
#   mxpathd_stats NAME                print what the control socket says
#   mxpathd_control_read SPEC         the same from the control socket at SPEC
#                                     (unix:PATH or inet:PORT@ADDR)
#   mxpathd_metric NAME SAMPLE        the value of one sample there, e.g.
#                                     'mxpath_reloads_total{result="ok"}'
#   mxpathd_query NAME MAP KEY        one socketmap lookup through Postfix's postmap;
#                                     prints the answer, returns postmap's status
#   mxpathd_cleanup                   stop every instance, remove $MXPATHD_WORK (EXIT trap)
#   mxpathd_literal_route [ADDR]      a policy that needs no DNS: .example.test routed to
#                                     [ADDR] (default 198.51.100.7: TEST-NET-2, never
#                                     connected to), no self, a DNS server never asked
#   $SMCLIENT, $MILTC                 the test clients of the socketmap and milter doors
#                                     (tests/lib/smclient.py, tests/lib/miltc.py)

# shellcheck shell=bash
set -u
: "${MXPATH_ROOT:?source tap.sh first}"
case $BUILD in
/*) MXPATHD_BIN=${MXPATHD_BIN:-$BUILD/mxpathd} ;;
*) MXPATHD_BIN=${MXPATHD_BIN:-$MXPATH_ROOT/$BUILD/mxpathd} ;;
esac
[ -x "$MXPATHD_BIN" ] || { echo "not ok - $MXPATHD_BIN is not built"; exit 1; }
MXPATHD_WORK=$(mktemp -d /tmp/mxpath-daemon.XXXXXX)
chmod 0755 "$MXPATHD_WORK"
declare -A MXPATHD_PID=()
declare -A MXPATHD_WAIT=()	# NAME -> how long it may take to start or stop (0.1 s)
# shellcheck disable=SC2034 # for the scripts
SMCLIENT="/usr/bin/python3 $MXPATH_ROOT/tests/lib/smclient.py"
# shellcheck disable=SC2034
MILTC="/usr/bin/python3 $MXPATH_ROOT/tests/lib/miltc.py"

mxpathd_dir() {
	local dir=$MXPATHD_WORK/$1
	[ -d "$dir" ] || { mkdir -p "$dir" && chmod 0755 "$dir"; }
	echo "$dir"
}

mxpathd_spec() {
	echo "unix:$(mxpathd_dir "$1")/$2.sock"
}

# True if TEXT sets the top-level KEY: "KEY =" or "KEY :" at the start of a line.
_mxpathd_sets() {
	grep -Eq "^$1[[:space:]]*[=:]" <<< "$2"
}

mxpathd_conf() {
	local name=$1 text=${2:-} dir file
	dir=$(mxpathd_dir "$name")
	file=$dir/mxpath.conf
	{
		printf '%s\n' "$text"
		_mxpathd_sets user "$text" || echo 'user = "root";'
		_mxpathd_sets group "$text" || echo 'group = "root";'
		_mxpathd_sets socketmap "$text" ||
			echo "socketmap = { socket = \"$(mxpathd_spec "$name" socketmap)\"; };"
		_mxpathd_sets control "$text" ||
			echo "control = { socket = \"$(mxpathd_spec "$name" control)\"; };"
	} > "$file"
	chmod 0644 "$file"
}

mxpathd_start() {
	local name=$1 dir i timeout=100
	shift
	dir=$(mxpathd_dir "$name")
	: > "$dir/log"
	# shellcheck disable=SC2086 # the wrapper is a command line
	${MXPATHD_WRAPPER:-} "$MXPATHD_BIN" -f -c "$dir/mxpath.conf" -p "$dir/mxpathd.pid" "$@" \
		>> "$dir/log" 2>&1 &
	MXPATHD_PID[$name]=$!
	[ -z "${MXPATHD_WRAPPER:-}" ] || timeout=600
	MXPATHD_WAIT[$name]=$timeout
	for ((i = 0; i < timeout; i++)); do
		grep -q ' started: ' "$dir/log" && return 0
		kill -0 "${MXPATHD_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "not ok - mxpathd $name did not start"
	sed 's/^/    # /' "$dir/log" | tail -n 20
	exit 1
}

mxpathd_run() {
	local name=$1 dir
	shift
	dir=$(mxpathd_dir "$name")
	timeout -k 2 10 "$MXPATHD_BIN" "$@" > "$dir/out" 2>&1
}

mxpathd_pid() {
	echo "${MXPATHD_PID[$1]}"
}

_mxpathd_count() {
	grep -Ec -- "$2" "$(mxpathd_dir "$1")/log"
}

mxpathd_wait_log() {
	local name=$1 regex=$2 want=${3:-1} i
	for i in $(seq 1 100); do
		(( $(_mxpathd_count "$name" "$regex") >= want )) && return 0
		sleep 0.1
	done
	return 1
}

mxpathd_reload() {
	local name=$1 outcome='reloaded /|reload refused: ' before
	before=$(_mxpathd_count "$name" "$outcome")
	kill -USR1 "${MXPATHD_PID[$name]}" || return 2
	mxpathd_wait_log "$name" "$outcome" $((before + 1)) || return 2
	grep -E -- "$outcome" "$(mxpathd_dir "$name")/log" | tail -n 1 | grep -q 'reloaded /'
}

# What a daemon that would not stop was doing: its last log lines and
# every thread's stack, so that a hang in CI can be read from the output.
_mxpathd_postmortem() {
	tail -n 20 "$(mxpathd_dir "$1")/log" | sed 's/^/#   log: /'
	command -v gdb > /dev/null || { echo "#   (no gdb: no stacks)"; return 0; }
	timeout 60 gdb -q -batch -p "$2" -ex 'thread apply all bt' 2>&1 |
		grep -E '^(Thread|#)' | sed 's/^/#   /'
}

mxpathd_stop() {
	local name=$1 sig=${2:-TERM} pid=${MXPATHD_PID[$1]:-} wait=${MXPATHD_WAIT[$1]:-100} i rc
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	for ((i = 0; i < wait; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "mxpathd $name still running $((wait / 10)) s after SIG$sig; killed"
		_mxpathd_postmortem "$name" "$pid"
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	unset "MXPATHD_PID[$name]"
	return $rc
}

mxpathd_log() {
	cat "$(mxpathd_dir "$1")/log"
}

mxpathd_stats() {
	mxpathd_control_read "$(mxpathd_spec "$1" control)"
}

mxpathd_control_read() {
	/usr/bin/python3 - "$1" <<'EOF'
import socket, sys
spec = sys.argv[1]
if spec.startswith("inet:"):
    port, host = spec[5:].split("@")
    s = socket.create_connection((host, int(port)), timeout=5)
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(spec[5:] if spec.startswith("unix:") else spec)
s.sendall(b"stats\n")
sys.stdout.write(b"".join(iter(lambda: s.recv(65536), b"")).decode())
EOF
}

mxpathd_metric() {
	mxpathd_stats "$1" | awk -v m="$2" '$1 == m { print $2 }'
}

mxpathd_query() {
	local name=$1 map=$2 key=$3 pf=$MXPATHD_WORK/postmap
	[ -f "$pf/main.cf" ] || { mkdir -p "$pf" && : > "$pf/main.cf"; }
	postmap -c "$pf" -q "$key" "socketmap:$(mxpathd_spec "$name" socketmap):$map"
}

mxpathd_literal_route() {
	printf 'routes = ( { domain = ".example.test";
           hosts = ( { host = "[%s]"; pref = 10; } ); } );
self = { names = [ ]; addresses = [ ]; };
dns = { servers = [ "127.0.0.1:1" ]; };\n' "${1:-198.51.100.7}"
}

mxpathd_cleanup() {
	local name
	for name in "${!MXPATHD_PID[@]}"; do
		mxpathd_stop "$name" >/dev/null
	done
	rm -rf "$MXPATHD_WORK"
}
