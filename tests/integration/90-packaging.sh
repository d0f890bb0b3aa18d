#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 90-packaging - the install story: man pages lint clean, the systemd unit
# verifies, the .deb builds offline, installs, checks its config and
# removes cleanly, the RPM spec builds, the contrib examples pass
# `mxpath check`.
set -u
. "$(dirname "$0")/../lib/tap.sh"

ROOT=$MXPATH_ROOT
case $BUILD in /*) BIN=$BUILD ;; *) BIN=$ROOT/$BUILD ;; esac
WORK=$(mktemp -d /tmp/mxpath-pkg.XXXXXX)
trap 'dpkg -P mxpath >/dev/null 2>&1; rm -rf "$WORK"' EXIT

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

# Debian package, built from a copy of the tree with packaging/debian as debian/.
SRC=$WORK/mxpath-0.1.0
mkdir -p "$SRC"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$SRC")
cp -rL "$ROOT/packaging/debian" "$SRC/debian"
if (cd "$SRC" && env -u BUILD -u MAKEFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b > "$WORK/deb.log" 2>&1); then
	pass "dpkg-buildpackage builds the .deb"
else
	fail "dpkg-buildpackage builds the .deb"; tail -n 30 "$WORK/deb.log"
fi
DEB=$(ls "$WORK"/mxpath_*.deb 2>/dev/null | head -n 1)
check "the .deb holds the binaries, unit, man pages, conffile" sh -c \
	"dpkg-deb -c '$DEB' | grep -q './usr/sbin/mxpathd' &&
	 dpkg-deb -c '$DEB' | grep -q './usr/bin/mxpath' &&
	 dpkg-deb -c '$DEB' | grep -q 'mxpathd.service' &&
	 dpkg-deb -c '$DEB' | grep -q 'man8/mxpathd.8' &&
	 dpkg-deb -I '$DEB' conffiles | grep -q '^/etc/mxpath/mxpath.conf'"
check "dpkg -i installs it" dpkg -i "$DEB"
check "the system user mxpath exists" getent passwd mxpath
check "installed mxpathd -t accepts the packaged config" /usr/sbin/mxpathd -t -c /etc/mxpath/mxpath.conf
check "installed mxpath check accepts it" /usr/bin/mxpath check -c /etc/mxpath/mxpath.conf
UNIT=$(dpkg -L mxpath | grep 'mxpathd.service$' | head -n 1)
out=$(systemd-analyze verify "$UNIT" 2>&1)
check "systemd-analyze verify mxpathd.service" test -z "$out"
[ -z "$out" ] || echo "$out"
check "dpkg -r removes it" dpkg -r mxpath
check "binaries gone after removal" test ! -e /usr/sbin/mxpathd -a ! -e /usr/bin/mxpath
check "dpkg -P purges the conffile" sh -c "dpkg -P mxpath >/dev/null && test ! -e /etc/mxpath/mxpath.conf"

# RPM: rpmbuild from a source tarball (build dependencies have Fedora names: --nodeps).
mkdir -p "$WORK/rpm/SOURCES"
tar -C "$WORK" --exclude=debian -czf "$WORK/rpm/SOURCES/mxpath-0.1.0.tar.gz" mxpath-0.1.0
if rpmbuild --define "_topdir $WORK/rpm" --nodeps -bb "$ROOT/packaging/rpm/mxpath.spec" \
	> "$WORK/rpm.log" 2>&1; then
	pass "rpmbuild builds the RPM"
else
	fail "rpmbuild builds the RPM"; tail -n 30 "$WORK/rpm.log"
fi
check "the RPM holds mxpathd" sh -c "rpm -qlp $WORK/rpm/RPMS/*/mxpath-0.1.0-*.rpm 2>/dev/null | grep -q /usr/sbin/mxpathd"

finish
