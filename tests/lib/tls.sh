# SPDX-License-Identifier: BSD-2-Clause
# tls.sh - TLS parts of the end-to-end tests: a test CA and a STARTTLS exchanger
#
# The certificates are made here with openssl, for this run only; the
# exchanger is a second private Postfix (postfix.sh) whose smtpd offers
# STARTTLS with one of them on 127.0.0.x:PORT and delivers the domains it
# is given with its local mailer (mta/local-deliver.sh), so what it
# received, and whether over TLS, is read from its own maillog and store.
# Loopback only, started and stopped by PID like every other part.
#
# Usage (after postfix.sh and mta_resolver_start):
#   tls_make_ca DIR                     DIR/ca.pem (and its key)
#   tls_make_cert DIR NAME              DIR/NAME.pem, DIR/NAME.key, signed by DIR's CA
#   tls_mta_setup NAME                  (re)creates the MTA under test in $T/NAME on
#                                       $P ($E2E_HOST), stopping the previous one; then
#                                       pf_conf and pf_start as usual
#   tls_exchanger_start DIR ADDR PORT CERT KEY DOMAIN...
#   tls_exchanger_stop
#   tls_exchanger_log_count ERE         lines of its maillog matching ERE
#   tls_exchanger_stored ERE            messages it stored for recipients matching ERE
#   tls_exchanger_wait_stored N ERE TIMEOUT   until it stored N (its local delivery
#                                       runs after it said 250 to the sender)
#   tls_exchanger_stored_over_tls ERE   ... of which its Received: header says TLS

# shellcheck shell=bash

TLS_EXCH_DIR=
TLS_EXCH_PID=

tls_make_ca() {
	local dir=$1
	mta_require openssl
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=mxpath test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" \
		> "$dir/openssl.log" 2>&1 || mta_die "openssl: cannot make the test CA"
	chmod 644 "$dir/ca.pem"
}

# The name goes in the subjectAltName, which is what Postfix verifies.
tls_make_cert() {
	local dir=$1 name=$2
	if ! openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" >> "$dir/openssl.log" 2>&1 ||
	   ! openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 2 -extfile <(printf 'subjectAltName=DNS:%s\n' "$name") \
		-out "$dir/$name.pem" >> "$dir/openssl.log" 2>&1; then
		mta_die "openssl: cannot make a certificate for $name"
	fi
	chmod 600 "$dir/$name.key"
}

tls_mta_setup() {
	[ -z "$PF_PID" ] || pf_stop
	pf_setup "$T/$1" "$P" "$E2E_HOST" || mta_die "postfix setup failed"
}

# tls_exchanger_start DIR ADDR PORT CERT KEY DOMAIN...: a second Postfix in
# DIR, smtpd with STARTTLS (CERT, KEY) on ADDR:PORT as well as on a
# control port of 127.0.0.1 (where postfix.sh waits for it), taking mail
# for DOMAIN... . The main instance's PF_* settings are kept aside and put
# back, so pf_* go on meaning the MTA under test.
tls_exchanger_start() {
	local dir=$1 addr=$2 port=$3 cert=$4 key=$5 control rc
	local main_dir=$PF_DIR main_port=$PF_PORT main_pid=$PF_PID
	shift 5
	control=$(mta_free_port) || mta_die "no free port"
	PF_PID=
	pf_setup "$dir" "$control" exchanger.tls.test || mta_die "exchanger setup failed"
	printf '%s:%s inet n - n - - smtpd\n' "$addr" "$port" >> "$dir/etc/master.cf"
	pf_conf "mydestination = $*" \
		"smtpd_tls_security_level = may" "smtpd_tls_cert_file = $cert" \
		"smtpd_tls_key_file = $key" "smtpd_tls_loglevel = 1" \
		"smtpd_tls_received_header = yes"
	pf_start
	rc=$?
	TLS_EXCH_DIR=$PF_DIR
	TLS_EXCH_PID=$PF_PID
	PF_DIR=$main_dir PF_PORT=$main_port PF_PID=$main_pid
	[ "$rc" -eq 0 ] || mta_die "the STARTTLS exchanger did not start"
	mta_poll 10 mta_is_listening "$addr" "$port" || mta_die "the exchanger is not on $addr:$port"
}

tls_exchanger_stop() {
	mta_stop_group "$TLS_EXCH_PID" "exchanger master"
	TLS_EXCH_PID=
}

tls_exchanger_log_count() { mta_log_count "$TLS_EXCH_DIR/maillog" "$1"; }

tls_exchanger_stored() { mta_local_count "$TLS_EXCH_DIR/local" "$1"; }

tls_exchanger_wait_stored() {
	mta_poll "$3" _tls_exchanger_has_stored "$1" "$2"
}
_tls_exchanger_has_stored() { (( $(tls_exchanger_stored "$2") >= $1 )); }

tls_exchanger_stored_over_tls() {
	local n
	n=$(grep -liE "^X-Local-Rcpt: <$1>\$" "$TLS_EXCH_DIR/local"/msg.* 2>/dev/null |
		xargs -r grep -lE '^[[:space:]]+\(using TLSv1\.[23] ' | wc -l)
	echo "${n:-0}"
}
