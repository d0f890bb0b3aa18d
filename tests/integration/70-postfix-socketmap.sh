#!/bin/bash
# 70-postfix-socketmap - mxpathd's socketmap door as Postfix 3.7's
# transport_maps, end to end: a private Postfix, mxpathd on the test DNS
# (dnsmock serving tests/zones), one smtp-sink per mail exchanger on
# 127.0.0.x. Every assertion is read from the sinks' dumps and the maillog:
#   - a cluster alias lands on its members; over 200 messages both
#     equal-preference members get a share (each >= 70: a false failure
#     has probability 1.4e-5, two-sided Bin(200, 1/2) tails); the backup
#     member gets nothing while they are up;
#   - with the best exchanger down, mail fails over to the next hop in the
#     order mxpathd gave, and on to the third; a 421 greeting fails over too;
#   - null MX and NXDOMAIN are refused at RCPT (socketmap error: -> 550);
#   - SERVFAIL: 451 at RCPT, a queued message is deferred, then delivered
#     once DNS answers again;
#   - a static route overrides the MX; a local host is delivered locally.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
. "$MXPATH_ROOT/tests/lib/postfix.sh"

T0=$(date +%s)
T=$(mktemp -d /tmp/mxpath-pf.XXXXXX)
cleanup() {
	pf_stop
	sinks_stop_all
	mta_resolver_stop
	mxpathd_cleanup
	dns_cleanup
	rm -rf "$T"
}
trap cleanup EXIT
chmod 755 "$T"

# One port for all: smtpd on 127.0.0.1, every exchanger on its 127.0.0.x.
P=$(mta_free_port) || mta_die "no free port"
SMTPD=127.0.0.1:$P

# The exchangers of tests/zones that mail may reach, and a catch-all on
# Postfix's relayhost address: anything mxpathd does not route lands there.
declare -A EXCHANGER=(
	[a]=127.0.0.21 [b]=127.0.0.22 [d]=127.0.0.24
	[sf]=127.0.0.11 [chicago]=127.0.0.12 [toronto]=127.0.0.13
	[daisy]=127.0.0.31 [iris]=127.0.0.32
	[listo]=127.0.0.51 [hep]=127.0.0.52
	[fallback]=127.0.0.62 [othercorp]=127.0.0.71
	[stray]=127.0.0.254
)
sinks_init "$T"
for name in "${!EXCHANGER[@]}"; do
	sink_start "$name" "${EXCHANGER[$name]}" "$P" || mta_die "sink $name did not start"
done
# software.com's best MX answers every connection with a 421 greeting.
sink_start busy 127.0.0.61 "$P" -Q CONNECT || mta_die "sink busy did not start"

dns_start_mock dns
mta_resolver_start "$T"

SOCK=$(mxpathd_dir pf)/socketmap.sock
mxpathd_conf pf "$(cat <<EOF
self = { names = [ "mta.bench.test" ]; addresses = [ ]; };
local_hosts = [ "c.cs.xyz.edu" ];
clusters = ( { name = "cluster.cs.xyz.edu";
               members = ( { host = "a.cs.xyz.edu"; pref = 10; },
                           { host = "b.cs.xyz.edu"; pref = 10; },
                           { host = "d.cs.xyz.edu"; pref = 20; } ); } );
routes = ( { domain = ".process.com";
             hosts = ( { host = "iris.process.com"; pref = 10; } ); } );
dns = { servers = [ "127.0.0.1:$(dns_port dns)" ]; timeout_ms = 500; tries = 2;
        failure_ttl = 1; serve_stale = 0; };
mx = { ignore_targets = [ "0.0.0.0/8" ]; };
socketmap = { socket = "unix:$SOCK"; group = "postfix"; mode = "0660"; port = $P; };
EOF
)"
mxpathd_start pf

pf_setup "$T/pf" "$P" mta.bench.test || mta_die "postfix setup failed"
pf_conf "transport_maps = socketmap:unix:$SOCK:transport"
pf_start || mta_die "postfix did not start"

# sent_to NAME ERE: recipients matching ERE that sink NAME received.
sent_to() { sink_recipients "$1" "$2"; }
# _answers_ok KEY: mxpathd routes KEY (its failure cache has expired).
_answers_ok() { mta_socketmap_query "$SOCK" transport "$1" | grep -q '^OK smtp:'; }

# ---- cluster alias: share between equal members, backup untouched
mta_send_many "$SMTPD" 200 u@cluster.cs.xyz.edu 10 || fail "smtp-source to the cluster"
sinks_wait_messages 200 60 a b d
na=$(sent_to a '[0-9]+u@cluster\.cs\.xyz\.edu')
nb=$(sent_to b '[0-9]+u@cluster\.cs\.xyz\.edu')
nd=$(sent_to d '[0-9]+u@cluster\.cs\.xyz\.edu')
check "200 messages to cluster.cs.xyz.edu all reached its members (a=$na b=$nb d=$nd)" \
	test $((na + nb + nd)) -eq 200
check "... each logged as sent by Postfix" \
	test "$(pf_log_count 'to=<[0-9]+u@cluster\.cs\.xyz\.edu>.*status=sent')" -eq 200
check "equal-preference members both get a share: a=$na, b=$nb (each >= 70 of 200)" \
	test "$na" -ge 70 -a "$nb" -ge 70
check "the backup member d (pref 20) got nothing while a and b were up" test "$nd" -eq 0

# ---- failover along the order mxpathd gives
order=$(mta_socketmap_query "$SOCK" transport u@boston.travel.edu)
check "mxpathd lists boston.travel.edu's exchangers by preference" test "$order" = \
	"OK smtp:[san-francisco.target.edu]:$P, [chicago.target.edu]:$P, [toronto.target.edu]:$P"
