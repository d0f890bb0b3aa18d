#!/bin/bash
# 80-milter-e2e-sendmail - mxpathd's milter door as sendmail 8.17's
# INPUT_MAIL_FILTER, end to end, with sendmail routing by itself (no
# mailertable: its own MX lookups through the test DNS, exchangers on the
# esmtp mailer's port), so every verdict and rewrite seen here is the
# milter's (the same scenarios as 80-milter-e2e-postfix):
#   - null MX: 556 5.1.10 at RCPT; NXDOMAIN: 550 5.1.2; SERVFAIL on
#     mxpathd's DNS: 451 4.4.3 at RCPT, accepted once DNS answers again;
#   - recipients at a cluster alias are rewritten at end of message to the
#     member mxpathd chose, and arrive at that member's sink (40 messages:
#     both members chosen, each >= 5: a false failure has probability
#     1.9e-7, both Bin(40, 1/2) tails), never at the backup;
#   - recipients at a local host are rewritten to the canonical local
#     domain ($j) and delivered by the local mailer;
#   - routable mail passes untouched, with an X-MXPath trace header;
#   - a multi-recipient message: the null-MX recipient alone is refused.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
. "$MXPATH_ROOT/tests/lib/sendmail.sh"

T0=$(date +%s)
T=$(mktemp -d /tmp/mxpath-smm.XXXXXX)
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

P=$(mta_free_port) || mta_die "no free port"
SMTPD=127.0.0.1:$P

declare -A EXCHANGER=(
	[a]=127.0.0.21 [b]=127.0.0.22 [c]=127.0.0.23 [d]=127.0.0.24
	[sf]=127.0.0.11 [listo]=127.0.0.51
)
sinks_init "$T"
for name in "${!EXCHANGER[@]}"; do
	sink_start "$name" "${EXCHANGER[$name]}" "$P" || mta_die "sink $name did not start"
done

dns_start_mock dns
mta_resolver_start "$T"

MILTER=$(mxpathd_dir smm)/milter.sock
mxpathd_conf smm "$(cat <<EOF
self = { names = [ "mta-sm.bench.test" ]; addresses = [ ]; };
local_hosts = [ "c.cs.xyz.edu" ];
clusters = ( { name = "cluster.cs.xyz.edu";
               members = ( { host = "a.cs.xyz.edu"; pref = 10; },
                           { host = "b.cs.xyz.edu"; pref = 10; },
                           { host = "d.cs.xyz.edu"; pref = 20; } ); } );
dns = { servers = [ "127.0.0.1:$(dns_port dns)" ]; timeout_ms = 500; tries = 2;
        failure_ttl = 1; serve_stale = 0; };
mx = { ignore_targets = [ "0.0.0.0/8" ]; };
milter = { socket = "unix:$MILTER"; mode = "0660";
           rewrite_clusters = true; rewrite_local = "mta-sm.bench.test";
           trace_header = true; };
EOF
)"
mxpathd_start smm

# No mailertable: sendmail routes by itself ($j is its local domain).
# shellcheck disable=SC2034 # read by sm_setup
SM_MILTER=unix:$MILTER
sm_setup "$T/sm" "$P" "$P" "" mta-sm.bench.test || mta_die "sendmail setup failed"
sm_start || mta_die "sendmail did not start"

sent_to() { sink_recipients "$1" "$2"; }
_answers_ok() {
	mta_rcpt_reply "$SMTPD" "$1" | grep -q '^250 '
}

# ---- verdicts at RCPT
reply=$(mta_rcpt_reply "$SMTPD" x@nullmx.edge.test)
check "null MX: 556 5.1.10 at RCPT ($reply)" grep -Eq '^556 5\.1\.10 ' <<< "$reply"
reply=$(mta_rcpt_reply "$SMTPD" x@nosuch.edge.test)
check "NXDOMAIN: 550 5.1.2 at RCPT ($reply)" grep -Eq '^550 5\.1\.2 ' <<< "$reply"
dns_fault dns "servfail plange.puntacana.dr"
reply=$(mta_rcpt_reply "$SMTPD" x@plange.puntacana.dr)
check "SERVFAIL: 451 4.4.3 at RCPT ($reply)" grep -Eq '^451 4\.4\.3 ' <<< "$reply"
dns_fault dns
check "DNS back: the same recipient is accepted" mta_poll 10 _answers_ok x@plange.puntacana.dr
mta_send_many "$SMTPD" 1 y@plange.puntacana.dr 1 || fail "smtp-source to plange"
sm_wait_log 1 'to=<1y@plange\.puntacana\.dr>.*stat=Sent' 20
check "... and delivered by sendmail's own MX lookup to listo" \
	test "$(sent_to listo '1y@plange\.puntacana\.dr')" -eq 1

