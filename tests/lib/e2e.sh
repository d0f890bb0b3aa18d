# SPDX-License-Identifier: BSD-2-Clause
# e2e.sh - mxpathd's doors behind a real MTA, end to end (sourced, after tap.sh)
#
#   . "$MXPATH_ROOT/tests/lib/e2e.sh" postfix      (or sendmail)
#
# The set-up and the scenarios that 70-postfix-socketmap, 70-postfix-reload,
# 75-sendmail-socketmap and 80-milter-e2e-{postfix,sendmail} share. Brings
# dns.sh, daemon.sh and the MTA's library (postfix.sh or sendmail.sh, both
# on sinks.sh). One port $P for all: the MTA's smtpd on 127.0.0.1 and an
# smtp-sink per mail exchanger on its 127.0.0.x of tests/zones. mxpathd
# (instance "e2e") asks the test DNS server "dns" (dnsmock over tests/zones),
# the MTA asks the MTA resolver (sinks.sh) over the same zones. Every check
# reads the sinks' dumps, the MTA's maillog or mxpathd's log.
#
# Set-up (a step that fails ends the script with "not ok"):
#   e2e_start NAME DOOR POLICY SINK...
#       a scratch directory $T (/tmp/mxpath-NAME.*), the port $P, $SMTPD
#       (127.0.0.1:$P); an smtp-sink on $P for each exchanger SINK (named in
#       E2E_EXCHANGER); the DNS servers; mxpathd with e2e_mxpathd_conf DOOR
#       POLICY; the MTA asking it through DOOR. The EXIT trap e2e_cleanup
#       stops all of it.
#   e2e_mxpathd_conf DOOR POLICY
#       mxpathd's configuration (again, for a reload): the MTA's host name as
#       self, the test DNS server (a failure cached 1 s, nothing served
#       stale; or $DNS_OPTIONS), 0.0.0.0/8 ignored as MX target, POLICY, and
#       DOOR (socketmap, or milter with rewriting and the trace header) on
#       the socket $SOCK, for the MTA. On the milter door the MTA routes by
#       its own MX lookups, so every verdict and rewrite seen is the door's.
#   $E2E_CLUSTER, $E2E_PROCESS_ROUTE    POLICY pieces: c.cs.xyz.edu a local host and
#                                       the cluster of Example 17; .process.com
#                                       routed to iris (Example 18)
#   e2e_finish                          the runtime, then tap.sh's finish
# The MTA, whichever it is:
#   $E2E_MTA_NAME, $E2E_HOST            "Postfix" or "sendmail"; its host name
#   e2e_wait_sent N RCPT_ERE TIMEOUT    until N deliveries to RCPT_ERE are logged
#   e2e_sent_count RCPT_ERE             deliveries logged so far
#   e2e_route_of DOMAIN                 mxpathd's socketmap answer for the MTA's map
#   e2e_route_answer HOST...            that answer for a relay to HOST... on $P
#   e2e_wait_routes DOMAIN              after a DNS fault, until mxpathd relays
#                                       DOMAIN again (its cached failure expired)
#   e2e_rcpt_check DESC RCPT ERE        check: its reply to RCPT TO matches ERE
# Scenarios, each a group of checks on a POLICY with $E2E_CLUSTER:
#   e2e_socketmap_routing TIMEOUT       a cluster alias shared by its members (all
#                                       200 messages in TIMEOUT s), failover along
#                                       mxpathd's order, past a 421 greeting
#   e2e_static_route                    ($E2E_PROCESS_ROUTE) .process.com to iris
#   e2e_local_host                      c.cs.xyz.edu delivered locally
#   e2e_milter_scenarios                the milter door's verdicts at RCPT, its
#                                       trace header, a cluster alias rewritten to
#                                       the member chosen, a local host to $E2E_HOST

# shellcheck shell=bash
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"

