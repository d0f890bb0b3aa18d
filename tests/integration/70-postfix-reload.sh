#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 70-postfix-reload - reload under traffic: while Postfix streams mail for
# software.com through mxpathd's socketmap door, mxpathd gets SIGUSR1 with
# a changed policy (the static route to mail.othercorp.com is gone, so the
# domain's own MX, mail.software.com, applies). The new policy applies to
# the mail that follows, and nothing is lost, deferred or bounced: every
# message injected is in exactly one sink and logged as sent once.
# (Set-up: tests/lib/e2e.sh.)
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/e2e.sh" postfix

BATCHES=30	# of 10 messages each, in the background
ROUTE='routes = ( { domain = "software.com";
             hosts = ( { host = "mail.othercorp.com"; pref = 10; } ); } );'
SINKS=(othercorp mail fallback stray)
# No DNS failure to cache here: mxpathd's defaults for that.
# shellcheck disable=SC2034 # read by e2e_mxpathd_conf
DNS_OPTIONS='timeout_ms = 500; tries = 2;'
e2e_start pf socketmap "$ROUTE" "${SINKS[@]}"
SENDER_PID=
cleanup() {
	mta_stop_pid "$SENDER_PID" "sender loop"
	e2e_cleanup
}
trap cleanup EXIT

# send_batches: BATCHES x 10 messages, distinct recipients; a failed
# batch leaves its number in $T/failed.
send_batches() {
	local i
	for (( i = 1; i <= BATCHES; i++ )); do
		mta_send_many "$SMTPD" 10 "b$i-u@software.com" 2 || echo "$i" >> "$T/failed"
		sleep 0.1	# pacing, so the flow spans the reload
	done
}

check "before: software.com is routed to mail.othercorp.com" \
	test "$(e2e_route_of software.com)" = "$(e2e_route_answer mail.othercorp.com)"

send_batches &
SENDER_PID=$!
sinks_wait_messages 50 30 "${SINKS[@]}" || fail "the first 50 messages did not arrive"

e2e_mxpathd_conf socketmap ''
mxpathd_reload e2e
check "SIGUSR1 with the route removed: reloaded while mail flows" test $? -eq 0
check "after: software.com follows its MX, mail.software.com first" \
	test "$(e2e_route_of software.com)" = \
	"$(e2e_route_answer mail.software.com fallback.software.com mail.othercorp.com)"
at_reload=$(sinks_total "${SINKS[@]}")
still_sending=no
kill -0 "$SENDER_PID" 2>/dev/null && still_sending=yes
check "the reload came in the middle of the flow ($at_reload of $((BATCHES * 10)) delivered)" \
	test "$still_sending" = yes -a "$at_reload" -lt $((BATCHES * 10))

wait "$SENDER_PID"
SENDER_PID=
check "smtp-source: every batch was accepted" test ! -s "$T/failed"
total=$((BATCHES * 10))
sinks_wait_messages "$total" 60 "${SINKS[@]}"
pf_wait_queue_empty 20
n_other=$(sink_messages othercorp)
n_mail=$(sink_messages mail)
check "all $total messages delivered exactly once (othercorp=$n_other mail=$n_mail)" \
	test $((n_other + n_mail)) -eq "$total" -a "$(e2e_sent_count '.*@software\.com')" -eq "$total"
check "the old policy carried mail before the reload (othercorp >= 50)" test "$n_other" -ge 50
check "the new policy carried mail after it (mail.software.com > 0)" test "$n_mail" -gt 0
check "nothing went to the backup MX or astray" \
	test "$(sink_messages fallback)" -eq 0 -a "$(sink_messages stray)" -eq 0
check "nothing deferred or bounced" test "$(pf_log_count 'status=(deferred|bounced)')" -eq 0
check "no socketmap lookup failed in Postfix" test "$(pf_log_count 'lookup error|lookup failure')" -eq 0
check "the queue is empty" test "$(pf_queue_count)" -eq 0

# After the flow: every new message follows the new policy.
sinks_reset othercorp mail
mta_send_many "$SMTPD" 20 after-u@software.com 2 || fail "smtp-source after the reload"
sinks_wait_messages 20 20 othercorp mail
check "after the reload all 20 new messages went to mail.software.com" \
	test "$(sink_messages mail)" -eq 20 -a "$(sink_messages othercorp)" -eq 0

e2e_finish
