# SPDX-License-Identifier: BSD-2-Clause
# tsan-verdict.awk - one line per ThreadSanitizer report in a log file:
# "theirs", or the frame of mxpath's own code that makes it ours.
#
# A data race is ours when, in either racing access, the first frame that
# is not TSan's own interceptor is in plugin/: our code made that access.
# libmilter's teardown races reach our frames only lower down (smfi_main
# is called from our milter thread), and those are libmilter's accesses.
# Any other report (deadlock, destroy of a locked mutex, ...) is ours if
# any of its stacks has a plugin/ frame. Where a thread or a mutex was
# created never counts: libmilter's threads all start from ours.
function flush() { if (n) print (o ? o : "theirs") }
/WARNING: ThreadSanitizer/ { flush(); n = 1; o = ""; race = /data race/; sect = ""; next }
/^$/ { sect = ""; next }
/^  [A-Z]/ {
	if (/created (by|at)/) sect = "skip"
	else if (race) sect = /of size/ ? "access" : "skip"
	else sect = "any"
	first = 1
	next
}
/^    #[0-9]/ {
	if (o || sect == "" || sect == "skip") next
	if (sect == "access") {
		if (/\(libtsan\.so/) next
		if (first && /plugin\//) o = $0
		first = 0
		next
	}
	if (/plugin\//) o = $0
}
END { flush() }