E2E_MTA=${1:-}
case $E2E_MTA in
postfix)
	# shellcheck source=postfix.sh
	. "$MXPATH_ROOT/tests/lib/postfix.sh"
	E2E_MTA_FN=pf		# postfix.sh and sendmail.sh name their functions alike
	E2E_MTA_NAME=Postfix
	E2E_HOST=mta.bench.test
	E2E_MAILER=smtp		# what mxpathd's relay answers name
	E2E_SENT='status=sent'
	E2E_LOCAL_AGENT='the local service'
	# Postfix's daemons (user postfix) reach the doors through their group.
	E2E_DOOR_ACCESS='group = "postfix"; mode = "0660";'
	;;
sendmail)
	# shellcheck source=sendmail.sh
	. "$MXPATH_ROOT/tests/lib/sendmail.sh"
	E2E_MTA_FN=sm
	E2E_MTA_NAME=sendmail
	E2E_HOST=mta-sm.bench.test
	E2E_MAILER=esmtp
	E2E_SENT='stat=Sent'
	E2E_LOCAL_AGENT='the local mailer'
	E2E_DOOR_ACCESS='mode = "0660";'
	;;
*)
	echo "not ok - e2e.sh: source it with the MTA's name (postfix or sendmail), not '$E2E_MTA'"
	exit 1
	;;
esac
E2E_HOST_ERE=${E2E_HOST//./\\.}

# The sinks' names and the addresses tests/zones gives their exchangers.
declare -gA E2E_EXCHANGER=(
	[sf]=127.0.0.11 [chicago]=127.0.0.12 [toronto]=127.0.0.13	# boston.travel.edu
	[a]=127.0.0.21 [b]=127.0.0.22 [c]=127.0.0.23 [d]=127.0.0.24	# cs.xyz.edu
	[daisy]=127.0.0.31 [iris]=127.0.0.32				# process.com
	[listo]=127.0.0.51 [hep]=127.0.0.52				# plange.puntacana.dr
	[mail]=127.0.0.61 [fallback]=127.0.0.62				# software.com
	[othercorp]=127.0.0.71						# mail.othercorp.com
	[stray]=127.0.0.254	# Postfix's relayhost: whatever mxpathd does not route
)

# shellcheck disable=SC2034 # for the scripts
E2E_CLUSTER='local_hosts = [ "c.cs.xyz.edu" ];
clusters = ( { name = "cluster.cs.xyz.edu";
               members = ( { host = "a.cs.xyz.edu"; pref = 10; },
                           { host = "b.cs.xyz.edu"; pref = 10; },
                           { host = "d.cs.xyz.edu"; pref = 20; } ); } );'
# shellcheck disable=SC2034
E2E_PROCESS_ROUTE='routes = ( { domain = ".process.com";
             hosts = ( { host = "iris.process.com"; pref = 10; } ); } );'

# ---------------------------------------------------------------- set-up

e2e_start() {
	local name=$1 door=$2 policy=$3
	shift 3
	_e2e_setup "$name"
	_e2e_start_sinks "$@"
	dns_start_mock dns
	mta_resolver_start "$T"
	e2e_mxpathd_conf "$door" "$policy"
	mxpathd_start e2e
	_e2e_start_mta "$door"
}

_e2e_setup() {
	T0=$(date +%s)
	T=$(mktemp -d "/tmp/mxpath-$1.XXXXXX")
	trap e2e_cleanup EXIT
	chmod 755 "$T"
	P=$(mta_free_port) || mta_die "no free port"
	SMTPD=127.0.0.1:$P
}

e2e_cleanup() {
	"${E2E_MTA_FN}_stop"
	sinks_stop_all
	mta_resolver_stop
	mxpathd_cleanup
	dns_cleanup
	rm -rf "$T"
}

_e2e_start_sinks() {
	local name
	sinks_init "$T"
	for name in "$@"; do
		sink_start "$name" "${E2E_EXCHANGER[$name]}" "$P" || mta_die "sink $name did not start"
	done
}

