#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 25-dns-bench - how fast routes are decided: a cold route to a domain with
# three exchangers must cost two DNS round trips (the MX query, then every
# address query at once), not one per exchanger; warm decisions come from
# the cache without allocating. Builds tests/bench/bench_router.c against
# the library and runs it against a test server that delays every answer
# by 50 ms.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/dns.sh"
trap dns_cleanup EXIT

case $BUILD in
/*) LIB=$BUILD/libmxpath.a ;;
*) LIB=$MXPATH_ROOT/$BUILD/libmxpath.a ;;
esac
SAN=
[ "${SANITIZE:-0}" = 1 ] && SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
BENCH=$DNS_WORK/bench_router
# shellcheck disable=SC2086  # SAN and pkg-config output are word lists
check "bench_router builds" cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror $SAN \
	-I"$MXPATH_ROOT/include" "$MXPATH_ROOT/tests/bench/bench_router.c" "$LIB" \
	$(pkg-config --libs libcares libconfig libidn2) -lpthread -o "$BENCH"
[ -x "$BENCH" ] || { finish; exit 1; }

dns_start_mock slow --delay-all 0.05
RESULT=$("$BENCH" "127.0.0.1:$(dns_port slow)" user@boston.travel.edu 200000 2>&1)
echo "$RESULT" | sed 's/^/    # /'
COLD=$(awk '/^cold_ms/ { printf "%d", $2 }' <<<"$RESULT")
WARM=$(awk '/^warm_per_second/ { print $2 }' <<<"$RESULT")
expect "cold route, 3 exchangers, 50 ms per answer: two round trips (100..145 ms)" \
	"$([ -n "$COLD" ] && [ "$COLD" -ge 100 ] && [ "$COLD" -lt 145 ] && echo yes || echo "no: ${COLD:-?} ms")" "yes"
expect "warm decisions: more than 20,000 per second" \
	"$([ -n "$WARM" ] && [ "$WARM" -gt 20000 ] && echo yes || echo "no: ${WARM:-?}/s")" "yes"

# The same through the command, process start included.
CONF=$DNS_WORK/mxpath.conf
mxpath_conf "$CONF" slow
START=$(date +%s%N)
route_json user@boston.travel.edu
MS=$(( ($(date +%s%N) - START) / 1000000 ))
echo "    # mxpath route, cold: $MS ms"
expect "mxpath route, cold: relay within 200 ms" "$(jq -r .action <<<"$OUT") $([ "$MS" -lt 200 ] && echo fast || echo "slow: $MS ms")" "relay fast"

finish
