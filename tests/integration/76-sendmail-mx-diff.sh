#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 76-sendmail-mx-diff - mxpath's MX logic checked against sendmail 8.17's
# own. NSD serves tests/zones/mxdiff.test.zone on port 53 of a loopback
# address of its own; the unpacked sendmail (tests/lib/sendmail.sh, its own
# mount namespace whose resolv.conf names that server, no mailertable:
# sendmail routes by its own MX lookups) really delivers one message per
# domain with -v, to exchangers on 127.0.9.x where nothing listens on the
# mailer's port, so every connection is refused at once and it moves on to
# the next exchanger. Its "Connecting to HOST port" lines are the
# exchangers it tries, in order; its final status (or the bounce it sends
# the postmaster) is the verdict. `mxpath route --json` decides the same
# domains against the same server. Both are run as an outside host and as
# a host whose class w holds self.mxdiff.test and self2.mxdiff.test
# (mxpath: --self for both names, --self-address for their addresses).
#
# Each side becomes one line: the verdict, the exchangers level by level
# (a level is the hosts of one preference, as a sorted set; levels in the
# order tried; sendmail's levels come from the preferences in DNS), and the
# MX hosts pruned as this host or worse ("self:"; for sendmail the MX hosts
# it never tried). The lines must be equal, or equal what EXPECT_SM says
# sendmail does differently, with the reason written beside it.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/dns.sh"
. "$MXPATH_ROOT/tests/lib/sendmail.sh"
require dig nsd unshare
trap dns_cleanup EXIT

DOMAINS=(one levels eq2 groups eq5 mx20 extremes dup upper
	selfbest selfmid selfworst selftwice selfeq selfeqbest selfaddr
	cname aliasdom noaddrmx nxhost v6mx dualmx ipname
	nullmx dotmx implicit nothing nosuchdomain)

# Known differences: MODE:DOMAIN -> the line sendmail gives instead of
# mxpath's (MODE "any": both runs). Each one with its reason.
declare -A EXPECT_SM=(
	# "MX 10 ." beside real exchangers: sendmail takes "." for a host and
	# tries to connect to it; mxpath prunes it as invalid (RFC 7505 gives
	# "." a meaning only as the one record of a null MX).
	[any:dotmx]="relay . | h1 ; self: -"
	# An address written as the exchanger's name: sendmail hands it to the
	# resolver, which reads it as an address and connects; mxpath prunes it
	# (an MX names a host, RFC 5321 5.1 and RFC 2181 10.3).
	[any:ipname]="relay 127.0.9.5 | h1 ; self: -"
	# An exchanger without an address (TXT only, or no such host): sendmail
	# announces a connection to it and only then finds no address; mxpath
	# prunes it before handing the list out. The connection really made is
	# the same (h1).
	[any:noaddrmx]="relay noaddr | h1 ; self: -"
	[any:nxhost]="relay nosuchhost | h1 ; self: -"
	# No MX and no address: sendmail announces a connection to the domain
	# itself before finding nothing; both refuse it as unknown (5.1.2).
	[any:nothing]="nohost nothing ; self: -"
	# sendmail prunes by name only (class w): an exchanger with another name
	# for this host's address is tried (and would loop the mail back here);
	# mxpath prunes it as self by its address, and everything at or below
	# its preference with it.
	[classw:selfaddr]="relay h1 | selfalias | h2 ; self: -"
)

# ---- the DNS server both ask
ZONES=$DNS_WORK/zones
mkdir -p "$ZONES"
cp "$MXPATH_ROOT/tests/zones/mxdiff.test.zone" "$ZONES/"
for a in $MTA_NAMESERVERS; do
	_mta_port53_is_free "$a" && { MTA_NAMESERVER=$a; break; }
done
[ -n "$MTA_NAMESERVER" ] || mta_die "port 53 is taken on every address of $MTA_NAMESERVERS"
NSD_ADDR=$MTA_NAMESERVER NSD_PORT=53 dns_start_nsd ns "$ZONES"
NS=$MTA_NAMESERVER
check "NSD answers for mxdiff.test on $NS:53" \
	test "$(dig @"$NS" +short MX one.mxdiff.test)" = "10 h1.mxdiff.test."

# The mailer's port: free, so nothing listens on any 127.0.9.x.
PORT=$(free_port)

