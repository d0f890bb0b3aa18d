#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 30-daemon-start - mxpathd's life cycle: -t on good and bad files, start and
# stop by PID with the pid file and the sockets created and removed, socket
# owner/group/mode, a stale socket replaced, a live one or a regular file
# left alone, detaching (the parent returns once the child serves), one
# daemon per pid file, no door means no start, a missing socket or pid
# file directory created (0750, the daemon's user), -t refusing what a start
# refuses.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$MXPATH_ROOT/tests/lib/daemon.sh"
trap mxpathd_cleanup EXIT

# A route that needs no DNS: address literals (TEST-NET-2/3, never connected to).
ROUTE=$(mxpathd_literal_route)

mode_of() { stat -c '%a' "$1"; }
owner_of() { stat -c '%U:%G' "$1"; }

# ---- -t ----
D=$(mxpathd_dir check)
mxpathd_conf check "$ROUTE"
mxpathd_run check -t -c "$D/mxpath.conf"
check "-t accepts a good file (exit 0)" test $? -eq 0
check "-t says the file is OK" grep -q "^$D/mxpath.conf: configuration OK" "$D/out"

printf 'user = "root";\nsocketmap = { socket = "unix:/tmp/x.sock" };\nroutes = ( oops );\n' \
	> "$D/syntax.conf"
mxpathd_run check -t -c "$D/syntax.conf"
check "-t refuses a syntax error with 78" test $? -eq 78
check "-t names FILE:LINE of the syntax error" grep -q "^$D/syntax.conf:3: " "$D/out"

printf 'user = "root";\n\nsocketmap = { socket = "unix:/tmp/x.sock"; colour = "blue"; };\n' \
	> "$D/unknown.conf"
mxpathd_run check -t -c "$D/unknown.conf"
check "-t refuses an unknown key with 78" test $? -eq 78
check "-t names FILE:LINE and the key" grep -q "^$D/unknown.conf:3: .*colour" "$D/out"

mxpathd_run check -t -c "$D/missing.conf"
check "-t refuses a missing file with 78" test $? -eq 78
check "-t says the file cannot be opened" grep -q "^$D/missing.conf: cannot open" "$D/out"
mxpathd_run check -f -c "$D/missing.conf"
check "a start without its configuration file: refused with 78" test $? -eq 78
check "... saying a configuration is required" grep -q 'never starts without a configuration' "$D/out"

(cd "$D" && timeout 10 "$MXPATHD_BIN" -t -c mxpath.conf > "$D/out" 2>&1)
check "-t resolves a relative -c against the working directory" \
	grep -q "^$D/mxpath.conf: configuration OK" "$D/out"

mxpathd_run check --bogus
check "an unknown option is a usage error (64)" test $? -eq 64
mxpathd_run check -h
check "-h prints the usage and documents the signals" grep -q 'SIGUSR1 reloads' "$D/out"

