# SPDX-License-Identifier: BSD-2-Clause
# nsd.sh - the configuration of a test NSD server (sourced)
#
#   nsd_conf_write DIR ZONEDIR LISTEN...
#       DIR/nsd.conf for an NSD that runs in the foreground as the caller
#       (no chroot, no user change, no database), keeps its state in DIR,
#       listens on each LISTEN (ADDR@PORT) and serves every ZONEDIR/*.zone
#       (copied to DIR/zones, zone name = file name without .zone).
# Used by dns.sh (loopback servers) and tests/topology (namespace servers).

# shellcheck shell=bash

nsd_conf_write() {
	local dir=$1 zonedir=$2 listen z zone
	shift 2
	mkdir -p "$dir/zones" || return 1
	{
		echo "server:"
		for listen in "$@"; do
			echo "    ip-address: $listen"
		done
		cat <<EOF
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "$dir/zones"
    database: ""
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    pidfile: "$dir/nsd.pid"
    server-count: 1
    verbosity: 1
    hide-version: yes
remote-control:
    control-enable: no
EOF
	} > "$dir/nsd.conf"
	for z in "$zonedir"/*.zone; do
		zone=$(basename "$z" .zone)
		cp "$z" "$dir/zones/" || return 1
		printf 'zone:\n    name: %s\n    zonefile: %s.zone\n' "$zone" "$zone" >> "$dir/nsd.conf"
	done
}
