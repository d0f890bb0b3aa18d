#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 90-packaging - the install story: man pages lint clean, the contrib
# examples pass `mxpath check`; the README's Debian block, run verbatim,
# builds and installs a .deb that holds the unit (enabled), the tmpfiles.d
# entry (/run/mxpath made at install), the bash completions (loaded by
# bash-completion); without systemd the daemon makes /run/mxpath itself;
# an upgrade restarts it on the new binary; dpkg -r and dpkg -P with
# the daemon running stop it first and leave
# nothing behind (user, group, directories), quietly; the RPM spec builds.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/readme.sh"

ROOT=$MXPATH_ROOT
case $BUILD in /*) BIN=$BUILD ;; *) BIN=$ROOT/$BUILD ;; esac
WORK=$(mktemp -d /tmp/mxpath-pkg.XXXXXX)
trap 'dpkg -P mxpath >/dev/null 2>&1; rm -rf "$WORK"' EXIT
dpkg -P mxpath > /dev/null 2>&1	# a previous run's leftovers

# Man pages: mandoc's linter at warning level, and man's own groff warnings.
for m in "$ROOT"/packaging/man/*.[0-9]; do
	out=$(mandoc -T lint -W warning "$m" 2>&1)
	check "mandoc lint $(basename "$m")" test -z "$out"
	[ -z "$out" ] || echo "$out"
	out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$m" 2>&1 >/dev/null)
	check "man --warnings $(basename "$m")" test -z "$out"
	[ -z "$out" ] || echo "$out"
done

# The contrib example configurations are valid.
for c in "$ROOT"/contrib/mxpath.conf "$ROOT"/contrib/examples/*.conf; do
	[ -e "$c" ] || continue
	check "mxpath check $(basename "$c")" "$BIN/mxpath" check -c "$c"
done

# Debian package: the README's block, verbatim, in a copy of the tree
# (git's files, as a release tarball has them; the copy keeps symlinks).
SRC=$WORK/mxpath-0.1.0
mkdir -p "$SRC"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp -P --parents -t "$SRC")
readme_block '# build and install the Debian package' > "$WORK/deb.sh"
if (cd "$SRC" && env -u BUILD -u MAKEFLAGS -u MAKELEVEL bash -e "$WORK/deb.sh" > "$WORK/deb.log" 2>&1); then
	pass "the README's block builds and installs the .deb"
else
	fail "the README's block builds and installs the .deb"; tail -n 30 "$WORK/deb.log"
fi
DEB=$(ls "$WORK"/mxpath_*.deb 2>/dev/null | head -n 1)
dpkg-deb -c "$DEB" > "$WORK/contents" 2>&1
for f in ./usr/sbin/mxpathd ./usr/bin/mxpath ./lib/systemd/system/mxpathd.service \
	./usr/lib/tmpfiles.d/mxpath.conf ./usr/share/bash-completion/completions/mxpath \
	./usr/share/man/man8/mxpathd.8.gz ./etc/mxpath/mxpath.conf; do
	check "the .deb holds $f (a file, not a link)" grep -Eq "^-.* $f\$" "$WORK/contents"
done
check "... and the mxpathd completion (a link to mxpath's)" \
	grep -Eq '^l.* ./usr/share/bash-completion/completions/mxpathd -> mxpath$' "$WORK/contents"
check "its prerm stops the unit through systemd where systemd runs (debhelper's snippet)" sh -c \
	"dpkg-deb -I '$DEB' prerm | grep -q 'deb-systemd-invoke stop .*mxpathd.service'"
check "its postinst enables the unit and runs systemd-tmpfiles for mxpath.conf" sh -c \
	"dpkg-deb -I '$DEB' postinst > '$WORK/postinst' && grep -q 'deb-systemd-helper enable .*mxpathd.service' '$WORK/postinst' &&
	 grep -q 'systemd-tmpfiles .*--create mxpath.conf' '$WORK/postinst'"
check "its conffile is /etc/mxpath/mxpath.conf" sh -c "dpkg-deb -I '$DEB' conffiles | grep -q '^/etc/mxpath/mxpath.conf'"
check "dpkg -i installed it" sh -c "dpkg-query -W -f='\${Status}' mxpath | grep -q 'install ok installed'"
check "the system user mxpath exists" getent passwd mxpath
check "postfix is in group mxpath" sh -c "getent group mxpath | cut -d: -f4 | tr , '\n' | grep -qx postfix"
check "the unit is enabled (multi-user.target.wants)" \
	test -L /etc/systemd/system/multi-user.target.wants/mxpathd.service
check "... systemctl is-enabled says so" sh -c "systemctl is-enabled mxpathd 2>&1 | grep -qx enabled"
check "tmpfiles.d made /run/mxpath at install: mxpath:mxpath 0750" \
	test "$(stat -c '%U:%G %a' /run/mxpath 2>&1)" = "mxpath:mxpath 750"
check "installed mxpathd -t accepts the packaged config" /usr/sbin/mxpathd -t -c /etc/mxpath/mxpath.conf
check "installed mxpath check accepts it" /usr/bin/mxpath check -c /etc/mxpath/mxpath.conf
UNIT=$(dpkg -L mxpath | grep 'mxpathd.service$' | head -n 1)
out=$(systemd-analyze verify "$UNIT" 2>&1)
check "systemd-analyze verify mxpathd.service" test -z "$out"
[ -z "$out" ] || echo "$out"
check "bash-completion loads the installed completions" bash -c \
	". /usr/share/bash-completion/bash_completion; _completion_loader mxpath;
	 _completion_loader mxpathd; complete -p mxpath | grep -q '_mxpath mxpath' &&
	 complete -p mxpathd | grep -q '_mxpathd mxpathd'"

# No systemd here (PID 1 is not systemd): the daemon runs as an admin without
# it would start it. It makes /run/mxpath itself when it is missing.
PIDFILE=/run/mxpath/mxpathd.pid
daemon_start() {
	/usr/sbin/mxpathd -c /etc/mxpath/mxpath.conf > "$WORK/start.log" 2>&1 &&
		kill -0 "$(cat "$PIDFILE" 2>/dev/null)" 2>/dev/null
}
rm -rf /run/mxpath
check "without systemd or /run/mxpath, the packaged daemon starts (detached)" daemon_start
check "... having made /run/mxpath: mxpath:mxpath 0750" \
	test "$(stat -c '%U:%G %a' /run/mxpath 2>&1)" = "mxpath:mxpath 750"
PID=$(cat "$PIDFILE" 2>/dev/null)
check "... running as user mxpath" test "$(ps -o user= -p "${PID:-0}" 2>&1)" = mxpath
dpkg -r mxpath > "$WORK/remove.log" 2>&1
check_exit "dpkg -r removes it while the daemon runs" $? "$WORK/remove.log"
check "... quietly" test -z "$(grep -Eiv '^(\(Reading database|Removing mxpath|Processing triggers for man-db)' "$WORK/remove.log")"
check "... having stopped the daemon (prerm, by its pid file)" sh -c "! kill -0 ${PID:-0} 2>/dev/null"
check "... which removed its sockets and pid file" test ! -e /run/mxpath/socketmap.sock -a ! -e "$PIDFILE"
check "binaries gone after removal" test ! -e /usr/sbin/mxpathd -a ! -e /usr/bin/mxpath
check "the configuration stays until purge" test -e /etc/mxpath/mxpath.conf

# Purge while the daemon runs, its milter socket moved into Postfix's queue
# directory as the README's Postfix wiring does.
dpkg -i "$DEB" > "$WORK/install2.log" 2>&1
check_exit "reinstall" $? "$WORK/install2.log"
sed -i 's|"unix:/run/mxpath/milter.sock"|"unix:/var/spool/postfix/mxpath/milter.sock"|' /etc/mxpath/mxpath.conf
check "the daemon runs again, its milter socket in /var/spool/postfix/mxpath" \
	sh -c "$(declare -f daemon_start); PIDFILE=$PIDFILE WORK=$WORK daemon_start && test -S /var/spool/postfix/mxpath/milter.sock"
OLD=$(cat "$PIDFILE" 2>/dev/null)
dpkg -i "$DEB" > "$WORK/upgrade.log" 2>&1
check_exit "dpkg -i over it (an upgrade) with the daemon running" $? "$WORK/upgrade.log"
PID=$(cat "$PIDFILE" 2>/dev/null)
check "... the old daemon stopped (prerm upgrade)" sh -c "! kill -0 ${OLD:-0} 2>/dev/null"
check "... and a new one started on the new binary (postinst)" sh -c \
	"kill -0 ${PID:-0} && test '${PID:-0}' != '${OLD:-0}' && test \"\$(readlink /proc/${PID:-0}/exe)\" = /usr/sbin/mxpathd"
check "... serving its milter socket again" test -S /var/spool/postfix/mxpath/milter.sock
dpkg -P mxpath > "$WORK/purge.log" 2>&1
check_exit "dpkg -P purges it while the daemon runs" $? "$WORK/purge.log"
check "... quietly" test -z "$(grep -Eiv '^(\(Reading database|Removing mxpath|Purging configuration files for mxpath|Processing triggers for man-db)' "$WORK/purge.log")"
[ -z "$(grep -Eiv '^(\(Reading database|Removing mxpath|Purging configuration files for mxpath|Processing triggers for man-db)' "$WORK/purge.log")" ] || cat "$WORK/purge.log"
check "... the daemon stopped" sh -c "! kill -0 ${PID:-0} 2>/dev/null"
check "... the user mxpath removed" sh -c "! getent passwd mxpath"
check "... the group mxpath removed, postfix's membership with it" sh -c "! getent group mxpath && ! id -nG postfix | grep -qw mxpath"
check "... /run/mxpath and /var/spool/postfix/mxpath removed" test ! -e /run/mxpath -a ! -e /var/spool/postfix/mxpath
check "... /etc/mxpath removed" test ! -e /etc/mxpath
check "... the unit no longer enabled" test ! -e /etc/systemd/system/multi-user.target.wants/mxpathd.service

# RPM: rpmbuild from a source tarball (build dependencies have Fedora names: --nodeps).
mkdir -p "$WORK/rpm/SOURCES"
tar -C "$WORK" --exclude=debian -czf "$WORK/rpm/SOURCES/mxpath-0.1.0.tar.gz" mxpath-0.1.0
if rpmbuild --define "_topdir $WORK/rpm" --nodeps -bb "$ROOT/packaging/rpm/mxpath.spec" \
	> "$WORK/rpm.log" 2>&1; then
	pass "rpmbuild builds the RPM"
else
	fail "rpmbuild builds the RPM"; tail -n 30 "$WORK/rpm.log"
fi
rpm -qlp "$WORK"/rpm/RPMS/*/mxpath-0.1.0-*.rpm > "$WORK/rpm.list" 2>&1
for f in /usr/sbin/mxpathd /usr/lib/systemd/system/mxpathd.service /usr/lib/tmpfiles.d/mxpath.conf \
	/usr/share/bash-completion/completions/mxpath /usr/share/bash-completion/completions/mxpathd; do
	check "the RPM holds $f" grep -qx "$f" "$WORK/rpm.list"
done
check "the RPM's %post makes /run/mxpath (tmpfiles) and puts postfix in group mxpath" sh -c \
	"rpm -qp --scripts $WORK/rpm/RPMS/*/mxpath-0.1.0-*.rpm > '$WORK/rpm.scripts' 2>&1 &&
	 grep -q 'systemd-tmpfiles --create mxpath.conf' '$WORK/rpm.scripts' &&
	 grep -q 'usermod -a -G mxpath postfix' '$WORK/rpm.scripts'"

finish