e2e_mxpathd_conf() {
	local door=$1 policy=$2 options=$E2E_DOOR_ACCESS
	SOCK=$(mxpathd_dir e2e)/$door.sock
	case $E2E_MTA:$door in
	# Postfix's nexthops name the port (sendmail's esmtp mailer has its own).
	postfix:socketmap) options+=" port = $P;" ;;
	*:milter) options+=" rewrite_clusters = true; rewrite_local = \"$E2E_HOST\";
           trace_header = true;" ;;
	esac
	mxpathd_conf e2e "$(SELF_CONF="self = { names = [ \"$E2E_HOST\" ]; addresses = [ ]; };" \
		DNS_OPTIONS=${DNS_OPTIONS:-timeout_ms = 500; tries = 2; failure_ttl = 1; serve_stale = 0;} \
		mxpath_conf /dev/stdout dns "$policy
mx = { ignore_targets = [ \"0.0.0.0/8\" ]; };
$door = { socket = \"unix:$SOCK\"; $options };")"
}

_e2e_start_mta() {
	case $E2E_MTA:$1 in
	postfix:socketmap)
		_e2e_start_postfix "transport_maps = socketmap:unix:$SOCK:transport" ;;
	postfix:milter)
		# No transport_maps: Postfix routes by itself (MX lookups in its
		# namespace, exchangers on $P); the canonical local domain is its own.
		_e2e_start_postfix "relayhost =" "smtp_tcp_port = $P" "mydestination = $E2E_HOST" \
			"smtpd_milters = unix:$SOCK" "milter_default_action = tempfail" ;;
	sendmail:socketmap)
		_e2e_start_sendmail "$SOCK" ;;
	sendmail:milter)
		# No mailertable: sendmail routes by itself ($j is its local domain).
		# shellcheck disable=SC2034 # read by sm_setup
		SM_MILTER=unix:$SOCK
		_e2e_start_sendmail "" ;;
	esac
}

# _e2e_start_postfix 'name = value'...: with these main.cf settings.
_e2e_start_postfix() {
	pf_setup "$T/pf" "$P" "$E2E_HOST" || mta_die "postfix setup failed"
	pf_conf "$@"
	pf_start || mta_die "postfix did not start"
}

# _e2e_start_sendmail SOCKET: with mxpathd's socketmap at SOCKET as its
# mailertable ("": none).
_e2e_start_sendmail() {
	sm_setup "$T/sm" "$P" "$P" "$1" "$E2E_HOST" || mta_die "sendmail setup failed"
	sm_start || mta_die "sendmail did not start"
}

e2e_finish() {
	echo "# runtime: $(( $(date +%s) - T0 )) s"
	finish
}

# ---------------------------------------------------------------- the MTA

e2e_wait_sent() {
	"${E2E_MTA_FN}_wait_log" "$1" "to=<$2>.*$E2E_SENT" "$3"
}

e2e_sent_count() {
	"${E2E_MTA_FN}_log_count" "to=<$1>.*$E2E_SENT"
}

# _e2e_wait_local N RCPT_ERE TIMEOUT: until N local deliveries are logged.
_e2e_wait_local() {
	case $E2E_MTA in
	postfix) pf_wait_log "$1" "to=<$2>.*relay=local.*$E2E_SENT" "$3" ;;
	sendmail) sm_wait_log "$1" "to=<$2>.*mailer=local.*$E2E_SENT" "$3" ;;
	esac
}

# _e2e_local_count LOCAL_ERE DOMAIN_ERE: messages its local mailer stored.
_e2e_local_count() {
	case $E2E_MTA in
	postfix) pf_local_count "$1@$2" ;;
	# (sendmail's local mailer is handed the local part only: $u)
	sendmail) sm_local_count "$1" ;;
	esac
}

