#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 75-sendmail-socketmap - mxpathd's socketmap door as sendmail 8.17's
# mailertable (FEATURE(`mailertable', `socket unix:SOCK')), end to
# end: the unpacked sendmail in its own namespace, mxpathd on the test DNS,
# one smtp-sink per mail exchanger on 127.0.0.x (tests/lib/e2e.sh). The
# core scenarios of 70-postfix-socketmap, read from the sinks' dumps and
# sendmail's maillog:
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
. "$MXPATH_ROOT/tests/lib/e2e.sh" sendmail

# The esmtp mailer connects to each exchanger on $P.
e2e_start sm socketmap "$E2E_CLUSTER
$E2E_PROCESS_ROUTE" a b d sf chicago toronto daisy iris listo hep fallback othercorp

e2e_socketmap_routing 90

# ---- rejected at RCPT time: the error mailer's own codes
e2e_rcpt_check "null MX recipient refused at RCPT" x@nullmx.edge.test '^556 5\.1\.10 .*null MX'
e2e_rcpt_check "NXDOMAIN recipient refused at RCPT" x@nosuch.edge.test '^550 5\.1\.2 .*does not exist'

# ---- SERVFAIL: queued, deferred, delivered by a later queue run
dns_fault dns "servfail plange.puntacana.dr"
e2e_rcpt_check "SERVFAIL recipient accepted for queueing at RCPT" x@plange.puntacana.dr \
	'^250 .*will queue'
mta_send_many "$SMTPD" 1 y@plange.puntacana.dr 1 || fail "smtp-source to plange"
sm_wait_log 1 'to=<1y@plange\.puntacana\.dr>.*stat=queued' 20
check "a message for it is queued, not bounced" \
	test "$(sm_log_count 'to=<1y@plange\.puntacana\.dr>.*stat=queued')" -ge 1 \
	-a "$(sm_log_count '1y@plange\.puntacana\.dr.*dsn=5')" -eq 0
check "... and stays in the queue" test "$(sm_queue_count)" -eq 1
dns_fault dns
e2e_wait_routes plange.puntacana.dr
e2e_wait_sent 1 '1y@plange\.puntacana\.dr' 20
check "DNS back: a queue run delivers it to listo (pref 1)" \
	test "$(sink_recipients listo '1y@plange\.puntacana\.dr')" -eq 1
check "... and the queue is empty" sm_wait_queue_empty 10

# ---- static route and local host
e2e_static_route
e2e_local_host

# ---- nothing went astray
check "sendmail bounced nothing (no dsn=5 delivery)" \
	test "$(sm_log_count 'stat=.*dsn=5|dsn=5.*stat=')" -eq 0
check "the queue is empty at the end" sm_wait_queue_empty 10

e2e_finish
