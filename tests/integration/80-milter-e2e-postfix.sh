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
#   - a multi-recipient message: the null-MX recipient alone is refused;
#   - mxpathd's log lines have the format README.md documents, led by
#     Postfix's own queue id: grepping the maillog for it finds Postfix's
#     lines of the same message.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/e2e.sh" postfix

e2e_start pfm milter "$E2E_CLUSTER" a b c d sf listo
e2e_milter_scenarios

check "Postfix bounced nothing" test "$(pf_log_count 'status=bounced')" -eq 0
check "no milter errors in Postfix's log" test "$(pf_log_count 'milter.*(error|timeout|refused)')" -eq 0

# The log format README.md documents, as a pattern: its placeholders become
# what they stand for; QUEUEID a Postfix queue id (or NOQUEUE).
MLOG=$(mxpathd_dir e2e)/log
fmt=$(grep -m1 'QUEUEID: rcpt=' "$MXPATH_ROOT/README.md" | sed 's/^ *//')
ere=$(sed -e 's/[][().*+?{}|^$\\]/\\&/g' -e 's/PID/[0-9]+/' \
	-e 's/QUEUEID/([0-9A-F]+|NOQUEUE)/' -e 's/ADDRESS/[^>]*/' \
	-e 's/ACTION/(relay|local|reject|tempfail)/' -e 's/RULE/[a-z_]+/' -e 's/HOSTS/[^ ]+/' \
	-e 's/REPLY/(-|"[^"]*"( \\(not enforced\\))?)/' -e 's/=N$/=[0-9]+$/' <<< "$fmt")
check "README.md documents the milter's log line" test -n "$fmt"
decisions=$(grep -c ': rcpt=.* action=' "$MLOG")
check "every milter decision line has the documented format ($decisions)" \
	test "$decisions" -gt 0 -a "$(grep -Ec -- "$ere" "$MLOG")" = "$decisions"
qid=$(grep -E -- "$ere" "$MLOG" | grep -v ' NOQUEUE: ' | grep 'action=relay' | head -n 1 |
	sed -E 's/.* mxpathd\[[0-9]+\]: ([0-9A-F]+): rcpt=.*/\1/')
check "an accepted recipient's line starts with a Postfix queue id ($qid)" \
	grep -Eq '^[0-9A-F]{6,}$' <<< "$qid"
check "... which Postfix's own maillog lines carry too (grep QUEUEID finds both)" \
	test "$(pf_log_count "postfix/[a-z]+\[[0-9]+\]: $qid: ")" -ge 2
check "a recipient refused at RCPT is logged as NOQUEUE (no queue file yet)" \
	grep -Eq ' NOQUEUE: rcpt=<[^>]*@nullmx\.edge\.test> action=reject .*"556 5\.1\.10 ' "$MLOG"

e2e_finish