# ---- sendmail's view
# sm_view MODE DOMAIN: delivers a message, prints "VERDICT" and the hosts
# tried, one a line.
sm_view() {
	local mode=$1 rcpt=user@$2 out=$DNS_WORK/sm-$1-$2
	rm -f "$SM_DIR"/local/*
	printf 'Subject: mx diff\n\nmx diff\n' |
		sm_run -v -odi -oep -f '<>' "$rcpt" > "$out" 2>&1
	if grep -q "^$rcpt\\.\\.\\. Deferred: Connection refused by " "$out"; then
		echo relay
	elif grep -qs 'MX list for .* points back to' "$SM_DIR"/local/*; then
		echo loop
	elif grep -qs '^Diagnostic-Code: SMTP; 556 .*MX 0 \.' "$SM_DIR"/local/*; then
		echo nullmx
	elif grep -qs '^550 5\.1\.2 .*Host unknown' "$SM_DIR"/local/*; then
		echo nohost
	else
		echo "other"
	fi
	sed -n "s/^$rcpt\\.\\.\\. Connecting to \\([^ ]*\\) port $PORT via esmtp\\.\\.\\.\$/\\1/p" \
		"$out" | sed 's/\(.\)\.$/\1/; s/\.mxdiff\.test$//' | tr '[:upper:]' '[:lower:]'
}

# ---- mxpath's view
# mx_json MODE: mxpath route --json for every domain, one line each.
mx_json() {
	local self=()
	[ "$1" = classw ] && self=(--self self.mxdiff.test --self self2.mxdiff.test
		--self-address 127.0.9.100 --self-address 127.0.9.101)
	# shellcheck disable=SC2046 # one argument per domain
	"$MXPATH" route --json -c "$CONF" --no-auto-self "${self[@]}" \
		$(printf 'user@%s.mxdiff.test ' "${DOMAINS[@]/upper/UPPER}") 2> "$DNS_WORK/stderr"
}

# Lines from both views: "VERDICT L1 | L2 ... ; self: S" (hosts without
# the .mxdiff.test suffix, a level's hosts sorted and comma-separated).
render() {
	/usr/bin/python3 - "$@" <<'EOF'
import json, sys

def short(h):
    if h == '.':
        return h
    h = h.lower().rstrip('.')
    return h[:-len('.mxdiff.test')] if h.endswith('.mxdiff.test') else h

def levels(hosts_prefs):
    out = []
    for host, pref in hosts_prefs:
        if out and out[-1][0] == pref:
            out[-1][1].add(host)
        else:
            out.append((pref, {host}))
    return ' | '.join(','.join(sorted(s)) for _, s in out)

def line(verdict, lv, self_set):
    return '%s%s ; self: %s' % (verdict, (' ' + lv) if lv else '',
                                ','.join(sorted(self_set)) or '-')

def mx_line(rec):
    reply = rec.get('reply') or {}
    code = '%s %s' % (reply.get('code'), reply.get('status'))
    verdict = {'554 5.4.6': 'loop', '556 5.1.10': 'nullmx', '550 5.1.2': 'nohost'}.get(
        code, rec['action'] if rec['action'] == 'relay' else 'other:' + code)
    hops = [(short(h['host']), h['pref']) for h in rec['hops']]
    selfish = {short(p['host']) for p in rec['pruned']
               if p['reason'] in ('self', 'worse_than_self')}
    return line(verdict, levels(hops), selfish)

def sm_line(path, prefs):
    with open(path) as f:
        words = f.read().split('\n')
    verdict, tried = words[0], [w for w in words[1:] if w]
    lv = levels([(h, prefs.get(h, 0)) for h in tried])
    untried = set(prefs) - set(tried) if verdict in ('relay', 'loop') else set()
    return line(verdict, lv, untried)

mode, jsonfile, prefdir = sys.argv[1:4]
for raw in open(jsonfile):
    rec = json.loads(raw)
    dom = short(rec['domain'])
    prefs = {}
    for l in open('%s/%s' % (prefdir, dom)):
        pref, host = l.split()
        prefs.setdefault(short(host), int(pref))
    print('%s\t%s\t%s' % (dom, sm_line('%s/sm-%s-%s' % (prefdir, mode, dom), prefs),
                          mx_line(rec)))
EOF
}

CONF=$DNS_WORK/mxpath.conf
cat > "$CONF" <<EOF
dns = { servers = [ "$NS:53" ]; timeout_ms = 1000; tries = 2; };
EOF

# The MX preferences in DNS, to cut sendmail's list into levels (a host
# listed twice keeps its best one).
for d in "${DOMAINS[@]}"; do
	dig @"$NS" +short MX "$d.mxdiff.test" | awk 'NF == 2' | sort -n > "$DNS_WORK/$d"
done

for mode in outside classw; do
	sm_setup "$DNS_WORK/sm-$mode" 0 "$PORT" "" mta-sm.bench.test ||
		mta_die "sendmail set-up failed"
	[ "$mode" = classw ] && printf 'Cwself.mxdiff.test\nCwself2.mxdiff.test\n' >> "$SM_DIR/sendmail.cf"
	for d in "${DOMAINS[@]}"; do
		rcpt=$d
		[ "$d" = upper ] && rcpt=UPPER
		sm_view "$mode" "$rcpt.mxdiff.test" > "$DNS_WORK/sm-$mode-$d"
	done
	mx_json "$mode" > "$DNS_WORK/mx-$mode.json"
	check "$mode: mxpath decided all ${#DOMAINS[@]} domains" \
		test "$(wc -l < "$DNS_WORK/mx-$mode.json")" -eq ${#DOMAINS[@]}
	render "$mode" "$DNS_WORK/mx-$mode.json" "$DNS_WORK" > "$DNS_WORK/lines-$mode"
	while IFS=$'\t' read -r d sm mx; do
		want=${EXPECT_SM[$mode:$d]:-${EXPECT_SM[any:$d]:-$mx}}
		if [ "$want" = "$mx" ]; then
			expect "$mode $d: sendmail and mxpath agree: $mx" "$sm" "$mx"
		else
			expect "$mode $d: sendmail: $want (a known difference); mxpath: $mx" "$sm" "$want"
		fi
	done < "$DNS_WORK/lines-$mode"
done

# The runs must have exercised what they claim.
check "outside: self.mxdiff.test tried like any host (selfbest)" \
	grep -qx $'selfbest\trelay self | h1 ; self: -\trelay self | h1 ; self: -' "$DNS_WORK/lines-outside"
check "class w: both refuse selfbest as a loop" \
	grep -qx $'selfbest\tloop ; self: h1,self\tloop ; self: h1,self' "$DNS_WORK/lines-classw"
check "sendmail tried all 20 exchangers of mx20" \
	test "$(grep -c 'Connecting to' "$DNS_WORK/sm-outside-mx20.mxdiff.test")" -eq 20
finish
