#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 21-dns-shuffle - equal-preference exchangers are shuffled for every
# decision, uniformly: one `mxpath route` invocation decides 600 copies of
# an address, each on its own, and every order must show up about as often
# as the others; better preferences always stay first.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/dns.sh"
route_setup nsd ns
N=600

# equal.edge.test: e1, e2, e3 at 10 (3! = 6 orders), e4 at 20.
route_json $(for i in $(seq $N); do echo "u$i@equal.edge.test"; done)
ORDERS=$DNS_WORK/orders
jq -r '[.hops[].host | sub("\\.edge\\.test$"; "")] | join(" ")' <<<"$OUT" | sort | uniq -c > "$ORDERS"
sed 's/^/    # /' "$ORDERS"
expect "$N decisions, all relayed" "$(jq -r .action <<<"$OUT" | grep -c '^relay$') rc=$RC" "$N rc=0"
expect "all 6 orders of the three equal exchangers seen" "$(wc -l < "$ORDERS")" "6"
expect "the backup at 20 is always last" "$(awk '$5 == "e4" { n += $1 } END { print n }' "$ORDERS")" "$N"
# Each order is expected 100 times (sd 9.1); below 50 or above 150 is > 5 sd off.
expect "every order seen 50..150 times" "$(awk '$1 < 50 || $1 > 150' "$ORDERS")" ""

# oreilly.com: ora at 0 first, then ruby and opal in either order.
route_json $(for i in $(seq $N); do echo "u$i@oreilly.com"; done)
FIRST=$(jq -r '.hops[0].host' <<<"$OUT" | sort -u)
expect "seed 001: ora (preference 0) always first" "$FIRST" "ora.oreilly.com"
RUBY=$(jq -r '.hops[1].host' <<<"$OUT" | grep -c '^ruby')
# Expected 300 (sd 12.2).
expect "seed 001: ruby second in 240..360 of $N" "$([ "$RUBY" -ge 240 ] && [ "$RUBY" -le 360 ] && echo yes || echo "no ($RUBY)")" "yes"

# A cluster alias is shuffled like an MX set.
mxpath_conf "$CONF" ns 'clusters = ( { name = "cluster.cs.xyz.edu"; members = (
	{ host = "a.cs.xyz.edu"; pref = 10; }, { host = "b.cs.xyz.edu"; pref = 10; } ); } );'
route_json $(for i in $(seq 200); do echo "u$i@cluster.cs.xyz.edu"; done)
expect "cluster members at one preference: both orders" \
	"$(jq -r '[.hops[].host] | join(" ")' <<<"$OUT" | sort -u | wc -l) $(jq -r .rule <<<"$OUT" | sort -u)" "2 cluster"

# mx.randomize = false keeps one order.
mxpath_conf "$CONF" ns 'mx = { randomize = false; };'
route_json $(for i in $(seq 100); do echo "u$i@equal.edge.test"; done)
expect "randomize = false: a single order" \
	"$(jq -r '[.hops[].host] | join(" ")' <<<"$OUT" | sort -u | wc -l)" "1"

finish
