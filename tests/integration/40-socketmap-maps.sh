#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 40-socketmap-maps.sh - the socketmap door's answers, asked through Postfix's
# own socketmap client (postmap -q), for the seed domains served by NSD:
# Postfix transport and sendmail mailertable, every action, nexthop "name"
# then (after a reload) "address" with a port, and default = "notfound".
# The host is A of the seed's cluster example (DNS and Mail, Example 17),
# and also software.com's on-site fallback MX (Messaging Magazine, 1999).
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT

require postmap	# Debian package postfix
dns_start_nsd ns

conf() {
	mxpathd_conf sm "self = { names = [ \"a.cs.xyz.edu\", \"fallback.software.com\" ]; addresses = [ ]; };
dns = { servers = [ \"127.0.0.1:$(dns_port ns)\" ]; timeout_ms = 500; tries = 2; };
local_hosts = [ \"b.cs.xyz.edu\", \"c.cs.xyz.edu\", \"cluster.cs.xyz.edu\" ];
routes = ( { domain = \".process.com\";
             hosts = ( { host = \"daisy.process.com\"; pref = 10; },
                       { host = \"iris.process.com\"; pref = 20; } ); },
           { domain = \"dualstack.edge.test\";
             hosts = ( { host = \"ds.edge.test\"; pref = 10; } ); } );
fallback_relays = [ \"mail.othercorp.com\" ];
socketmap = { socket = \"$(mxpathd_spec sm socketmap)\"; $1 };"
}

# expect MAP KEY ANSWER: postmap must print exactly ANSWER ("" = not found).
expect() {
	local map=$1 key=$2 want=$3 got rc
	got=$(mxpathd_query sm "$map" "$key" 2>&1)
	rc=$?
	if [ -z "$want" ]; then
		if [ $rc -eq 1 ] && [ -z "$got" ]; then pass "$map $key: not found"; else
			fail "$map $key: want not found, got rc=$rc '$got'"; fi
	elif [ $rc -eq 0 ] && [ "$got" = "$want" ]; then
		pass "$map $key: $want"
	else
		fail "$map $key: want '$want', got rc=$rc '$got'"
	fi
}

# expect_match MAP KEY REGEX
expect_match() {
	local map=$1 key=$2 re=$3 got
	got=$(mxpathd_query sm "$map" "$key" 2>&1)
	if [[ $got =~ $re ]]; then pass "$map $key: $got"; else
		fail "$map $key: '$got' does not match /$re/"; fi
}

conf ""
mxpathd_start sm

# ---- Postfix transport_maps: the whole recipient, the list in order ----
expect transport 'user@boston.travel.edu' \
	'smtp:[san-francisco.target.edu], [chicago.target.edu], [toronto.target.edu], [mail.othercorp.com]'
# this host is software.com's MX 20: only the better MX 10 is left, and no
# fallback relay is added
expect transport 'user@software.com' 'smtp:[mail.software.com]'
expect transport 'user@tulip.process.com' \
	'smtp:[daisy.process.com], [iris.process.com], [mail.othercorp.com]'
expect transport 'user@B.CS.XYZ.EDU' 'local:'
expect transport 'user@cluster.cs.xyz.edu' 'local:'
expect transport 'user@[192.0.2.1]' 'smtp:[192.0.2.1]'
expect transport 'user@nullmx.edge.test' 'error:5.1.10 Recipient address has null MX'
expect_match transport 'user@nosuch.edge.test' '^error:5\.1\.2 [^,]*nosuch\.edge\.test'
expect transport 'user@a.cs.xyz.edu' 'local:'
expect_match transport 'user@equal.edge.test' \
	'^smtp:\[e[123]\.edge\.test\], \[e[123]\.edge\.test\], \[e[123]\.edge\.test\], \[e4\.edge\.test\], \[mail\.othercorp\.com\]$'
expect transport '*' ''

# ---- sendmail mailertable: the domain, then .parent keys, then "." ----
expect mailertable 'boston.travel.edu' \
	'esmtp:[san-francisco.target.edu]:[chicago.target.edu]:[toronto.target.edu]:[mail.othercorp.com]'
expect mailertable 'tulip.process.com' \
	'esmtp:[daisy.process.com]:[iris.process.com]:[mail.othercorp.com]'
expect mailertable '.process.com' \
	'esmtp:[daisy.process.com]:[iris.process.com]:[mail.othercorp.com]'
expect mailertable '.travel.edu' ''
expect mailertable '.' ''
expect mailertable 'c.cs.xyz.edu' 'local:'
expect mailertable 'nullmx.edge.test' 'error:5.1.10:556 Recipient address has null MX'

out=$(mxpathd_query sm aliases root 2>&1)
if [ $? -ne 0 ] && mxpathd_wait_log sm 'map=- key=root action=perm reason="unknown map"'; then
	pass "an unknown map is a PERM answer"
else
	fail "unknown map: $out"
fi

# ---- one log line per decision, key=value ----
check "log: relay decision with its rule, hops, pruned hosts, ttl, cache and duration" \
	mxpathd_wait_log sm 'socketmap: conn=[0-9]+ peer=pid[0-9]+ map=transport key=user@software\.com action=relay rule=mx hops=mail\.software\.com pruned=fallback\.software\.com:self,mail\.othercorp\.com:worse_than_self ttl=[0-9]+ cache=(miss|hit) ms=[0-9]+$'
check "log: local decision" \
	mxpathd_wait_log sm 'map=transport key=user@B\.CS\.XYZ\.EDU action=local rule=local_hosts hops=- pruned=- '
check "log: not found before any DNS lookup" \
	mxpathd_wait_log sm 'map=mailertable key=\.travel\.edu action=notfound reason="no \.suffix route"'

# ---- reload: addresses with a port, other names, default = "notfound" ----
conf 'nexthop = "address"; port = 2526; transport = "relay"; mailer = "smtp";
             local = "lmtp:unix:private/dovecot-lmtp"; default = "notfound";'
if mxpathd_reload sm; then pass "reload with new socketmap settings"; else
	fail "reload refused"; mxpathd_log sm | tail -n 5; fi

expect transport 'user@software.com' ''
expect transport 'user@[192.0.2.1]' ''
expect mailertable 'boston.travel.edu' ''
expect transport 'user@tulip.process.com' \
	'relay:[127.0.0.31]:2526, [127.0.0.32]:2526, [127.0.0.71]:2526'
expect transport 'user@dualstack.edge.test' \
	'relay:[192.0.2.10]:2526, [192.0.2.11]:2526, [ipv6:2001:db8::10]:2526, [127.0.0.71]:2526'
expect mailertable 'dualstack.edge.test' \
	'smtp:[192.0.2.10]:[192.0.2.11]:[IPv6:2001:db8::10]:[127.0.0.71]'
expect mailertable '.process.com' 'smtp:[127.0.0.31]:[127.0.0.32]:[127.0.0.71]'
expect transport 'user@b.cs.xyz.edu' 'lmtp:unix:private/dovecot-lmtp'

if mxpathd_stop sm; then pass "mxpathd stopped cleanly"; else fail "mxpathd exit status $?"; fi
finish
