#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 97-demo - `make demo` (contrib/demo/run-demo) tells every story of the
# seeds right, through Postfix and through sendmail. It must exit 0 within
# 40 s, teardown included, print one table with both MTAs, and leave
# nothing listening. Its results file (-o: one line per recipient with the
# sinks stopped at the time, mxpathd's action, rule, next hops in order and
# pruned hosts, the sink that received the message, the reply the client
# got, the MTA) must show, for Postfix (transport_maps and smtpd_milters)
# and for sendmail (mailertable and INPUT_MAIL_FILTER) alike:
#   - Example 17: 20 messages to CLUSTER.CS.XYZ.EDU routed by MX over
#     A/10 and B/10, each received by the member put first; both members
#     received some (a false failure has probability 2^-19);
#   - Example 18: the demo host is iris: iris/20 pruned as self, daisy
#     receives;
#   - Example 16: san-francisco receives; with it stopped, chicago;
#   - software.com: mail, then fallback, then mail.othercorp.com as their
#     sinks stop one by one;
#   - oreilly.com: ora while it is up; ruby or opal only once it is down;
#   - a null MX recipient refused at RCPT with 556 5.1.10;
#   - every message received once, by the first next hop that was up.
set -u
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/mxpath-demo-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
R=$T/results.tsv

# mxpathd drops to nobody: LeakSanitizer cannot follow (30-daemon-privileges).
start=$(date +%s%N)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 BUILD=$BUILD \
	"$MXPATH_ROOT/contrib/demo/run-demo" -o "$R" > "$T/out" 2> "$T/err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
sed 's/^/    # /' "$T/out"
check_exit "run-demo exits 0" "$rc" "$T/err"
check "run-demo finishes in under 40 s, teardown included ($ms ms)" test "$ms" -lt 40000
[ -s "$R" ] || { fail "run-demo wrote its results file"; finish; exit 1; }

# ---- results: field access, for the MTA in $MTA
# rows STEP: the step's lines; field N of them, one per line, sorted.
rows() { awk -F'\t' -v s="$1" -v m="$MTA" '$1 == s && $11 == m' "$R"; }
field() { rows "$1" | cut -f "$2" | sort; }
# distinct STEP N: the distinct values of field N, space-separated.
distinct() { field "$1" "$2" | uniq | paste -sd ' '; }
count() { rows "$1" | wc -l; }
received_by() { rows "$1" | awk -F'\t' -v h="$2" '$8 == h' | wc -l; }

stories_check() {
	# ---- Example 17: the cluster alias
	check "$MTA: cluster: 20 messages" test "$(count cluster)" -eq 20
	check "$MTA: cluster: every one relayed by rule mx" test "$(distinct cluster 4) $(distinct cluster 5)" = "relay mx"
	check "$MTA: cluster: next hops are A/10 and B/10, in either order" \
		test "$(field cluster 6 | tr ' ' '\n' | sort -u | paste -sd ' ')" = "a.cs.xyz.edu/10 b.cs.xyz.edu/10"
	na=$(received_by cluster a.cs.xyz.edu)
	nb=$(received_by cluster b.cs.xyz.edu)
	check "$MTA: cluster: A and B received all 20 between them (a=$na b=$nb)" test $((na + nb)) -eq 20
	check "$MTA: cluster: both members received some" test "$na" -ge 1 -a "$nb" -ge 1

	# ---- Example 18: the firewall
	check "$MTA: firewall: 3 messages, relayed by rule mx" \
		test "$(count firewall) $(distinct firewall 4) $(distinct firewall 5)" = "3 relay mx"
	check "$MTA: firewall: daisy/10 is the only next hop" test "$(distinct firewall 6)" = "daisy.process.com/10"
	check "$MTA: firewall: iris/20 pruned as self" test "$(distinct firewall 7)" = "iris.process.com/20:self"
	check "$MTA: firewall: daisy received all 3" test "$(received_by firewall daisy.process.com)" -eq 3

	# ---- Example 16 and software.com: failover along the preference order
	BOSTON="san-francisco.target.edu/0 chicago.target.edu/10 toronto.target.edu/20"
	SOFTWARE="mail.software.com/10 fallback.software.com/20 mail.othercorp.com/90"
	check "$MTA: boston.travel.edu: hops in preference order" \
		test "$(distinct boston 6)|$(distinct boston-sf 6)" = "$BOSTON|$BOSTON"
	check "$MTA: boston.travel.edu, all up: san-francisco received all 3" \
		test "$(received_by boston san-francisco.target.edu)" -eq 3
	check "$MTA: boston.travel.edu, san-francisco stopped: chicago received all 3" \
		test "$(received_by boston-sf chicago.target.edu)" -eq 3
	check "$MTA: software.com: hops in preference order, every step" \
		test "$(distinct software 6)|$(distinct software-mail 6)|$(distinct software-fallback 6)" = \
		"$SOFTWARE|$SOFTWARE|$SOFTWARE"
	check "$MTA: software.com, all up: mail received both" test "$(received_by software mail.software.com)" -eq 2
	check "$MTA: software.com, mail stopped: fallback received both" \
		test "$(received_by software-mail fallback.software.com)" -eq 2
	check "$MTA: software.com, fallback stopped too: mail.othercorp.com received both" \
		test "$(received_by software-fallback mail.othercorp.com)" -eq 2

	# ---- oreilly.com: ora first, ruby and opal only when it is down
	ORA='^ora\.oreilly\.com/0 (ruby\.oreilly\.com/10 opal|opal\.oreilly\.com/10 ruby)\.oreilly\.com/10$'
	check "$MTA: oreilly.com: 3 + 8 messages, each routed ora/0 first, then ruby/10 and opal/10" \
		test "$(count oreilly) $(count oreilly-ora) $( (field oreilly 6; field oreilly-ora 6) | grep -Ec "$ORA")" = "3 8 11"
	check "$MTA: oreilly.com, all up: ora received all 3" test "$(received_by oreilly ora.oreilly.com)" -eq 3
	check "$MTA: oreilly.com, ora stopped: ruby and opal received all 8 between them" \
		test $(( $(received_by oreilly-ora ruby.oreilly.com) + $(received_by oreilly-ora opal.oreilly.com) )) -eq 8

	# ---- null MX
	check "$MTA: null MX: refused by rule mx" test "$(distinct nullmx 4) $(distinct nullmx 5)" = "reject mx"
	check "$MTA: null MX: the client got 556 5.1.10 at RCPT ($(distinct nullmx 9))" \
		grep -q '^client got: 556 5\.1\.10 ' <<< "$(field nullmx 9)"
	check "$MTA: null MX: nothing received" test "$(distinct nullmx 8)" = "-"

	# ---- every message where it belongs
	check "$MTA: 46 messages in all" \
		test "$(awk -F'\t' -v m="$MTA" '!/^#/ && $11 == m && $10 != "-"' "$R" | wc -l)" -eq 46
	check "$MTA: every message received by exactly one sink" \
		test "$(awk -F'\t' -v m="$MTA" '!/^#/ && $11 == m && $10 != "-" && ($8 == "-" || $8 ~ /,/)' "$R" | wc -l)" -eq 0
	check "$MTA: every message received by the first next hop that was up" \
		test "$(awk -F'\t' -v m="$MTA" '!/^#/ && $11 == m && $10 != "-" && $8 != $10' "$R" | wc -l)" -eq 0
}

