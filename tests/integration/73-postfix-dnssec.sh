#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 73-postfix-dnssec - a DNSSEC-signed domain is left to the MTA (issue 11),
# Postfix 3.7 with DANE end to end. The test signs its own zone
# (ldns-keygen, ldns-signzone), serves it with NSD beside an unsigned one,
# and puts a validating unbound in front with the zone's key as its only
# trust anchor; mxpathd and Postfix (smtp_dns_support_level = dnssec,
# smtp_tls_security_level = dane) both ask that unbound. All on loopback:
# unbound's one outgoing interface is 127.0.0.1 and every name outside the
# two test zones is refused.
#   - mxpathd sees the AD bit on dnssec.test's MX answer: `mxpath route`
#     says the MTA keeps it, the socketmap answers NOTFOUND; the unsigned
#     insecure.test is routed as usual; with tls.dnssec = false it is routed;
#   - dnssec.test publishes TLSA for its exchanger, an smtp-sink that offers
#     no STARTTLS: Postfix defers the mail, with and without mxpath, and
#     the exchanger never sees it; insecure.test's exchanger gets its mail
#     both times.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/e2e.sh" postfix
. "$MXPATH_ROOT/tests/lib/tls.sh"

mta_require unbound ldns-keygen ldns-signzone openssl
E2E_EXCHANGER[signed]=127.0.0.94	# mx.dnssec.test
E2E_EXCHANGER[unsigned]=127.0.0.95	# mx.insecure.test
UNBOUND_PID=

_e2e_setup pf-dnssec
trap 'mta_stop_pid "$UNBOUND_PID" unbound; e2e_cleanup' EXIT
_e2e_start_sinks signed unsigned
Z=$T/zones
mkdir -p "$Z"

# ---- the zones: dnssec.test signed by the test, insecure.test not
# zone_file DOMAIN EXCHANGER [RECORD...]: DOMAIN MX 10 mx.DOMAIN, at EXCHANGER.
zone_file() {
	local domain=$1 exchanger=$2
	shift 2
	# shellcheck disable=SC2016 # zone-file directives, not shell variables
	printf '$ORIGIN %s.\n$TTL 300\n' "$domain"
	printf '@ IN SOA ns1.%s. hostmaster.%s. ( 2026120401 3600 600 86400 300 )\n' \
		"$domain" "$domain"
	printf '@ IN NS ns1.%s.\nns1 IN A 127.0.0.1\n@ IN MX 10 mx.%s.\nmx IN A %s\n' \
		"$domain" "$domain" "$exchanger"
	printf '%s\n' "$@"
}
zone_file dnssec.test "${E2E_EXCHANGER[signed]}" \
	"_$P._tcp.mx IN TLSA 3 1 1 $(printf 'mxpath test key' | openssl dgst -sha256 -r | cut -c1-64)" \
	> "$Z/dnssec.test.src"
zone_file insecure.test "${E2E_EXCHANGER[unsigned]}" > "$Z/insecure.test.zone"
(
	cd "$Z" &&
	ksk=$(ldns-keygen -a ECDSAP256SHA256 -k dnssec.test) &&
	zsk=$(ldns-keygen -a ECDSAP256SHA256 dnssec.test) &&
	ldns-signzone -f dnssec.test.zone dnssec.test.src "$ksk" "$zsk" &&
	cp "$ksk.ds" trust-anchor.ds
) > "$T/sign.log" 2>&1 || mta_die "cannot sign dnssec.test: $(tail -n 3 "$T/sign.log")"
rm -f "$Z"/K*
check "the test zone is signed (RRSIG and DNSKEY records)" \
	test "$(grep -Ec 'IN[[:space:]]+(RRSIG|DNSKEY)' "$Z/dnssec.test.zone")" -ge 4
mv "$Z/trust-anchor.ds" "$T/trust-anchor.ds"
dns_start_nsd auth "$Z"

# ---- a validating unbound: for mxpathd on 127.0.0.1:PORT, for Postfix's
# libc on port 53 of the MTAs' resolver address
unbound_start() {
	local dir=$T/unbound addr
	mkdir -p "$dir"
	UNBOUND_PORT=$(free_port)
	# shellcheck disable=SC2153 # sinks.sh sets it
	for addr in $MTA_NAMESERVERS; do
		_mta_port53_is_free "$addr" && { MTA_NAMESERVER=$addr; break; }
	done
	[ -n "$MTA_NAMESERVER" ] || mta_die "port 53 is taken on every address of $MTA_NAMESERVERS"
	cat > "$dir/unbound.conf" <<EOF
server:
    interface: 127.0.0.1@$UNBOUND_PORT
    interface: $MTA_NAMESERVER@53
    outgoing-interface: 127.0.0.1
    do-ip6: no
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 1
    val-log-level: 2
    qname-minimisation: no
    trust-anchor-file: "$T/trust-anchor.ds"
    local-zone: "." refuse
    local-zone: "dnssec.test." transparent
    local-zone: "insecure.test." transparent
stub-zone:
    name: "dnssec.test."
    stub-addr: 127.0.0.1@${DNS_PORT[auth]}
stub-zone:
    name: "insecure.test."
    stub-addr: 127.0.0.1@${DNS_PORT[auth]}
remote-control:
    control-enable: no
EOF
	unbound -d -c "$dir/unbound.conf" > "$dir/log" 2>&1 &
	UNBOUND_PID=$!
	mta_poll 10 _unbound_answers || mta_die "unbound does not answer: $(tail -n 5 "$dir/log")"
}
_unbound_answers() {
	dig @127.0.0.1 -p "$UNBOUND_PORT" +time=1 +tries=1 SOA insecure.test 2>/dev/null |
		grep -q 'status: NOERROR'
}
unbound_start
check "unbound validates dnssec.test (AD on its MX answer)" \
	grep -Eq 'flags:[a-z ]* ad[ ;]' <<< "$(dig @127.0.0.1 -p "$UNBOUND_PORT" +adflag MX dnssec.test)"
