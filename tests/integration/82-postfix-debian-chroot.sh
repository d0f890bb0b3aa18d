#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 82-postfix-debian-chroot - mxpathd behind a stock Debian Postfix, wired
# exactly as the README says.
#
# Postfix runs as Debian ships it: /etc/postfix/master.cf is the packaged
# /usr/share/postfix/master.cf.dist (smtpd, cleanup, trivial-rewrite, smtp
# chrooted in /var/spool/postfix), main.cf is Debian's main.cf.debian plus
# what its postinst adds; mxpathd has the packaged contrib/mxpath.conf and
# the user and group the package's postinst creates. Then the README's
# block "wire mxpathd into Postfix" runs verbatim. Mail goes in over SMTP
# and by local submission (sendmail -> postdrop -> pickup -> cleanup) and
# must reach the smtp-sink mxpathd routes it to; null-MX, NXDOMAIN and
# DNS-down recipients get exactly the replies the README documents, with
# Postfix's own recipient check and without it; the same wiring works with
# nothing chrooted; and, as controls, without group mxpath or with the
# /run/mxpath paths every session is deferred.
#
# Everything runs in a private mount namespace (the script re-executes
# itself under unshare): /etc is a private copy (resolv.conf and hosts on
# loopback, the accounts the test adds), /var/spool/postfix and
# /var/lib/postfix are scratch directories, /run is an empty tmpfs (no
# systemd, no tmpfiles: mxpathd makes /run/mxpath itself). The host's
# Postfix, accounts and /run are not touched.
#
# Changes the test makes beyond the README, all test harness: smtpd listens
# on 127.0.0.1:PORT (the master.cf service name), Postfix logs to a file and
# its SMTP client binds to loopback, relayhost is a dead loopback address;
# mxpathd asks its own test DNS (dnsmock, where a fault is injected), knows this host's name, and adds PORT to its
# next hops (socketmap.port), so the sinks on 127.0.0.x:PORT get the mail.
set -u
if [ -z "${MXPATH_NS82:-}" ]; then
	exec unshare --mount --propagation private env MXPATH_NS82=1 bash "$0" "$@"
