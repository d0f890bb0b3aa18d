#!/bin/bash
# 70-postfix-reload - reload under traffic: while Postfix streams mail for
# software.com through mxpathd's socketmap door, mxpathd gets SIGUSR1 with
# a changed policy (the static route to mail.othercorp.com is gone, so the
# domain's own MX, mail.software.com, applies). The new policy applies to
# the mail that follows, and nothing is lost, deferred or bounced: every
# message injected is in exactly one sink and logged as sent once.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
. "$MXPATH_ROOT/tests/lib/postfix.sh"

T0=$(date +%s)
T=$(mktemp -d /tmp/mxpath-pf.XXXXXX)
SENDER_PID=
cleanup() {
	mta_stop_pid "$SENDER_PID" "sender loop"
	pf_stop
	sinks_stop_all
	mta_resolver_stop
	mxpathd_cleanup
	dns_cleanup
	rm -rf "$T"
}
trap cleanup EXIT
chmod 755 "$T"

BATCHES=30	# of 10 messages each, in the background
P=$(mta_free_port) || mta_die "no free port"
SMTPD=127.0.0.1:$P

declare -A EXCHANGER=(
	[othercorp]=127.0.0.71 [mail]=127.0.0.61 [fallback]=127.0.0.62 [stray]=127.0.0.254
)
sinks_init "$T"
for name in "${!EXCHANGER[@]}"; do
	sink_start "$name" "${EXCHANGER[$name]}" "$P" || mta_die "sink $name did not start"
done

dns_start_mock dns
mta_resolver_start "$T"

SOCK=$(mxpathd_dir pf)/socketmap.sock
# policy ROUTE_TEXT: the configuration, with ROUTE_TEXT as its routes.
policy() {
	cat <<EOF
self = { names = [ "mta.bench.test" ]; addresses = [ ]; };
$1
dns = { servers = [ "127.0.0.1:$(dns_port dns)" ]; timeout_ms = 500; tries = 2; };
mx = { ignore_targets = [ "0.0.0.0/8" ]; };
socketmap = { socket = "unix:$SOCK"; group = "postfix"; mode = "0660"; port = $P; };
EOF
}
mxpathd_conf pf "$(policy 'routes = ( { domain = "software.com";
             hosts = ( { host = "mail.othercorp.com"; pref = 10; } ); } );')"
mxpathd_start pf

pf_setup "$T/pf" "$P" mta.bench.test || mta_die "postfix setup failed"
pf_conf "transport_maps = socketmap:unix:$SOCK:transport"
pf_start || mta_die "postfix did not start"

# send_batches: BATCHES x 10 messages, distinct recipients; a failed
# batch leaves its number in $T/failed.
send_batches() {
	local i
	for (( i = 1; i <= BATCHES; i++ )); do
		mta_send_many "$SMTPD" 10 "b$i-u@software.com" 2 || echo "$i" >> "$T/failed"
		sleep 0.1	# pacing, so the flow spans the reload
	done
}

check "before: software.com is routed to mail.othercorp.com" test \
	"$(mta_socketmap_query "$SOCK" transport u@software.com)" = "OK smtp:[mail.othercorp.com]:$P"

send_batches &
SENDER_PID=$!
sinks_wait_messages 50 30 othercorp mail fallback stray ||
	fail "the first 50 messages did not arrive"

mxpathd_conf pf "$(policy '')"
mxpathd_reload pf
check "SIGUSR1 with the route removed: reloaded while mail flows" test $? -eq 0
check "after: software.com follows its MX, mail.software.com first" test \
	"$(mta_socketmap_query "$SOCK" transport u@software.com)" = \
	"OK smtp:[mail.software.com]:$P, [fallback.software.com]:$P, [mail.othercorp.com]:$P"
at_reload=$(sinks_total othercorp mail fallback stray)
still_sending=no
kill -0 "$SENDER_PID" 2>/dev/null && still_sending=yes
check "the reload came in the middle of the flow ($at_reload of $((BATCHES * 10)) delivered)" \
	test "$still_sending" = yes -a "$at_reload" -lt $((BATCHES * 10))

wait "$SENDER_PID"
SENDER_PID=
check "smtp-source: every batch was accepted" test ! -s "$T/failed"
total=$((BATCHES * 10))
sinks_wait_messages "$total" 60 othercorp mail fallback stray
pf_wait_queue_empty 20
n_other=$(sink_messages othercorp)
n_mail=$(sink_messages mail)
check "all $total messages delivered exactly once (othercorp=$n_other mail=$n_mail)" \
	test $((n_other + n_mail)) -eq "$total" -a "$(pf_log_count 'to=<.*@software\.com>.*status=sent')" -eq "$total"
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

echo "# runtime: $(( $(date +%s) - T0 )) s"
finish
