#!/bin/bash
# 50-milter-door.sh - the milter door of a real mxpathd, driven from the MTA side
#
# A loopback DNS server (tests/lib/dnsmock.py over tests/zones, SERVFAIL
# for broken.edge.test, 1 s late under slow.edge.test) and mxpathd with
# the milter door on. miltertest runs the scripts in tests/milter/ (each
# verdict, mixed messages, every rewrite, the trace header, aborts,
# negotiation, many sessions); a small protocol client written here
# checks what miltertest cannot see: the exact SMTP reply on the wire,
# Postfix's local submission (port 0), RCPT parameters kept by
# SMFIR_ADDRCPT_PAR, and 300 sessions waiting at once. Then a daemon with
# the milter defaults, and a reload that turns reject_unroutable off.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"

MXPATHD=$MXPATH_ROOT/$BUILD/mxpathd
[ -x "$MXPATHD" ] || MXPATHD=$BUILD/mxpathd
LUA_DIR=$MXPATH_ROOT/tests/milter
WORK=$(mktemp -d /tmp/mxpath-milter.XXXXXX)
chmod 711 "$WORK"	# the daemon, as nobody, rereads its configuration on reload
SOCK=$WORK/milter.sock
DAEMON_PID=
# A sanitizer build must be able to write its report at exit.
if [ "${SANITIZE:-0}" = 1 ]; then
	DAEMON_ACCOUNT='user = "root"; group = "root";'
else
	DAEMON_ACCOUNT='user = "nobody"; group = "nogroup";'
fi

daemon_stop() {
	local i
	[ -n "$DAEMON_PID" ] || return 0
	kill "$DAEMON_PID" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		fail "mxpathd stops within 10 s of SIGTERM"
		kill -9 "$DAEMON_PID" 2>/dev/null
	fi
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_RC=$?
	DAEMON_PID=
}

