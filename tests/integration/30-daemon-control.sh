#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 30-daemon-control - the control socket: every connection gets the counters
# in Prometheus text format (parsed here by the Prometheus client library's
# own parser), with HELP and TYPE for every family, and counters that follow
# what the doors and the DNS did. Served on unix and inet sockets alike, to
# many clients at once.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap 'mxpathd_cleanup; dns_cleanup' EXIT
# (dns.sh sets $MXPATH, the CLI under test.)

dns_start_nsd ns
D=$(mxpathd_dir c)
mxpathd_conf c "$(mxpath_conf /dev/stdout ns)
routes = ( { domain = \".example.test\";
             hosts = ( { host = \"[198.51.100.7]\"; pref = 10; } ); } );"
mxpathd_start c

# Four relays: a static route, boston twice (a cache miss, then a hit), and
# one through the mailertable map.
mxpathd_query c transport u@a.example.test > /dev/null
mxpathd_query c transport u@boston.travel.edu > /dev/null
mxpathd_query c transport v@boston.travel.edu > /dev/null
mxpathd_query c mailertable b.example.test > /dev/null
mxpathd_stats c > "$D/stats"

# Parse with prometheus_client; print "name{labels} value" per sample and
# fail on any family without HELP or TYPE, or any unknown type.
cat > "$D/parse.py" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
assert text.endswith("\n"), "no final newline"
helps = {l.split()[2] for l in text.splitlines() if l.startswith("# HELP ")}
types = {l.split()[2]: l.split()[3] for l in text.splitlines() if l.startswith("# TYPE ")}
samples = 0
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        samples += 1
        base = s.name
        if base not in types:
            raise SystemExit("sample %s has no # TYPE" % base)
        if base not in helps:
            raise SystemExit("sample %s has no # HELP" % base)
        if types[base] == "counter" and not base.endswith("_total"):
            raise SystemExit("counter %s does not end in _total" % base)
        if s.value < 0:
            raise SystemExit("negative sample %s" % base)
        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        print("%s%s %d" % (base, "{%s}" % labels if labels else "", s.value))
if samples == 0:
    raise SystemExit("no samples")
EOF
/usr/bin/python3 "$D/parse.py" "$D/stats" > "$D/samples" 2> "$D/parse.err"
check "the answer parses as Prometheus text, HELP and TYPE everywhere" test $? -eq 0
[ -s "$D/parse.err" ] && sed 's/^/    # /' "$D/parse.err"
value() { awk -v m="$1" '$1 == m { print $2 }' "$D/samples"; }

for family in mxpath_decisions_total mxpath_lookups_total mxpath_cache_hits_total \
	mxpath_cache_misses_total mxpath_cache_stale_total mxpath_cache_entries \
	mxpath_dns_queries_total mxpath_dns_failures_total mxpath_connections_total \
	mxpath_errors_total mxpath_reloads_total mxpath_connections_refused_total; do
	check "family $family is there" grep -q "^# TYPE $family " "$D/stats"
done
check "no milter family while the milter door is off" sh -c "! grep -q '^mxpath_milter_' '$D/stats'"
check "every map x action pair of lookups is there (10)" \
	test "$(grep -c '^mxpath_lookups_total{action="[a-z]*",map="[a-z]*"}' "$D/samples")" = 10
check "transport relays counted: 3" test "$(value 'mxpath_lookups_total{action="relay",map="transport"}')" = 3
check "mailertable relays counted: 1" \
	test "$(value 'mxpath_lookups_total{action="relay",map="mailertable"}')" = 1
check "transport rejects: 0" test "$(value 'mxpath_lookups_total{action="reject",map="transport"}')" = 0
check "decisions counted: 4" test "$(value mxpath_decisions_total)" = 4
check "DNS was asked (MX, then the exchangers)" test "$(value mxpath_dns_queries_total)" -ge 4
check "no DNS failures" test "$(value mxpath_dns_failures_total)" = 0
check "the first boston lookup missed the cache" test "$(value mxpath_cache_misses_total)" -ge 1
check "the second one hit it" test "$(value mxpath_cache_hits_total)" -ge 1
check "answers are in the cache" test "$(value mxpath_cache_entries)" -ge 4
check "socketmap connections counted: 4" \
	test "$(value 'mxpath_connections_total{door="socketmap"}')" = 4
check "this control connection counted" test "$(value 'mxpath_connections_total{door="control"}')" = 1
check "no socketmap errors" test "$(value 'mxpath_errors_total{door="socketmap"}')" = 0
check "the version is reported" grep -q '^mxpath_build_info{version="[0-9.]*"} 1$' "$D/stats"
check "the start time is recent" \
	test $(( $(date +%s) - $(value mxpath_start_time_seconds) )) -lt 120

# A malformed request is an error of the socketmap door.
/usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'abc:xyz,'); s.recv(100)" \
	"$D/socketmap.sock" 2>/dev/null
mxpathd_stats c > "$D/stats"
/usr/bin/python3 "$D/parse.py" "$D/stats" > "$D/samples"
check "a malformed socketmap request is counted as an error" \
	test "$(value 'mxpath_errors_total{door="socketmap"}')" -ge 1

# 30 clients at once each get the whole answer.
/usr/bin/python3 - "$D/control.sock" > "$D/many" <<'EOF'
import socket, sys, threading
results = []
def fetch():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    results.append(b"".join(iter(lambda: s.recv(65536), b"")))
threads = [threading.Thread(target=fetch) for _ in range(30)]
for t in threads: t.start()
for t in threads: t.join()
complete = [r for r in results if r.endswith(b"\n") and b"mxpath_reloads_total" in r]
print(len(complete))
EOF
check "30 concurrent clients: every one got the whole text" test "$(cat "$D/many")" = 30

# The admin's client: mxpath stats, from the configuration or --socket.
"$MXPATH" stats -c "$D/mxpath.conf" > "$D/cli" 2> "$D/cli.err"
check "mxpath stats -c FILE exits 0" test $? -eq 0
check "mxpath stats prints the same families" \
	test "$(grep -c '^# TYPE' "$D/cli")" = "$(grep -c '^# TYPE' "$D/stats")"
/usr/bin/python3 "$D/parse.py" "$D/cli" > /dev/null
check "... and it parses as Prometheus text" test $? -eq 0
"$MXPATH" stats --socket "unix:$D/control.sock" > "$D/cli" 2>&1
check "mxpath stats --socket SPEC works too" grep -q '^mxpath_decisions_total ' "$D/cli"

mxpathd_stop c
"$MXPATH" stats -c "$D/mxpath.conf" > "$D/cli" 2>&1
check "mxpath stats with the daemon gone: non-zero exit" test $? -ne 0
check "... naming the socket" grep -q "$D/control.sock" "$D/cli"

# The control socket on TCP (loopback), read by a plain client.
PORT=$(free_port)
mxpathd_conf t "routes = ( { domain = \".example.test\";
             hosts = ( { host = \"[198.51.100.7]\"; pref = 10; } ); } );
control = { socket = \"inet:$PORT@127.0.0.1\"; };"
mxpathd_start t
T=$(mxpathd_dir t)
mxpathd_control_read "inet:$PORT@127.0.0.1" > "$T/stats"
/usr/bin/python3 "$D/parse.py" "$T/stats" > /dev/null
check "control on inet:PORT@127.0.0.1 answers in Prometheus text" test $? -eq 0
mxpathd_stop t

finish
