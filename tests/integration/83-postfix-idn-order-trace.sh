#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 83-postfix-idn-order-trace.sh - issue 12 items 4, 6 and 7 through Postfix
#
# A private Postfix 3.7 (smtputf8_enable = yes), first without mxpath
# (routing by its own MX lookups), then with both of mxpathd's doors
# (transport_maps = socketmap, smtpd_milters, the trace header on):
#   4. an SMTPUTF8 message to user@bücher.test (zone xn--bcher-kva.test)
#      is delivered to its exchanger by Postfix alone and by Postfix with
#      mxpath (differential); postmap -q and the milter's log agree;
#   6. 16 messages, each to its own recipient at pair.edge.test (p1, p2
#      at MX 10): for every one, the order the milter logged and stamped
#      in its X-MXPath header is the order Postfix tried (the first hop is
#      where it was delivered), and both orders occur (the doors agree,
#      yet every recipient is shuffled afresh; a false failure: 2^-15);
#   7. a message with a To and a Bcc recipient: neither copy carries an
#      X-MXPath header naming the other (nor its exchangers); a message
#      with one recipient names it.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/e2e.sh" postfix
require smtp-sink postmap /usr/bin/python3

E2E_EXCHANGER[idn]=127.0.0.91		# mx.xn--bcher-kva.test
E2E_EXCHANGER[p1]=127.0.0.93		# p1.edge.test
E2E_EXCHANGER[p2]=127.0.0.94		# p2.edge.test
N_PAIR=16

_e2e_setup idn-order
_e2e_start_sinks p1 p2 sf

# smtp-sink does not offer SMTPUTF8, which Postfix needs from the next hop
# for an SMTPUTF8 message: bücher.test's exchanger is Python's smtpd with
# SMTPUTF8 on, writing the same dump format (X-Mail-Args, X-Rcpt-Args).
cat > "$T/utf8sink.py" <<'PY'
import asyncore, smtpd, sys, warnings
warnings.simplefilter('ignore')
class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        with open(sys.argv[3], 'ab') as f:
            f.write(b'X-Mail-Args: <%s>\n' % mailfrom.encode())
            for r in rcpttos:
                f.write(b'X-Rcpt-Args: <%s>\n' % r.encode())
            f.write(data.replace(b'\r\n', b'\n') + b'\n')
Sink((sys.argv[1], int(sys.argv[2])), None, enable_SMTPUTF8=True, decode_data=False)
asyncore.loop()
PY
: > "$SINKS_DIR/idn.dump"
/usr/bin/python3 "$T/utf8sink.py" "${E2E_EXCHANGER[idn]}" "$P" "$SINKS_DIR/idn.dump" \
	>> "$SINKS_DIR/idn.log" 2>&1 &
# shellcheck disable=SC2034 # read by sinks_stop_all (sinks.sh)
SINK_PID[idn]=$!
mta_poll 5 mta_is_listening "${E2E_EXCHANGER[idn]}" "$P" || mta_die "the SMTPUTF8 sink did not start"
dns_start_mock dns
mta_resolver_start "$T"

# send.py SERVER FROM RCPTS SUBJECT [To-header]: one message, SMTPUTF8 if
# anything is non-ASCII; RCPTS comma-separated.
cat > "$T/send.py" <<'PY'
import smtplib, sys
host, port = sys.argv[1].rsplit(':', 1)
sender, rcpts, subject = sys.argv[2], sys.argv[3].split(','), sys.argv[4]
to = sys.argv[5] if len(sys.argv) > 5 else rcpts[0]
msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nmxpath test\r\n" % (sender, to, subject))
utf8 = any(ord(c) > 127 for c in sys.argv[3] + msg)
with smtplib.SMTP(host, int(port), timeout=20) as s:
    s.ehlo('client.test')
    opts = ['SMTPUTF8', 'BODY=8BITMIME'] if utf8 else []
    refused = s.sendmail(sender, rcpts, msg.encode('utf-8'), mail_options=opts)
    sys.exit(1 if refused else 0)
