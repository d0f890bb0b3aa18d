#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""dnsmock - programmable authoritative DNS server for mxpath's tests.

Run with /usr/bin/python3 (Debian's python3-dnslib). Loopback only.

Serves zone files (one zone per file, origin from $ORIGIN or the SOA owner)
with NXDOMAIN vs NODATA told apart (SOA in the authority section), in-zone
CNAME chasing, MX additional records, and fault injection by name (the
qname or any parent):

  --servfail NAME      answer SERVFAIL       --refused NAME   answer REFUSED
  --drop NAME          never answer          --tc NAME        UDP answer has TC=1, no records
  --delay NAME=SECONDS answer late           --delay-all SECONDS  every answer late
  --recursive          answer NXDOMAIN outside the zones, as a recursive
                       resolver would (default: REFUSED, as an authority)
  --control FILE       more faults, one per line ("servfail NAME", "drop NAME",
                       "delay NAME=0.5", "delay-all 0.05", "tc NAME", "refused NAME"),
                       re-read before every answer: tests toggle faults by
                       rewriting the file

Every query is logged to stdout as 'Q <proto> <qname> <qtype>' (lower-case
name, no trailing dot), so a test counts queries with grep; with
--log-port the line ends ' port=N', the client's source port. SIGHUP re-reads
the zone files. Queries are answered in parallel (one thread each), so a
delay applies per query, as with a real slow server.

Usage: dnsmock.py --zonedir DIR | --zone FILE... [--addr 127.0.0.1] --port PORT [faults]
"""
import argparse
import glob
import os
import signal
import socket
import struct
import sys
import threading
import time

from dnslib import QTYPE, RCODE, RR
from dnslib.dns import DNSError
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

FAULTS = ('servfail', 'refused', 'drop', 'tc', 'delay')


class Drop(DNSError):
    """Raised to make dnslib's handler send nothing."""


LOG_LOCK = threading.Lock()


def log(line):
    """One write per line: query threads never interleave their lines."""
    with LOG_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Handler(DNSHandler):
    """dnslib's handler answers one query per TCP connection; resolvers
    (c-ares included) send several on one (RFC 7766), so read them all."""

    def handle(self):
        if self.server.socket_type != socket.SOCK_STREAM:
            return super().handle()
        self.protocol = 'tcp'
        buf = b''
        while True:
            while len(buf) < 2 or len(buf) < 2 + struct.unpack('!H', buf[:2])[0]:
                chunk = self.request.recv(8192)
                if not chunk:
                    return
                buf += chunk
            length = struct.unpack('!H', buf[:2])[0]
            data, buf = buf[2:2 + length], buf[2 + length:]
            try:
                rdata = self.get_reply(data)
            except DNSError:
                continue                        # dropped: no answer
            self.request.sendall(struct.pack('!H', len(rdata)) + rdata)


def under(qname, names):
    return any(qname.matchSuffix(n) for n in names)


def read_origin(path):
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].upper() == '$ORIGIN':
                return parts[1]
    return None


class Zone:
    def __init__(self, path):
        origin = read_origin(path)
        with open(path) as f:
            text = f.read()
        self.rrs = RR.fromZone(text, origin=origin) if origin else RR.fromZone(text)
        self.soa = next(r for r in self.rrs if r.rtype == QTYPE.SOA)
        self.origin = self.soa.rname


