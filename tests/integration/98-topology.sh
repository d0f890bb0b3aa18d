#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 98-topology - `make topology` (tests/topology/run-topology): the seeds'
# networks as network namespaces, each mail host with its own Postfix and
# its own mxpathd that knows itself only from its host name and interface
# addresses. Its results file (-o: one line per message: story, step,
# submitting host, recipient, the hosts it went through, who delivered
# it, copies, bounces, loops, who held it, each mxpathd's decision) must
# show (besides the milter door of every host on the way passing each
# recipient at RCPT time):
#   - Example 17: relay.hp.com's 200 messages to CLUSTER spread over A and
#     B (MX 10 both), each between 70 and 130 (a fair coin misses that
#     with probability 1.4e-5), each taken locally by the cluster rule at
#     the first node of relay.hp.com's shuffled list; C (member at 20)
#     relays to A and B; A to user@B goes straight to B and back; with
#     A's Postfix stopped, all 40 go to B;
#   - Example 18: outside mail to daisy goes relay.hp.com -> iris -> daisy,
#     iris pruning itself by address (its host name is "iris"); daisy's
#     mail to the outside leaves through iris; mail to user@process.com,
#     from outside or from daisy, stays on iris (its local-host set);
#     the difference mxpath makes: iris's Postfix without mxpath's doors
#     holds mail for daisy (only daisy's unreachable outside address),
#     with them wired again it delivers it over the inside network;
#   - Example 16 and software.com: the MX hosts stopped one by one, each
#     message held by the next one up and handed to the best one once it
#     is back; mail.othercorp.com (MX 90) never routes to itself or to its
#     fallback relay;
#   - self by address only: jupiter, whose host name is not in the MX
#     list, prunes fallback.software.com as itself;
#   - every message delivered exactly once; nothing bounced; no loop;
# and both a finished run and one interrupted by SIGTERM must leave no
# namespace, veth or process behind.
set -u
. "$(dirname "$0")/../lib/tap.sh"
require ip nsenter nsd postfix