PY
send() { /usr/bin/python3 "$T/send.py" "$SMTPD" "$MTA_SENDER" "$@"; }

# ---- Postfix alone: its own MX lookups (exchangers on $P)
pf_setup "$T/pf" "$P" "$E2E_HOST" || mta_die "postfix setup failed"
pf_conf "relayhost =" "smtp_tcp_port = $P" "smtputf8_enable = yes"
pf_start || mta_die "postfix did not start"
check "without mxpath: Postfix accepts an SMTPUTF8 message to u1@bücher.test" \
	send 'u1@bücher.test' 'idn without mxpath'
e2e_wait_sent 1 'u1@bücher\.test' 20
check "... and delivers it to mx.xn--bcher-kva.test" test "$(sink_recipients idn 'u1@bücher\.test')" -eq 1

# ---- Postfix with both doors of mxpathd
SM_SOCK=$(mxpathd_dir e2e)/socketmap.sock
SOCK=$(mxpathd_dir e2e)/milter.sock
mxpathd_conf e2e "$(SELF_CONF="self = { names = [ \"$E2E_HOST\" ]; addresses = [ ]; };" \
	mxpath_conf /dev/stdout dns "
socketmap = { socket = \"unix:$SM_SOCK\"; $E2E_DOOR_ACCESS port = $P; };
milter = { socket = \"unix:$SOCK\"; $E2E_DOOR_ACCESS trace_header = true; };")"
mxpathd_start e2e
pf_conf "transport_maps = socketmap:unix:$SM_SOCK:transport" "smtpd_milters = unix:$SOCK" \
	"milter_default_action = tempfail"
# A restart, not a reload: after a reload, idle smtpd processes may still
# take the next connection with the old settings (no milter, no socketmap).
pf_stop
pf_start || mta_die "postfix did not restart with mxpathd's doors"

# ---- 4. IDN through both doors
expect "postmap -q u@bücher.test: the A-label exchanger" \
	"$(postmap -c "$PF_DIR/etc" -q 'u@bücher.test' "socketmap:unix:$SM_SOCK:transport" 2>&1)" \
	"smtp:[mx.xn--bcher-kva.test]:$P"
check "with mxpath: Postfix accepts an SMTPUTF8 message to u2@bücher.test" \
	send 'u2@bücher.test' 'idn with mxpath'
e2e_wait_sent 1 'u2@bücher\.test' 20
check "... and delivers it to mx.xn--bcher-kva.test, as without mxpath" \
	test "$(sink_recipients idn 'u2@bücher\.test')" -eq 1
check "... the milter accepted it, routed by the A-label form" \
	grep -q 'rcpt=<u2@bücher.test> action=relay rule=mx hops=mx.xn--bcher-kva.test reply=-' \
	"$(mxpathd_dir e2e)/log"
check "... and the socketmap answered Postfix's delivery lookup" \
	grep -q 'map=transport key=u2@b??cher.test action=relay' "$(mxpathd_dir e2e)/log"

# ---- 6. the order the milter logs is the order Postfix tries
for i in $(seq 1 $N_PAIR); do
	send "o$i@pair.edge.test" "order $i" || fail "send to o$i@pair.edge.test"
done
e2e_wait_sent $N_PAIR 'o[0-9]+@pair\.edge\.test' 60
agree=0 first_p1=0 first_p2=0
for i in $(seq 1 $N_PAIR); do
	logged=$(sed -n "s/.*: rcpt=<o$i@pair\.edge\.test> action=relay rule=mx hops=\([^ ]*\) .*/\1/p" \
		"$(mxpathd_dir e2e)/log" | head -n 1)
	tried=$(sed -n "s/.*to=<o$i@pair\.edge\.test>, relay=\([^[]*\)\[.*status=sent.*/\1/p" \
		"$PF_DIR/maillog" | head -n 1)
	if [ "${logged%%,*}" = "$tried" ] && [ -n "$tried" ]; then
		agree=$((agree + 1))
	else
		echo "    # o$i@pair.edge.test: milter logged $logged, Postfix delivered via ${tried:-?}"
	fi
	case $tried in p1.edge.test) first_p1=$((first_p1 + 1)) ;; p2.edge.test) first_p2=$((first_p2 + 1)) ;; esac
done
check "the milter's logged order is the order Postfix tried, for all $N_PAIR messages ($agree agree)" \
	test "$agree" -eq $N_PAIR
check "... and both orders occur: each recipient shuffled afresh (p1 first $first_p1, p2 first $first_p2)" \
	test "$first_p1" -ge 1 -a "$first_p2" -ge 1

# trace_check SINK: every X-MXPath header in SINK's dump names its own
# message's recipient, and that sink as the first hop. Prints the count.
trace_check() {
	/usr/bin/python3 - "$SINKS_DIR/$1.dump" "$1.edge.test" <<'PY'
import re, sys
text = open(sys.argv[1], encoding='utf-8', errors='replace').read()
good = bad = 0
for msg in re.split(r'(?m)^(?=X-Mail-Args: )', text):
    rcpt = re.search(r'(?m)^X-Rcpt-Args: <([^>]*)>', msg)
    hdr = re.search(r'(?m)^X-MXPath: (.*(?:\n[ \t].*)*)', msg)
    if not rcpt or not rcpt.group(1).startswith('o'):
        continue
    value = re.sub(r',\n[ \t]+', ',', hdr.group(1)) if hdr else ''
    value = re.sub(r'\n[ \t]+', ' ', value)
    want = '<%s> relay rule=mx hops=%s,' % (rcpt.group(1), sys.argv[2])
    if value.startswith(want):
        good += 1
    else:
        bad += 1
        print('# %s: X-MXPath: %s' % (rcpt.group(1), value), file=sys.stderr)
print(good if bad == 0 else -1)
PY
}
n1=$(trace_check p1) n2=$(trace_check p2)
check "every trace header names its recipient and, first, the exchanger it reached (p1 $n1, p2 $n2)" \
	test "$n1" -ge 0 -a "$n2" -ge 0 -a $((n1 + n2)) -eq $N_PAIR

# ---- 7. no Bcc recipient disclosed
check "a message To: t@boston.travel.edu, Bcc: secret-bcc@pair.edge.test is accepted" \
	send 't@boston.travel.edu,secret-bcc@pair.edge.test' 'bcc test' 't@boston.travel.edu'
e2e_wait_sent 1 't@boston\.travel\.edu' 20
e2e_wait_sent 1 'secret-bcc@pair\.edge\.test' 20
check "the To recipient's copy has no X-MXPath header" \
	test "$(grep -c '^X-MXPath:' "$SINKS_DIR/sf.dump")" -eq 0
check "... and nothing naming the Bcc recipient or its exchangers" \
	test "$(grep -Ec 'secret-bcc|pair\.edge\.test|p[12]\.edge\.test' "$SINKS_DIR/sf.dump")" -eq 0
check "... nor does the Bcc recipient's copy name the To recipient" \
	test "$(cat "$SINKS_DIR/p1.dump" "$SINKS_DIR/p2.dump" | grep -Ec '^X-MXPath:.*(t@boston|target\.edu)')" -eq 0
check "a message with one recipient (u2@bücher.test) names it in its trace header" \
	grep -q '^X-MXPath: <u2@bücher.test> relay rule=mx hops=mx.xn--bcher-kva.test' "$SINKS_DIR/idn.dump"

check "Postfix bounced nothing" test "$(pf_log_count 'status=bounced')" -eq 0
check "no milter errors in Postfix's log" test "$(pf_log_count 'milter.*(error|timeout|refused)')" -eq 0
e2e_finish
