#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 85-fuzz-smoke - the libFuzzer harnesses build, replay their committed
# corpus without a crash (every file once: the regression run) and fuzz
# for a few seconds each without a crash, leak or hang.
#
# Every tests/fuzz/fuzz_*.c is a harness and must have a non-empty
# tests/fuzz/corpus/NAME/. New finds go to a scratch directory, never into
# the committed corpus. The harnesses fuzz in parallel, FUZZ_SECONDS each.
set -u
. "$(dirname "$0")/../lib/tap.sh"

ROOT=$MXPATH_ROOT
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
case $BUILD in
/*) FUZZ_BIN=$BUILD/fuzz ;;
*) FUZZ_BIN=$ROOT/$BUILD/fuzz ;;
esac
WORK=$(mktemp -d /tmp/mxpath-fuzz.XXXXXX)
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

# The harnesses report on stderr; run-tests' ASAN_OPTIONS would send
# their reports to a log file, away from this script's output.
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Shows the end of a log, where libFuzzer puts the crash and its stack.
show() {
	grep -E -A 30 '^==[0-9]+==ERROR|runtime error|^fuzz_[a-z]+: |deadly signal|Timeout' "$1" |
		head -n 40 | sed 's/^/    # /'
}

# A failing input outlives the scratch directory: minimise it, add it to the corpus.
keep_artifacts() {
	local keep f
	keep=$(mktemp -d /tmp/mxpath-fuzz-artifacts.XXXXXX)
	for f in "$WORK/$1".crash-* "$WORK/$1".leak-* "$WORK/$1".timeout-* "$WORK/$1".oom-*; do
		[ -e "$f" ] && cp "$f" "$keep/" && echo "    # artifact: $keep/$(basename "$f")"
	done
}

HARNESSES=()
for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] && HARNESSES+=("$(basename "$src" .c)")
done
check "there are fuzz harnesses in tests/fuzz" test ${#HARNESSES[@]} -gt 0
check "clang is installed" command -v clang

if make -C "$ROOT" BUILD="$BUILD" -j"$(nproc)" fuzz-build > "$WORK/build.log" 2>&1; then
	pass "make fuzz-build builds ${#HARNESSES[@]} harnesses"
else
	fail "make fuzz-build builds ${#HARNESSES[@]} harnesses"
	tail -n 20 "$WORK/build.log" | sed 's/^/    # /'
	finish
	exit 1
fi

# Regression: every committed corpus file, once.
for n in "${HARNESSES[@]}"; do
	corpus=$ROOT/tests/fuzz/corpus/$n
	files=("$corpus"/*)
	if [ ! -x "$FUZZ_BIN/$n" ] || [ ! -e "${files[0]}" ]; then
		fail "$n: binary and a non-empty corpus exist"
		continue
	fi
	if (cd "$WORK" && timeout 60 "$FUZZ_BIN/$n" -timeout=10 "${files[@]}") \
		> "$WORK/$n.replay.log" 2>&1; then
		pass "$n replays its ${#files[@]} corpus files without a crash"
	else
		fail "$n replays its ${#files[@]} corpus files without a crash"
		show "$WORK/$n.replay.log"
	fi
done

# Fuzzing: all harnesses at once, FUZZ_SECONDS each, from the corpus.
for n in "${HARNESSES[@]}"; do
	[ -x "$FUZZ_BIN/$n" ] || continue
	mkdir -p "$WORK/$n.new"
	(cd "$WORK" && exec timeout $((FUZZ_SECONDS + 60)) "$FUZZ_BIN/$n" \
		-max_total_time="$FUZZ_SECONDS" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$WORK/$n." "$WORK/$n.new" "$ROOT/tests/fuzz/corpus/$n") \
		> "$WORK/$n.fuzz.log" 2>&1 &
	PIDS+=("$!")
done
i=0
for n in "${HARNESSES[@]}"; do
	[ -x "$FUZZ_BIN/$n" ] || continue
	wait "${PIDS[$i]}"
	rc=$?
	i=$((i + 1))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$n.fuzz.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$WORK/$n.fuzz.log")
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		pass "$n fuzzes ${FUZZ_SECONDS} s without a crash ($runs runs, $rate/s)"
	else
		fail "$n fuzzes ${FUZZ_SECONDS} s without a crash (exit $rc)"
		show "$WORK/$n.fuzz.log"
		keep_artifacts "$n"
	fi
done
PIDS=()

finish
