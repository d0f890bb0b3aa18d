#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 45-hostile-input.sh - the bad inputs of issue 7 against a running mxpathd
#
# One daemon with both doors, whose only DNS server is a small hostile
# server written here (1,000 MX records, MX to ".", CNAME loops, a
# compression loop, a message cut short, wrong record types, a 64-octet
# label, a 254-octet name, an answer to another question). Each bad input
# gets its exact answer on the door it came through, and after each group
# the daemon still serves a good lookup. `mxpath route` shows the same
# DNS cases in detail. Recipients that cannot be parsed (8-bit domains that
# are not UTF-8 or not IDNA, long labels and names, empty local parts, bad
# literals) are
# sent through the socketmap door, the milter door and `mxpath route`.
# The netstring cases already covered by 40-socketmap-protocol.sh are not
# repeated; tests/README.md has the whole table.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"

WORK=$(mktemp -d /tmp/mxpath-hostile.XXXXXX)
HOSTILE_PID=
cleanup() {
	mxpathd_cleanup
	if [ -n "$HOSTILE_PID" ]; then
		kill "$HOSTILE_PID" 2>/dev/null
		wait "$HOSTILE_PID" 2>/dev/null
	fi
	dns_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT

# ---- the helpers: a hostile DNS server and a socketmap client ----
cat > "$WORK/hostile.py" <<'EOF'
"""hostile.py - the other side of 45-hostile-input.sh (loopback only)

  hostile.py dns PORT              a DNS server for hostile.test (UDP + TCP on 127.0.0.1):
      good       MX 10 h1              h<N>       A 198.51.100.<N % 250 + 1>
      mx1000     1,000 MX records (TC over UDP, whole over TCP)
      nullplus   MX 0 . and MX 10 h1   cnameloop  CNAME loop2, loop2 CNAME cnameloop
      mxloop     MX 10 l1; l1 CNAME l2, l2 CNAME l1, one per answer
      comploop   MX whose exchange is a compression pointer to itself
      cut        an MX answer cut short, TC bit clear
      wrongtype  MX query answered with a TXT and another owner's A;
                 A query with an MX beside the A 198.51.100.99
      label64    MX exchange with a 64-octet label
      longname   MX exchange of 254 octets in text form
      otherq     answered for another question
  hostile.py ask SOCKET MAP KEY    one socketmap lookup; KEY may hold Python escapes
                                   (\\xfc): sent as those bytes; prints the reply
"""
import socket
import struct
import sys
import threading

ZONE = 'hostile.test'
T_A, T_CNAME, T_SOA, T_MX, T_TXT, T_AAAA = 1, 5, 6, 15, 16, 28


def wire(name):
    out = b''
    for label in name.rstrip('.').split('.'):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b'\0'


def rr(owner, rtype, rdata, ttl=300):
    return owner + struct.pack('!HHIH', rtype, 1, ttl, len(rdata)) + rdata


def mx(pref, host):
    return struct.pack('!H', pref) + wire(host)


def soa():
    return rr(wire(ZONE), T_SOA, wire('ns.' + ZONE) + wire('hostmaster.' + ZONE) +
              struct.pack('!IIIII', 1, 3600, 600, 86400, 60))


def message(qid, flags, question, answers=(), authority=(), rcode=0, tc=False):
    f = 0x8400 | (flags & 0x0100) | rcode | (0x0200 if tc else 0)
    return (struct.pack('!HHHHHH', qid, f, 1, len(answers), len(authority), 0) + question +
            b''.join(answers) + b''.join(authority))


def mx_answer(host, qname, q, msg):
    """The answer to an MX question, or None for NODATA."""
    if host == 'good':
        return msg([rr(q, T_MX, mx(10, 'h1.' + ZONE))])
    if host == 'mx1000':
        return msg([rr(q, T_MX, mx(i, 'h%d.%s' % (i, ZONE))) for i in range(1, 1001)])
    if host == 'nullplus':
        return msg([rr(q, T_MX, mx(0, '.')), rr(q, T_MX, mx(10, 'h1.' + ZONE))])
    if host == 'cnameloop':
        return msg([rr(q, T_CNAME, wire('loop2.' + ZONE)),
                    rr(wire('loop2.' + ZONE), T_CNAME, wire(qname))])
    if host == 'mxloop':
        return msg([rr(q, T_MX, mx(10, 'l1.' + ZONE))])
    if host == 'comploop':
        # header 12, question, owner pointer 2, fixed 10, preference 2: the exchange
        at = 12 + len(msg.question) + 2 + 10 + 2
        return msg([rr(q, T_MX, struct.pack('!HH', 10, 0xc000 | at))])
    if host == 'cut':
        return msg([rr(q, T_MX, mx(10, 'h1.' + ZONE))])[:-6]
    if host == 'wrongtype':
        return msg([rr(q, T_TXT, b'\x05hello'), rr(wire('h1.' + ZONE), T_A, bytes([198, 51, 100, 1]))])
    if host == 'label64':
        return msg([rr(q, T_MX, struct.pack('!H', 10) + b'\x40' + b'a' * 64 + wire(ZONE))])
    if host == 'longname':
        return msg([rr(q, T_MX, mx(10, '.'.join(['a' * 63, 'b' * 63, 'c' * 63, 'd' * 62])))])
    if host == 'otherq':
        return msg.other([rr(q, T_MX, mx(10, 'h1.' + ZONE))])
    return None


def addr_answer(host, qtype, q, msg):
    if host in ('l1', 'l2'):
        return msg([rr(q, T_CNAME, wire(('l2' if host == 'l1' else 'l1') + '.' + ZONE))])
    if qtype != T_A:
        return None
    if host.startswith('h') and host[1:].isdigit():
        return msg([rr(q, T_A, bytes([198, 51, 100, int(host[1:]) % 250 + 1]))])
    if host == 'wrongtype':
        return msg([rr(q, T_MX, mx(10, 'h1.' + ZONE)), rr(q, T_A, bytes([198, 51, 100, 99]))])
    return None


class Msg:
    def __init__(self, qid, flags, question):
        self.qid, self.flags, self.question = qid, flags, question

    def __call__(self, answers=(), authority=(), rcode=0, tc=False):
        return message(self.qid, self.flags, self.question, answers, authority, rcode, tc)

    def other(self, answers):
        return message(self.qid, self.flags, wire('other.' + ZONE) + self.question[-4:], answers)


def respond(query, proto):
    qid, flags = struct.unpack('!HH', query[:4])
    off, labels = 12, []
    while query[off] != 0:
        labels.append(query[off + 1:off + 1 + query[off]].decode('ascii', 'replace'))
        off += 1 + query[off]
    qtype = struct.unpack('!H', query[off + 1:off + 3])[0]
    qname = '.'.join(labels).lower()
    msg = Msg(qid, flags, query[12:off + 5])
    print('Q %s %s %d' % (proto, qname, qtype), flush=True)
    if qname != ZONE and not qname.endswith('.' + ZONE):
        return msg(rcode=5)
    host = qname[:-len(ZONE) - 1]
    q = b'\xc0\x0c'
    out = mx_answer(host, qname, q, msg) if qtype == T_MX else addr_answer(host, qtype, q, msg)
    if out is None:
        out = msg(authority=[soa()])
    if proto == 'udp' and len(out) > 512:
        return msg(tc=True)
    return out


def serve_udp(sock):
    while True:
        data, peer = sock.recvfrom(4096)
        try:
            sock.sendto(respond(data, 'udp'), peer)
        except (IndexError, struct.error):
            pass


def serve_tcp(conn):
    with conn:
        buf = b''
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack('!H', buf[:2])[0]:
                n = struct.unpack('!H', buf[:2])[0]
                out = respond(buf[2:2 + n], 'tcp')
                buf = buf[2 + n:]
                conn.sendall(struct.pack('!H', len(out)) + out)


def dns(port):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(('127.0.0.1', port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(('127.0.0.1', port))
    tcp.listen(16)
    threading.Thread(target=serve_udp, args=(udp,), daemon=True).start()
    print('listening on 127.0.0.1:%d' % port, flush=True)
    while True:
        conn, _ = tcp.accept()
        threading.Thread(target=serve_tcp, args=(conn,), daemon=True).start()


def unescape(text):
    return text.encode().decode('unicode_escape').encode('latin-1')


def ask(path, name, key):
    payload = name.encode() + b' ' + unescape(key)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(b'%d:%s,' % (len(payload), payload))
    buf = b''
    while True:
        colon = buf.find(b':')
        if colon > 0 and len(buf) > colon + 1 + int(buf[:colon]):
            break
        chunk = s.recv(65536)
        if not chunk:
            print('closed')
            return 1
        buf += chunk
    print(buf[colon + 1:colon + 1 + int(buf[:colon])].decode('latin-1'))
    return 0


if __name__ == '__main__':
    if sys.argv[1] == 'dns':
        dns(int(sys.argv[2]))
    else:
        sys.exit(ask(sys.argv[2], sys.argv[3], sys.argv[4]))
EOF
HOSTILE="/usr/bin/python3 $WORK/hostile.py"

PORT=$(free_port)
$HOSTILE dns "$PORT" > "$WORK/dns.log" 2>&1 &
HOSTILE_PID=$!
for i in $(seq 1 50); do
	grep -q '^listening' "$WORK/dns.log" && break
	sleep 0.1
done
grep -q '^listening' "$WORK/dns.log" || { fail "the hostile DNS server did not start"; finish; exit 1; }

D=$(mxpathd_dir h)
# The loop writes its log lines after the answers of an iteration: wait (5 s).
log_has() {
	local i
	for i in $(seq 1 50); do
		grep -qF -- "$1" "$D/log" && return 0
		sleep 0.1
	done
	return 1
}
DNSCONF="self = { names = [ ]; addresses = [ ]; };
dns = { servers = [ \"127.0.0.1:$PORT\" ]; timeout_ms = 300; tries = 1; };"
printf '%s\n' "$DNSCONF" > "$WORK/route.conf"
mxpathd_conf h "$DNSCONF
milter = { socket = \"unix:$D/milter.sock\"; };"
mxpathd_start h
PID=$(mxpathd_pid h)
SM=$D/socketmap.sock
GOOD='OK smtp:[h1.hostile.test]'

# is DESC GOT WANT: pass if equal, else show both.
is() {
	if [ "$2" = "$3" ]; then pass "$1"; else
		fail "$1"; echo "    # got:  $2"; echo "    # want: $3"; fi
}

# still_serving AFTER: the daemon lives and answers a good lookup.
still_serving() {
	if kill -0 "$PID" 2>/dev/null &&
		[ "$($HOSTILE ask "$SM" transport u@good.hostile.test 2>&1)" = "$GOOD" ]; then
		pass "after $1: the daemon still serving"
	else
		fail "after $1: the daemon still serving"
	fi
}

route_of() {
	"$MXPATH" route --json -c "$WORK/route.conf" "$1" 2>/dev/null
}

# ---- DNS answers: through the socketmap door, then `mxpath route` ----
out=$($HOSTILE ask "$SM" transport u@mx1000.hostile.test)
is "1,000 MX records (TC, then TCP): the 20 best (mx.max_hosts), in order" \
	"$(tr ',' '\n' <<< "${out#OK smtp:}" | wc -l) $(cut -d, -f1-3 <<< "$out")" \
	"20 OK smtp:[h1.hostile.test], [h2.hostile.test], [h3.hostile.test]"
OUT=$(route_of u@mx1000.hostile.test)
is "1,000 MX records: 64 kept (DNS_MX_MAX), the 44 past max_hosts pruned as limit" \
	"$(jq -r '"\(.hops | length) \([.pruned[] | select(.reason == "limit")] | length) \(.pruned[-1].host)"' <<< "$OUT")" \
	"20 44 h64.hostile.test"
is "1,000 MX records: asked once over UDP, once over TCP" \
	"$(grep -c '^Q udp mx1000.hostile.test 15$' "$WORK/dns.log") $(grep -c '^Q tcp mx1000.hostile.test 15$' "$WORK/dns.log")" \
	"2 2"
is "MX 0 . beside a real MX: the '.' is dropped, the real one used" \
	"$($HOSTILE ask "$SM" transport u@nullplus.hostile.test)" "$GOOD"
is "... mxpath route names it pruned as invalid" \
	"$(route_of u@nullplus.hostile.test | jq -c '[.action, .pruned[0].host, .pruned[0].reason]')" \
	'["relay",".","invalid"]'
is "CNAME loop inside one answer: TEMP (bad answer)" \
	"$($HOSTILE ask "$SM" transport u@cnameloop.hostile.test)" \
	"TEMP temporary DNS failure looking up MX for cnameloop.hostile.test (badanswer)"
is "CNAME loop across answers (the MX host): reject 550 5.4.4, no address" \
	"$($HOSTILE ask "$SM" transport u@mxloop.hostile.test)" \
	"OK error:5.4.4 no mail exchanger for mxloop.hostile.test has an address"
is "... mxpath route: the looping host pruned as no_address" \
	"$(route_of u@mxloop.hostile.test | jq -c '[.action, .rule, .reply.code, .pruned[0].reason]')" \
	'["reject","mx",550,"no_address"]'
is "compression pointer loop: TEMP (bad answer)" \
	"$($HOSTILE ask "$SM" transport u@comploop.hostile.test)" \
	"TEMP temporary DNS failure looking up MX for comploop.hostile.test (badanswer)"
is "message cut short without TC: TEMP (bad answer)" \
	"$($HOSTILE ask "$SM" transport u@cut.hostile.test)" \
	"TEMP temporary DNS failure looking up MX for cut.hostile.test (badanswer)"
is "wrong record types (TXT for MX, MX beside an A) ignored: implicit MX" \
	"$($HOSTILE ask "$SM" transport u@wrongtype.hostile.test)" "OK smtp:[wrongtype.hostile.test]"
is "... mxpath route: the implicit MX's address is the A record only" \
	"$(route_of u@wrongtype.hostile.test | jq -c '[.rule, .hops[0].addresses]')" \
	'["implicit_mx",["198.51.100.99"]]'
is "64-octet label in an MX exchange: TEMP (bad answer)" \
	"$($HOSTILE ask "$SM" transport u@label64.hostile.test)" \
	"TEMP temporary DNS failure looking up MX for label64.hostile.test (badanswer)"
is "254-octet MX exchange name: TEMP (bad answer)" \
	"$($HOSTILE ask "$SM" transport u@longname.hostile.test)" \
	"TEMP temporary DNS failure looking up MX for longname.hostile.test (badanswer)"
is "answer to another question: dropped, TEMP (timeout)" \
	"$($HOSTILE ask "$SM" transport u@otherq.hostile.test)" \
	"TEMP temporary DNS failure looking up MX for otherq.hostile.test (timeout)"
check "each bad answer is logged once as a warning" \
	test "$(grep -c 'resolver: bad answer for comploop.hostile.test/MX' "$D/log")" -eq 1
still_serving "the hostile DNS answers"

# ---- recipients that are not addresses: each door ----
L63=$(printf 'a%.0s' $(seq 1 63))
LONG="$L63.$L63.$L63.$L63"		# 4 x 63 + 3 dots = 255 octets
WHY='bad recipient address syntax'
# what | RCPT | the milter's reply text (501 5.1.3 each)
while IFS='|' read -r what key text; do
	[ -n "$key" ] || continue
	got=$($MILTC session "$D/milter.sock" "<$key>" 2>&1 | grep '^rcpt ')
	is "milter: $what: 501 5.1.3 $text" "$got" "rcpt <$key> y 501 5.1.3 $WHY: $text"
done <<EOF
UTF-8 domain that is not IDNA (U+2603)|u@\\xe2\\x98\\x83.example|domain name is not a valid internationalized name (IDNA2008)
8-bit (Latin-1) domain|u@b\\xfccher.example|domain name is not valid UTF-8
64-octet label|u@${L63}a.example|label longer than 63 octets in domain name
255-octet domain|u@$LONG|domain name longer than 253 octets
empty local part|@example.org|empty local part
address literal 192.0.2.300|u@[192.0.2.300]|malformed address literal
IPv6 literal without its tag|u@[2001:db8::1]|IPv6 address literal without the IPv6: tag
literal without ']'|u@[192.0.2.1|address literal without closing bracket
EOF
still_serving "the milter door's bad recipients"

is "socketmap transport: UTF-8 domain that is not IDNA rejected 5.1.3" \
	"$($HOSTILE ask "$SM" transport 'u@\xe2\x98\x83.example')" \
	"OK error:5.1.3 $WHY: domain name is not a valid internationalized name (IDNA2008)"
is "socketmap mailertable: 8-bit (Latin-1) domain rejected 5.1.3, code 501" \
	"$($HOSTILE ask "$SM" mailertable 'b\xfccher.example')" \
	"OK error:5.1.3:501 $WHY: domain name is not valid UTF-8"
check "... the log shows the key with its 8-bit bytes as '?'" \
	log_has 'map=transport key=u@???.example action=reject rule=syntax'
# What Postfix itself sends: postmap is Postfix's socketmap client.
is "postmap (Postfix's client) with a domain that is not IDNA: the error transport" \
	"$(mxpathd_query h transport 'u@☃.example' 2>&1)" \
	"error:5.1.3 $WHY: domain name is not a valid internationalized name (IDNA2008)"
# The other unparsable keys are NOTFOUND (the MTA's own routing applies),
# with the reason in the log.
while IFS='|' read -r what key reason; do
	[ -n "$key" ] || continue
	is "socketmap: $what: NOTFOUND" "$($HOSTILE ask "$SM" transport "$key")" "NOTFOUND "
	check "... logged with the reason \"$reason\"" log_has "reason=\"$reason\""
done <<EOF
64-octet label|u@${L63}a.example|label longer than 63 octets in domain name
255-octet domain|u@$LONG|domain name longer than 253 octets
empty local part|@example.org|empty local part
address literal 192.0.2.300|u@[192.0.2.300]|malformed address literal
EOF
still_serving "the socketmap door's bad keys"

# ---- netstrings cut short or with a NUL in the length ----
is "a netstring cut short, then the client leaves: nothing answered" \
	"$($SMCLIENT raw "$SM" '25:transport u@good.hos')" "open"
is "a NUL byte in the length: the connection is closed" \
	"$($SMCLIENT raw "$SM" '2\x00:ab,')" "closed"
check "... as malformed: length not followed by ':'" \
	log_has "malformed request: length not followed by ':', closing"
still_serving "netstrings cut short"

# ---- `mxpath route` on the same recipients ----
OUT=$("$MXPATH" route --json -c "$WORK/route.conf" 'u@☃.example' "u@${L63}a.example" \
	"u@$LONG" '@example.org' 'u@[192.0.2.300]' 2>/dev/null)
is "mxpath route: every one of them reject 501 5.1.3 (rule syntax)" \
	"$(jq -r '"\(.action) \(.rule) \(.reply.code) \(.reply.status)"' <<< "$OUT" | sort | uniq -c | sed 's/^ *//')" \
	"5 reject syntax 501 5.1.3"

is "no socketmap connection left open at the daemon" \
	"$(mxpathd_metric h 'mxpath_connections_open{door="socketmap"}')" 0
mxpathd_stop h
check "the daemon stops cleanly after all that (exit 0)" test $? -eq 0
finish
