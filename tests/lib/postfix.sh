# SPDX-License-Identifier: BSD-2-Clause
# postfix.sh - a private Postfix 3.7 instance for the integration tests
#
# One instance per test script: its own config directory, queue and maillog
# below a scratch directory, smtpd on 127.0.0.1:PORT, the master daemon run
# in the foreground in a private mount namespace whose /etc/resolv.conf and
# /etc/hosts point at loopback (the MTA resolver, see sinks.sh), so no
# lookup leaves the machine; its SMTP client binds to 127.0.0.1, so no
# connection does either. Started and stopped by PID; the system's
# Postfix (/etc/postfix, /var/spool/postfix) is not touched.
# Templates: tests/lib/mta/postfix-{main,master}.cf.in.
#
# Usage:
#   mta_resolver_start DIR          first (sinks.sh): the resolver it names
#   pf_setup DIR PORT [HOSTNAME]    instance in DIR, smtpd on 127.0.0.1:PORT
#   pf_conf 'name = value' ...      main.cf changes (before or after start)
#   pf_start / pf_stop / pf_reload
#   pf_submit FROM TO               local submission (sendmail -> pickup)
#   pf_log_count ERE / pf_wait_log N ERE TIMEOUT
#   pf_wait_queue_empty TIMEOUT / pf_queue_count / pf_flush / pf_purge
#   pf_local_count [ERE]            messages the "local" service stored
#
# Needs sinks.sh (sourced below) for polling and stopping by PID.

# shellcheck shell=bash

MTA_LIB=${MTA_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# shellcheck source=sinks.sh
. "$MTA_LIB/sinks.sh"

PF_DIR=		# instance directory
PF_PORT=	# smtpd port on 127.0.0.1
PF_PID=		# the master daemon
PF_MASTER=/usr/lib/postfix/sbin/master

# pf_setup DIR PORT [HOSTNAME]: write the configuration, create the queue.
pf_setup() {
	local dir=$1 port=$2 host=${3:-mta.bench.test}
	mta_require postconf postfix postqueue postsuper sendmail unshare
	[ -x "$PF_MASTER" ] || mta_die "prerequisite missing: $PF_MASTER"
	PF_DIR=$dir
	PF_PORT=$port
	mkdir -p "$dir/etc" "$dir/spool" "$dir/data" "$dir/local" || return 1
	# Postfix refuses group- or other-writable config dirs; its daemons
	# run as postfix and nobody and must reach the queue and local/.
	chmod 755 "$dir" "$dir/etc"
	chmod a+x "$(dirname "$dir")"
	chown -R postfix:postfix "$dir/data"
	chown nobody "$dir/local"
	: > "$dir/maillog"
	sed -e "s|@PF@|$dir|g" -e "s|@HOST@|$host|g" -e "s|@PORT@|$port|g" \
		"$MTA_LIB/mta/postfix-main.cf.in" > "$dir/etc/main.cf"
	sed -e "s|@PF@|$dir|g" -e "s|@SMTPD@|127.0.0.1:$port|g" \
		"$MTA_LIB/mta/postfix-master.cf.in" > "$dir/etc/master.cf"
	install -m 755 "$MTA_LIB/mta/local-deliver.sh" "$dir/local-deliver"
	pf_write_namespace_files "$dir"
	# "postfix check" creates the queue directories with the right
	# owners. PITFALL: without syslog or a tty it fails silently, so it
	# runs under script(1) to capture what it says.
	if ! script -qec "postfix -c $dir/etc check" /dev/null > "$dir/check.log" 2>&1; then
		cat "$dir/check.log" >&2
		return 1
	fi
}

# pf_write_namespace_files DIR: the resolv.conf and hosts the instance sees.
pf_write_namespace_files() {
	local dir=$1
	mta_write_resolv_conf "$dir"
	printf '127.0.0.1 localhost %s\n::1 localhost ip6-localhost\n' "$(hostname)" > "$dir/hosts"
}

# pf_conf 'name = value' ...: edit main.cf (pf_reload to apply at run time).
pf_conf() {
	postconf -c "$PF_DIR/etc" -e "$@"
}

# pf_start: run the master daemon; returns when smtpd accepts connections.
pf_start() {
	[ -z "$PF_PID" ] || { echo "pf_start: already running" >&2; return 1; }
	# unshare and sh exec into master, so $! is the master's PID. Not -d:
	# the master must lead its own process group, which is how it stops
	# its children on SIGTERM. It stays in the foreground (no -w).
	# shellcheck disable=SC2016 # expanded by the inner sh, from its arguments
	unshare --mount --propagation private sh -c '
		mount --bind "$1/resolv.conf" /etc/resolv.conf &&
		mount --bind "$1/hosts" /etc/hosts &&
		exec "$2" -c "$1/etc" -s' pf-ns "$PF_DIR" "$PF_MASTER" \
		>> "$PF_DIR/master.log" 2>&1 < /dev/null &
	PF_PID=$!
	mta_wait_smtpd "pf_start: smtpd" "$PF_PORT" pf_stop "$PF_DIR/master.log" "$PF_DIR/maillog"
}

# pf_stop: SIGTERM to the master (it passes it on to its children).
pf_stop() {
	mta_stop_group "$PF_PID" "postfix master"
	PF_PID=
}

# pf_reload: re-read main.cf and master.cf (SIGHUP to the master).
pf_reload() {
	kill -HUP "$PF_PID"
}

# pf_submit FROM TO [SUBJECT]: inject through postdrop/pickup, bypassing
# smtpd's RCPT checks (how a message gets queued for a domain smtpd would
# answer 451 for).
pf_submit() {
	local from=$1 to=$2 subject=${3:-mxpath bench}
	printf 'From: <%s>\nTo: <%s>\nSubject: %s\n\nbench message\n' "$from" "$to" "$subject" |
		sendmail -C "$PF_DIR/etc" -i -f "$from" -- "$to"
}

# pf_log_count ERE: maillog lines matching ERE.
pf_log_count() { mta_log_count "$PF_DIR/maillog" "$1"; }

# pf_wait_log N ERE TIMEOUT: until the maillog has N lines matching ERE.
pf_wait_log() { mta_wait_log "$PF_DIR/maillog" "$@"; }

# pf_queue_count: messages in the queue (active, incoming, deferred, hold).
pf_queue_count() {
	local n
	n=$(find "$PF_DIR/spool/incoming" "$PF_DIR/spool/active" "$PF_DIR/spool/deferred" \
		"$PF_DIR/spool/hold" "$PF_DIR/spool/maildrop" -type f 2>/dev/null | wc -l)
	echo "$n"
}

pf_wait_queue_empty() {
	mta_poll "$1" _pf_queue_is_empty
}
_pf_queue_is_empty() { (( $(pf_queue_count) == 0 )); }

# pf_flush: retry every deferred message now.
pf_flush() {
	postqueue -c "$PF_DIR/etc" -f
}

# pf_purge: delete everything queued (between scenarios).
pf_purge() {
	postsuper -c "$PF_DIR/etc" -d ALL > /dev/null 2>&1
}

# pf_local_count [ERE]: messages the "local" service stored (for
# recipients matching ERE if given).
pf_local_count() { mta_local_count "$PF_DIR/local" "${1:-}"; }
