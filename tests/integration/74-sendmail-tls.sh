#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 74-sendmail-tls - the TLS guard on sendmail 8.17's mailertable (issue 11).
# A domain whose TLS guarantees hang on its own name is answered NOTFOUND,
# and sendmail must then route it by its own MX lookup (after asking the
# ".parent" keys and "."), exactly as without mxpath: sts.tls.test
# publishes "_mta-sts" TXT, plain.tls.test is listed in tls.mta_domains.
# notsts.tls.test (a TXT at _mta-sts that is no MTA-STS record) is routed
# by mxpathd. Read from the exchangers' dumps and both logs; the same
# sendmail runs once with mxpathd's mailertable, once without any.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/e2e.sh" sendmail

E2E_EXCHANGER[plain]=127.0.0.91		# mx.plain.tls.test
E2E_EXCHANGER[sts]=127.0.0.92		# mx.sts.tls.test, also notsts.tls.test's MX

e2e_start sm-tls socketmap 'tls = { mta_domains = [ "plain.tls.test" ]; };' plain sts

# send_cases LOCAL HOW: one message to each domain; what the exchangers got.
send_cases() {
	local u=$1 how=$2 domain
	for domain in sts plain notsts; do
		mta_send_many "$SMTPD" 1 "$u@$domain.tls.test" 1 || fail "smtp-source to $domain"
	done
	e2e_wait_sent 3 "1$u@(sts|plain|notsts)\\.tls\\.test" 30
	check "$how: sts.tls.test (MTA-STS) delivered to its MX" \
		test "$(sink_recipients sts "1$u@sts\\.tls\\.test")" -eq 1
	check "$how: plain.tls.test (listed) delivered to its MX" \
		test "$(sink_recipients plain "1$u@plain\\.tls\\.test")" -eq 1
	check "$how: notsts.tls.test delivered to its MX" \
		test "$(sink_recipients sts "1$u@notsts\\.tls\\.test")" -eq 1
}

send_cases u "with mxpath"
check "the mailertable map answered NOTFOUND for sts.tls.test, the MTA keeps it" \
	mxpathd_wait_log e2e 'map=mailertable key=sts\.tls\.test action=notfound rule=mx .*reason="the MTA keeps it for TLS: mta_sts"'
check "... and for plain.tls.test (listed)" \
	mxpathd_wait_log e2e 'map=mailertable key=plain\.tls\.test action=notfound rule=mx .*reason="the MTA keeps it for TLS: listed"'
check "... then NOTFOUND for the parent key sendmail asks next" \
	mxpathd_wait_log e2e 'map=mailertable key=\.tls\.test action=notfound'
check "it routed notsts.tls.test itself" \
	mxpathd_wait_log e2e 'map=mailertable key=notsts\.tls\.test action=relay rule=mx'

# The same sendmail without mxpathd's mailertable: its own MX lookups.
sm_stop
_e2e_start_sendmail ""
send_cases v "without mxpath"

check "sendmail bounced nothing" test "$(sm_log_count 'dsn=5')" -eq 0
e2e_finish
