#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 23-dns-cache - the answer cache across decisions in one process: a hit
# within the TTL, a new query once it expired, serve-stale (RFC 8767) when
# the DNS server is gone. Uses the hidden `mxpath route --repeat-after MS`,
# which decides every address a second time MS later with the same cache.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/dns.sh"
DNS_OPTIONS='timeout_ms = 200; tries = 1;' route_setup mock mock

# ttl1.edge.test has TTL 1 s, boston.travel.edu 300 s; decide both twice, 1.5 s apart.
route_json --repeat-after 1500 ttl1.edge.test user@boston.travel.edu
expect "two rounds of two decisions, exit 0" "$(wc -l <<<"$OUT") rc=$RC" "4 rc=0"
expect "first round: both cache misses" "$(sed -n 1,2p <<<"$OUT" | jq -r .cache | tr '\n' ' ')" "miss miss "
expect "second round: expired TTL 1 s is a miss again, TTL 300 s a hit" \
	"$(sed -n 3,4p <<<"$OUT" | jq -r .cache | tr '\n' ' ')" "miss hit "
expect "TTL 1 s: asked twice" "$(dns_queries mock ttl1.edge.test MX) $(dns_queries mock ttl1host.edge.test A)" "2 2"
expect "TTL 300 s: asked once" "$(dns_queries mock boston.travel.edu MX) $(dns_queries mock chicago.target.edu A)" "1 1"
expect "a hit reports the TTL left" "$(sed -n 4p <<<"$OUT" | jq -r '.ttl < 300 and .ttl >= 297')" "true"

# Serve-stale: decide, stop the DNS server, decide again after the TTL.
serve_stale_run() {
	local out=$1 i
	"$MXPATH" route --json -c "$CONF" --repeat-after 2000 ttl1.edge.test > "$out" 2>"$DNS_WORK/stderr" &
	local pid=$!
	for i in $(seq 1 50); do
		[ -s "$out" ] && break
		sleep 0.1
	done
	dns_stop mock
	wait "$pid"
}
serve_stale_run "$DNS_WORK/stale.json"
RC=$?
OUT=$(cat "$DNS_WORK/stale.json")
expect "serve-stale: first round fresh" "$(sed -n 1p <<<"$OUT" | jq -r '"\(.action) \(.cache)"')" "relay miss"
expect "serve-stale: server gone, the expired route is served stale, exit 0" \
	"$(sed -n 2p <<<"$OUT" | jq -r '"\(.action) \(.cache) \(.hops[0].host) \(.hops[0].addresses[0])"') rc=$RC" \
	"relay stale ttl1host.edge.test 127.0.0.83 rc=0"

# The same with serve_stale = 0: nothing to fall back on, tempfail.
dns_start_mock mock
DNS_OPTIONS='timeout_ms = 200; tries = 1; serve_stale = 0;' mxpath_conf "$CONF" mock
serve_stale_run "$DNS_WORK/nostale.json"
RC=$?
OUT=$(cat "$DNS_WORK/nostale.json")
expect "serve_stale = 0: server gone, tempfail, exit 75" \
	"$(sed -n 2p <<<"$OUT" | jq -r '"\(.action) \(.reply.code)"') rc=$RC" "tempfail 451 rc=75"

finish
