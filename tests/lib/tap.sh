# tap.sh - minimal test reporting for integration scripts (sourced)
#   pass DESC / fail DESC         record a result
#   check DESC CMD...             run CMD, pass if it exits 0
#   finish                        print the tally, exit 1 on any failure
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
finish() {
	echo "# $(basename "$0"): $TAP_PASS passed, $TAP_FAIL failed"
	[ "$TAP_FAIL" -eq 0 ]
}