T=$(mktemp -d /tmp/mxpath-topology-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
R=$T/results.tsv
RUN=$MXPATH_ROOT/tests/topology/run-topology
# mxpathd drops to nobody: LeakSanitizer cannot follow (30-daemon-privileges).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 BUILD

# leftovers OUT: what the run that printed OUT left behind (its namespaces,
# veths and processes carry its suffix or its scratch directory).
leftovers() {
	local suffix scratch
	suffix=$(sed -n 's/^namespaces: mx\*-\([0-9a-f]*\) .*/\1/p' "$1")
	scratch=$(sed -n 's/^namespaces: .*; scratch: //p' "$1")
	[ -n "$suffix" ] && [ -n "$scratch" ] || { echo "no suffix or scratch in $1"; return; }
	ip netns list | grep -- "-$suffix" | sed 's/^/namespace /'
	ip -o link | grep -- "$suffix" | sed 's/^/link /'
	ps -eo pid=,args= | grep -F -- "$scratch/" | grep -v grep | sed 's/^/process /'
	[ ! -e "$scratch" ] || echo "scratch $scratch"
}

# ---- a run interrupted once its hosts are up
"$RUN" > "$T/int.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
	grep -q '^up after ' "$T/int.out" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
check "interrupted run: its hosts came up" grep -q '^up after ' "$T/int.out"
kill -TERM "$pid"
wait "$pid"
rc=$?
check "interrupted run: exits 130 on SIGTERM (it exited $rc)" test "$rc" -eq 130
left=$(leftovers "$T/int.out")
check "interrupted run: no namespace, veth, process or scratch file left${left:+: $left}" \
	test -z "$left"

# ---- the whole run
start=$(date +%s)
"$RUN" -o "$R" > "$T/out" 2> "$T/err"
rc=$?
secs=$(($(date +%s) - start))
sed 's/^/    # /' "$T/out"
check_exit "run-topology exits 0" "$rc" "$T/err"
check "run-topology finishes in under two minutes, teardown included ($secs s)" test "$secs" -lt 120
left=$(leftovers "$T/out")
check "finished run: no namespace, veth, process or scratch file left${left:+: $left}" test -z "$left"
check "no host had a default route or an address outside TEST-NET" \
	grep -q '^sealed: no host has a default route; every address is in TEST-NET\.$' "$T/out"
check "run-topology says its teardown was clean" \
	grep -q '^teardown: no namespace, link or process of this run is left\.$' "$T/out"
[ -s "$R" ] || { fail "run-topology wrote its results file"; finish; exit 1; }

# ---- results: field access (2 step, 3 from, 4 recipient, 5 path,
# 6 receivers, 7 copies, 8 bounced, 9 loops, 10 held by, 11 why,
# 12 milter: hosts whose milter passed the RCPT / hosts on the path with
# the doors wired, 13 why it was held where)
rows() { awk -F'\t' -v s="$1" -v r="$2" '$1 == s && $4 ~ r' "$R"; }
count() { rows "$1" "$2" | wc -l; }
# with STORY RCPT-ERE FIELD VALUE: rows whose FIELD is VALUE
with() { rows "$1" "$2" | awk -F'\t' -v f="$3" -v v="$4" '$f == v' | wc -l; }
# why_has STORY RCPT-ERE TEXT: rows whose decisions contain TEXT
why_has() { rows "$1" "$2" | awk -F'\t' -v t="$3" 'index($11, t)' | wc -l; }

# ---- Example 17
n=$(count cluster '^[0-9]+user@')
na=$(with cluster '^[0-9]+user@' 6 a)
nb=$(with cluster '^[0-9]+user@' 6 b)
check "cluster: 200 messages from relay.hp.com ($n)" test "$n" -eq 200
check "cluster: A and B received all 200 between them, each 70..130 (a=$na b=$nb)" \
	test $((na + nb)) -eq 200 -a "$na" -ge 70 -a "$na" -le 130 -a "$nb" -ge 70 -a "$nb" -le 130
check "cluster: relay.hp.com routed each by MX to A and B, in either order" \
	test $(($(why_has cluster '^[0-9]+user@' 'relay.hp.com: relay by mx: a.cs.xyz.edu, b.cs.xyz.edu |') +
		$(why_has cluster '^[0-9]+user@' 'relay.hp.com: relay by mx: b.cs.xyz.edu, a.cs.xyz.edu |'))) -eq 200
check "cluster: each received by the first node of relay.hp.com's list" \
	test $(($(rows cluster '^[0-9]+user@' | grep -c $'\ta\t.*relay by mx: a\\.cs') +
		$(rows cluster '^[0-9]+user@' | grep -c $'\tb\t.*relay by mx: b\\.cs'))) -eq 200
check "cluster: each node took them locally by the cluster rule, itself pruned by name" \
	test $(($(why_has cluster '^[0-9]+user@' 'a.cs.xyz.edu: local by cluster; pruned a.cs.xyz.edu (self, by name)') +
		$(why_has cluster '^[0-9]+user@' 'b.cs.xyz.edu: local by cluster; pruned a.cs.xyz.edu (worse_than_self), b.cs.xyz.edu (self, by name)'))) -eq 200
check "cluster: C (member at 20) relayed its 20 to A or B, pruning itself" \
	test "$(count cluster '^[0-9]+c2cl@') $(why_has cluster '^[0-9]+c2cl@' 'pruned c.cs.xyz.edu (self, by name)') $(( $(with cluster '^[0-9]+c2cl@' 5 'c a') + $(with cluster '^[0-9]+c2cl@' 5 'c b') ))" = "20 20 20"
check "cluster: A to user@B went straight to B (A pruned itself at 20)" \
	test "$(with cluster '^[0-9]+a2b@' 5 'a b') $(why_has cluster '^[0-9]+a2b@' 'a.cs.xyz.edu: relay by mx: b.cs.xyz.edu; pruned a.cs.xyz.edu (self, by name)')" = "10 10"
check "cluster: B to user@A went straight to A" test "$(with cluster '^[0-9]+b2a@' 5 'b a')" -eq 10
check "cluster: A's Postfix stopped: all 40 received by B" \
	test "$(count cluster '^[0-9]+adown@') $(with cluster '^[0-9]+adown@' 6 b)" = "40 40"

# ---- Example 18
check "firewall: 10 to daisy went relay.hp.com -> iris -> daisy" \
	test "$(with firewall 'user@daisy' 5 'hp iris daisy')" -eq 10
check "firewall: iris pruned itself by address and routed over the inside network" \
	test "$(why_has firewall 'user@daisy' 'iris: relay by route: daisy.process.com; pruned iris.process.com (self, by address)')" -eq 10
check "firewall: daisy's 5 to the outside left through iris" \
	test "$(with firewall 'out@mail' 5 'daisy iris othercorp')" -eq 5
check "firewall: iris's Postfix without mxpath held mail for daisy: outside address unreachable" \
	test "$(rows firewall 'plain@daisy' | awk -F'\t' '$5 == "hp iris daisy" && $13 ~ /^iris: .*203\.0\.113\.31.*Network is unreachable/' | wc -l)" -eq 3
check "firewall: ... with mxpath wired again, iris delivered it over the inside network" \
	test "$(why_has firewall 'plain@daisy' 'iris: relay by route: daisy.process.com; pruned iris.process.com (self, by address)')" -eq 3
check "firewall: mail to user@process.com, from outside and from daisy, stays on iris (local-host set)" \
	test "$(with firewall 'user@process' 5 'hp iris') $(with firewall 'staff@process' 5 'daisy iris') $(why_has firewall '@process.com$' 'iris: local by local_hosts')" = "5 5 10"

# ---- Example 16 and software.com: down the ladder and back
check "boston: all up, san-francisco; then held by chicago; then toronto -> chicago" \
	test "$(with boston '^[0-9]+up-' 5 'hp sf') $(with boston 'down1-' 5 'hp chicago sf') $(with boston 'down2-' 5 'hp toronto chicago sf')" = "5 5 5"
check "software: all up, mercury; then held by jupiter; then othercorp -> jupiter" \
	test "$(with software '^[0-9]+up-' 5 'hp mercury') $(with software 'down1-' 5 'hp jupiter mercury') $(with software 'down2-' 5 'hp othercorp jupiter mercury')" = "5 5 5"
check "software: mail.othercorp.com (MX 90) routed only to the better MX hosts, no fallback relay" \
	test "$(why_has software 'down2-' 'mail.othercorp.com: relay by mx: mail.software.com, fallback.software.com; pruned mail.othercorp.com (self, by name) |')" -eq 5
check "software: relay.hp.com (othercorp's fallback relay) received none of it" \
	test "$(awk -F'\t' '$1 == "software" && $5 ~ /othercorp hp/' "$R" | wc -l)" -eq 0

# ---- self by address only
check "by address: jupiter pruned fallback.software.com as itself, mail went to mercury" \
	test "$(with byaddress 'viaj@' 5 'jupiter mercury') $(why_has byaddress 'viaj@' 'pruned fallback.software.com (self, by address)')" = "5 5"

# ---- every message
check "343 messages in all" test "$(grep -vc '^#' "$R")" -eq 343
check "every message delivered exactly once" \
	test "$(awk -F'\t' '!/^#/ && $7 != 1' "$R" | wc -l)" -eq 0
check "the milter door of every host on the way passed each recipient at RCPT" \
	test "$(awk -F'\t' '!/^#/ { split($12, m, "/"); if (m[1] != m[2] || m[2] < 2) n++ } END { print n + 0 }' "$R")" -eq 0
check "nothing bounced, nothing looped" \
	test "$(awk -F'\t' '!/^#/ && ($8 != 0 || $9 != 0)' "$R" | wc -l)" -eq 0
check "every story's totals: lost 0, bounced 0, loops 0" \
	test "$(grep -c 'lost 0, duplicated 0, bounced 0, loops 0, received off the expected nodes 0$' "$T/out")" -eq 5
check "no 'loops back to myself' in any log" grep -q "'loops back to myself' logged 0 times$" "$T/out"
finish
