#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 24-dns-split - a static route with its own DNS servers (split horizon):
# the firewall of Example 18 routes .process.com through the inside view,
# served by a second test server that answers differently from the public
# one; every other domain still goes to the default servers.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/dns.sh"
trap dns_cleanup EXIT

dns_start_nsd public
dns_start_mock inside --zonedir "$MXPATH_ROOT/tests/zones/internal"
CONF=$DNS_WORK/mxpath.conf
DNS_OPTIONS='timeout_ms = 200; tries = 1;' mxpath_conf "$CONF" public "
routes = ( { domain = \".process.com\";
             hosts = ( { host = \"daisy.process.com\"; pref = 10; },
                       { host = \"iris.process.com\"; pref = 20; } );
             dns = [ \"127.0.0.1:$(dns_port inside)\" ]; } );"
PUBLIC=$DNS_WORK/public.conf
mxpath_conf "$PUBLIC" public

route_json user@daisy.process.com
expect "route matched" "$(jq -r '"\(.action) \(.rule) \([.hops[].via] | unique | join(","))"' <<<"$OUT") rc=$RC" \
	"relay route route rc=0"
expect "hosts from the route, addresses from the inside view" \
	"$(jq -r '[.hops[] | "\(.host)=\(.addresses | join(","))"] | join(" ")' <<<"$OUT")" \
	"daisy.process.com=127.0.0.35 iris.process.com=127.0.0.32"
expect "the inside server was asked" "$(dns_queries inside daisy.process.com A)" "1"

OUT=$("$MXPATH" route --json -c "$PUBLIC" user@daisy.process.com 2>/dev/null)
expect "without the route: the public MX and address" \
	"$(jq -r '[.hops[] | "\(.host)=\(.addresses | join(","))"] | join(" ")' <<<"$OUT")" \
	"daisy.process.com=127.0.0.31 iris.process.com=127.0.0.32"

route_json user@tulip.process.com user@boston.travel.edu
expect "below the suffix: the route too" "$(sed -n 1p <<<"$OUT" | jq -r '"\(.rule) \(.matched // "")"' )" "route "
expect "other domains: default servers" "$(sed -n 2p <<<"$OUT" | jq -r '"\(.rule) \(.hops[0].host)"')" \
	"mx san-francisco.target.edu"
expect "the inside server was not asked about them" \
	"$(grep -c 'travel.edu\|target.edu' "$DNS_WORK/inside/log")" "0"

dns_stop inside
route_json user@daisy.process.com
expect "inside servers down: tempfail, exit 75" "$(jq -r .action <<<"$OUT") rc=$RC" "tempfail rc=75"

finish
