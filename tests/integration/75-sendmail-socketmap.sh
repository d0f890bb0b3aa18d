#!/bin/bash
# 75-sendmail-socketmap - mxpathd's socketmap door as sendmail 8.17's
# mailertable (FEATURE(`mailertable', `socket -T<TMPF> unix:SOCK')), end to
# end: the unpacked sendmail in its own namespace, mxpathd on the test DNS,
# one smtp-sink per mail exchanger on 127.0.0.x. The core scenarios of
# 70-postfix-socketmap, read from the sinks' dumps and sendmail's maillog:
#   - a cluster alias lands on its members; over 200 messages both
#     equal-preference members get a share (each >= 70: a false failure
#     has probability 1.4e-5); the backup member gets nothing;
#   - with the best exchanger down, mail goes to the next host of the
#     "esmtp:[a]:[b]:[c]" list mxpathd gave, and on to the third; a 421
#     greeting fails over too;
#   - null MX and NXDOMAIN are refused at RCPT (error: mailer, 556 / 550);
#   - SERVFAIL: accepted and queued, deferred, delivered by a later queue
#     run once DNS answers again;
#   - a static route overrides the MX; a local host goes to the local mailer.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
. "$MXPATH_ROOT/tests/lib/sendmail.sh"

T0=$(date +%s)
T=$(mktemp -d /tmp/mxpath-sm.XXXXXX)
cleanup() {
	sm_stop
	sinks_stop_all
	mta_resolver_stop
	mxpathd_cleanup
	dns_cleanup
	rm -rf "$T"
}
trap cleanup EXIT
chmod 755 "$T"

# One port for all: sendmail on 127.0.0.1, every exchanger on its 127.0.0.x
# (the esmtp mailer connects to "$h" on this port).
P=$(mta_free_port) || mta_die "no free port"
SMTPD=127.0.0.1:$P

declare -A EXCHANGER=(
	[a]=127.0.0.21 [b]=127.0.0.22 [d]=127.0.0.24
	[sf]=127.0.0.11 [chicago]=127.0.0.12 [toronto]=127.0.0.13
	[daisy]=127.0.0.31 [iris]=127.0.0.32
	[listo]=127.0.0.51 [hep]=127.0.0.52
	[fallback]=127.0.0.62 [othercorp]=127.0.0.71
)
sinks_init "$T"
for name in "${!EXCHANGER[@]}"; do
	sink_start "$name" "${EXCHANGER[$name]}" "$P" || mta_die "sink $name did not start"
done
# software.com's best MX answers every connection with a 421 greeting.
sink_start busy 127.0.0.61 "$P" -Q CONNECT || mta_die "sink busy did not start"

dns_start_mock dns
mta_resolver_start "$T"

SOCK=$(mxpathd_dir sm)/socketmap.sock
mxpathd_conf sm "$(cat <<EOF
self = { names = [ "mta-sm.bench.test" ]; addresses = [ ]; };
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
socketmap = { socket = "unix:$SOCK"; mode = "0660"; };
EOF
)"
mxpathd_start sm

sm_setup "$T/sm" "$P" "$P" "$SOCK" mta-sm.bench.test || mta_die "sendmail setup failed"
sm_start || mta_die "sendmail did not start"

sent_to() { sink_recipients "$1" "$2"; }
_answers_ok() { mta_socketmap_query "$SOCK" mailertable "$1" | grep -q '^OK esmtp:'; }

# ---- cluster alias: share between equal members, backup untouched
mta_send_many "$SMTPD" 200 u@cluster.cs.xyz.edu 10 || fail "smtp-source to the cluster"
sinks_wait_messages 200 90 a b d
na=$(sent_to a '[0-9]+u@cluster\.cs\.xyz\.edu')
nb=$(sent_to b '[0-9]+u@cluster\.cs\.xyz\.edu')
nd=$(sent_to d '[0-9]+u@cluster\.cs\.xyz\.edu')
check "200 messages to cluster.cs.xyz.edu all reached its members (a=$na b=$nb d=$nd)" \
	test $((na + nb + nd)) -eq 200
check "... each logged as sent by sendmail" \
	test "$(sm_log_count 'to=<[0-9]+u@cluster\.cs\.xyz\.edu>.*stat=Sent')" -eq 200
check "equal-preference members both get a share: a=$na, b=$nb (each >= 70 of 200)" \
	test "$na" -ge 70 -a "$nb" -ge 70
check "the backup member d (pref 20) got nothing while a and b were up" test "$nd" -eq 0

# ---- failover along the order mxpathd gives
order=$(mta_socketmap_query "$SOCK" mailertable boston.travel.edu)
check "mxpathd lists boston.travel.edu's exchangers by preference, ':' between" test "$order" = \
	"OK esmtp:[san-francisco.target.edu]:[chicago.target.edu]:[toronto.target.edu]"
mta_send_many "$SMTPD" 5 u@boston.travel.edu 1 || fail "smtp-source to boston"
sinks_wait_messages 5 20 sf
check "all up: the best exchanger (san-francisco) takes all 5" \
	test "$(sent_to sf '[0-9]+u@boston\.travel\.edu')" -eq 5

