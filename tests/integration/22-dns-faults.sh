#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 22-dns-faults - DNS failures and resolver behaviour, against the
# fault-injecting test server (tests/lib/dnsmock.py): SERVFAIL, REFUSED and
# timeouts tempfail (exit 75), a truncated UDP answer is retried over TCP,
# a server that is down tempfails, and concurrent questions share a query.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/dns.sh"
DNS_OPTIONS='timeout_ms = 200; tries = 2;' route_setup mock mock

# SERVFAIL and REFUSED are the server's answers, seen as such.
dns_fault mock "servfail oreilly.com" "refused software.com"
route_json oreilly.com
expect "SERVFAIL: tempfail 451 4.4.3, exit 75" "$(verdict_of "$OUT") rc=$RC" "tempfail mx 451 4.4.3 rc=75"
check "SERVFAIL: named in the reply" grep -q '(servfail)' <<<"$(jq -r .reply.text <<<"$OUT")"
route_json software.com
expect "REFUSED: tempfail, exit 75" "$(verdict_of "$OUT") rc=$RC" "tempfail mx 451 4.4.3 rc=75"
check "REFUSED: named in the reply" grep -q '(refused)' <<<"$(jq -r .reply.text <<<"$OUT")"
route_json oreilly.com user@boston.travel.edu user@nullmx.edge.test
expect "a tempfail among relays and rejects: exit 75" "$RC" "75"

# A server that never answers: c-ares times out (200 ms, then 400 ms).
dns_fault mock "drop puntacana.dr"
START=$(date +%s%N)
route_json plange.puntacana.dr
MS=$(( ($(date +%s%N) - START) / 1000000 ))
expect "timeout: tempfail, exit 75" "$(verdict_of "$OUT") rc=$RC" "tempfail mx 451 4.4.3 rc=75"
check "timeout: named in the reply" grep -q '(timeout)' <<<"$(jq -r .reply.text <<<"$OUT")"
expect "timeout: asked dns.tries = 2 times" "$(dns_queries mock plange.puntacana.dr MX)" "2"
echo "    # timed out after $MS ms"
expect "timeout: within timeout_ms x tries (< 1500 ms)" "$([ "$MS" -lt 1500 ] && echo yes || echo "no: $MS ms")" "yes"

# TC=1 over UDP: c-ares asks again over TCP and gets the records.
dns_fault mock "tc daisy.process.com"
route_json user@daisy.process.com
expect "truncated answer: relay with the full MX set" "$(hops_of "$OUT")" \
	"daisy.process.com/10 iris.process.com/20"
expect "truncated answer: asked once over UDP, once over TCP" \
	"$(grep -c '^Q udp daisy.process.com MX$' "$DNS_WORK/mock/log") $(grep -c '^Q tcp daisy.process.com MX$' "$DNS_WORK/mock/log")" "1 1"
dns_fault mock

# Coalescing: 200 cold decisions for one domain in one process send one MX
# query and one query per exchanger address type.
route_json $(for i in $(seq 200); do echo "u$i@equal.edge.test"; done)
expect "200 concurrent decisions: all relayed" "$(jq -r .action <<<"$OUT" | grep -c '^relay$') rc=$RC" "200 rc=0"
expect "200 concurrent decisions: one MX query" "$(dns_queries mock equal.edge.test MX)" "1"
expect "200 concurrent decisions: one A and one AAAA query per exchanger" \
	"$(for h in e1 e2 e3 e4; do dns_queries mock $h.edge.test A; dns_queries mock $h.edge.test AAAA; done | tr '\n' ' ')" \
	"1 1 1 1 1 1 1 1 "
expect "200 concurrent decisions: cache state miss for all" "$(jq -r .cache <<<"$OUT" | sort -u)" "miss"

# A server that is down (nothing listening on the port): tempfail at once.
DOWN=$DNS_WORK/down.conf
printf 'self = { addresses = [ ]; };\ndns = { servers = [ "127.0.0.1:%s" ]; timeout_ms = 200; tries = 1; };\n' \
	"$(free_port)" > "$DOWN"
OUT=$("$MXPATH" route --json -c "$DOWN" oreilly.com 2>"$DNS_WORK/stderr")
RC=$?
expect "DNS server down: tempfail, exit 75" "$(verdict_of "$OUT") rc=$RC" "tempfail mx 451 4.4.3 rc=75"

finish