class MockResolver(BaseResolver):
    def __init__(self, args):
        self.args = args
        self.log_port = args.log_port
        self.recursive = args.recursive
        self.lock = threading.Lock()
        self.zones = []
        self.load()

    def zone_files(self):
        files = list(self.args.zone)
        if self.args.zonedir:
            files += sorted(glob.glob(os.path.join(self.args.zonedir, '*.zone')))
        return files

    def load(self):
        zones = [Zone(p) for p in self.zone_files()]
        # Longest origin first: the most specific zone answers.
        zones.sort(key=lambda z: -len(z.origin.label))
        with self.lock:
            self.zones = zones
        log("zones loaded: %d (%d records)" % (len(zones), sum(len(z.rrs) for z in zones)))

    def faults(self):
        f = {k: list(getattr(self.args, k)) for k in FAULTS}
        delay_all = self.args.delay_all
        path = self.args.control
        if path and os.path.exists(path):
            with open(path) as fp:
                for line in fp:
                    parts = line.split()
                    if len(parts) != 2:
                        continue
                    if parts[0] == 'delay-all':
                        delay_all = float(parts[1])
                    elif parts[0] in f:
                        f[parts[0]].append(parts[1])
        return f, delay_all

    def find_zone(self, qname):
        with self.lock:
            zones = self.zones
        for z in zones:
            if qname.matchSuffix(z.origin):
                return z
        return None

    def resolve(self, request, handler):
        q = request.q
        qn, qt = q.qname, q.qtype
        line = "Q %s %s %s" % (handler.protocol, str(qn).rstrip('.').lower(), QTYPE[qt])
        if self.log_port:
            line += " port=%d" % handler.client_address[1]
        log(line)
        reply = request.reply(ra=0, aa=0)
        # dnslib copies the query's flags: a mock validates nothing, so it
        # never says "authenticated" (mxpathd asks with the AD bit set).
        reply.header.ad = 0
        faults, delay_all = self.faults()
        if under(qn, faults['drop']):
            raise Drop("dropped %s" % qn)
        if delay_all > 0:
            time.sleep(delay_all)
        for spec in faults['delay']:
            name, seconds = spec.split('=')
            if qn.matchSuffix(name):
                time.sleep(float(seconds))
        if under(qn, faults['servfail']):
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if under(qn, faults['refused']):
            reply.header.rcode = RCODE.REFUSED
            return reply
        if handler.protocol == 'udp' and under(qn, faults['tc']):
            reply.header.tc = 1
            return reply
        zone = self.find_zone(qn)
        if zone is None:
            # An authoritative server refuses names outside its zones; a
            # recursive resolver whose world is these zones says NXDOMAIN.
            reply.header.rcode = RCODE.NXDOMAIN if self.recursive else RCODE.REFUSED
            return reply
        reply.header.aa = 1
        self.answer(zone, qn, qt, reply)
        return reply

    def answer(self, zone, name, qt, reply):
        for _ in range(8):                      # CNAME chain limit
            here = [r for r in zone.rrs if r.rname == name]
            match = [r for r in here if r.rtype == qt or qt == QTYPE.ANY]
            cname = [r for r in here if r.rtype == QTYPE.CNAME]
            if match:
                for r in match:
                    reply.add_answer(r)
                    if r.rtype == QTYPE.MX:
                        self.add_glue(zone, r.rdata.label, reply)
                return
            if cname and qt != QTYPE.CNAME:
                reply.add_answer(cname[0])
                name = cname[0].rdata.label
                next_zone = self.find_zone(name)
                if next_zone is None:
                    return
                zone = next_zone
                continue
            exists = here or any(r.rname.matchSuffix(name) for r in zone.rrs)
            if not exists:
                reply.header.rcode = RCODE.NXDOMAIN
            reply.add_auth(zone.soa)
            return
        reply.header.rcode = RCODE.SERVFAIL

    @staticmethod
    def add_glue(zone, host, reply):
        for x in zone.rrs:
            if x.rname == host and x.rtype in (QTYPE.A, QTYPE.AAAA):
                reply.add_ar(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--zone', action='append', default=[])
    p.add_argument('--zonedir')
    p.add_argument('--addr', default='127.0.0.1')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--delay-all', type=float, default=0.0)
    p.add_argument('--control')
    p.add_argument('--log-port', action='store_true')
    p.add_argument('--recursive', action='store_true')
    for opt in FAULTS:
        p.add_argument('--' + opt, action='append', default=[])
    args = p.parse_args()
    if not args.addr.startswith('127.') and args.addr != '::1':
        sys.exit("dnsmock: loopback addresses only")
    res = MockResolver(args)
    signal.signal(signal.SIGHUP, lambda *_: res.load())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    quiet = DNSLogger("-request,-reply,-truncated,-error", prefix=False)
    udp = DNSServer(res, port=args.port, address=args.addr, logger=quiet, handler=Handler)
    tcp = DNSServer(res, port=args.port, address=args.addr, logger=quiet, tcp=True,
                    handler=Handler)
    # A burst of hundreds of queries must not overflow the default receive
    # buffer (about 260 small datagrams) while the one reader thread spawns
    # a handler per query. FORCE needs root; otherwise rmem_max caps it.
    for opt in (getattr(socket, 'SO_RCVBUFFORCE', 33), socket.SO_RCVBUF):
        try:
            udp.server.socket.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
            break
        except OSError:
            continue
    udp.start_thread()
    tcp.start_thread()
    log("dnsmock listening on %s:%d udp+tcp" % (args.addr, args.port))
    while udp.isAlive() and tcp.isAlive():
        time.sleep(0.2)


if __name__ == '__main__':
    main()
