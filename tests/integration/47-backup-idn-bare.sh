#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 47-backup-idn-bare.sh - issue 12 items 1, 4 and 5 through every door
#
# One mxpathd with both doors, self backup.edge.test, asking a dnsmock
# over tests/zones (which logs every query). Through `mxpath route`, the
# socketmap door (postmap -q, Postfix's own client) and the milter door
# (the exact SMTP reply on the wire, tests/lib/miltc.py):
#   1. a backup MX whose better exchanger has no address (TXT only) or
#      does not exist defers, 451 4.4.4 "unable to find primary relay"
#      (CLI exit 75, socketmap TEMP, milter 451), never a permanent refusal;
#   4. an internationalized domain (user@bücher.test, zone
#      xn--bcher-kva.test) is routed by its A-label form; a name that is
#      not UTF-8 or not IDNA still gets 501 5.1.3;
#   5. bare keys (postmaster, user) are NOTFOUND, and the DNS server sees
#      no query for them.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT
require postmap jq /usr/bin/python3

dns_start_mock dns
D=$(mxpathd_dir d)
SELF_CONF='self = { names = [ "backup.edge.test" ]; addresses = [ ]; };' \
	mxpath_conf "$D/route.conf" dns
mxpathd_conf d "$(cat "$D/route.conf")
milter = { socket = \"$(mxpathd_spec d milter)\"; };"
mxpathd_start d

# rcpt_reply RCPT: the milter's reply to RCPT TO:<RCPT> ("c": continue).
rcpt_reply() {
	$MILTC session "$D/milter.sock" "<$1>" 2>&1 | sed -n 's/^rcpt <[^>]*> //p'
}

# ---- 1. backup MX, the better exchanger without address / nonexistent
for dom in bknoaddr bknxhost; do
	OUT=$("$MXPATH" route --json -c "$D/route.conf" "u@$dom.edge.test" 2>/dev/null)
	expect "mxpath route: backup MX for $dom: tempfail 451 4.4.4, exit 75" \
		"$(verdict_of "$OUT") $(jq -r .reply.text <<<"$OUT") rc=$("$MXPATH" route -c "$D/route.conf" \
		"u@$dom.edge.test" >/dev/null 2>&1; echo $?)" \
		"tempfail mx 451 4.4.4 unable to find primary relay for $dom.edge.test rc=75"
	mxpathd_query d transport "u@$dom.edge.test" > "$D/postmap.out" 2>&1
	check "socketmap (postmap -q): backup MX for $dom: a temporary error, never error:5.x" \
		grep -q "transport socketmap server temporary error: unable to find primary relay for $dom.edge.test" \
		"$D/postmap.out"
	expect "socketmap (raw): backup MX for $dom: TEMP unable to find primary relay" \
		"$($SMCLIENT query "$D/socketmap.sock" transport "u@$dom.edge.test" 2>&1)" \
		"TEMP unable to find primary relay for $dom.edge.test"
	expect "milter: backup MX for $dom: 451 4.4.4 at RCPT" "$(rcpt_reply "u@$dom.edge.test")" \
		"y 451 4.4.4 unable to find primary relay for $dom.edge.test"
done
OUT=$("$MXPATH" route --json -c "$D/route.conf" u@noaddronly.edge.test 2>/dev/null)
expect "not listed as MX and no exchanger has an address: still 550 5.4.4" \
	"$(verdict_of "$OUT")" "reject mx 550 5.4.4"

# ---- 4. internationalized domains
OUT=$("$MXPATH" route --json -c "$D/route.conf" 'u@bücher.test' 'U@BÜCHER.TEST' 2>/dev/null)
expect "mxpath route: u@bücher.test (any case) relays by the A-label form" \
	"$(jq -r '"\(.domain) \(.action) \([.hops[].host] | join(","))"' <<<"$OUT" | sort -u)" \
	"xn--bcher-kva.test relay mx.xn--bcher-kva.test"
expect "socketmap (postmap -q): u@bücher.test" \
	"$(mxpathd_query d transport 'u@bücher.test' 2>&1)" "smtp:[mx.xn--bcher-kva.test]"
expect "socketmap mailertable: bücher.test" \
	"$($SMCLIENT query "$D/socketmap.sock" mailertable 'bücher.test' 2>&1)" \
	"OK esmtp:[mx.xn--bcher-kva.test]"
expect "milter: RCPT TO:<u@bücher.test> accepted" "$(rcpt_reply 'u@b\xc3\xbccher.test')" "c"
expect "mxpathd asked the DNS for the A-label form" \
	"$(dns_queries dns xn--bcher-kva.test MX | awk '{ print ($1 > 0) }')" "1"
WHY='bad recipient address syntax'
expect "milter: a domain that is not IDNA (U+2603): 501 5.1.3" "$(rcpt_reply 'u@\xe2\x98\x83.test')" \
	"y 501 5.1.3 $WHY: domain name is not a valid internationalized name (IDNA2008)"
expect "milter: a domain that is not UTF-8 (Latin-1): 501 5.1.3" "$(rcpt_reply 'u@b\xfccher.test')" \
	"y 501 5.1.3 $WHY: domain name is not valid UTF-8"
expect "socketmap (postmap -q): a domain that is not IDNA: the error transport" \
	"$(mxpathd_query d transport 'u@☃.test' 2>&1)" \
	"error:5.1.3 $WHY: domain name is not a valid internationalized name (IDNA2008)"
OUT=$("$MXPATH" route --json -c "$D/route.conf" 'u@☃.test' 2>/dev/null)
expect "mxpath route: a domain that is not IDNA: 501 5.1.3, exit 1" \
	"$(verdict_of "$OUT") rc=$("$MXPATH" route -c "$D/route.conf" 'u@☃.test' >/dev/null 2>&1; echo $?)" \
	"reject syntax 501 5.1.3 rc=1"

# ---- 5. bare keys: NOTFOUND without a DNS query
for key in postmaster user Postmaster.; do
	expect "socketmap (postmap -q) $key: NOTFOUND (postmap exits 1, prints nothing)" \
		"$(mxpathd_query d transport "$key" 2>&1; echo "rc=$?")" "rc=1"
done
expect "socketmap mailertable localhost: NOTFOUND" \
	"$($SMCLIENT query "$D/socketmap.sock" mailertable localhost 2>&1)" "NOTFOUND "
expect "the DNS server saw no query for postmaster, user or localhost" \
	"$(grep -ciE '^Q [a-z]+ (postmaster|user|localhost) ' "$DNS_WORK/dns/log")" "0"
check "... while it did see this script's other queries" grep -q '^Q udp bknoaddr.edge.test MX' \
	"$DNS_WORK/dns/log"
check "... and mxpathd logged the reason" grep -q 'reason="unqualified name"' "$D/log"

mxpathd_stop d
check "mxpathd exits 0 on SIGTERM" test $? -eq 0
finish
