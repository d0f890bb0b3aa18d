#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 80-milter-e2e-postfix - mxpathd's milter door as Postfix 3.7's
# smtpd_milters, end to end, with Postfix routing by itself (no
# transport_maps: its own MX lookups through the test DNS, exchangers on
# smtp_tcp_port), so every verdict and rewrite seen here is the milter's
# (tests/lib/e2e.sh; the same scenarios as 80-milter-e2e-sendmail):
#   - null MX: 556 5.1.10 at RCPT; NXDOMAIN: 550 5.1.2; SERVFAIL on
#     mxpathd's DNS: 451 4.4.3 at RCPT, accepted once DNS answers again;
#   - recipients at a cluster alias are rewritten at end of message to the
#     member mxpathd chose, and arrive at that member's sink (40 messages:
#     both members chosen, each >= 5: a false failure has probability
#     1.9e-7, both Bin(40, 1/2) tails), never at the backup;
#   - recipients at a local host are rewritten to the canonical local
#     domain and delivered locally;
#   - routable mail passes untouched, with an X-MXPath trace header;
#   - a multi-recipient message: the null-MX recipient alone is refused.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/e2e.sh" postfix

e2e_start pfm milter "$E2E_CLUSTER" a b c d sf listo
e2e_milter_scenarios

check "Postfix bounced nothing" test "$(pf_log_count 'status=bounced')" -eq 0
check "no milter errors in Postfix's log" test "$(pf_log_count 'milter.*(error|timeout|refused)')" -eq 0

e2e_finish
