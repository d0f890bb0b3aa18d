#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 95-bench-smoke - the performance suite still runs: `run-bench --smoke`
# measures every row of `make bench` at a reduced size (no verdicts) and
# must exit 0 and print the whole table, each row with a figure or with
# the reason it could not be measured yet ("not measured: ..."). A row
# that failed (a bench crashed, answered wrongly, or its servers did not
# start) fails this test.
set -u
. "$(dirname "$0")/../lib/tap.sh"

OUT=$(mktemp /tmp/mxpath-bench-smoke.XXXXXX)
ERR=$(mktemp /tmp/mxpath-bench-smoke.XXXXXX)
trap 'rm -f "$OUT" "$ERR"' EXIT

ROWS=("engine" "cold DNS" "coalescing" "socketmap x1" "socketmap x8" "socketmap x64"
	"milter" "Postfix routing" "Postfix routing, null map" "sendmail milter"
	"sendmail routing" "memory" "scale" "scale, all" "prefetch" "cold 1k")

start=$(date +%s)
BUILD=$BUILD "$MXPATH_ROOT/tests/bench/run-bench" --smoke > "$OUT" 2> "$ERR"
rc=$?
echo "# run-bench --smoke took $(( $(date +%s) - start )) s"
sed 's/^/    # /' "$OUT"
if [ $rc -eq 0 ]; then
	pass "run-bench --smoke exits 0"
else
	fail "run-bench --smoke exits 0 (it exited $rc)"
	tail -n 120 "$ERR" | sed 's/^/    # stderr: /'
fi

# row NAME: the table line of that row, cells trimmed, "|"-separated.
row() {
	awk -F'|' -v name="$1" '{ n = $2; gsub(/^ +| +$/, "", n) } n == name { print; exit }' "$OUT"
}

for name in "${ROWS[@]}"; do
	line=$(row "$name")
	if [ -z "$line" ]; then
		fail "row '$name' is in the table"
	elif grep -q '| FAIL: ' <<< "$line"; then
		fail "row '$name': $(sed 's/.*| FAIL: //' <<< "$line")"
	elif grep -q '| not measured: ' <<< "$line"; then
		pass "row '$name' is in the table, $(sed 's/.*| not measured: /not measured: /; s/ |$//' <<< "$line")"
	elif awk -F'|' '{ r = $3; gsub(/ /, "", r); exit !(r ~ /[0-9]/) }' <<< "$line"; then
		pass "row '$name' has a figure:$(awk -F'|' '{ print $3 }' <<< "$line" | sed 's/ *$//')"
	else
		fail "row '$name' has neither a figure nor a reason: $line"
	fi
done
check "the table has no row it should not have" \
	test "$(grep -c '^| ' "$OUT")" -eq $(( ${#ROWS[@]} + 1 ))
finish
