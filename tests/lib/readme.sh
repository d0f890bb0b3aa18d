# SPDX-License-Identifier: BSD-2-Clause
# readme.sh - the README's command blocks, for tests that follow it verbatim
#
#   readme_block FIRST_LINE   print the fenced block of README.md whose first
#                             line is exactly FIRST_LINE (a "# ..." comment
#                             naming what the block does), without the fences;
#                             no such block: "not ok" and the script ends
#
# The tests run what this prints with bash -e, in the directory the README
# names, so a README that drifts from what works fails its test.

# shellcheck shell=bash
: "${MXPATH_ROOT:?source tap.sh first}"

readme_block() {
	local out
	out=$(awk -v first="$1" '
		/^```/ { if (inblock) { if (found) exit; inblock = 0 } else { inblock = 1; start = 1 }; next }
		inblock && start { start = 0; if ($0 == first) found = 1 }
		inblock && found { print }
		END { if (!found) exit 1 }' "$MXPATH_ROOT/README.md") || {
		echo "not ok - README.md has no block starting with: $1"
		exit 1
	}
	printf '%s\n' "$out"
}