check "... and not insecure.test (no AD)" \
	grep -Evq 'flags:[a-z ]* ad[ ;]' <<< "$(dig @127.0.0.1 -p "$UNBOUND_PORT" +adflag MX insecure.test | grep 'flags:')"

# mxpathd's configuration names "dns": here that is unbound.
DNS_PORT[dns]=$UNBOUND_PORT

# ---- mxpath route: AD seen, the domain kept; tls.dnssec = false routes it
e2e_mxpathd_conf socketmap ''
CONF=$(mxpathd_dir e2e)/mxpath.conf
OUT=$("$MXPATH" route -c "$CONF" u@dnssec.test u@insecure.test)
check "mxpath route: dnssec.test is kept by the MTA (dnssec)" \
	grep -q '^u@dnssec\.test: relay .*' <<< "$OUT"
check "... with the reason shown" grep -q 'the MTA keeps this domain (dnssec)' <<< "$OUT"
check "... insecure.test is not kept" test "$(grep -c 'the MTA keeps' <<< "$OUT")" -eq 1
check "mxpath route --json: mta_keeps is dnssec" \
	grep -q '"mta_keeps":"dnssec"' <<< "$("$MXPATH" route --json -c "$CONF" u@dnssec.test)"
sed -i 's/^mx = {/tls = { dnssec = false; };\nmx = {/' "$CONF"
check "with tls.dnssec = false dnssec.test is routed" \
	test "$(grep -c 'the MTA keeps' <<< "$("$MXPATH" route -c "$CONF" u@dnssec.test)")" -eq 0
e2e_mxpathd_conf socketmap ''
mxpathd_start e2e
check "the socketmap leaves dnssec.test to Postfix (NOTFOUND)" \
	test "$(mta_socketmap_query "$SOCK" transport u@dnssec.test)" = "NOTFOUND "
check "... and routes insecure.test" \
	test "$(mta_socketmap_query "$SOCK" transport u@insecure.test)" = "OK smtp:[mx.insecure.test]:$P"

# ---- Postfix with DANE, without and with mxpath
# dane_postfix NAME 'setting'...
dane_postfix() {
	tls_mta_setup "$1"
	# glibc passes the AD bit on only with trust-ad.
	printf 'nameserver %s\noptions timeout:1 attempts:2 trust-ad\n' "$MTA_NAMESERVER" \
		> "$T/$1/resolv.conf"
	shift
	pf_conf "relayhost =" "smtp_tcp_port = $P" "smtp_dns_support_level = dnssec" \
		"smtp_tls_security_level = dane" "smtp_tls_loglevel = 1" "$@"
	pf_start || mta_die "postfix did not start"
}

# dane_cases LOCAL HOW
dane_cases() {
	local u=$1 how=$2
	pf_submit "$MTA_SENDER" "$u@dnssec.test" || fail "submission to dnssec.test"
	pf_submit "$MTA_SENDER" "$u@insecure.test" || fail "submission to insecure.test"
	pf_wait_log 1 "to=<$u@dnssec\\.test>.*status=deferred" 20
	pf_wait_log 1 "to=<$u@insecure\\.test>.*status=sent" 20
	check "$how: dnssec.test (TLSA published, no STARTTLS offered) deferred by DANE" \
		test "$(pf_log_count "to=<$u@dnssec\\.test>.*status=deferred.*TLS is required")" -ge 1
	check "$how: ... its exchanger never got it" \
		test "$(sink_recipients signed "$u@dnssec\\.test")" -eq 0
	check "$how: insecure.test delivered to its exchanger" \
		test "$(sink_recipients unsigned "$u@insecure\\.test")" -eq 1
}

dane_postfix pf-native
dane_cases u "without mxpath"
dane_postfix pf-mxpath "transport_maps = socketmap:unix:$SOCK:transport"
dane_cases v "with mxpath"
check "with mxpath: mxpathd answered NOTFOUND for dnssec.test, the MTA keeps it" \
	mxpathd_wait_log e2e 'key=v@dnssec\.test action=notfound rule=mx .*reason="the MTA keeps it for TLS: dnssec"'
check "with mxpath: mxpathd routed insecure.test" \
	mxpathd_wait_log e2e 'key=v@insecure\.test action=relay rule=mx'
check "Postfix bounced nothing" test "$(pf_log_count 'status=bounced')" -eq 0
check "Postfix logged no fatal or panic" test "$(pf_log_count '(fatal|panic):')" -eq 0

e2e_finish