# _e2e_refused_count HOST_ERE ADDR_ERE: the MTA's attempts to connect to
# HOST at ADDR that were refused.
_e2e_refused_count() {
	case $E2E_MTA in
	postfix) pf_log_count "connect to $1\[$2\]:$P: Connection refused" ;;
	sendmail) sm_log_count "makeconnection \(\[?$1\.?\]? \[$2\].*Connection refused" ;;
	esac
}

# e2e_route_of DOMAIN: what the MTA's map (transport, asked for an address
# at DOMAIN; mailertable, asked for DOMAIN) gets from mxpathd.
e2e_route_of() {
	case $E2E_MTA in
	postfix) mta_socketmap_query "$SOCK" transport "u@$1" ;;
	sendmail) mta_socketmap_query "$SOCK" mailertable "$1" ;;
	esac
}

# e2e_route_answer HOST...: the answer e2e_route_of gives for a relay to
# HOST... in that order.
e2e_route_answer() {
	local host answer=
	for host in "$@"; do
		case $E2E_MTA in
		postfix) answer+="${answer:+, }[$host]:$P" ;;
		sendmail) answer+="${answer:+:}[$host]" ;;
		esac
	done
	echo "OK $E2E_MAILER:$answer"
}

e2e_wait_routes() {
	mta_poll 10 _e2e_routes "$1" ||
		fail "mxpathd still fails $1 after the fault is cleared"
}
_e2e_routes() {
	e2e_route_of "$1" | grep -q "^OK $E2E_MAILER:"
}

# _e2e_accepts RCPT: the MTA accepts RCPT TO:<RCPT>.
_e2e_accepts() {
	mta_rcpt_reply "$SMTPD" "$1" | grep -q '^250 '
}

e2e_rcpt_check() {
	local reply
	reply=$(mta_rcpt_reply "$SMTPD" "$2")
	check "$1 ($reply)" grep -Eq "$3" <<< "$reply"
}

# ---------------------------------------------------------------- socketmap door

e2e_socketmap_routing() {
	_e2e_cluster_share "$1"
	_e2e_failover
	_e2e_busy_greeting
}

# ---- cluster alias: share between equal members, backup untouched
_e2e_cluster_share() {
	local na nb nd
	mta_send_many "$SMTPD" 200 u@cluster.cs.xyz.edu 10 || fail "smtp-source to the cluster"
	sinks_wait_messages 200 "$1" a b d
	na=$(sink_recipients a '[0-9]+u@cluster\.cs\.xyz\.edu')
	nb=$(sink_recipients b '[0-9]+u@cluster\.cs\.xyz\.edu')
	nd=$(sink_recipients d '[0-9]+u@cluster\.cs\.xyz\.edu')
	check "200 messages to cluster.cs.xyz.edu all reached its members (a=$na b=$nb d=$nd)" \
		test $((na + nb + nd)) -eq 200
	check "... each logged as sent by $E2E_MTA_NAME" \
		test "$(e2e_sent_count '[0-9]+u@cluster\.cs\.xyz\.edu')" -eq 200
	check "equal-preference members both get a share: a=$na, b=$nb (each >= 70 of 200)" \
		test "$na" -ge 70 -a "$nb" -ge 70
	check "the backup member d (pref 20) got nothing while a and b were up" test "$nd" -eq 0
}