sink_stop sf
mta_send_many "$SMTPD" 5 v@boston.travel.edu 1 || fail "smtp-source to boston"
sm_wait_log 5 'to=<[0-9]+v@boston\.travel\.edu>.*stat=Sent' 30
check "san-francisco down: all 5 went to the next host, chicago" \
	test "$(sent_to chicago '[0-9]+v@boston\.travel\.edu')" -eq 5
check "... after sendmail found san-francisco refusing" \
	test "$(sm_log_count 'makeconnection \(\[?san-francisco\.target\.edu\.?\]? \[127\.0\.0\.11\].*Connection refused')" -ge 5
check "... and toronto (third) got none of them" \
	test "$(sent_to toronto '[0-9]+v@boston\.travel\.edu')" -eq 0

sink_stop chicago
mta_send_many "$SMTPD" 3 w@boston.travel.edu 1 || fail "smtp-source to boston"
sm_wait_log 3 'to=<[0-9]+w@boston\.travel\.edu>.*stat=Sent' 30
check "san-francisco and chicago down: all 3 went to the third host, toronto" \
	test "$(sent_to toronto '[0-9]+w@boston\.travel\.edu')" -eq 3
check "... after chicago refused too" \
	test "$(sm_log_count 'makeconnection \(\[?chicago\.target\.edu\.?\]? \[127\.0\.0\.12\].*Connection refused')" -ge 3

mta_send_many "$SMTPD" 3 u@software.com 1 || fail "smtp-source to software.com"
sm_wait_log 3 'to=<[0-9]+u@software\.com>.*stat=Sent' 30
check "best MX says 421 at greeting: all 3 went to the next one, fallback.software.com" \
	test "$(sent_to fallback '[0-9]+u@software\.com')" -eq 3 -a "$(sink_messages othercorp)" -eq 0

# ---- rejected at RCPT time
reply=$(mta_rcpt_reply "$SMTPD" x@nullmx.edge.test)
check "null MX recipient refused at RCPT: $reply" grep -Eq '^556 5\.1\.10 .*null MX' <<< "$reply"
reply=$(mta_rcpt_reply "$SMTPD" x@nosuch.edge.test)
check "NXDOMAIN recipient refused at RCPT: $reply" grep -Eq '^550 5\.1\.2 .*does not exist' <<< "$reply"

# ---- SERVFAIL: queued, deferred, delivered by a later queue run
dns_fault dns "servfail plange.puntacana.dr"
reply=$(mta_rcpt_reply "$SMTPD" x@plange.puntacana.dr)
check "SERVFAIL recipient accepted for queueing at RCPT: $reply" grep -Eq '^250 .*will queue' <<< "$reply"
mta_send_many "$SMTPD" 1 y@plange.puntacana.dr 1 || fail "smtp-source to plange"
sm_wait_log 1 'to=<1y@plange\.puntacana\.dr>.*stat=queued' 20
check "a message for it is queued, not bounced" \
	test "$(sm_log_count 'to=<1y@plange\.puntacana\.dr>.*stat=queued')" -ge 1 \
	-a "$(sm_log_count '1y@plange\.puntacana\.dr.*dsn=5')" -eq 0
check "... and stays in the queue" test "$(sm_queue_count)" -eq 1
dns_fault dns
mta_poll 10 _answers_ok plange.puntacana.dr ||
	fail "mxpathd still fails plange.puntacana.dr after the fault is cleared"
sm_wait_log 1 'to=<1y@plange\.puntacana\.dr>.*stat=Sent' 20
check "DNS back: a queue run delivers it to listo (pref 1)" \
	test "$(sent_to listo '1y@plange\.puntacana\.dr')" -eq 1
check "... and the queue is empty" sm_wait_queue_empty 10

# ---- static route and local host
mta_send_many "$SMTPD" 3 u@daisy.process.com 1 || fail "smtp-source to daisy"
sm_wait_log 3 'to=<[0-9]+u@daisy\.process\.com>.*stat=Sent' 20
check "static route .process.com: daisy.process.com's mail goes to iris (3)" \
	test "$(sent_to iris '[0-9]+u@daisy\.process\.com')" -eq 3
check "... not to daisy, its MX" test "$(sent_to daisy '.*@daisy\.process\.com')" -eq 0

mta_send_many "$SMTPD" 2 u@c.cs.xyz.edu 1 || fail "smtp-source to c"
sm_wait_log 2 'to=<[0-9]+u@c\.cs\.xyz\.edu>.*mailer=local.*stat=Sent' 20
# (the local mailer is handed the local part only: $u)
check "local host c.cs.xyz.edu: delivered by the local mailer (2)" \
	test "$(sm_local_count '[0-9]+u')" -eq 2
check "... and not relayed to c's exchangers" \
	test $(( $(sent_to a '.*@c\.cs\.xyz\.edu') + $(sent_to b '.*@c\.cs\.xyz\.edu') )) -eq 0

# ---- nothing went astray
check "sendmail bounced nothing (no dsn=5 delivery)" test "$(sm_log_count 'stat=.*dsn=5|dsn=5.*stat=')" -eq 0
check "the queue is empty at the end" sm_wait_queue_empty 10

echo "# runtime: $(( $(date +%s) - T0 )) s"
finish
