# SPDX-License-Identifier: BSD-2-Clause
# sendmail.sh - a private sendmail 8.17 instance for the integration tests
#
# Debian's sendmail conflicts with postfix as a package, so it is never
# installed: sendmail-bin, sendmail-cf and libwrap0 are fetched once with
# apt-get download and unpacked with dpkg-deb -x into a stable cache
# ($SM_CACHE), shared by every run. Each test builds its own .cf from
# tests/lib/mta/sendmail.mc.in and runs "sendmail -bD" in the foreground in
# a private mount namespace whose /etc/resolv.conf and /etc/hosts point at
# loopback and whose /dev/log is a syslog-sink.py socket, so the instance
# has a maillog and no lookup leaves the machine. Stopped by PID.
#
# Usage:
#   mta_resolver_start DIR  first (sinks.sh): the resolver it names
#   sm_setup DIR SMTPD_PORT SINK_PORT SOCKET [HOSTNAME]
#       instance in DIR, listener on 127.0.0.1:SMTPD_PORT, exchangers on
#       SINK_PORT, mailertable = socketmap at SOCKET (unix path; "" for
#       none: sendmail then routes by its own MX lookups);
#       SM_MILTER=unix:/path adds an INPUT_MAIL_FILTER before sm_setup
#   sm_start / sm_stop
#   sm_run ARGS...                  this sendmail (in the namespace), e.g. -bp
#   sm_submit FROM TO               local submission, queued only (-odq)
#   sm_log_count ERE / sm_wait_log N ERE TIMEOUT
#   sm_queue_count / sm_wait_queue_empty TIMEOUT / sm_flush
#   sm_local_count [ERE]

# shellcheck shell=bash