# ---- failover along the order mxpathd gives
_e2e_failover() {
	check "mxpathd lists boston.travel.edu's exchangers by preference" \
		test "$(e2e_route_of boston.travel.edu)" = "$(e2e_route_answer \
		san-francisco.target.edu chicago.target.edu toronto.target.edu)"
	mta_send_many "$SMTPD" 5 u@boston.travel.edu 1 || fail "smtp-source to boston"
	sinks_wait_messages 5 20 sf
	check "all up: the best exchanger (san-francisco) takes all 5" \
		test "$(sink_recipients sf '[0-9]+u@boston\.travel\.edu')" -eq 5

	sink_stop sf
	mta_send_many "$SMTPD" 5 v@boston.travel.edu 1 || fail "smtp-source to boston"
	e2e_wait_sent 5 '[0-9]+v@boston\.travel\.edu' 30
	check "san-francisco down: all 5 went to the next hop, chicago" \
		test "$(sink_recipients chicago '[0-9]+v@boston\.travel\.edu')" -eq 5
	check "... after $E2E_MTA_NAME found san-francisco refusing" \
		test "$(_e2e_refused_count 'san-francisco\.target\.edu' '127\.0\.0\.11')" -ge 5
	check "... and toronto (third) got none of them" \
		test "$(sink_recipients toronto '[0-9]+v@boston\.travel\.edu')" -eq 0

	sink_stop chicago
	mta_send_many "$SMTPD" 3 w@boston.travel.edu 1 || fail "smtp-source to boston"
	e2e_wait_sent 3 '[0-9]+w@boston\.travel\.edu' 30
	check "san-francisco and chicago down: all 3 went to the third hop, toronto" \
		test "$(sink_recipients toronto '[0-9]+w@boston\.travel\.edu')" -eq 3
	check "... after chicago refused too" \
		test "$(_e2e_refused_count 'chicago\.target\.edu' '127\.0\.0\.12')" -ge 3
}

# ---- software.com's best MX answers every connection with a 421 greeting
_e2e_busy_greeting() {
	sink_start busy "${E2E_EXCHANGER[mail]}" "$P" -Q CONNECT || mta_die "sink busy did not start"
	mta_send_many "$SMTPD" 3 u@software.com 1 || fail "smtp-source to software.com"
	e2e_wait_sent 3 '[0-9]+u@software\.com' 30
	check "best MX says 421 at greeting: all 3 went to the next one, fallback.software.com" \
		test "$(sink_recipients fallback '[0-9]+u@software\.com')" -eq 3 \
		-a "$(sink_messages othercorp)" -eq 0
}

e2e_static_route() {
	mta_send_many "$SMTPD" 3 u@daisy.process.com 1 || fail "smtp-source to daisy"
	e2e_wait_sent 3 '[0-9]+u@daisy\.process\.com' 20
	check "static route .process.com: daisy.process.com's mail goes to iris (3)" \
		test "$(sink_recipients iris '[0-9]+u@daisy\.process\.com')" -eq 3
	check "... not to daisy, its MX" test "$(sink_recipients daisy '.*@daisy\.process\.com')" -eq 0
}

e2e_local_host() {
	mta_send_many "$SMTPD" 2 u@c.cs.xyz.edu 1 || fail "smtp-source to c"
	_e2e_wait_local 2 '[0-9]+u@c\.cs\.xyz\.edu' 20
	check "local host c.cs.xyz.edu: delivered by $E2E_LOCAL_AGENT (2)" \
		test "$(_e2e_local_count '[0-9]+u' 'c\.cs\.xyz\.edu')" -eq 2
	check "... and not relayed to c's exchangers" test $(( $(sink_recipients a '.*@c\.cs\.xyz\.edu') + \
		$(sink_recipients b '.*@c\.cs\.xyz\.edu') )) -eq 0
}

# ---------------------------------------------------------------- milter door

e2e_milter_scenarios() {
	_e2e_milter_verdicts
	_e2e_milter_trace
	_e2e_milter_cluster_rewrite
	_e2e_milter_local_rewrite
}