cleanup() {
	daemon_stop
	dns_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT

for tool in miltertest /usr/bin/python3; do
	command -v "$tool" > /dev/null || { fail "prerequisite missing: $tool"; finish; exit 1; }
done
[ -x "$MXPATHD" ] || { fail "prerequisite missing: $MXPATHD (make first)"; finish; exit 1; }

# daemon_start CONF: mxpathd in the foreground, logging to $WORK/mxpathd.log.
daemon_start() {
	local i
	rm -f "$SOCK"
	"$MXPATHD" -f -c "$1" >> "$WORK/mxpathd.log" 2>&1 &
	DAEMON_PID=$!
	for i in $(seq 1 50); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "mxpathd did not open $SOCK"
	sed 's/^/    # /' "$WORK/mxpathd.log" | tail -n 20
	finish
	exit 1
}

# lua SCRIPT [NAME=VALUE...]: runs one miltertest script; each of its
# "ok"/"not ok" lines is one result here, and a script that exits non-zero
# without saying why is one failure more.
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

write_client() {
	cat > "$WORK/miltc.py" <<'EOF'
"""miltc - the MTA side of milter sessions, for what miltertest cannot show

  miltc.py session SOCK [--host H --addr A --port N --actions N] 'RCPT [ESMTP..]'..
      one session, one message; prints "connect R", "rcpt ADDR R [TEXT]",
      "eom OP FIELD | FIELD" per modification, "eom end R"
  miltc.py parallel SOCK N FORMAT FAST
      N sessions at once, RCPT FORMAT % i each; while they wait, one more
      with RCPT FAST; prints "replies=.. all=SECONDS fast=SECONDS"
"""
import argparse
import socket
import struct
import sys
import threading
import time

ACTIONS_POSTFIX = 0x1ff         # what Postfix 3.7 offers (measured)
STEPS_POSTFIX = 0x1fffff


class Session:
    def __init__(self, path, actions=ACTIONS_POSTFIX):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.send(b'O', struct.pack('!III', 6, actions, STEPS_POSTFIX))
        _, data = self.recv()
        self.actions, self.steps = struct.unpack('!II', data[4:12])

    def send(self, cmd, data=b''):
        self.sock.sendall(struct.pack('!I', len(data) + 1) + cmd + data)

    def read(self, n):
        data = b''
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError('the milter closed the connection')
            data += chunk
        return data

    def recv(self):
        head = self.read(5)
        return head[4:5], self.read(struct.unpack('!I', head[:4])[0] - 1)

    def connect(self, host, addr, port, j='mta.test'):
        self.send(b'D', b'Cj\0' + j.encode() + b'\0')
        self.send(b'C', host.encode() + b'\0' + b'4' + struct.pack('!H', port) +
                  addr.encode() + b'\0')
        return reply(*self.recv())

    def command(self, cmd, args):
        self.send(cmd, b''.join(a.encode() + b'\0' for a in args))
        return reply(*self.recv())

    def eom(self):
        self.send(b'E')
        mods = []
        while True:
            cmd, data = self.recv()
            if cmd in (b'c', b'a', b'r', b't', b'y', b'd'):
                return mods, reply(cmd, data)
            fields = [f.decode() for f in data.split(b'\0')[:-1]]
            mods.append('%s %s' % (cmd.decode(), ' | '.join(fields)))

    def quit(self):
        self.send(b'Q')
        self.sock.close()


def reply(cmd, data):
    return 'y ' + data.rstrip(b'\0').decode() if cmd == b'y' else cmd.decode()


def one_session(args):
    s = Session(args.socket, args.actions)
    print('negotiate actions=0x%x steps=0x%x' % (s.actions, s.steps))
    r = s.connect(args.host, args.addr, args.port)
    print('connect ' + r)
    if r == 'c':
        print('mail ' + s.command(b'M', ['<sender@example.org>']))
        accepted = 0
        for spec in args.rcpts:
            parts = spec.split(' ')
            r = s.command(b'R', parts)
            print('rcpt %s %s' % (parts[0], r))
            accepted += r == 'c'
        if accepted:
            mods, r = s.eom()
            for m in mods:
                print('eom ' + m.replace('\n', '\\n').replace('\t', '\\t'))
            print('eom end ' + r)
    s.quit()
    return 0


def parallel(args):
    results = []
    lock = threading.Lock()

    def run(rcpt):
        start = time.monotonic()
        try:
            s = Session(args.socket)
            s.connect('client.test', '192.0.2.25', 40000)
            s.command(b'M', ['<sender@example.org>'])
            r = s.command(b'R', [rcpt])
            s.quit()
        except (OSError, EOFError) as e:
            r = 'error'
            print('error: %s: %s' % (rcpt, e), file=sys.stderr)
        with lock:
            results.append((rcpt, r, time.monotonic() - start))

    start = time.monotonic()
    threads = [threading.Thread(target=run, args=(args.format % i,)) for i in range(args.n)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    run(args.fast)
    for t in threads:
        t.join()
    total = time.monotonic() - start
    fast = [d for rcpt, _, d in results if rcpt == args.fast][0]
    replies = {}
    for _, r, _ in results:
        key = ''.join(r.split(' ')[:2])
        replies[key] = replies.get(key, 0) + 1
    print('replies=%s all=%.2f fast=%.2f' % (
        ','.join('%s:%d' % kv for kv in sorted(replies.items())), total, fast))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='mode', required=True)
    one = sub.add_parser('session')
    one.add_argument('socket')
    one.add_argument('--host', default='client.test')
    one.add_argument('--addr', default='192.0.2.25')
    one.add_argument('--port', type=int, default=40000)
    one.add_argument('--actions', type=lambda v: int(v, 0), default=ACTIONS_POSTFIX)
    one.add_argument('rcpts', nargs='*')
    many = sub.add_parser('parallel')
    many.add_argument('socket')
    many.add_argument('n', type=int)
    many.add_argument('format')
    many.add_argument('fast')
    args = ap.parse_args()
    return one_session(args) if args.mode == 'session' else parallel(args)


if __name__ == '__main__':
    sys.exit(main())
EOF
}

miltc() {
	/usr/bin/python3 "$WORK/miltc.py" "$@"
}

# expect_line FILE DESC FIXED-STRING: one line of FILE is exactly it.
expect_line() {
	if grep -qxF -- "$3" "$1"; then pass "$2"; else
		fail "$2"; echo "    # wanted: $3"; sed 's/^/    # /' "$1" | tail -n 15; fi
}

# expect_log DESC FIXED-STRING: the daemon logged a line containing it.
expect_log() {
	if grep -qF -- "$2" "$WORK/mxpathd.log"; then pass "$1"; else
		fail "$1"; echo "    # wanted in the log: $2"; fi
}

write_client
dns_start_mock dns --servfail broken.edge.test --delay slow.edge.test=1

# The door with everything on. self is a.cs.xyz.edu: c.cs.xyz.edu (MX a
# 10, b 10) loops back; the cluster's first hop is always b (pref 10 < 20).
SELF_CONF='self = { names = [ "a.cs.xyz.edu" ]; addresses = [ ]; };'
mxpath_conf "$WORK/on.conf" dns "
local_hosts = [ \"d.cs.xyz.edu\" ];
clusters = ( { name = \"cluster.cs.xyz.edu\";
               members = ( { host = \"b.cs.xyz.edu\"; pref = 10; },
                           { host = \"d.cs.xyz.edu\"; pref = 20; } ); } );
milter = { socket = \"unix:$SOCK\"; rewrite_clusters = true;
           rewrite_local = \"canonical.xyz.edu\"; trace_header = true; };
control = { socket = \"unix:$WORK/control.sock\"; };
$DAEMON_ACCOUNT"
daemon_start "$WORK/on.conf"

for script in verdicts.lua rewrite.lua trace.lua abort.lua; do
	lua "$script"
done
lua negotiate.lua ACTIONS=on
lua sessions.lua COUNT=200

# ---- the exact SMTP replies, on the wire and in the log ----
miltc session "$SOCK" '<u@nullmx.edge.test>' '<u@nosuch.edge.test>' '<u@c.cs.xyz.edu>' \
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
expect_log "one log line per decision: queue id, rcpt, action, rule, hops, reply" \
	'rcpt=<u@nullmx.edge.test> action=reject rule=mx hops=- reply="556 5.1.10 Recipient address has null MX"'
expect_log "an accepted recipient's log line names its hops" \
	'rcpt=<s1@withmx.edge.test> action=relay rule=mx hops=real.edge.test reply=-'
expect_log "with {i} from the MTA the log line starts with the queue id" \
	'milter: 4QUEUEID1: rcpt=<q@withmx.edge.test> action=relay rule=mx hops=real.edge.test reply=-'
if grep -qE '^mxpathd\[[0-9]+\]: milter: conn#[0-9]+: rcpt=' "$WORK/mxpathd.log"; then
	pass "before {i} exists the log names the connection (conn#N)"
else
	fail "before {i} exists the log names the connection (conn#N)"
fi

# ---- SMFIR_ADDRCPT_PAR keeps the RCPT parameters ----
miltc session "$SOCK" '<p@cluster.cs.xyz.edu> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;p@cluster.cs.xyz.edu' \
	> "$WORK/par" 2>&1
expect_line "$WORK/par" "Postfix's offer: ADDHDRS, ADDRCPT, ADDRCPT_PAR, DELRCPT asked; HELO, headers, body, DATA skipped" \
	"negotiate actions=0x8d steps=0x372"
expect_line "$WORK/par" "rewritten recipient keeps its ESMTP parameters" \
	"eom 2 <p@b.cs.xyz.edu> | NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;p@cluster.cs.xyz.edu"
expect_line "$WORK/par" "original recipient deleted in the form the MTA gave" \
	"eom - <p@cluster.cs.xyz.edu>"

# ---- Postfix's local submission: localhost, 127.0.0.1, port 0 ----
miltc session --host localhost --addr 127.0.0.1 --port 0 "$SOCK" \
	'<local@nullmx.edge.test>' '<local@cluster.cs.xyz.edu>' > "$WORK/local" 2>&1
expect_line "$WORK/local" "local submission: null MX recipient passes (no verdict)" \
	"rcpt <local@nullmx.edge.test> c"
if grep -q '^eom [-2+h]' "$WORK/local"; then
	fail "local submission: nothing rewritten, no header"; sed 's/^/    # /' "$WORK/local"
else
	pass "local submission: nothing rewritten, no header"
fi
if grep -q 'rcpt=<local@' "$WORK/mxpathd.log"; then
	fail "local submission: no route asked for"
else
	pass "local submission: no route asked for"
fi
miltc session --host localhost --addr 127.0.0.1 --port 41000 "$SOCK" \
	'<local2@nullmx.edge.test>' > "$WORK/local2" 2>&1
expect_line "$WORK/local2" "an SMTP client on localhost (real port) still gets verdicts" \
	"rcpt <local2@nullmx.edge.test> y 556 5.1.10 Recipient address has null MX"

# ---- concurrency: 300 sessions wait for DNS, another is not held up ----
miltc parallel "$SOCK" 300 '<u@s%d.slow.edge.test>' '<f@withmx.edge.test>' \
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
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); data = b""
while True:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
print(data.decode())' "$WORK/control.sock" > "$WORK/stats" 2>&1
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

daemon_stop
if [ "${DAEMON_RC:-1}" -eq 0 ]; then pass "mxpathd exits 0 on SIGTERM"; else
	fail "mxpathd exits 0 on SIGTERM (rc ${DAEMON_RC:-?})"; fi

# ---- the milter defaults: verdicts only ----
mxpath_conf "$WORK/off.conf" dns "
local_hosts = [ \"d.cs.xyz.edu\" ];
clusters = ( { name = \"cluster.cs.xyz.edu\";
               members = ( { host = \"b.cs.xyz.edu\"; pref = 10; },
                           { host = \"d.cs.xyz.edu\"; pref = 20; } ); } );
milter = { socket = \"unix:$SOCK\"; };
$DAEMON_ACCOUNT"
chmod 644 "$WORK/off.conf"
daemon_start "$WORK/off.conf"
lua negotiate.lua ACTIONS=off

# ---- reload: reject_unroutable off lets rejects through, never tempfails ----
sed -i 's|milter = { socket = \("[^"]*"\); };|milter = { socket = \1; reject_unroutable = false; };|' \
	"$WORK/off.conf"
grep -q 'reject_unroutable = false' "$WORK/off.conf" || fail "test set-up: reload config not written"
kill -USR1 "$DAEMON_PID"
for i in $(seq 1 50); do
	grep -q 'reloaded\|reload refused' "$WORK/mxpathd.log" && break
	sleep 0.1
done
expect_log "reload accepted" "reloaded $WORK/off.conf"
miltc session "$SOCK" '<r@nullmx.edge.test>' '<r@broken.edge.test>' > "$WORK/noreject" 2>&1
expect_line "$WORK/noreject" "reject_unroutable = false: null MX recipient accepted" \
	"rcpt <r@nullmx.edge.test> c"
expect_line "$WORK/noreject" "reject_unroutable = false: DNS failure still tempfails" \
	"rcpt <r@broken.edge.test> y 451 4.4.3 temporary DNS failure looking up MX for broken.edge.test (servfail)"
expect_log "an unenforced reject is logged as such" \
	'rcpt=<r@nullmx.edge.test> action=reject rule=mx hops=- reply="556 5.1.10 Recipient address has null MX" (not enforced)'
daemon_stop

if grep -E 'error:|warning: milter' "$WORK/mxpathd.log" | grep -v 'does not offer' > "$WORK/errors"; then
	fail "no errors logged"; sed 's/^/    # /' "$WORK/errors" | head -n 10
else
	pass "no errors logged"
fi
finish