MTA_LIB=${MTA_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# shellcheck source=sinks.sh
. "$MTA_LIB/sinks.sh"

SM_CACHE=${SM_CACHE:-/var/cache/mxpath-test/sendmail}
SM_PACKAGES=(sendmail-bin sendmail-cf libwrap0)
SM_DIR=
SM_PORT=	# listener on 127.0.0.1
SM_PID=		# the sendmail daemon
SM_LOG_PID=	# its syslog-sink.py
SM_MILTER=${SM_MILTER:-}

# sm_fetch: the unpacked packages in $SM_CACHE/root (once; locked so two
# runs never unpack at the same time).
sm_fetch() {
	mkdir -p "$SM_CACHE" || return 1
	(
		flock 9
		[ -x "$SM_CACHE/root/usr/libexec/sendmail/sendmail" ] && exit 0
		sm_unpack
	) 9> "$SM_CACHE.lock"
}

# sm_unpack: download and unpack into a fresh directory, then move it in
# place, so a half-done unpack is never mistaken for the cache.
sm_unpack() {
	local work
	work=$(mktemp -d "$SM_CACHE/unpack.XXXXXX") || return 1
	mkdir -p "$work/deb" "$work/root"
	# _apt cannot write into a root-only mktemp dir: open it for the download.
	chmod 755 "$work"
	chown _apt "$work/deb" 2>/dev/null
	if ! (cd "$work/deb" && apt-get download -q "${SM_PACKAGES[@]}") > "$work/download.log" 2>&1; then
		echo "sm_fetch: apt-get download ${SM_PACKAGES[*]} failed:" >&2
		cat "$work/download.log" >&2
		rm -rf "$work"
		return 1
	fi
	local deb
	for deb in "$work"/deb/*.deb; do
		dpkg-deb -x "$deb" "$work/root" || { rm -rf "$work"; return 1; }
	done
	# PITFALL: the binary is setgid mail, so the loader would ignore
	# LD_LIBRARY_PATH (our libwrap) in secure-execution mode.
	chmod g-s "$work/root/usr/libexec/sendmail/sendmail"
	rm -rf "$SM_CACHE/root" "$SM_CACHE/deb"
	mv "$work/root" "$SM_CACHE/root" && mv "$work/deb" "$SM_CACHE/deb"
	rm -rf "$work"
}

# sm_setup DIR SMTPD_PORT SINK_PORT SOCKET [HOSTNAME]: build the .cf.
sm_setup() {
	local dir=$1 port=$2 sink_port=$3 sock=$4 host=${5:-mta-sm.bench.test}
	local cf=$SM_CACHE/root/usr/share/sendmail/cf milter=dnl mailertable=dnl
	mta_require m4 unshare apt-get dpkg-deb flock /usr/bin/python3
	sm_fetch || mta_die "cannot fetch sendmail into $SM_CACHE"
	SM_DIR=$dir
	SM_PORT=$port
	mkdir -p "$dir/mqueue" "$dir/local" "$dir/dev" || return 1
	chmod 755 "$dir"
	chmod a+x "$(dirname "$dir")"
	chmod 700 "$dir/mqueue"
	chown nobody "$dir/local"
	: > "$dir/aliases"
	: > "$dir/statistics"
	: > "$dir/maillog"
	cp "$SM_CACHE/root/etc/mail/helpfile" "$dir/helpfile"
	install -m 755 "$MTA_LIB/mta/local-deliver.sh" "$dir/local-deliver"
	# "dns" in hosts: without it sendmail never looks up MX records
	printf 'hosts files dns\naliases files\n' > "$dir/service.switch"
	[ -n "$sock" ] && mailertable="FEATURE(\`mailertable', \`socket unix:$sock')dnl"
	[ -n "$SM_MILTER" ] && milter="INPUT_MAIL_FILTER(\`mxpath', \`S=$SM_MILTER, F=T, T=C:5s;S:10s;R:10s;E:30s')dnl"
	sed -e "s|@SMD@|$dir|g" -e "s|@CF@|$cf|g" -e "s|@HOST@|$host|g" \
		-e "s|@MAILERTABLE@|$mailertable|" -e "s|@SMTPD_PORT@|$port|g" -e "s|@PORT@|$sink_port|g" \
		-e "s|@MILTER@|$milter|" "$MTA_LIB/mta/sendmail.mc.in" > "$dir/sendmail.mc"
	m4 "$dir/sendmail.mc" > "$dir/sendmail.cf" 2> "$dir/m4.log" || {
		cat "$dir/m4.log" >&2
		return 1
	}
	sm_write_namespace_files "$dir" "$host"
}

# sm_write_namespace_files DIR HOST: resolv.conf, hosts (sendmail wants
# its own names resolvable) and the /dev the instance sees.
sm_write_namespace_files() {
	local dir=$1 host=$2 n
	mta_write_resolv_conf "$dir"
	printf '127.0.0.1 localhost %s %s\n::1 localhost\n' "$(hostname)" "$host" > "$dir/hosts"
	for n in null zero random urandom full; do
		: > "$dir/dev/$n"
	done
}

# The instance's mount namespace: its own resolv.conf and hosts, and a
# /dev holding the real null, zero, random, urandom and full plus the
# syslog sink's socket as /dev/log. Run as: sh -c "$SM_NS" sm-ns DIR ROOT
# CMD... (the sh execs CMD, so CMD keeps the PID).
# shellcheck disable=SC2016 # expanded by that sh, from its arguments
SM_NS='
	d=$1 root=$2; shift 2
	for n in null zero random urandom full; do
		mount --bind /dev/$n "$d/dev/$n" || exit 1
	done
	mount --rbind "$d/dev" /dev &&
	mount --bind "$d/resolv.conf" /etc/resolv.conf &&
	mount --bind "$d/hosts" /etc/hosts || exit 1
	export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu"
	exec "$@"'

# sm_run ARGS...: this instance's sendmail binary with its .cf, in the
# namespace (a client: -bp, -q, a submission).
sm_run() {
	unshare --mount --propagation private sh -c "$SM_NS" sm-ns "$SM_DIR" "$SM_CACHE/root" \
		"$SM_CACHE/root/usr/libexec/sendmail/sendmail" -C "$SM_DIR/sendmail.cf" "$@"
}

# sm_start: syslog sink, then the daemon (queue run every 2 s); returns
# when it accepts connections.
sm_start() {
	[ -z "$SM_PID" ] || { echo "sm_start: already running" >&2; return 1; }
	/usr/bin/python3 "$MTA_LIB/mta/syslog-sink.py" "$SM_DIR/dev/log" "$SM_DIR/maillog" \
		> "$SM_DIR/syslog-sink.log" 2>&1 &
	SM_LOG_PID=$!
	mta_poll 5 test -S "$SM_DIR/dev/log" || { echo "sm_start: no syslog socket" >&2; return 1; }
	# Not through sm_run: a function in the background is a subshell, and
	# $! must be the daemon itself (unshare and sh exec into it).
	unshare --mount --propagation private sh -c "$SM_NS" sm-ns "$SM_DIR" "$SM_CACHE/root" \
		"$SM_CACHE/root/usr/libexec/sendmail/sendmail" -C "$SM_DIR/sendmail.cf" -bD -q2s \
		>> "$SM_DIR/sendmail.log" 2>&1 < /dev/null &
	SM_PID=$!
	mta_wait_smtpd "sm_start: sendmail" "$SM_PORT" sm_stop "$SM_DIR/sendmail.log" "$SM_DIR/maillog"
}

sm_stop() {
	mta_stop_group "$SM_PID" "sendmail"
	SM_PID=
	mta_stop_pid "$SM_LOG_PID" "syslog sink"
	SM_LOG_PID=
}

# sm_submit FROM TO [SUBJECT]: queue a message without delivering it now;
# the daemon's queue run picks it up.
sm_submit() {
	local from=$1 to=$2 subject=${3:-mxpath bench}
	printf 'From: <%s>\nTo: <%s>\nSubject: %s\n\nbench message\n' "$from" "$to" "$subject" |
		sm_run -odq -i -f "$from" -- "$to"
}

sm_log_count() { mta_log_count "$SM_DIR/maillog" "$1"; }

sm_wait_log() { mta_wait_log "$SM_DIR/maillog" "$@"; }

# sm_queue_count: messages in the queue (one qf file each).
sm_queue_count() {
	find "$SM_DIR/mqueue" -name 'qf*' -type f 2>/dev/null | wc -l
}

sm_wait_queue_empty() {
	mta_poll "$1" _sm_queue_is_empty
}
_sm_queue_is_empty() { (( $(sm_queue_count) == 0 )); }

# sm_flush: one queue run now, in the foreground.
sm_flush() {
	sm_run -q > /dev/null 2>&1
}

sm_local_count() { mta_local_count "$SM_DIR/local" "${1:-}"; }
