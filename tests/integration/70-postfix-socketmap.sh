#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 70-postfix-socketmap - mxpathd's socketmap door as Postfix 3.7's
# transport_maps, end to end: a private Postfix, mxpathd on the test DNS
# (dnsmock serving tests/zones), one smtp-sink per mail exchanger on
# 127.0.0.x (tests/lib/e2e.sh). Every assertion is read from the sinks'
# dumps and the maillog:
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
. "$MXPATH_ROOT/tests/lib/e2e.sh" postfix

# The exchangers of tests/zones that mail may reach, and a catch-all on
# Postfix's relayhost address: anything mxpathd does not route lands there.
e2e_start pf socketmap "$E2E_CLUSTER
$E2E_PROCESS_ROUTE" a b d sf chicago toronto daisy iris listo hep fallback othercorp stray

e2e_socketmap_routing 60

# ---- rejected at RCPT time
e2e_rcpt_check "null MX recipient refused at RCPT" x@nullmx.edge.test '^550 .*null MX'
e2e_rcpt_check "NXDOMAIN recipient refused at RCPT" x@nosuch.edge.test '^550 .*does not exist'

# ---- SERVFAIL: tempfail at RCPT, deferred in the queue, delivered later
dns_fault dns "servfail plange.puntacana.dr"
e2e_rcpt_check "SERVFAIL recipient tempfailed at RCPT" x@plange.puntacana.dr '^451 '
pf_submit "$MTA_SENDER" y@plange.puntacana.dr || fail "local submission"
pf_wait_log 1 'to=<y@plange\.puntacana\.dr>.*status=deferred' 20
check "a queued message for it is deferred, not bounced" \
	test "$(pf_log_count 'to=<y@plange\.puntacana\.dr>.*status=deferred')" -ge 1 \
	-a "$(pf_log_count 'to=<y@plange\.puntacana\.dr>.*status=bounced')" -eq 0
check "... and stays in the queue" test "$(pf_queue_count)" -eq 1
dns_fault dns
e2e_wait_routes plange.puntacana.dr
# PITFALL: qmgr's resolve client caches its last answer for 30 s, failures
# included; one message to another domain evicts it, as real traffic would.
pf_submit "$MTA_SENDER" z@daisy.process.com || fail "local submission"
pf_flush
e2e_wait_sent 1 'y@plange\.puntacana\.dr' 20
check "DNS back: Postfix's retry delivers it to listo (pref 1)" \
	test "$(sink_recipients listo 'y@plange\.puntacana\.dr')" -eq 1
check "... and the queue is empty" pf_wait_queue_empty 10

# ---- static route and local host
e2e_static_route
e2e_local_host

# ---- nothing went astray
check "nothing reached the catch-all relayhost" test "$(sink_messages stray)" -eq 0
check "Postfix bounced nothing" test "$(pf_log_count 'status=bounced')" -eq 0
check "Postfix logged no fatal or panic" test "$(pf_log_count '(fatal|panic):')" -eq 0

e2e_finish
