#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 96-soak-small - the fault soak (tests/soak/run-soak) in small: 300
# messages over 59 domains, 10 new ones a second, through a real Postfix
# with both of mxpathd's doors, while mxpathd's DNS server is stopped and
# restarted, a domain SERVFAILs for a while, mxpathd is reloaded with a
# changed policy and then with an invalid one, killed with SIGKILL and
# restarted, and a primary exchanger is stopped. Every message must end
# where the policy in force said, exactly once; none lost; only the null-MX
# recipients refused; nothing bounced. `make soak` runs the same with 5,000.
set -u
. "$(dirname "$0")/../lib/tap.sh"
exec "$MXPATH_ROOT/tests/soak/run-soak" --messages 300