# ---- start, serve, stop ----
D=$(mxpathd_dir life)
mxpathd_conf life "$ROUTE
socketmap = { socket = \"$(mxpathd_spec life socketmap)\"; owner = \"nobody\";
              group = \"nogroup\"; mode = \"0666\"; };"
mxpathd_start life
PID=$(mxpathd_pid life)
check "the pid file holds the daemon's PID" test "$(cat "$D/mxpathd.pid")" = "$PID"
check "the startup line names version, doors and sockets" \
	grep -q "mxpathd [0-9.]* started: config $D/mxpath.conf; socketmap unix:$D/socketmap.sock; milter off; control unix:$D/control.sock" "$D/log"
check "socketmap socket has the configured mode 0666" test "$(mode_of "$D/socketmap.sock")" = 666
check "socketmap socket has the configured owner and group" \
	test "$(owner_of "$D/socketmap.sock")" = nobody:nogroup
check "control socket keeps its default mode 0600" test "$(mode_of "$D/control.sock")" = 600
check "control socket belongs to the daemon's user" test "$(owner_of "$D/control.sock")" = root:root
check "the socketmap door answers" test "$(mxpathd_query life transport u@a.example.test)" = \
	"smtp:[198.51.100.7]"
mxpathd_stop life
check "SIGTERM: exit status 0" test $? -eq 0
check "SIGTERM: socketmap socket removed" test ! -e "$D/socketmap.sock"
check "SIGTERM: control socket removed" test ! -e "$D/control.sock"
check "SIGTERM: pid file removed" test ! -e "$D/mxpathd.pid"
check "SIGTERM: the stop is logged" grep -q 'SIGTERM received: stopping' "$D/log"
check "SIGTERM: the end is logged" grep -q 'mxpathd [0-9.]* stopped' "$D/log"

# Numeric owner and group work on every door, the milter's too (one applier).
D=$(mxpathd_dir numeric)
mxpathd_conf numeric "$ROUTE
milter = { socket = \"$(mxpathd_spec numeric milter)\"; owner = \"65534\";
           group = \"65534\"; mode = \"0660\"; };
socketmap = { socket = \"$(mxpathd_spec numeric socketmap)\"; owner = \"65534\";
              group = \"65534\"; };"
mxpathd_start numeric
check "numeric owner/group: the milter socket belongs to 65534:65534" \
	test "$(stat -c '%u:%g' "$D/milter.sock")" = 65534:65534
check "... with the configured mode 0660" test "$(mode_of "$D/milter.sock")" = 660
check "numeric owner/group: the socketmap socket belongs to 65534:65534" \
	test "$(stat -c '%u:%g' "$D/socketmap.sock")" = 65534:65534
mxpathd_stop numeric
check "... and it stops cleanly" test $? -eq 0
D=$(mxpathd_dir life)

# SIGINT and SIGHUP stop as well (HUP is a stop, as libmilter makes it).
for sig in INT HUP; do
	mxpathd_start life
	mxpathd_stop life "$sig"
	check "SIG$sig: graceful stop, exit 0" test $? -eq 0
	check "SIG$sig: sockets and pid file removed" \
		test ! -e "$D/socketmap.sock" -a ! -e "$D/mxpathd.pid"
done

# ---- stale, foreign and live socket files ----
/usr/bin/python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" \
	"$D/socketmap.sock"
check "a stale socket file is there before the start" test -S "$D/socketmap.sock"
mxpathd_start life
check "a stale socket is replaced: the door answers" \
	test "$(mxpathd_query life transport u@a.example.test)" = "smtp:[198.51.100.7]"
mxpathd_stop life

echo "not a socket" > "$D/socketmap.sock"
mxpathd_run life -f -c "$D/mxpath.conf"
check "a regular file where the socket goes: refused" test $? -ne 0
check "... saying why" grep -q 'exists and is not a socket' "$D/out"
check "... and the file is left alone" grep -q 'not a socket' "$D/socketmap.sock"
mxpathd_run life -t -c "$D/mxpath.conf"
check "-t refuses it too (exit 1), for the same reason" sh -c \
	"test $? -eq 1 && grep -q 'exists and is not a socket' '$D/out'"
rm -f "$D/socketmap.sock"

mxpathd_start life
D2=$(mxpathd_dir second)
mxpathd_conf second "$ROUTE
socketmap = { socket = \"$(mxpathd_spec life socketmap)\"; };"
mxpathd_run second -f -c "$D2/mxpath.conf"
check "a socket another daemon listens on: refused" test $? -ne 0
check "... saying so" grep -q 'another process is listening on it' "$D2/out"
mxpathd_run life -t -c "$D/mxpath.conf"
check "-t accepts the configuration of the running daemon (its live socket is no error)" test $? -eq 0
check "... and the first daemon still answers" \
	test "$(mxpathd_query life transport u@a.example.test)" = "smtp:[198.51.100.7]"

# ---- one daemon per pid file ----
mxpathd_conf second "$ROUTE"
mxpathd_run second -f -c "$D2/mxpath.conf" -p "$D/mxpathd.pid"
check "a pid file held by a running daemon: refused" test $? -ne 0
check "... naming the holder" grep -q "held by a running mxpathd (pid $(mxpathd_pid life))" "$D2/out"
check "... leaving no socket behind" test ! -e "$D2/socketmap.sock"
check "... and the pid file intact" test "$(cat "$D/mxpathd.pid")" = "$(mxpathd_pid life)"
mxpathd_stop life

# ---- detaching ----
D=$(mxpathd_dir detach)
mxpathd_conf detach "$ROUTE
pidfile = \"$D/mxpathd.pid\";"
timeout 10 "$MXPATHD_BIN" -c "$D/mxpath.conf" > "$D/out" 2>&1
check "without -f the starting process exits 0 once the daemon serves" test $? -eq 0
PID=$(cat "$D/mxpathd.pid" 2>/dev/null)
check "the configuration's pidfile names the detached daemon" kill -0 "$PID"
check "it leads its own session" test "$(ps -o sid= -p "$PID" | tr -d ' ')" = "$PID"
check "its stdin, stdout and stderr are /dev/null" test \
	"$(readlink /proc/"$PID"/fd/0 /proc/"$PID"/fd/1 /proc/"$PID"/fd/2 | sort -u)" = /dev/null
check "its working directory is /" test "$(readlink /proc/"$PID"/cwd)" = /
check "it is already serving" \
	test "$(mxpathd_query detach transport u@a.example.test)" = "smtp:[198.51.100.7]"
kill -TERM "$PID"
for i in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
check "the detached daemon stops on SIGTERM" sh -c "! kill -0 $PID 2>/dev/null"
check "... and removes its pid file and sockets" \
	test ! -e "$D/mxpathd.pid" -a ! -e "$D/socketmap.sock"

mxpathd_conf detach "$ROUTE
socketmap = { socket = \"unix:/nonexistent-dir/sub/s.sock\"; };"
timeout 10 "$MXPATHD_BIN" -c "$D/mxpath.conf" > "$D/out" 2>&1
check "without -f a failed start exits non-zero" test $? -ne 0
check "... with the reason on stderr" grep -q 'socketmap.socket: directory /nonexistent-dir/sub: No such file or directory, and it cannot be created in /nonexistent-dir' "$D/out"
check "... and nothing created" test ! -e /nonexistent-dir
timeout 10 "$MXPATHD_BIN" -t -c "$D/mxpath.conf" > "$D/out" 2>&1
check "-t refuses the same directory, with the exit code of the start (1)" test $? -eq 1
check "... and the same reason" grep -q 'socketmap.socket: directory /nonexistent-dir/sub: No such' "$D/out"

# ---- a missing runtime directory is created (no systemd, no tmpfiles) ----
R=$(mxpathd_dir rundir)
RUN=$R/run/mxpath
mkdir -p "$R/run"
mxpathd_conf rundir "$ROUTE
user = \"nobody\";
group = \"nogroup\";
socketmap = { socket = \"unix:$RUN/socketmap.sock\"; };
control = { socket = \"unix:$RUN/control.sock\"; };
pidfile = \"$R/pid/mxpathd.pid\";"
mxpathd_run rundir -t -c "$R/mxpath.conf"
check "-t accepts missing socket and pid file directories it can create (exit 0)" test $? -eq 0
check "... and creates nothing" test ! -e "$RUN" -a ! -e "$R/pid"
mxpathd_start rundir -p "$R/pid/mxpathd.pid"
check "the start created the socket directory: nobody:nogroup, mode 750" \
	test "$(owner_of "$RUN") $(mode_of "$RUN")" = "nobody:nogroup 750"
check "... and the pid file's directory too" \
	test "$(owner_of "$R/pid") $(mode_of "$R/pid")" = "nobody:nogroup 750"
check "... and logged it" grep -q "created directory $RUN (nobody:nogroup, mode 0750) for socketmap.socket" "$R/log"
check "the daemon serves from it" test "$(postmap -c "$MXPATHD_WORK/postmap" -q u@a.example.test \
	"socketmap:unix:$RUN/socketmap.sock:transport")" = "smtp:[198.51.100.7]"
mxpathd_stop rundir
check "after dropping root it still removed its sockets and pid file there" \
	test -z "$(ls -A "$RUN")" -a -z "$(ls -A "$R/pid")"
chmod 0777 "$RUN"
mxpathd_run rundir -t -c "$R/mxpath.conf"
check "-t refuses a socket directory writable by others (exit 1)" test $? -eq 1
check "... saying why" grep -q "directory $RUN is writable by others" "$R/out"

# ---- nothing to serve ----
printf 'user = "root";\ngroup = "root";\n' > "$D/empty.conf"
mxpathd_run detach -f -c "$D/empty.conf"
check "no door configured: refused with 78" test $? -eq 78
check "... saying there is nothing to serve" grep -q 'nothing to serve' "$D/out"
mxpathd_run detach -t -c "$D/empty.conf"
check "-t refuses it as well, with 78" test $? -eq 78
check "... for the same reason" grep -q 'nothing to serve' "$D/out"
printf 'user = "no-such-user-mxpath";\nsocketmap = { socket = "unix:%s/s.sock"; };\n' "$D" > "$D/nouser.conf"
mxpathd_run detach -t -c "$D/nouser.conf"
check "-t refuses a user that does not exist, with 78" test $? -eq 78
check "... naming it" grep -q 'user no-such-user-mxpath: no such user' "$D/out"

finish