for MTA in postfix sendmail; do
	stories_check
done

# ---- the printed table and summary
check "the table has its header, the MTA first" \
	grep -q '^MTA  *RECIPIENT .* MXPATH DECIDED .* RECEIVED BY / SMTP REPLY$' "$T/out"
check "both MTAs' rows in every section" test "$(awk '/^== / { if (s) n += (p && m); s = 1; p = m = 0 }
	/^postfix / { p = 1 } /^sendmail / { m = 1 } END { n += (p && m); print n }' "$T/out")" -eq 10
check "the table has a section per step (10)" test "$(grep -c '^== ' "$T/out")" -eq 10
check "the table shows the null MX reply, Postfix" \
	grep -Eq '^postfix +user@nullmx\.edge\.test +1 +reject, rule mx +- +client got: 556 5\.1\.10 ' "$T/out"
check "... and sendmail" \
	grep -Eq '^sendmail +sm-user@nullmx\.edge\.test +1 +reject, rule mx +- +client got: 556 5\.1\.10 ' "$T/out"
check "the table shows iris pruned as self" grep -Eq '^ +pruned iris\.process\.com/20 \(self\)' "$T/out"
check "the summary: 92 of 92 where they belong, 2 of 2 refused" \
	grep -q "^92 of 92 messages reached the first of mxpathd's next hops that was up; 2 of 2$" "$T/out"
check "the summary: nothing bounced, deferred or unrouted" \
	grep -q '^unroutable recipients refused at RCPT. Postfix bounced 0 and deferred 0; the catch-all relayhost got 0.$' "$T/out"
check "the summary: sendmail bounced and deferred nothing" \
	grep -q '^sendmail bounced 0 and deferred 0.$' "$T/out"
check "the summary: no warnings or errors logged" \
	grep -q '^Warnings or errors logged: mxpathd 0, Postfix 0, sendmail 0.$' "$T/out"

# ---- nothing left behind
smtp_port=$(sed -n 's/^Postfix 3.7 plays iris.process.com on 127\.0\.0\.1:\([0-9]*\);.*/\1/p' "$T/out")
sm_port=$(sed -n 's/^sendmail 8.17 on 127\.0\.0\.1:\([0-9]*\):.*/\1/p' "$T/out")
dns_port=$(sed -n 's/^127\.0\.0\.1:\([0-9]*\) and .*/\1/p' "$T/out")
check "the demo said which ports it used ($smtp_port, $dns_port)" test -n "$smtp_port" -a -n "$dns_port"
check "nothing listens on the demo's SMTP port any more (Postfix, sinks)" \
	test -z "$(ss -Hltn "sport = :${smtp_port:-0}")"
check "nothing listens on sendmail's port any more ($sm_port)" \
	test -n "$sm_port" -a -z "$(ss -Hltn "sport = :${sm_port:-0}")"
check "nothing listens on the demo's DNS port any more (NSD)" \
	test -z "$(ss -Hltun "sport = :${dns_port:-0}")"

finish
