#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 20-dns-rules - the routing rules through real DNS: `mxpath route --json`
# against NSD serving tests/zones (the seed examples and the edge cases),
# with a configuration that names only that server.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/dns.sh"
route_setup nsd ns

# Example 16: the itinerary, in preference order.
route_json user@boston.travel.edu
expect "example 16: relay, exit 0" "$(verdict_of "$OUT") rc=$RC" "relay mx - - rc=0"
expect "example 16: hops in preference order" "$(hops_of "$OUT")" \
	"san-francisco.target.edu/0 chicago.target.edu/10 toronto.target.edu/20"
expect "example 16: addresses from DNS" "$(jq -r '[.hops[].addresses[0]] | join(" ")' <<<"$OUT")" \
	"127.0.0.11 127.0.0.12 127.0.0.13"
expect "example 16: TTL and cache state" "$(jq -r '"\(.ttl) \(.cache)"' <<<"$OUT")" "300 miss"

# Self-pruning: Chicago discards itself and everything worse.
route_json --self chicago.target.edu user@boston.travel.edu
expect "self by name (--self): only the better hop" "$(hops_of "$OUT")" "san-francisco.target.edu/0"
expect "self by name: pruned with reasons" "$(pruned_of "$OUT")" \
	"chicago.target.edu/10/self toronto.target.edu/20/worse_than_self"
route_json --self-address 127.0.0.12 user@boston.travel.edu
expect "self by address (--self-address)" "$(hops_of "$OUT") | $(pruned_of "$OUT")" \
	"san-francisco.target.edu/0 | chicago.target.edu/10/self toronto.target.edu/20/worse_than_self"
route_json --self san-francisco.target.edu user@boston.travel.edu
expect "self is the best MX: mail loops back, 554 5.4.6" "$(verdict_of "$OUT") rc=$RC" \
	"reject mx 554 5.4.6 rc=1"

# Example 18: the firewall iris relays to daisy.
route_json --self iris.process.com user@daisy.process.com
expect "example 18: iris relays to daisy only" "$(hops_of "$OUT") | $(pruned_of "$OUT")" \
	"daisy.process.com/10 | iris.process.com/20/self"

# Seed 004: primary, on-site fallback, off-site fallback.
route_json user@software.com
expect "seed 004: three MX in order" "$(hops_of "$OUT")" \
	"mail.software.com/10 fallback.software.com/20 mail.othercorp.com/90"
route_json --self fallback.software.com user@software.com
expect "seed 004: the on-site fallback relays to the primary only" \
	"$(hops_of "$OUT") | $(pruned_of "$OUT")" \
	"mail.software.com/10 | fallback.software.com/20/self mail.othercorp.com/90/worse_than_self"

# Seed 001: only the order of preference values matters.
route_json plange.puntacana.dr plange2.puntacana.dr
expect "seed 001: 1, 2 and 50, 100 give the same order" \
	"$(hops_of "$(sed -n 1p <<<"$OUT")" | sed 's|/[0-9]*||g') = $(hops_of "$(sed -n 2p <<<"$OUT")" | sed 's|/[0-9]*||g')" \
	"listo.puntacana.dr hep.puntacana.dr = listo.puntacana.dr hep.puntacana.dr"

# Seed 004's off-site fallback as a configured fallback relay: appended
# last, without a preference, unless this host is itself an MX.
FALLBACK=$DNS_WORK/fallback.conf
mxpath_conf "$FALLBACK" ns 'fallback_relays = [ "mail.othercorp.com" ];'
OUT=$("$MXPATH" route --json -c "$FALLBACK" user@oreilly.com 2>"$DNS_WORK/stderr")
expect "fallback relay appended last, pref null" \
	"$(jq -c '.hops[-1] | [.host, .pref, .via, .addresses[0]]' <<<"$OUT")" \
	'["mail.othercorp.com",null,"fallback","127.0.0.71"]'
OUT=$("$MXPATH" route --json -c "$FALLBACK" --self ruby.oreilly.com user@oreilly.com 2>"$DNS_WORK/stderr")
expect "no fallback relay when self is an MX" "$(jq -r '[.hops[].via] | join(" ")' <<<"$OUT")" "mx"

# Example 17 on host A: B, C and CLUSTER are its local hosts.
CONF17=$DNS_WORK/a.conf
SELF_CONF='self = { names = [ "a.cs.xyz.edu" ]; addresses = [ ]; };' mxpath_conf "$CONF17" ns \
	'local_hosts = [ "b.cs.xyz.edu", "c.cs.xyz.edu", "cluster.cs.xyz.edu" ];'
OUT=$("$MXPATH" route --json -c "$CONF17" a.cs.xyz.edu b.cs.xyz.edu c.cs.xyz.edu \
	cluster.cs.xyz.edu d.cs.xyz.edu 2>"$DNS_WORK/stderr")