# ---- verdicts at RCPT
_e2e_milter_verdicts() {
	e2e_rcpt_check "null MX: 556 5.1.10 at RCPT" x@nullmx.edge.test '^556 5\.1\.10 '
	e2e_rcpt_check "NXDOMAIN: 550 5.1.2 at RCPT" x@nosuch.edge.test '^550 5\.1\.2 '
	dns_fault dns "servfail plange.puntacana.dr"
	e2e_rcpt_check "SERVFAIL: 451 4.4.3 at RCPT" x@plange.puntacana.dr '^451 4\.4\.3 '
	dns_fault dns
	check "DNS back: the same recipient is accepted" mta_poll 10 _e2e_accepts x@plange.puntacana.dr
	mta_send_many "$SMTPD" 1 y@plange.puntacana.dr 1 || fail "smtp-source to plange"
	e2e_wait_sent 1 '1y@plange\.puntacana\.dr' 20
	check "... and delivered by $E2E_MTA_NAME's own MX lookup to listo" \
		test "$(sink_recipients listo '1y@plange\.puntacana\.dr')" -eq 1

	check "two recipients, one null MX: that one refused, the message accepted" \
		grep -Eq '^ *<~?\*+ *556 5\.1\.10 ' \
		<<< "$(mta_swaks "$SMTPD" "$MTA_SENDER" x@nullmx.edge.test,u@boston.travel.edu)"
	e2e_wait_sent 1 'u@boston\.travel\.edu' 20
	check "... and the other delivered" test "$(sink_recipients sf 'u@boston\.travel\.edu')" -eq 1
}

# ---- routable mail passes untouched, traced
_e2e_milter_trace() {
	mta_send_many "$SMTPD" 3 t@boston.travel.edu 1 || fail "smtp-source to boston"
	e2e_wait_sent 3 '[0-9]+t@boston\.travel\.edu' 20
	check "boston.travel.edu: delivered unchanged to its best MX (3)" \
		test "$(sink_recipients sf '[0-9]+t@boston\.travel\.edu')" -eq 3
	check "... with an X-MXPath trace header naming the route" \
		grep -Eq '^X-MXPath: .*relay' "$SINKS_DIR/sf.dump"
}

# ---- cluster alias rewritten to the member chosen
_e2e_milter_cluster_rewrite() {
	local na nb
	mta_send_many "$SMTPD" 40 u@cluster.cs.xyz.edu 4 || fail "smtp-source to the cluster"
	e2e_wait_sent 40 '[0-9]+u@[abd]\.cs\.xyz\.edu' 30
	na=$(sink_recipients a '[0-9]+u@a\.cs\.xyz\.edu')
	nb=$(sink_recipients b '[0-9]+u@b\.cs\.xyz\.edu')
	check "40 messages to the cluster alias arrived rewritten to the member chosen (a=$na b=$nb)" \
		test $((na + nb)) -eq 40
	check "... each at its own member's sink, none still addressed to the alias" \
		test "$(sink_recipients a '.*@cluster\.cs\.xyz\.edu')" -eq 0 -a \
		"$(sink_recipients b '.*@cluster\.cs\.xyz\.edu')" -eq 0 -a \
		"$(sink_recipients a '.*@b\.cs\.xyz\.edu')" -eq 0 -a \
		"$(sink_recipients b '.*@a\.cs\.xyz\.edu')" -eq 0
	check "... both equal members were chosen (each >= 5 of 40)" test "$na" -ge 5 -a "$nb" -ge 5
	check "... never the backup member d" test "$(sink_messages d)" -eq 0
	check "mxpathd logged the rewrites (40)" \
		test "$(grep -Ec ': [0-9A-Za-z]+: rcpt=<?[0-9]+u@cluster\.cs\.xyz\.edu>? rewritten to <?[0-9]+u@[ab]\.cs\.xyz\.edu' \
		"$(mxpathd_dir e2e)/log")" -eq 40
}

# ---- local host rewritten to the canonical local domain
_e2e_milter_local_rewrite() {
	mta_send_many "$SMTPD" 2 u@c.cs.xyz.edu 1 || fail "smtp-source to c"
	_e2e_wait_local 2 "[0-9]+u@$E2E_HOST_ERE" 20
	check "local host c.cs.xyz.edu: rewritten to $E2E_HOST and delivered locally (2)" \
		test "$(_e2e_local_count '[0-9]+u' "$E2E_HOST_ERE")" -eq 2
	check "... not relayed to c's own address or its MX" \
		test "$(sink_messages c)" -eq 0 -a "$(sink_recipients a '.*@c\.cs\.xyz\.edu')" -eq 0
}
