#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# local-deliver.sh DIR RECIPIENT - the bench MTAs' local delivery agent
# (postfix.sh, sendmail.sh): stores the message on stdin as one new file in
# DIR, headed by "X-Local-Rcpt: <RECIPIENT>". One file per message, so
# concurrent deliveries never interleave. Runs as nobody; DIR is nobody's.
set -eu
dir=$1
rcpt=$2
file=$(mktemp "$dir/msg.XXXXXXXX")
{ printf 'X-Local-Rcpt: <%s>\n' "$rcpt"; cat; } > "$file"
