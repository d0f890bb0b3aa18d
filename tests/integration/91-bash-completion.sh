#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 91-bash-completion - contrib/bash-completion/mxpath completes mxpath's
# subcommands and each one's options, mxpathd's options, and file names
# after -c/-p; plain bash (the file sourced, the completion function driven
# through COMP_WORDS/COMP_CWORD as bash does on TAB) and through the
# bash-completion package's loader from where `make install` puts it.
set -u
. "$(dirname "$0")/../lib/tap.sh"
require bash make
[ -f /usr/share/bash-completion/bash_completion ] ||
	{ fail "prerequisite missing: package bash-completion"; finish; exit 1; }
case $BUILD in /*) BIN=$BUILD ;; *) BIN=$MXPATH_ROOT/$BUILD ;; esac
T=$(mktemp -d /tmp/mxpath-compl.XXXXXX)
trap 'rm -rf "$T"' EXIT
touch "$T/mxpath.conf" "$T/mxpath-other.conf" "$T/pidfile"

# complete [INIT] WORD...: what the completion offers for the command line
# WORD... (the last word is the one being completed), sorted, one per line.
# INIT: the shell code that loads the completion (default: source the file).
COMPLETION=$MXPATH_ROOT/contrib/bash-completion/mxpath
complete_words() {
	PATH=$BIN:$PATH bash -c '
		eval "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		fn=$(complete -p "$1" 2>/dev/null | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		[ -n "$fn" ] || { echo "no completion for $1" >&2; exit 1; }
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort' complete "${INIT:-. $COMPLETION}" "$@"
}
expect() {
	local desc=$1 want=$2 got
	shift 2
	got=$(complete_words "$@" 2>&1 | paste -sd' ')
	check "$desc: [$got]" test "$got" = "$want"
}

expect "mxpath <TAB>: its subcommands and --help/--version" \
	"--help --version check reload route stats" mxpath ''
expect "mxpath r<TAB>" "reload route" mxpath r
expect "mxpath rel<TAB>" "reload" mxpath rel
expect "mxpath reload -<TAB>" "--help --socket -c" mxpath reload -
expect "mxpath route -<TAB>: route's options" \
	"--daemon --dns --help --json --no-auto-self --self --self-address --socket -c" mxpath route -
expect "mxpath route --s<TAB>" "--self --self-address --socket" mxpath route --s
expect "mxpath stats -<TAB>: stats' options, not route's" "--help --socket -c" mxpath stats -
expect "mxpath check -<TAB>" "--help -c" mxpath check -
expect "mxpath check -c FILE<TAB>: file names" "$T/mxpath-other.conf $T/mxpath.conf" \
	mxpath check -c "$T/mxpath"
expect "mxpath route --dns <TAB>: no guess for an address list" "" mxpath route --dns ''
expect "mxpath route user@<TAB>: nothing (addresses are the user's)" "" mxpath route user@
expect "mxpathd -<TAB>: its options" "--help --version -L -V -c -f -h -p -t" mxpathd -
expect "mxpathd -f -p FILE<TAB>: file names" "$T/pidfile" mxpathd -f -p "$T/pid"
expect "mxpathd -L FILE<TAB>: file names" "$T/pidfile" mxpathd -L "$T/pid"

# Installed by make install where bash-completion's loader finds it.
make -s -C "$MXPATH_ROOT" install BUILD="$BUILD" DESTDIR="$T/root" PREFIX=/usr > "$T/install.log" 2>&1
check_exit "make install DESTDIR=… PREFIX=/usr" $? "$T/install.log"
check "... puts the completion in /usr/share/bash-completion/completions" \
	test -f "$T/root/usr/share/bash-completion/completions/mxpath" -a \
	-L "$T/root/usr/share/bash-completion/completions/mxpathd"
check "... and the unit and tmpfiles.d entry" test -f "$T/root/lib/systemd/system/mxpathd.service" \
	-a -f "$T/root/usr/lib/tmpfiles.d/mxpath.conf"
LOADER=". /usr/share/bash-completion/bash_completion; _completion_loader mxpath; _completion_loader mxpathd"
INIT="XDG_DATA_DIRS=$T/root/usr/share; $LOADER" \
	expect "bash-completion's loader, from the installed files: mxpath <TAB>" \
	"--help --version check reload route stats" mxpath ''
INIT="XDG_DATA_DIRS=$T/root/usr/share; $LOADER" \
	expect "... mxpathd -<TAB> (through the mxpathd link)" "--help --version -L -V -c -f -h -p -t" mxpathd -

finish
