#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 30-daemon-privileges - mxpathd gives up root for good (uid, gid, groups,
# capabilities all gone), never stays root unless user = "root", and refuses
# files and directories that others could tamper with: a configuration
# writable by its group or by others or owned by someone else, the same of
# any file it @includes, a configuration or socket directory writable by
# others (unless sticky).
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap mxpathd_cleanup EXIT

ROUTE=$(mxpathd_literal_route)

# One line of /proc/PID/status without its name: "65534<TAB>65534<TAB>...".
status_field() { grep "^$2:" "/proc/$1/status" | cut -f 2-; }

# ---- a real unprivileged user ----
D=$(mxpathd_dir drop)
# The socket directory belongs to the daemon's user, as /run/mxpath would.
chown nobody:nogroup "$D"
mxpathd_conf drop "$ROUTE
user = \"nobody\";
group = \"nogroup\";"
# LeakSanitizer cannot inspect a process that changed its uid (it is no
# longer dumpable); the other scripts check this binary for leaks.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 mxpathd_start drop
PID=$(mxpathd_pid drop)
check "Uid: real, effective, saved, fs all 65534" test "$(status_field "$PID" Uid)" = \
	"$(printf '65534\t65534\t65534\t65534')"
check "Gid: real, effective, saved, fs all 65534" test "$(status_field "$PID" Gid)" = \
	"$(printf '65534\t65534\t65534\t65534')"