expect "example 17 on A: A, B, C, CLUSTER are local; D goes to D" \
	"$(jq -r '"\(.domain)=\(.action)/\(.rule)"' <<<"$OUT" | tr '\n' ' ')" \
	"a.cs.xyz.edu=local/local_hosts b.cs.xyz.edu=local/local_hosts c.cs.xyz.edu=local/local_hosts cluster.cs.xyz.edu=local/local_hosts d.cs.xyz.edu=relay/implicit_mx "
expect "mxpath check accepts the example 17 configuration" \
	"$("$MXPATH" check -c "$CONF17" >/dev/null 2>&1; echo $?)" "0"

# RFC 7505 null MX, NXDOMAIN, NODATA.
route_json user@nullmx.edge.test
expect "null MX: reject 556 5.1.10, exit 1" "$(verdict_of "$OUT") rc=$RC" "reject mx 556 5.1.10 rc=1"
route_json user@nosuch.edge.test
expect "NXDOMAIN: reject 550 5.1.2, exit 1" "$(verdict_of "$OUT") rc=$RC" "reject mx 550 5.1.2 rc=1"
route_json user@implicit.edge.test
expect "NODATA: implicit MX at preference 0" "$(verdict_of "$OUT") $(hops_of "$OUT") $(addrs_of "$OUT")" \
	"relay implicit_mx - - implicit.edge.test/0 127.0.0.81"

# CNAMEs: an MX target that is one, a domain that is one (in and out of zone).
route_json mxcname.edge.test cnamedom.edge.test cnameout.edge.test
expect "MX target is a CNAME: followed" "$(addrs_of "$(sed -n 1p <<<"$OUT")")" "127.0.0.82"
expect "domain is a CNAME: its target's MX" "$(hops_of "$(sed -n 2p <<<"$OUT")")" "real.edge.test/10"
expect "domain is a CNAME to another zone" "$(hops_of "$(sed -n 3p <<<"$OUT")")" \
	"san-francisco.target.edu/0 chicago.target.edu/10 toronto.target.edu/20"

# Exchangers that cannot be used are skipped, the rest kept.
route_json mxip.edge.test mxnoaddr.edge.test mxnxhost.edge.test mxzero.edge.test
expect "MX target is an IP address: skipped" \
	"$(hops_of "$(sed -n 1p <<<"$OUT")") | $(pruned_of "$(sed -n 1p <<<"$OUT")")" \
	"real.edge.test/20 | 192.0.2.1/10/invalid"
expect "MX target without address: skipped" \
	"$(hops_of "$(sed -n 2p <<<"$OUT")") | $(pruned_of "$(sed -n 2p <<<"$OUT")")" \
	"real.edge.test/20 | noaddr.edge.test/10/no_address"
expect "MX target that does not exist: skipped" "$(pruned_of "$(sed -n 3p <<<"$OUT")")" \
	"nosuchhost.edge.test/10/no_address"
expect "MX target in ignore_targets (0.0.0.0/8): pruned" "$(pruned_of "$(sed -n 4p <<<"$OUT")")" \
	"zero.edge.test/10/ignored_target"
route_json noaddronly.edge.test
expect "no exchanger has an address: reject" "$(jq -r .action <<<"$OUT") rc=$RC" "reject rc=1"

# Addresses keep DNS order, A before AAAA.
route_json dualstack.edge.test
expect "several addresses per host, DNS order" "$(addrs_of "$OUT")" \
	"192.0.2.10 192.0.2.11 2001:db8::10"

# 30 MX records do not fit 512 octets: NSD truncates, c-ares retries over TCP.
route_json many.edge.test
expect "truncated MX answer retried over TCP; capped at max_hosts" \
	"$(jq -r '"\(.hops | length) \(.hops[0].host) \(.pruned | length) \(.pruned[0].reason)"' <<<"$OUT")" \
	"20 m01.edge.test 10 limit"

# No DNS at all: address literals and syntax errors.
route_json 'user@[192.0.2.1]' 'user@bad..domain'
expect "address literal: relay to it, no DNS" \
	"$(jq -r '"\(.rule) \(.hops[0].addresses[0]) \(.cache)"' <<<"$(sed -n 1p <<<"$OUT")")" \
	"literal 192.0.2.1 none"
expect "malformed recipient: reject 501" "$(verdict_of "$(sed -n 2p <<<"$OUT")")" \
	"reject syntax 501 5.1.3"

# Literals pass the same address filters as MX targets (issue 12 items 2, 3).
route_json 'user@[0.0.0.0]' 'user@[255.255.255.255]' 'user@[IPv6:::]'
expect "literals no mail server has: refused 550 5.4.4 as ignored_target, exit 1" \
	"$(jq -r '"\(.action) \(.reply.code) \(.reply.status) \(.pruned[0].reason)"' <<<"$OUT" | sort -u) rc=$RC" \
	"reject 550 5.4.4 ignored_target rc=1"
