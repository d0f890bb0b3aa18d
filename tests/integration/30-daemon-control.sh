#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 30-daemon-control - the control socket: "stats" gets the counters in
# Prometheus text format (parsed here by the Prometheus client library's
# own parser), with HELP and TYPE for every family, and counters that follow
# what the doors and the DNS did. Served on unix and inet sockets alike, to
# many clients at once. On inet, a Prometheus scrape: GET /metrics over
# HTTP/1.1, fetched by real curl, and precise statuses for bad requests.
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
check "every map x action pair of lookups is there (3 maps x 5)" \
	test "$(grep -c '^mxpath_lookups_total{action="[a-z]*",map="[a-z]*"}' "$D/samples")" = 15
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
    s.sendall(b"stats\n")
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

# ---- Prometheus: GET /metrics over HTTP/1.1, by real curl ----
URL="http://127.0.0.1:$PORT/metrics"
curl -sS --http1.1 -D "$T/head" -o "$T/body" "$URL" 2> "$T/curl.err"
check "curl GET /metrics: exit 0 (no 'Received HTTP/0.9')" test $? -eq 0
[ -s "$T/curl.err" ] && sed 's/^/    # /' "$T/curl.err"
check "... status line HTTP/1.1 200 OK" grep -q $'^HTTP/1.1 200 OK\r$' "$T/head"
check "... Content-Type text/plain; version=0.0.4" \
	grep -qi $'^Content-Type: text/plain; version=0.0.4; charset=utf-8\r$' "$T/head"
check "... Content-Length is the body's length" \
	grep -qi "^Content-Length: $(stat -c %s "$T/body")"$'\r$' "$T/head"
check "... Connection: close" grep -qi $'^Connection: close\r$' "$T/head"
/usr/bin/python3 "$D/parse.py" "$T/body" > "$T/samples"
check "... the body parses with prometheus_client's text parser" test $? -eq 0
check "... and counts this scrape among the control connections" \
	test "$(awk '$1 == "mxpath_connections_total{door=\"control\"}" { print $2 }' "$T/samples")" -ge 2
check "curl HEAD /metrics: 200, no body" \
	test "$(curl -sS -I -o /dev/null -w '%{http_code} %{size_download}' "$URL")" = "200 0"
status() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }
check "GET /other: 404" test "$(status "http://127.0.0.1:$PORT/other")" = 404
check "POST /metrics: 405" test "$(status -X POST -d x "$URL")" = 405
check "... with Allow: GET, HEAD" sh -c "curl -sS -X DELETE -D - -o /dev/null '$URL' | grep -qi '^Allow: GET, HEAD'"
check "GET /metrics?x=1 (a query is ignored): 200" test "$(status "$URL?x=1")" = 200
check "HTTP/1.1 without Host: 400" test "$(status -H 'Host:' "$URL")" = 400
check "a header of 9000 bytes: 431" \
	test "$(status -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$URL")" = 431
# Hostile request lines, raw: the status line of the answer.
raw() {
	/usr/bin/python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
data = b"".join(iter(lambda: s.recv(65536), b""))
print(data.split(b"\r\n")[0].decode("latin-1"))' "$PORT" "$1"
}
check "request line with two spaces: 400" \
	test "$(raw 'GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "HTTP/2.0 request line: 505" \
	test "$(raw 'GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n')" = "HTTP/1.1 505 HTTP Version Not Supported"
check "control byte in the target: 400" \
	test "$(raw 'GET /me\x01trics HTTP/1.1\r\nHost: x\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "a request line of 9000 bytes: 414" \
	test "$(raw "GET /$(head -c 9000 /dev/zero | tr '\0' a)")" = "HTTP/1.1 414 URI Too Long"
check "an unknown command: an error line, not a crash" \
	sh -c "printf 'bogus\n' | timeout 5 python3 -c '
import socket, sys
s = socket.create_connection((\"127.0.0.1\", $PORT)); s.sendall(b\"bogus\\n\")
print(b\"\".join(iter(lambda: s.recv(65536), b\"\")).decode())' | grep -q '^error: unknown request \"bogus\"'"
check "the daemon still serves after all that" test "$(status "$URL")" = 200
check "... and mxpath stats still works on inet" \
	sh -c "'$MXPATH' stats --socket inet:$PORT@127.0.0.1 | grep -q '^mxpath_decisions_total '"
mxpathd_stop t

finish