fi
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/sinks.sh"
. "$MXPATH_ROOT/tests/lib/readme.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
require postconf postfix sendmail swaks smtp-source smtp-sink adduser
case $BUILD in /*) BIN=$BUILD ;; *) BIN=$MXPATH_ROOT/$BUILD ;; esac
[ -x /usr/share/postfix/master.cf.dist ] || [ -f /usr/share/postfix/master.cf.dist ] ||
	mta_die "prerequisite missing: /usr/share/postfix/master.cf.dist (package postfix)"

T0=$(date +%s)
T=$(mktemp -d /tmp/mxpath-debchroot.XXXXXX)
chmod 755 "$T"
MXPATHD_PID=
cleanup() {
	postfix stop > /dev/null 2>&1
	mta_poll 10 _postfix_stopped || kill -KILL "$(_master_pid)" 2>/dev/null
	mta_stop_pid "$MXPATHD_PID" mxpathd
	sinks_stop_all
	mta_resolver_stop
	dns_cleanup
	rm -rf "$T"
}
# reload_postfix: new main.cf/master.cf and groups for every daemon. A
# restart, not "postfix reload": an idle smtpd of the old generation could
# take the next session with the old settings.
reload_postfix() {
	postfix stop > /dev/null 2>&1
	mta_poll 10 _postfix_stopped || mta_die "postfix did not stop"
	postfix start > /dev/null 2>&1 || mta_die "postfix start failed"
	mta_poll 10 mta_is_listening 127.0.0.1 "$P" || mta_die "smtpd not listening after a restart"
}
_master_pid() { head -n 1 /var/spool/postfix/pid/master.pid 2>/dev/null | tr -d ' '; }
_postfix_stopped() { ! kill -0 "$(_master_pid)" 2>/dev/null; }
trap cleanup EXIT
P=$(mta_free_port) || mta_die "no free port"
SMTPD=127.0.0.1:$P

# ---- the private machine: /etc, the spool, /run ----
mta_resolver_start "$T"
dns_start_mock dns
cp -a /etc "$T/etc"
rm -f "$T/etc/resolv.conf" "$T/etc/hosts"
mta_write_resolv_conf "$T/etc"
printf '127.0.0.1 localhost mta.bench.test\n::1 localhost ip6-localhost\n' > "$T/etc/hosts"
mkdir -p "$T/spool" "$T/lib"
chmod 755 "$T/spool"
chown postfix:postfix "$T/lib"
mount --bind "$T/etc" /etc && mount --bind "$T/spool" /var/spool/postfix &&
	mount --bind "$T/lib" /var/lib/postfix && mount -t tmpfs -o mode=0755 tmpfs /run ||
	mta_die "cannot set up the private mount namespace"

# ---- Postfix as Debian installs it ----
cp /usr/share/postfix/master.cf.dist /etc/postfix/master.cf
cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
postconf -e "smtpd_relay_restrictions=permit_mynetworks permit_sasl_authenticated defer_unauth_destination"
check "stock master.cf: smtpd, cleanup, trivial-rewrite and smtp run chrooted" test \
	"$(postconf -F smtp/inet/chroot cleanup/unix/chroot rewrite/unix/chroot smtp/unix/chroot |
	awk '{print $3}' | sort -u)" = y
check "... and proxymap does not" test "$(postconf -hF proxymap/unix/chroot)" = n
# Test harness: where smtpd listens, logging, loopback only, fast retries.
sed -i "s/^smtp      inet /$SMTPD inet /" /etc/postfix/master.cf
postconf -e myhostname=mta.bench.test 'mydestination=$myhostname, localhost' \
	inet_interfaces=loopback-only inet_protocols=ipv4 mynetworks=127.0.0.0/8 \
	"relayhost=[127.0.0.254]:$P" alias_maps= alias_database= \
	"maillog_file=$T/maillog" maillog_file_prefixes=/tmp \
	smtp_bind_address=127.0.0.1 smtp_connect_timeout=2s \
	minimal_backoff_time=2s maximal_backoff_time=4s queue_run_delay=2s

# ---- mxpath as the package installs it ----
mkdir -p /etc/mxpath
install -m 0644 "$MXPATH_ROOT/contrib/mxpath.conf" /etc/mxpath/mxpath.conf
check "the package's postinst creates the mxpath user (private /etc)" \
	sh "$MXPATH_ROOT/packaging/debian/postinst" configure

# ---- the README's wiring, verbatim ----
readme_block '# wire mxpathd into Postfix (Debian'"'"'s stock master.cf, chrooted services)' \
	> "$T/wiring.sh"
check "the README's Postfix wiring runs as written" bash -e "$T/wiring.sh"
check "... proxy_read_maps lists \$transport_maps, as the README says it must" \
	sh -c "postconf -h proxy_read_maps | grep -qF '\$transport_maps'"
check "... postfix is in group mxpath" sh -c "id -nG postfix | grep -qw mxpath"

# Test harness for mxpathd: the test DNS, this host's name, the sinks' port.
sed -i -e "s|^\(\tservers = \)\[ \];|\1[ \"127.0.0.1:$(dns_port dns)\" ];|" \
	-e "s|^\(\tnames = \)\[ \];|\1[ \"mta.bench.test\" ];|" \
	-e "s|^\(\tport = \)0;|\1$P;|" /etc/mxpath/mxpath.conf
check "test settings applied to mxpath.conf (dns, self, port)" sh -c \
	"grep -q '127.0.0.1:$(dns_port dns)' /etc/mxpath/mxpath.conf && grep -q 'port = $P;' /etc/mxpath/mxpath.conf"

# ---- start: mxpathd (no systemd: it makes its directories), then Postfix ----
check "mxpathd -t accepts the wired configuration, creating nothing" \
	sh -c "'$BIN/mxpathd' -t -c /etc/mxpath/mxpath.conf && test ! -e /run/mxpath"
"$BIN/mxpathd" -f -c /etc/mxpath/mxpath.conf > "$T/mxpathd.log" 2>&1 &
MXPATHD_PID=$!
mta_poll 10 test -S /var/spool/postfix/mxpath/milter.sock ||
	{ cat "$T/mxpathd.log"; mta_die "mxpathd did not start"; }
check "mxpathd made /run/mxpath: mxpath:mxpath 0750" \
	test "$(stat -c '%U:%G %a' /run/mxpath)" = "mxpath:mxpath 750"
check "... and /var/spool/postfix/mxpath: mxpath:mxpath 0750" \
	test "$(stat -c '%U:%G %a' /var/spool/postfix/mxpath)" = "mxpath:mxpath 750"
check "... with the milter socket in it, mxpath:mxpath 0660" \
	test "$(stat -c '%U:%G %a' /var/spool/postfix/mxpath/milter.sock)" = "mxpath:mxpath 660"

sinks_init "$T"
sink_start sf 127.0.0.11 "$P" || mta_die "sink sf did not start"
sink_start stray 127.0.0.254 "$P" || mta_die "sink stray did not start"
/usr/lib/postfix/configure-instance.sh - > "$T/configure.log" 2>&1 ||
	{ cat "$T/configure.log"; mta_die "configure-instance.sh failed"; }
check "Debian's configure-instance.sh put the loopback resolv.conf in the chroot" \
	grep -q "$MTA_NAMESERVER" /var/spool/postfix/etc/resolv.conf
postfix start > "$T/start.log" 2>&1 || { cat "$T/start.log" "$T/maillog"; mta_die "postfix start failed"; }
mta_poll 10 mta_is_listening 127.0.0.1 "$P" || { cat "$T/maillog"; mta_die "smtpd not listening"; }

# ---- mail over SMTP: chrooted smtpd -> milter; trivial-rewrite -> proxymap -> socketmap
mta_send_many "$SMTPD" 3 u@boston.travel.edu 1 || fail "smtp-source to boston.travel.edu"
sinks_wait_messages 3 30 sf
check "SMTP: 3 messages to boston.travel.edu reached its best MX (sf) through mxpathd's route" \
	test "$(sink_recipients sf '[0-9]+u@boston\.travel\.edu')" -eq 3
check "... the milter saw them (mxpathd logged the RCPTs)" \
	test "$(grep -Ec 'rcpt=<?[0-9]+u@boston\.travel\.edu' "$T/mxpathd.log")" -ge 3

# ---- local submission: postdrop -> pickup -> cleanup (chrooted, non_smtpd_milters)
printf 'From: <%s>\nTo: <v@boston.travel.edu>\nSubject: local\n\nlocal submission\n' \
	"$MTA_SENDER" | sendmail -bm -i -f "$MTA_SENDER" v@boston.travel.edu
check "sendmail -bm: accepted by postdrop" test $? -eq 0
sinks_wait_messages 4 30 sf
check "local submission reached the same MX through cleanup's milter and the socketmap" \
	test "$(sink_recipients sf 'v@boston\.travel\.edu')" -eq 1
check "nothing went to the relayhost (every route came from mxpathd)" test "$(sink_messages stray)" -eq 0
check "nothing is left in the queue" test -z "$(find /var/spool/postfix/{incoming,active,deferred,maildrop} -type f)"

# ---- what failed before: no lookup errors, no milter tempfail
check "no table lookup errors in the mail log" sh -c "! grep -Ei 'lookup error|table .* lookup|dict_' '$T/maillog'"
check "no milter connection errors in the mail log" sh -c "! grep -Ei 'milter.*(No such file|Permission denied|can.t connect)' '$T/maillog'"

# ---- unroutable recipients: the replies the README documents
reply_check() {
	local reply
	reply=$(mta_rcpt_reply "$SMTPD" "$2")
	check "$1 ($reply)" test "$reply" = "$3"
}
reply_check "README wiring, null MX: Postfix's own check answers from the socketmap" \
	x@nullmx.edge.test '550 5.1.0 <x@nullmx.edge.test>: Recipient address rejected: Recipient address has null MX'
reply_check "README wiring, NXDOMAIN" x@nosuch.edge.test \
	'550 5.1.2 <x@nosuch.edge.test>: Recipient address rejected: domain nosuch.edge.test does not exist'
printf 'Subject: to a null MX\n\nx\n' | sendmail -bm -i -f "$MTA_SENDER" x@nullmx.edge.test
check "local submission to a null-MX domain: bounced by the error transport with 5.1.10" \
	mta_wait_log "$T/maillog" 1 'to=<x@nullmx\.edge\.test>.*dsn=5\.1\.10, status=bounced \(Recipient address has null MX\)' 20
dns_fault dns "servfail plange.puntacana.dr"
reply_check "README wiring, DNS down (SERVFAIL)" x@plange.puntacana.dr \
	'451 4.3.0 <x@plange.puntacana.dr>: Temporary lookup failure'
postconf -e smtpd_reject_unlisted_recipient=no
reload_postfix
reply_check "smtpd_reject_unlisted_recipient = no: the milter's own null-MX reply" \
	x@nullmx.edge.test '556 5.1.10 Recipient address has null MX'
reply_check "... and its NXDOMAIN reply" x@nosuch.edge.test '550 5.1.2 domain nosuch.edge.test does not exist'
reply_check "... and its DNS-down reply" x@plange.puntacana.dr '451 4.4.3 temporary DNS failure looking up MX for plange.puntacana.dr (servfail)'
dns_fault dns
postconf -e smtpd_reject_unlisted_recipient=yes

# ---- the same wiring where nothing is chrooted (as the README says it works)
UNCHROOT="$SMTPD/inet/chroot cleanup/unix/chroot rewrite/unix/chroot pickup/unix/chroot smtp/unix/chroot"
for svc in $UNCHROOT; do postconf -F "$svc=n"; done
reload_postfix
mta_send_many "$SMTPD" 2 n@boston.travel.edu 1 || fail "smtp-source to boston.travel.edu"
printf 'Subject: local\n\nx\n' | sendmail -bm -i -f "$MTA_SENDER" m@boston.travel.edu
sinks_wait_messages 7 30 sf
check "nothing chrooted: SMTP and local submission still reach sf through both doors" \
	test "$(sink_recipients sf '[0-9]+n@boston\.travel\.edu')" -eq 2 -a \
	"$(sink_recipients sf 'm@boston\.travel\.edu')" -eq 1
for svc in $UNCHROOT; do postconf -F "$svc=y"; done

# ---- controls: each piece of the wiring is needed
# milter_control DESC LOG_LINE: after a reload, every session gets 451 4.7.1
# (milter_default_action = tempfail) and the mail log says why.
milter_control() {
	reload_postfix
	check "control: $1: every session gets 451 4.7.1" sh -c \
		"swaks --server '$SMTPD' --from '$MTA_SENDER' --to u@boston.travel.edu --quit-after RCPT 2>&1 |
		grep -q '^<\*\* 451 4\.7\.1 '"
	check "... the log says: $2" grep -qF "$2" "$T/maillog"
}
gpasswd -d postfix mxpath > /dev/null
milter_control "postfix out of group mxpath" \
	'connect to Milter service unix:mxpath/milter.sock: Permission denied'
adduser --quiet postfix mxpath
# The chroot is real: the wiring the README had before fails in it.
postconf -e 'smtpd_milters = unix:/run/mxpath/milter.sock'
milter_control "smtpd_milters on /run/mxpath" \
	'connect to Milter service unix:/run/mxpath/milter.sock: No such file or directory'
postconf -e 'smtpd_milters = unix:mxpath/milter.sock' \
	'transport_maps = socketmap:unix:/run/mxpath/socketmap.sock:transport'
reload_postfix
REPLY=$(mta_rcpt_reply "$SMTPD" w@boston.travel.edu)
check "control: transport_maps without proxy: RCPT deferred ($REPLY)" grep -Eq '^451 4\.3\.0 ' <<< "$REPLY"
check "... trivial-rewrite (chrooted) logs the lookup error" \
	grep -Eq 'trivial-rewrite.*socketmap:unix:/run/mxpath/socketmap.sock:transport.*(lookup error|No such file)' "$T/maillog"

echo "# runtime: $(( $(date +%s) - T0 )) s"
finish