FILTERS=$DNS_WORK/filters.conf
mxpath_conf "$FILTERS" ns 'mx = { ignore_targets = [ "0.0.0.0/8", "127.0.0.0/8", "::1" ]; };'
NOV6=$DNS_WORK/nov6.conf
mxpath_conf "$NOV6" ns 'mx = { ipv6 = false; };'
OUT=$("$MXPATH" route --json -c "$FILTERS" 'user@[127.0.0.2]' 'user@[IPv6:::1]' 2>"$DNS_WORK/stderr")
OUT+=$'\n'$("$MXPATH" route --json -c "$NOV6" 'user@[IPv6:2001:db8::1]' 2>"$DNS_WORK/stderr")
expect "literals in ignore_targets or of a family switched off: refused" \
	"$(jq -r '"\(.action)/\(.reply.status)/\(.pruned[0].reason)"' <<<"$OUT" | tr '\n' ' ')" \
	"reject/5.4.4/ignored_target reject/5.4.4/ignored_target reject/5.4.4/no_address "
OUT=$("$MXPATH" route --json -c "$CONF" --self-address 127.0.0.1 'user@[IPv6:::ffff:127.0.0.1]' \
	2>"$DNS_WORK/stderr")
expect "an IPv4-mapped literal of self is self: local" "$(jq -r '"\(.action) \(.rule)"' <<<"$OUT")" \
	"local literal"

# Many addresses: one line each, in argument order; the worst verdict decides the exit.
route_json oreilly.com user@nullmx.edge.test 'x@[192.0.2.1]' software.com
expect "one JSON line per address, in argument order" "$(jq -r .address <<<"$OUT" | tr '\n' ' ')" \
	"oreilly.com user@nullmx.edge.test x@[192.0.2.1] software.com "
expect "a reject among relays: exit 1" "$RC" "1"

# Every line is one JSON object with exactly the documented keys.
expect "JSON keys" "$(jq -c 'keys_unsorted' <<<"$(sed -n 1p <<<"$OUT")")" \
	'["address","domain","action","rule","reply","hops","pruned","ttl","cache"]'

# Human output: decision line, aligned table, pruned list, TTL.
HUMAN=$("$MXPATH" route -c "$CONF" --self chicago.target.edu user@boston.travel.edu 2>&1)
check "human output: decision line" grep -q '^user@boston.travel.edu: relay (rule mx' <<<"$HUMAN"
check "human output: hop table header" grep -qE '^ +pref +host +addresses +via$' <<<"$HUMAN"
check "human output: pruned hosts with reasons" grep -qE '^ +10 +chicago.target.edu +self$' <<<"$HUMAN"
check "human output: TTL and cache" grep -q 'ttl 300 s, cache miss' <<<"$HUMAN"

# --dns replaces the configured servers.
DEAD=$DNS_WORK/dead.conf
printf 'self = { addresses = [ ]; };\ndns = { servers = [ "127.0.0.1:9" ]; timeout_ms = 200; tries = 1; };\n' > "$DEAD"
OUT=$("$MXPATH" route --json -c "$DEAD" --dns "127.0.0.1:$(dns_port ns)" oreilly.com 2>/dev/null)
RC=$?
expect "--dns overrides dns.servers" "$(jq -r .action <<<"$OUT") rc=$RC" "relay rc=0"
"$MXPATH" route -c "$DEAD" --dns '127.0.0.1:99999' oreilly.com >/dev/null 2>&1
expect "malformed --dns: exit 64" "$?" "64"

# Usage and configuration errors.
"$MXPATH" route -c "$CONF" >/dev/null 2>&1
expect "route without an address: exit 64" "$?" "64"
"$MXPATH" route --bogus x >/dev/null 2>&1
expect "unknown option: exit 64" "$?" "64"
"$MXPATH" route -c "$CONF" --self 'bad..name' x >/dev/null 2>&1
expect "malformed --self: exit 64" "$?" "64"
printf 'dns = { timeout_ms = "soon"; };\n' > "$DNS_WORK/bad.conf"
ERR=$("$MXPATH" route -c "$DNS_WORK/bad.conf" oreilly.com 2>&1 >/dev/null)
expect "config error: exit 78" "$?" "78"
check "config error: FILE:LINE: message" grep -q "^$DNS_WORK/bad.conf:1: " <<<"$ERR"
"$MXPATH" check -c "$DNS_WORK/bad.conf" >/dev/null 2>&1
expect "check on a bad file: exit 78" "$?" "78"
"$MXPATH" --version | grep -q '^mxpath [0-9]'
expect "--version" "$?" "0"

finish
