#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 26-dns-ports - RFC 5452 section 9.2: every DNS question leaves from a
# source port of its own, as glibc's resolver does, so an off-path spoofer
# must guess the port as well as the 16-bit ID. A burst of 500 lookups for
# 500 domains not asked before reaches mxpathd at once through the
# socketmap door; the test DNS server (answering each after 0.3 s, so they
# all overlap) logs each query's source port. Coalescing is kept: 100
# lookups of one cold domain are one MX question.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT

N=500
dns_start_mock ports --log-port --delay-all 0.3
# The daemon asks only that server (dns.sh's mxpath_conf), 5 s per question.
mxpathd_conf ports "$(DNS_OPTIONS='timeout_ms = 5000; tries = 1;' mxpath_conf /dev/stdout ports)"
mxpathd_start ports
D=$(mxpathd_dir ports)
S=unix:$D/socketmap.sock
LOG=$DNS_WORK/ports/log

# One cold MX question per domain: dN.burst.edge.test does not exist (NXDOMAIN).
NXDOMAIN="OK error:5.1.2 "
OUT=$($SMCLIENT burst "$S" $N transport "u@d%d.burst.edge.test" "$NXDOMAIN" 2>&1)
echo "    # $OUT"
read -r _ replies seconds answered <<<"$OUT"
check "$N lookups at once: $N replies, each the domain's NXDOMAIN (5.1.2)" \
	test "${replies:-0}" -eq $N -a "${answered:-0}" -eq $N
check "... within 3 s: the questions overlapped (one after another: $N x 0.3 s)" \
	awk -v s="${seconds:-99}" 'BEGIN { exit !(s < 3) }'
grep -E '^Q udp d[0-9]+\.burst\.edge\.test MX port=' "$LOG" | sed 's/.* port=//' > "$DNS_WORK/ports.txt"
ASKED=$(wc -l < "$DNS_WORK/ports.txt")
DISTINCT=$(sort -u "$DNS_WORK/ports.txt" | wc -l)
echo "    # $ASKED MX questions from $DISTINCT distinct source ports"
check "the server saw $N MX questions" test "$ASKED" -eq $N
check ">= 90 % of them from distinct source ports ($DISTINCT of $ASKED)" \
	test "$DISTINCT" -ge $((ASKED * 9 / 10))
check "none from the DNS port itself or a privileged one" \
	awk '$1 < 1024 { exit 1 }' "$DNS_WORK/ports.txt"

# Short of descriptors (500 client connections under a limit of 540):
# none is lost, none waits for a timeout (a question that gets no socket of
# its own shares the newest one).
mxpathd_conf tight "$(grep -v '^socketmap\|^control' "$D/mxpath.conf")"
MXPATHD_WRAPPER="prlimit --nofile=540:540" mxpathd_start tight
OUT=$($SMCLIENT burst "unix:$(mxpathd_dir tight)/socketmap.sock" $N transport \
	"u@t%d.burst.edge.test" "$NXDOMAIN" 2>&1)
echo "    # $OUT"
read -r _ replies seconds answered <<<"$OUT"
check "under 540 descriptors, $N lookups at once: all answered NXDOMAIN within 3 s" \
	test "${replies:-0}" -eq $N -a "${answered:-0}" -eq $N -a "${seconds%.*}" -lt 3
TIGHT=$(grep -E '^Q udp t[0-9]+\.burst\.edge\.test MX port=' "$LOG" | sed 's/.* port=//' | sort -u | wc -l)
echo "    # $TIGHT distinct source ports for $N questions under the limit"
check "... from more than one port" test "$TIGHT" -gt 1

# Coalescing stays: 100 lookups of one cold domain, one MX question.
OUT=$($SMCLIENT concurrent "$S" 100 1 transport u@withmx.edge.test \
	"OK smtp:[real.edge.test]" 2>&1)
check "100 lookups of withmx.edge.test at once: all answered" test "$OUT" = "ok 100"
check "... one MX question between them" \
	test "$(grep -c '^Q [a-z]* withmx\.edge\.test MX port=' "$LOG")" = 1

finish