out=$(mta_swaks "$SMTPD" "$MTA_SENDER" x@nullmx.edge.test,u@boston.travel.edu)
check "two recipients, one null MX: that one refused, the message accepted" \
	grep -Eq '^ *<~?\*+ *556 5\.1\.10 ' <<< "$out"
sm_wait_log 1 'to=<u@boston\.travel\.edu>.*stat=Sent' 20
check "... and the other delivered" test "$(sent_to sf 'u@boston\.travel\.edu')" -eq 1

# ---- routable mail passes untouched, traced
mta_send_many "$SMTPD" 3 t@boston.travel.edu 1 || fail "smtp-source to boston"
sm_wait_log 3 'to=<[0-9]+t@boston\.travel\.edu>.*stat=Sent' 20
check "boston.travel.edu: delivered unchanged to its best MX (3)" \
	test "$(sent_to sf '[0-9]+t@boston\.travel\.edu')" -eq 3
check "... with an X-MXPath trace header naming the route" \
	grep -Eq '^X-MXPath: .*relay' "$SINKS_DIR/sf.dump"

# ---- cluster alias rewritten to the member chosen
mta_send_many "$SMTPD" 40 u@cluster.cs.xyz.edu 4 || fail "smtp-source to the cluster"
sm_wait_log 40 'to=<[0-9]+u@[abd]\.cs\.xyz\.edu>.*stat=Sent' 30
na=$(sent_to a '[0-9]+u@a\.cs\.xyz\.edu')
nb=$(sent_to b '[0-9]+u@b\.cs\.xyz\.edu')
check "40 messages to the cluster alias arrived rewritten to the member chosen (a=$na b=$nb)" \
	test $((na + nb)) -eq 40
check "... each at its own member's sink, none still addressed to the alias" \
	test "$(sent_to a '.*@cluster\.cs\.xyz\.edu')" -eq 0 -a \
	"$(sent_to b '.*@cluster\.cs\.xyz\.edu')" -eq 0 -a \
	"$(sent_to a '.*@b\.cs\.xyz\.edu')" -eq 0 -a "$(sent_to b '.*@a\.cs\.xyz\.edu')" -eq 0
check "... both equal members were chosen (each >= 5 of 40)" test "$na" -ge 5 -a "$nb" -ge 5
check "... never the backup member d" test "$(sink_messages d)" -eq 0
check "mxpathd logged the rewrites (40)" \
	test "$(grep -Ec 'milter: .*rcpt=<?[0-9]+u@cluster\.cs\.xyz\.edu>? rewritten to <?[0-9]+u@[ab]\.cs\.xyz\.edu' \
		"$(mxpathd_dir smm)/log")" -eq 40

# ---- local host rewritten to the canonical local domain
mta_send_many "$SMTPD" 2 u@c.cs.xyz.edu 1 || fail "smtp-source to c"
sm_wait_log 2 'to=<[0-9]+u@mta-sm\.bench\.test>.*mailer=local.*stat=Sent' 20
# (the local mailer is handed the local part only: $u)
check "local host c.cs.xyz.edu: rewritten to mta-sm.bench.test and delivered locally (2)" \
	test "$(sm_local_count '[0-9]+u')" -eq 2
check "... not relayed to c's own address or its MX" \
	test "$(sink_messages c)" -eq 0 -a "$(sent_to a '.*@c\.cs\.xyz\.edu')" -eq 0

check "sendmail bounced nothing (no dsn=5 delivery)" test "$(sm_log_count 'dsn=5')" -eq 0
check "no milter errors in sendmail's log" test "$(sm_log_count 'Milter.*(error|timeout|refused|unavailable)')" -eq 0
check "the queue is empty" sm_wait_queue_empty 10

echo "# runtime: $(( $(date +%s) - T0 )) s"
finish
