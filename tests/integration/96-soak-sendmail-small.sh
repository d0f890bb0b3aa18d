#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 96-soak-sendmail-small - the fault soak of 96-soak-small through sendmail
# 8.17 instead of Postfix: 300 messages over 59 domains, both of mxpathd's
# doors wired as README says for sendmail (mailertable socket map without
# -T<TMPF>, INPUT_MAIL_FILTER with F=T), while mxpathd's DNS server stops
# and restarts, a domain SERVFAILs, mxpathd reloads (good, then bad), is
# killed with SIGKILL and restarted, and a primary exchanger stops. Every
# message must end where the policy said, exactly once; none lost; only the
# null-MX recipients refused; nothing bounced.
# `make soak MTA=sendmail` runs the same with 5,000.
set -u
. "$(dirname "$0")/../lib/tap.sh"
exec "$MXPATH_ROOT/tests/soak/run-soak" --mta sendmail --messages 300