mta_send_many "$SMTPD" 5 u@boston.travel.edu 1 || fail "smtp-source to boston"
sinks_wait_messages 5 20 sf
check "all up: the best exchanger (san-francisco) takes all 5" \
	test "$(sent_to sf '[0-9]+u@boston\.travel\.edu')" -eq 5

sink_stop sf
mta_send_many "$SMTPD" 5 v@boston.travel.edu 1 || fail "smtp-source to boston"
pf_wait_log 5 'to=<[0-9]+v@boston\.travel\.edu>.*status=sent' 30
check "san-francisco down: all 5 went to the next hop, chicago" \
	test "$(sent_to chicago '[0-9]+v@boston\.travel\.edu')" -eq 5
check "... after Postfix found san-francisco refusing" \
	test "$(pf_log_count "connect to san-francisco\.target\.edu\[127\.0\.0\.11\]:$P: Connection refused")" -ge 5
check "... and toronto (third) got none of them" \
	test "$(sent_to toronto '[0-9]+v@boston\.travel\.edu')" -eq 0

sink_stop chicago
mta_send_many "$SMTPD" 3 w@boston.travel.edu 1 || fail "smtp-source to boston"
pf_wait_log 3 'to=<[0-9]+w@boston\.travel\.edu>.*status=sent' 30
check "san-francisco and chicago down: all 3 went to the third hop, toronto" \
	test "$(sent_to toronto '[0-9]+w@boston\.travel\.edu')" -eq 3
check "... after chicago refused too" \
	test "$(pf_log_count "connect to chicago\.target\.edu\[127\.0\.0\.12\]:$P: Connection refused")" -ge 3

mta_send_many "$SMTPD" 3 u@software.com 1 || fail "smtp-source to software.com"
pf_wait_log 3 'to=<[0-9]+u@software\.com>.*status=sent' 30
check "best MX says 421 at greeting: all 3 went to the next one, fallback.software.com" \
	test "$(sent_to fallback '[0-9]+u@software\.com')" -eq 3 -a "$(sink_messages othercorp)" -eq 0

# ---- rejected at RCPT time
reply=$(mta_rcpt_reply "$SMTPD" x@nullmx.edge.test)
check "null MX recipient refused at RCPT: $reply" grep -Eq '^550 .*null MX' <<< "$reply"
reply=$(mta_rcpt_reply "$SMTPD" x@nosuch.edge.test)
check "NXDOMAIN recipient refused at RCPT: $reply" grep -Eq '^550 .*does not exist' <<< "$reply"

# ---- SERVFAIL: tempfail at RCPT, deferred in the queue, delivered later
dns_fault dns "servfail plange.puntacana.dr"
reply=$(mta_rcpt_reply "$SMTPD" x@plange.puntacana.dr)
check "SERVFAIL recipient tempfailed at RCPT: $reply" grep -Eq '^451 ' <<< "$reply"
pf_submit "$MTA_SENDER" y@plange.puntacana.dr || fail "local submission"
pf_wait_log 1 'to=<y@plange\.puntacana\.dr>.*status=deferred' 20
check "a queued message for it is deferred, not bounced" \
	test "$(pf_log_count 'to=<y@plange\.puntacana\.dr>.*status=deferred')" -ge 1 \
	-a "$(pf_log_count 'to=<y@plange\.puntacana\.dr>.*status=bounced')" -eq 0
check "... and stays in the queue" test "$(pf_queue_count)" -eq 1
dns_fault dns
mta_poll 10 _answers_ok u@plange.puntacana.dr ||
	fail "mxpathd still fails plange.puntacana.dr after the fault is cleared"
# PITFALL: qmgr's resolve client caches its last answer for 30 s, failures
# included; one message to another domain evicts it, as real traffic would.
pf_submit "$MTA_SENDER" z@daisy.process.com || fail "local submission"
pf_flush
pf_wait_log 1 'to=<y@plange\.puntacana\.dr>.*status=sent' 20
check "DNS back: Postfix's retry delivers it to listo (pref 1)" \
	test "$(sent_to listo 'y@plange\.puntacana\.dr')" -eq 1
check "... and the queue is empty" pf_wait_queue_empty 10

# ---- static route and local host
mta_send_many "$SMTPD" 3 u@daisy.process.com 1 || fail "smtp-source to daisy"
pf_wait_log 3 'to=<[0-9]+u@daisy\.process\.com>.*status=sent' 20
check "static route .process.com: daisy.process.com's mail goes to iris (3)" \
	test "$(sent_to iris '[0-9]+u@daisy\.process\.com')" -eq 3
check "... not to daisy, its MX" test "$(sent_to daisy '.*@daisy\.process\.com')" -eq 0

mta_send_many "$SMTPD" 2 u@c.cs.xyz.edu 1 || fail "smtp-source to c"
pf_wait_log 2 'to=<[0-9]+u@c\.cs\.xyz\.edu>, relay=local.*status=sent' 20
check "local host c.cs.xyz.edu: delivered by the local service (2)" \
	test "$(pf_local_count '[0-9]+u@c\.cs\.xyz\.edu')" -eq 2
check "... and not relayed to c's exchangers" \
	test $(( $(sent_to a '.*@c\.cs\.xyz\.edu') + $(sent_to b '.*@c\.cs\.xyz\.edu') )) -eq 0

# ---- nothing went astray
check "nothing reached the catch-all relayhost" test "$(sink_messages stray)" -eq 0
check "Postfix bounced nothing" test "$(pf_log_count 'status=bounced')" -eq 0
check "Postfix logged no fatal or panic" test "$(pf_log_count '(fatal|panic):')" -eq 0

echo "# runtime: $(( $(date +%s) - T0 )) s"
finish
