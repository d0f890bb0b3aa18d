#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 27-dns-prefetch - a hot domain never waits for DNS: mxpathd refreshes an
# answer used in the last tenth of its TTL (at least its last second) in
# the background (prefetch). hot.prefetch.test has TTL 4 s and dnsmock
# answers 500 ms late; one socketmap connection asks it every 100 ms for
# 10 s (two and a half TTLs). Only the first decision may wait (its log
# line says cache=miss, the others cache=hit, and each answer comes back
# well within one injected delay), and the refreshes are bounded: at most
# one per question per TTL period.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT

ZONES=$DNS_WORK/zones
mkdir -p "$ZONES"
cat > "$ZONES/prefetch.test.zone" <<'EOF'
$ORIGIN prefetch.test.
$TTL 4
@       IN SOA ns.prefetch.test. hostmaster.prefetch.test. 1 3600 600 86400 4
@       IN NS  ns.prefetch.test.
ns      IN A   192.0.2.53
hot     IN MX  10 mx.hot.prefetch.test.
mx.hot  IN A   192.0.2.44
EOF
dns_start_mock mock --zonedir "$ZONES" --delay-all 0.5
D=$(mxpathd_dir c)
mxpathd_conf c "$(DNS_OPTIONS='timeout_ms = 2000; tries = 1;' mxpath_conf /dev/stdout mock)"
mxpathd_start c

# One connection, one lookup every 100 ms for 10 s: "SECONDS_WAITED REPLY" per lookup.
/usr/bin/python3 - "$(mxpathd_spec c socketmap)" > "$D/lookups" <<EOF
import sys, time
sys.path.insert(0, "$MXPATH_ROOT/tests/lib")
import smclient
c = smclient.Client(sys.argv[1])
start = time.monotonic()
while time.monotonic() - start < 10:
    t = time.monotonic()
    reply = c.request("transport", "user@hot.prefetch.test")
    print("%.3f %s" % (time.monotonic() - t, reply))
    time.sleep(0.1)
EOF
check "the lookups ran" test "$(wc -l < "$D/lookups")" -ge 50
check "every lookup relayed to mx.hot.prefetch.test" \
	test "$(grep -vc '^[0-9.]* OK smtp:\[*mx.hot.prefetch.test' "$D/lookups")" = 0
expect "the first lookup waited for DNS (two round trips of 500 ms)" \
	"$(head -n 1 "$D/lookups" | awk '{ print ($1 >= 1.0) }')" "1"
expect "no later lookup took as long as one injected delay" \
	"$(tail -n +2 "$D/lookups" | awk '$1 >= 0.5' | wc -l)" "0"

LOOKUPS=$(wc -l < "$D/lookups")
mxpathd_wait_log c 'map=transport key=user@hot.prefetch.test' "$LOOKUPS"
expect "mxpathd's log: the first decision a miss, every later one a hit" \
	"$(grep -o 'key=user@hot.prefetch.test .* cache=[a-z]*' "$D/log" | sed 's/.*cache=//' | uniq -c | awk '{ print $2 }' | tr '\n' ' ')" \
	"miss hit "
expect "control socket: one decision waited for DNS" "$(mxpathd_metric c mxpath_cache_misses_total)" "1"
# TTL 4 s: a route kept from the second lookup serves until 1 s is left,
# then full decisions (which see the answers due for a refresh) until the
# refresh is in, and it is kept again: most lookups come from the memo.
MEMO=$(mxpathd_metric c mxpath_route_memo_hits_total)
check "control socket: most lookups answered from the kept route ($MEMO of $LOOKUPS)" \
	test "$MEMO" -ge $(( LOOKUPS / 2 )) -a "$MEMO" -lt "$LOOKUPS"
PREFETCHES=$(mxpathd_metric c mxpath_dns_prefetches_total)
check "control socket: refreshes started ($PREFETCHES)" test "$PREFETCHES" -ge 2

# Refreshes are bounded: 10 s of TTL 4 s, refreshed when 1 s is left (every
# 3 s or so), is the cold query and at most 4 refreshes per question.
MX=$(dns_queries mock hot.prefetch.test MX)
A=$(dns_queries mock mx.hot.prefetch.test A)
check "MX asked at least twice (cold + a refresh) and at most 5 times: $MX" \
	test "$MX" -ge 2 -a "$MX" -le 5
check "the exchanger's A likewise: $A" test "$A" -ge 2 -a "$A" -le 5
mxpathd_stop c
check "mxpathd stopped cleanly" test $? -eq 0
finish
