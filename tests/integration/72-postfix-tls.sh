#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 72-postfix-tls - mxpath never weakens TLS (issue 11), Postfix 3.7 end to
# end. The same private Postfix, with smtp TLS on (may, the test CA as
# smtp_tls_CAfile), runs twice on the same mail: once without mxpath (its
# own MX lookups, a static transport table and a TLS policy table written
# the usual way), once with mxpathd's socketmap as transport_maps and its
# tls map first in smtp_tls_policy_maps. Each case is read from the
# exchanger's side (its log and store; the smtp-sinks' dumps):
#   - plain.tls.test, listed "encrypt" in the admin's policy table, whose
#     exchanger offers no STARTTLS: deferred, never delivered, both times
#     (mxpathd reads the table and leaves the domain to Postfix);
#   - a route to good.tls.test with TLS level "verify" (raised to "secure"
#     by the admin's table entry for the domain), to a second private
#     Postfix offering STARTTLS with a certificate from the test's CA for
#     that name: delivered, over TLS; the same exchanger under a name its
#     certificate does not carry (alias.tls.test): deferred;
#   - sts.tls.test publishes "_mta-sts" TXT: mxpathd answers NOTFOUND and
#     Postfix delivers by its own MX lookup, as without mxpath;
#   - a reload reads the admin's table again; one that cannot be read, or
#     that others may write, refuses the reload and the running policy stays.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/e2e.sh" postfix
. "$MXPATH_ROOT/tests/lib/tls.sh"

E2E_EXCHANGER[plain]=127.0.0.91		# mx.plain.tls.test: smtp-sink, no STARTTLS
E2E_EXCHANGER[sts]=127.0.0.92		# mx.sts.tls.test
TLS_EXCHANGER=127.0.0.93		# good.tls.test = alias.tls.test

_e2e_setup pf-tls
# KEEP_LOGS=DIR keeps a copy of the run's logs and stores there.
trap 'tls_exchanger_stop; [ -z "${KEEP_LOGS:-}" ] || cp -a "$T" "$KEEP_LOGS"; e2e_cleanup' EXIT
_e2e_start_sinks plain sts
dns_start_mock dns
mta_resolver_start "$T"
tls_make_ca "$T/ca"
tls_make_cert "$T/ca" good.tls.test
tls_exchanger_start "$T/exchanger" "$TLS_EXCHANGER" "$P" "$T/ca/good.tls.test.pem" \
	"$T/ca/good.tls.test.key" routed.tls.test wrongname.tls.test

# The admin's TLS policy table, as it was before mxpath (routed.tls.test:
# a domain that an mxpath route takes over; its level goes to the route).
printf 'plain.tls.test encrypt\nrouted.tls.test secure\n' > "$T/tls_policy"
chmod 644 "$T/tls_policy"

# tls_postfix NAME 'setting'...: the MTA under test, smtp TLS on.
tls_postfix() {
	tls_mta_setup "$1"
	shift
	pf_conf "smtp_tcp_port = $P" "smtp_tls_security_level = may" \
		"smtp_tls_CAfile = $T/ca/ca.pem" "smtp_tls_loglevel = 1" "$@"
	pf_start || mta_die "postfix did not start"
}

# send_all LOCAL: one message to each case's domain, from LOCAL@.
send_all() {
	local domain
	for domain in plain.tls.test routed.tls.test wrongname.tls.test sts.tls.test; do
		pf_submit "$MTA_SENDER" "$1@$domain" || fail "submission to $domain"
	done
}

# check_cases LOCAL HOW: what the exchangers got from LOCAL@..., HOW names the run.
check_cases() {
	local u=$1 how=$2
	pf_wait_log 1 "to=<$u@plain\\.tls\\.test>.*status=deferred" 20
	pf_wait_log 1 "to=<$u@wrongname\\.tls\\.test>.*status=deferred" 20
	pf_wait_log 1 "to=<$u@routed\\.tls\\.test>.*status=sent" 20
	pf_wait_log 1 "to=<$u@sts\\.tls\\.test>.*status=sent" 20
	tls_exchanger_wait_stored 1 "$u@routed\\.tls\\.test" 10

	check "$how: plain.tls.test (policy table: encrypt, no STARTTLS offered) deferred" \
		test "$(pf_log_count "to=<$u@plain\\.tls\\.test>.*status=deferred.*TLS is required, but was not offered")" -ge 1
	check "$how: ... and its exchanger never got it in clear" \
		test "$(sink_recipients plain "$u@plain\\.tls\\.test")" -eq 0
	check "$how: routed.tls.test (verify, certificate for good.tls.test) delivered" \
		test "$(tls_exchanger_stored "$u@routed\\.tls\\.test")" -eq 1
	check "$how: ... over TLS, as the exchanger's Received: header says" \
		test "$(tls_exchanger_stored_over_tls "$u@routed\\.tls\\.test")" -eq 1
	check "$how: ... with the certificate verified (Postfix's log)" \
		test "$(pf_log_count 'Verified TLS connection established to good\.tls\.test\[127\.0\.0\.93\]')" -ge 1
	check "$how: wrongname.tls.test (verify, the certificate names another host) deferred" \
		test "$(pf_log_count "to=<$u@wrongname\\.tls\\.test>.*status=deferred.*[Cc]ertificate")" -ge 1
	check "$how: ... and the exchanger stored nothing for it" \
		test "$(tls_exchanger_stored "$u@wrongname\\.tls\\.test")" -eq 0
	check "$how: sts.tls.test (publishes _mta-sts) delivered by Postfix's own MX lookup" \
		test "$(pf_log_count "to=<$u@sts\\.tls\\.test>, relay=mx\\.sts\\.tls\\.test\\[127\\.0\\.0\\.92\\]:$P.*status=sent")" -eq 1
	check "$how: ... its exchanger got it" test "$(sink_recipients sts "$u@sts\\.tls\\.test")" -eq 1
}

