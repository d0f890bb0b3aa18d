#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 40-socketmap-protocol.sh - the socketmap door's netstring protocol, driven by
# tests/lib/smclient.py: pipelining, requests split over many writes,
# every class of malformed netstring (that connection closed, the daemon
# still serving others), the 10,000-byte query limit, a lookup waiting for
# DNS that must not hold up other connections, a client that leaves before
# its answer, and a stop with a lookup in flight.
# DNS is dnsmock: puntacana.dr answers 0.3 s late, oreilly.com never.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT

dns_start_mock ns --delay puntacana.dr=0.3 --drop oreilly.com
mxpath_conf "$(mxpathd_dir sm)/base.conf" ns
mxpathd_conf sm "$(cat "$(mxpathd_dir sm)/base.conf")
local_hosts = [ \"b.cs.xyz.edu\" ];
socketmap = { socket = \"$(mxpathd_spec sm socketmap)\"; idle_timeout = 5; };"
mxpathd_start sm
S=$(mxpathd_dir sm)/socketmap.sock
BOSTON='OK smtp:[san-francisco.target.edu], [chicago.target.edu], [toronto.target.edu]'
SOFTWARE='OK smtp:[mail.software.com], [fallback.software.com], [mail.othercorp.com]'
PLANGE='OK smtp:[listo.puntacana.dr], [hep.puntacana.dr]'

# same DESC CMD... : CMD's output must equal $WANT (lines)
same() {
	local desc=$1 got
	shift
	got=$("$@" 2>&1)
	if [ "$got" = "$WANT" ]; then pass "$desc"; else
		fail "$desc"; printf '    # got:  %s\n' "$got"; printf '    # want: %s\n' "$WANT"; fi
}

serving() {
	[ "$($SMCLIENT query "$S" transport u@boston.travel.edu)" = "$BOSTON" ]
}

# ---- pipelining and partial reads ----
WANT=$(printf '%s\n' "$BOSTON" 'OK local:' 'NOTFOUND ' 'OK error:5.1.10 Recipient address has null MX')
same "four pipelined requests in one write, answered in order" \
	$SMCLIENT pipeline "$S" transport u@boston.travel.edu u@b.cs.xyz.edu '*' u@nullmx.edge.test
WANT=$(printf '%s\n' "$PLANGE" "$SOFTWARE")
same "a pipelined request waiting for DNS keeps its place in line" \
	$SMCLIENT pipeline "$S" transport u@plange.puntacana.dr u@software.com
WANT=$SOFTWARE
same "a request written one byte at a time" $SMCLIENT split "$S" transport u@software.com

# ---- a lookup waiting for DNS does not hold up other connections ----
out=$($SMCLIENT overtake "$S" u@plange2.puntacana.dr u@software.com 50 2>&1)
if [[ $out == "overtaken "*"slow answer: OK smtp:[listo.puntacana.dr], [hep.puntacana.dr]" ]]; then
	pass "50 lookups on another connection overtake one waiting for DNS ($out)"
else
	fail "lookups held up by one waiting for DNS: $out"
fi

# ---- malformed netstrings: that connection closed, the others served ----
malformed() {
	local input=$1 reason=$2 before out
	before=$(grep -c "malformed request: $reason, closing" "$(mxpathd_dir sm)/log")
	out=$($SMCLIENT raw "$S" "$input" 2>&1)
	if [ "$out" = closed ] &&
		mxpathd_wait_log sm "malformed request: $reason, closing" $((before + 1)) && serving; then
		pass "'$input': $reason - closed, daemon still serving"
	else
		fail "'$input': want closed with '$reason', got '$out'"
	fi
}
malformed 'x:transport a,' 'length is not a number'
malformed 'GET / HTTP/1.0\r\n\r\n' 'length is not a number'
malformed '01:a,' 'length has a leading zero'
malformed '5;hello,' "length not followed by ':'"
malformed '3:abc;' "missing ',' terminator"
malformed '123456' 'length over the limit'
malformed '10001:' 'length over the limit'
malformed '22:transport u@software.com,' "missing ',' terminator"

# ---- the 10,000-byte query limit ----
long=$(printf 'x%.0s' $(seq 1 9988))
WANT=$(printf '%s\n' 'NOTFOUND ' open)
same "a 10,000-byte query is read whole (and is no address)" \
	$SMCLIENT raw "$S" "10000:transport u@$long,"
WANT=closed
same "a 10,001-byte query closes the connection" $SMCLIENT raw "$S" "10001:transport u@${long}x,"

# ---- requests that are well framed but not lookups: answered, kept open ----
WANT=$(printf '%s\n' 'PERM malformed request' "$SOFTWARE" open)
same "a NUL byte in a request: PERM, and the connection goes on" \
	$SMCLIENT raw "$S" '5:a\x00b c,24:transport u@software.com,'
WANT=$(printf '%s\n' 'PERM unknown map aliases' 'PERM malformed request' open)
same "unknown map and a request without a key: PERM" \
	$SMCLIENT raw "$S" '12:aliases root,9:transport,'

# ---- a client that leaves while its lookup waits for DNS ----
$SMCLIENT abandon "$S" transport u@hep.puntacana.dr 0.1
if mxpathd_wait_log sm 'key=u@hep\.puntacana\.dr action=relay: client gone, answer dropped' &&
	serving; then
	pass "a client gone before its answer: answer dropped, daemon still serving"
else
	fail "client gone before its answer"
fi

# ---- stop with a lookup in flight: it is answered, then the daemon exits ----
$SMCLIENT query "$S" transport u@oreilly.com > "$(mxpathd_dir sm)/inflight" 2>&1 &
client=$!
sleep 0.3
mxpathd_stop sm
rc=$?
wait $client
answer=$(cat "$(mxpathd_dir sm)/inflight")
if [ $rc -eq 0 ] && [[ $answer == TEMP* ]]; then
	pass "stop with a lookup in flight: answered '$answer', exit 0"
else
	fail "stop with a lookup in flight: exit $rc, answer '$answer'"
fi
finish
