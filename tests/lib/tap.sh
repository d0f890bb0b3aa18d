# SPDX-License-Identifier: BSD-2-Clause
# tap.sh - minimal test reporting for integration scripts (sourced)
#   pass DESC / fail DESC         record a result
#   check DESC CMD...             run CMD, pass if it exits 0
#   check_exit DESC RC [LOG]      pass if RC (an exit status) is 0, else fail
#                                 saying RC, with the last lines of LOG
#   require CMD...                each CMD must be installed (a missing
#                                 prerequisite is a failure: ends the script)
#   finish                        print the tally, exit 1 on any failure

# shellcheck shell=bash
TAP_PASS=0
TAP_FAIL=0
BUILD=${BUILD:-build}
MXPATH_ROOT=${MXPATH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

pass() { TAP_PASS=$((TAP_PASS + 1)); echo "ok - $*"; }
fail() { TAP_FAIL=$((TAP_FAIL + 1)); echo "not ok - $*"; }
check() {
	local desc=$1; shift
	if "$@" > /tmp/mxpath-check.$$ 2>&1; then pass "$desc"; else
		fail "$desc"; sed 's/^/    # /' /tmp/mxpath-check.$$ | tail -n 20; fi
	rm -f /tmp/mxpath-check.$$
}
check_exit() {
	if [ "$2" -eq 0 ]; then pass "$1"; return; fi
	fail "$1 (it exited $2)"
	[ -z "${3:-}" ] || tail -n 20 "$3" | sed 's/^/    # stderr: /'
}
require() {
	local cmd
	for cmd in "$@"; do
		command -v "$cmd" > /dev/null && continue
		fail "prerequisite missing: $cmd"
		finish
		exit 1
	done
}
finish() {
	echo "# $(basename "$0"): $TAP_PASS passed, $TAP_FAIL failed"
	[ "$TAP_FAIL" -eq 0 ]
}