# ---- without mxpath: Postfix's own routing, static tables
printf 'routed.tls.test smtp:[good.tls.test]:%s\nwrongname.tls.test smtp:[alias.tls.test]:%s\n' \
	"$P" "$P" > "$T/transport"
printf 'plain.tls.test encrypt\n[good.tls.test]:%s verify\n[alias.tls.test]:%s verify\n' \
	"$P" "$P" > "$T/tls_policy_static"
tls_postfix pf-native "relayhost =" "transport_maps = texthash:$T/transport" \
	"smtp_tls_policy_maps = texthash:$T/tls_policy_static"
send_all u
check_cases u "without mxpath"

# ---- with mxpath: its transport and tls maps, the admin's table unchanged
e2e_mxpathd_conf socketmap 'routes = (
  { domain = "routed.tls.test"; hosts = ( { host = "good.tls.test"; } ); tls = "verify"; },
  { domain = "wrongname.tls.test"; hosts = ( { host = "alias.tls.test"; } ); tls = "verify"; } );
tls = { policy_table = "'"$T/tls_policy"'"; };'
mxpathd_start e2e
# No relayhost: what mxpathd leaves to Postfix goes by Postfix's own MX lookup.
tls_postfix pf-mxpath "relayhost =" "transport_maps = socketmap:unix:$SOCK:transport" \
	"smtp_tls_policy_maps = socketmap:unix:$SOCK:tls, texthash:$T/tls_policy"
send_all v
check_cases v "with mxpath"

check "mxpathd left plain.tls.test to Postfix (listed in the policy table)" \
	test "$(mta_socketmap_query "$SOCK" transport u@plain.tls.test)" = "NOTFOUND "
check "mxpathd left sts.tls.test to Postfix (MTA-STS)" \
	test "$(mta_socketmap_query "$SOCK" transport u@sts.tls.test)" = "NOTFOUND "
check "... and so does its mailertable map (sendmail)" \
	test "$(mta_socketmap_query "$SOCK" mailertable sts.tls.test)" = "NOTFOUND " \
	-a "$(mta_socketmap_query "$SOCK" mailertable plain.tls.test)" = "NOTFOUND "
check "... and says why in its log" \
	mxpathd_wait_log e2e 'key=v@sts\.tls\.test action=notfound rule=mx .*reason="the MTA keeps it for TLS: mta_sts"'
check "notsts.tls.test (a TXT at _mta-sts that is no MTA-STS record) is routed" \
	test "$(mta_socketmap_query "$SOCK" transport u@notsts.tls.test)" = "OK smtp:[mx.sts.tls.test]:$P"
check "the tls map: [good.tls.test]:$P is 'secure' (the route says verify, the table secure)" \
	test "$(mta_socketmap_query "$SOCK" tls "[good.tls.test]:$P")" = "OK secure"
check "the tls map: [alias.tls.test]:$P is 'verify'" \
	test "$(mta_socketmap_query "$SOCK" tls "[alias.tls.test]:$P")" = "OK verify"
check "the tls map: a host no route names is NOTFOUND" \
	test "$(mta_socketmap_query "$SOCK" tls "[mx.sts.tls.test]:$P")" = "NOTFOUND "
check "mxpath route shows the MTA keeping sts.tls.test, and why" \
	grep -q 'the MTA keeps this domain (mta_sts)' <<< "$("$MXPATH" route -c "$(mxpathd_dir e2e)/mxpath.conf" u@sts.tls.test)"
check "mxpath route shows the route's hop with its TLS level" \
	grep -Eq 'good\.tls\.test +127\.0\.0\.93 +route +tls=secure' <<< "$("$MXPATH" route -c "$(mxpathd_dir e2e)/mxpath.conf" u@routed.tls.test)"

# The admin's table is read again on reload.
printf 'notsts.tls.test encrypt\n' >> "$T/tls_policy"
check "a reload reads the policy table again" mxpathd_reload e2e
check "... and notsts.tls.test, now listed, is left to Postfix" \
	test "$(mta_socketmap_query "$SOCK" transport u@notsts.tls.test)" = "NOTFOUND "
mv "$T/tls_policy" "$T/tls_policy.away"
mxpathd_reload e2e
check "a table that cannot be read refuses the reload (exit 1)" test $? -eq 1
check "... with the table's name in the log" \
	mxpathd_wait_log e2e "tls_policy: cannot open: No such file or directory"
check "... and the running policy stays" \
	test "$(mta_socketmap_query "$SOCK" transport u@notsts.tls.test)" = "NOTFOUND "
# It is trusted like the configuration: nobody else may write it.
mv "$T/tls_policy.away" "$T/tls_policy"
chmod 666 "$T/tls_policy"
mxpathd_reload e2e
check "a table writable by others refuses the reload (exit 1)" test $? -eq 1
check "... saying so" mxpathd_wait_log e2e "tls_policy: writable by others \(mode 0666\)"

check "Postfix bounced nothing" test "$(pf_log_count 'status=bounced')" -eq 0
check "Postfix logged no fatal or panic" test "$(pf_log_count '(fatal|panic):')" -eq 0

e2e_finish