check "supplementary groups: nogroup only" test "$(status_field "$PID" Groups | tr -d ' ')" = 65534
check "no effective capabilities (CapEff 0)" test "$(status_field "$PID" CapEff)" = 0000000000000000
check "no permitted capabilities (CapPrm 0)" test "$(status_field "$PID" CapPrm)" = 0000000000000000
for t in /proc/"$PID"/task/*; do
	check "thread $(basename "$t") runs as 65534 too" \
		test "$(awk '$1 == "Uid:" { print $2 $3 $4 $5 }' "$t/status")" = 65534655346553465534
done
check "its sockets belong to nobody:nogroup" \
	test "$(stat -c %U:%G "$D/socketmap.sock" "$D/control.sock" | sort -u)" = nobody:nogroup
check "the pid file was written (as root, before the drop)" test "$(cat "$D/mxpathd.pid")" = "$PID"
check "it serves as nobody" \
	test "$(mxpathd_query drop transport u@a.example.test)" = "smtp:[198.51.100.7]"
check "it reloads as nobody (the file is readable)" mxpathd_reload drop
mxpathd_stop drop
check "it stops cleanly (exit 0)" test $? -eq 0
check "it removed its sockets (its own directory)" \
	test ! -e "$D/socketmap.sock" -a ! -e "$D/control.sock"
check "it removed its pid file" test ! -e "$D/mxpathd.pid"

# ---- never root by accident ----
D=$(mxpathd_dir root)
mxpathd_conf root "$ROUTE
user = \"0\";"
mxpathd_run root -f -c "$D/mxpath.conf"
check "uid 0 under another name than \"root\": refused with 78" test $? -eq 78
check "... saying why" grep -q 'user 0 has uid 0: refusing to run as root unless user = "root"' "$D/out"
check "... before opening anything" test ! -e "$D/socketmap.sock"

mxpathd_conf root "$ROUTE
user = \"nobody\";"
mxpathd_run root -f -c "$D/mxpath.conf"
check "an unprivileged user with root's group: refused with 78" test $? -eq 78
check "... saying why" grep -q 'group root has gid 0' "$D/out"

mxpathd_conf root "$ROUTE
user = \"no-such-user-mxpath\";
group = \"nogroup\";"
mxpathd_run root -f -c "$D/mxpath.conf"
check "an unknown user: refused with 78" test $? -eq 78
check "... naming it" grep -q 'user no-such-user-mxpath: no such user' "$D/out"

mxpathd_conf root "$ROUTE"
mxpathd_start root
check "user = \"root\" is the one way to stay root" \
	test "$(status_field "$(mxpathd_pid root)" Uid | cut -f1)" = 0
check "... and it says so in the log" grep -q 'running as root (user = "root"' "$D/log"
mxpathd_stop root

# ---- files others could change ----
D=$(mxpathd_dir files)
mxpathd_conf files "$ROUTE"
chmod 0666 "$D/mxpath.conf"
mxpathd_run files -f -c "$D/mxpath.conf"
check "a world-writable configuration: refused with 78" test $? -eq 78
check "... saying why" grep -q "$D/mxpath.conf: writable by others (mode 0666): refusing it" "$D/out"
check "... before opening a socket" test ! -e "$D/socketmap.sock"
mxpathd_run files -t -c "$D/mxpath.conf"
check "-t refuses it too" test $? -eq 78

chmod 0664 "$D/mxpath.conf"
mxpathd_run files -f -c "$D/mxpath.conf"
check "a group-writable configuration: refused with 78" test $? -eq 78
check "... saying why" grep -q 'writable by its group (mode 0664)' "$D/out"

chmod 0644 "$D/mxpath.conf"
chown nobody "$D/mxpath.conf"
mxpathd_run files -f -c "$D/mxpath.conf"
check "a configuration owned by another user: refused with 78" test $? -eq 78
check "... saying why" grep -q "owned by uid 65534" "$D/out"
chown root "$D/mxpath.conf"

# An @include is judged like the file itself: a 0600 file including a 0666 one.
mxpathd_conf files "$ROUTE
@include \"extra.conf\""
chmod 0600 "$D/mxpath.conf"
printf 'pidfile = "%s/other.pid";\n' "$D" >"$D/extra.conf"
chmod 0666 "$D/extra.conf"
mxpathd_run files -t -c "$D/mxpath.conf"
check "-t: a world-writable @include file is refused with 78" test $? -eq 78
LINE=$(grep -n '^@include' "$D/mxpath.conf" | cut -d: -f1)
check "... naming FILE:LINE of the @include and why" grep -qxF \
	"$D/mxpath.conf:$LINE: @include \"extra.conf\": $D/extra.conf: writable by others (mode 0666): refusing it; chmod go-w $D/extra.conf" \
	"$D/out"
mxpathd_run files -f -c "$D/mxpath.conf"
check "a start with it: refused with 78, before opening a socket" \
	test $? -eq 78 -a ! -e "$D/socketmap.sock" -a ! -e "$D/other.pid"
chmod 0644 "$D/extra.conf"
mxpathd_run files -t -c "$D/mxpath.conf"
check "the same file at 0644: -t passes" test $? -eq 0

mkdir -m 0777 "$D/conf.d"
chmod 0777 "$D/conf.d"
mxpathd_conf files "$ROUTE
@include \"conf.d/extra.conf\""
cp "$D/extra.conf" "$D/conf.d/extra.conf"
mxpathd_run files -t -c "$D/mxpath.conf"
check "an @include in a directory writable by others (not sticky): refused with 78" \
	test $? -eq 78
check "... saying why" grep -qF \
	"@include \"conf.d/extra.conf\": $D/conf.d/extra.conf: directory $D/conf.d is writable by others (mode 0777), not sticky" \
	"$D/out"
cp "$D/mxpath.conf" "$D/conf.d/mxpath.conf"
mxpathd_run files -t -c "$D/conf.d/mxpath.conf"
check "a configuration in such a directory: refused with 78" test $? -eq 78
check "... saying why" grep -qF \
	"$D/conf.d/mxpath.conf: directory $D/conf.d is writable by others (mode 0777), not sticky" \
	"$D/out"
chmod 1777 "$D/conf.d"
mxpathd_run files -t -c "$D/mxpath.conf"
check "the directory made sticky (like /tmp): accepted" test $? -eq 0
mxpathd_conf files "$ROUTE"

mkdir -m 0777 "$D/open"
chmod 0777 "$D/open"
mxpathd_conf files "$ROUTE
socketmap = { socket = \"unix:$D/open/socketmap.sock\"; };"
mxpathd_run files -f -c "$D/mxpath.conf"
check "a socket directory writable by others: refused" test $? -ne 0
check "... saying why" grep -q "socketmap.socket: directory $D/open is writable by others" "$D/out"
check "... and no socket was made there" test ! -e "$D/open/socketmap.sock"

chmod 1777 "$D/open"
mxpathd_start files
check "a sticky world-writable directory (like /tmp) is accepted" test -S "$D/open/socketmap.sock"
mxpathd_stop files

finish
