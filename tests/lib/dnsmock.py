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
                       re-read when it changed (looked at once a millisecond at
                       most): tests toggle faults by rewriting the file

Every query is logged to stdout as 'Q <proto> <qname> <qtype>' (lower-case
name, no trailing dot), so a test counts queries with grep; with
--log-port the line ends ' port=N', the client's source port; with
--log-inflight ' inflight=N', the UDP queries received and not yet answered,
this one included (a bench takes the peak). SIGHUP re-reads the zone files.

A delay applies per query, from the moment it arrived (the kernel's
receive time stamp), as with a real slow server: UDP queries are read by one thread, answered at once and sent
when due by another thread, so a burst of thousands of delayed queries is
answered in parallel, each on time. A plain UDP query (one question, no
EDNS, no fault but delays) is answered from records packed when the zones
were loaded (uncompressed names, the question's owner as a pointer): tens
of microseconds where dnslib takes a few hundred. TCP queries, faults and
anything else go through dnslib, with a thread per TCP connection.

Usage: dnsmock.py --zonedir DIR | --zone FILE... [--addr 127.0.0.1] --port PORT [faults]
"""
import argparse
import glob
import heapq
import os
import signal
import socket
import struct
import sys
import threading
import time

from dnslib import DNSRecord, QTYPE, RCODE, RR
from dnslib.dns import DNSError
from dnslib.label import DNSBuffer
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

FAULTS = ('servfail', 'refused', 'drop', 'tc', 'delay')
SO_TIMESTAMPNS = getattr(socket, 'SO_TIMESTAMPNS', 35)     # Linux


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
    """qname (lower case, no trailing dot) is one of names or below one."""
    for n in names:
        n = n.rstrip('.').lower()
        if qname == n or qname.endswith('.' + n):
            return True
    return False


def question_of(data):
    """(qname lower case without the trailing dot, qtype, offset past the
    question) of a query's first question, read by hand; None if malformed."""
    labels, off = [], 12
    try:
        while data[off] != 0:
            n = data[off]
            if n & 0xc0:
                return None
            labels.append(data[off + 1:off + 1 + n].decode('ascii', 'replace'))
            off += 1 + n
        qtype = struct.unpack('!H', data[off + 1:off + 3])[0]
    except (IndexError, struct.error):
        return None
    return '.'.join(labels).lower(), qtype, off + 5


class FlatBuffer(DNSBuffer):
    """Packs names whole: an rdata packed here is valid anywhere."""

    def encode_name(self, name):
        self.encode_name_nocompress(name)


class Packed:
    """A zone record ready to send: its owner and the rest, in wire form."""

    def __init__(self, rr):
        self.rr = rr
        self.rtype = rr.rtype
        self.owner = str(rr.rname).lower()
        self.owner_wire = b''.join(bytes([len(l)]) + l for l in rr.rname.label) + b'\0'
        buf = FlatBuffer()
        rr.rdata.pack(buf)
        rdata = bytes(buf.data)
        self.rest = struct.pack('!HHIH', rr.rtype, rr.rclass, rr.ttl, len(rdata)) + rdata
        target = getattr(rr.rdata, 'label', None)
        self.target = str(target).lower() if target is not None else None

    def wire(self, qname):
        """The record; its owner a pointer to the question when it is qname."""
        return (b'\xc0\x0c' if self.owner == qname else self.owner_wire) + self.rest


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
        # Records by owner (lower case, trailing dot), and every owner with
        # its ancestors (the names that exist: NODATA, not NXDOMAIN):
        # thousands of names stay fast.
        self.packed, self.names = {}, set()
        self.soa_packed = Packed(self.soa)
        self.origin_key = str(self.origin).lower()
        for r in self.rrs:
            key = str(r.rname).lower()
            self.packed.setdefault(key, []).append(Packed(r))
            labels = key.rstrip('.').split('.')
            for i in range(len(labels)):
                self.names.add('.'.join(labels[i:]) + '.')

    def holds(self, key):
        """key (lower case, trailing dot) is at or below this zone's origin."""
        return key == self.origin_key or key.endswith('.' + self.origin_key) or \
            self.origin_key == '.'


class MockResolver(BaseResolver):
    def __init__(self, args):
        self.args = args
        self.log_port = args.log_port
        self.log_inflight = args.log_inflight
        self.udp = None                 # the FastUDP answering, for --log-inflight
        self.recursive = args.recursive
        self.lock = threading.Lock()
        self.zones = []
        self.control_seen = None        # (mtime, size, inode) of the control file read
        self.control_checked = -1.0     # when it was last looked at
        self.control_faults = ({k: list(getattr(args, k)) for k in FAULTS}, args.delay_all)
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
        """The command line's faults and the control file's: ({fault: [names]},
        delay_all). The file is looked at (stat) at most once a millisecond and
        read again whenever it changed."""
        now = time.monotonic()
        if self.args.control and now - self.control_checked >= 0.001:
            self.control_checked = now
            self.control()
        return self.control_faults

    def control(self):
        path = self.args.control
        try:
            st = os.stat(path)
        except OSError:
            st = None
        seen = (st.st_mtime_ns, st.st_size, st.st_ino) if st else None
        # A file changed in the last 50 ms is read again: two writes within
        # one tick of the file system's clock would look the same.
        if seen == self.control_seen and (st is None or time.time() - st.st_mtime > 0.05):
            return
        f = {k: list(getattr(self.args, k)) for k in FAULTS}
        delay_all = self.args.delay_all
        if st:
            with open(path) as fp:
                for line in fp:
                    parts = line.split()
                    if len(parts) != 2:
                        continue
                    if parts[0] == 'delay-all':
                        delay_all = float(parts[1])
                    elif parts[0] in f:
                        f[parts[0]].append(parts[1])
        self.control_seen, self.control_faults = seen, (f, delay_all)

    def plan(self, qname, protocol):
        """(drop, seconds of delay, fault: None, 'servfail', 'refused' or 'tc')."""
        faults, delay = self.faults()
        if under(qname, faults['drop']):
            return True, 0, None
        for spec in faults['delay']:
            name, seconds = spec.split('=')
            if under(qname, [name]):
                delay += float(seconds)
        for kind in ('servfail', 'refused', 'tc'):
            if under(qname, faults[kind]) and (kind != 'tc' or protocol == 'udp'):
                return False, delay, kind
        return False, delay, None

    def log_query(self, protocol, qname, qtype, port, extra=''):
        line = "Q %s %s %s" % (protocol, qname, QTYPE[qtype])
        if self.log_port:
            line += " port=%d" % port
        log(line + extra)

    def resolve(self, request, handler):
        """dnslib's entry point (TCP, one thread per connection)."""
        qname = str(request.q.qname).rstrip('.').lower()
        self.log_query(handler.protocol, qname, request.q.qtype, handler.client_address[1])
        drop, delay, fault = self.plan(qname, handler.protocol)
        if drop:
            raise Drop("dropped %s" % qname)
        if delay > 0:
            time.sleep(delay)
        return self.build(request, fault)

    def build(self, request, fault):
        """The reply to request, with the fault (plan()'s third) applied."""
        qn, qt = request.q.qname, request.q.qtype
        reply = request.reply(ra=0, aa=0)
        # dnslib copies the query's flags: a mock validates nothing, so it
        # never says "authenticated" (mxpathd asks with the AD bit set).
        reply.header.ad = 0
        if fault == 'servfail':
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if fault == 'refused':
            reply.header.rcode = RCODE.REFUSED
            return reply
        if fault == 'tc':
            reply.header.tc = 1
            return reply
        found = self.answer(str(qn).lower(), qt)
        if found is None:
            reply.header.rcode = RCODE.NXDOMAIN if self.recursive else RCODE.REFUSED
            return reply
        an, ns, ar, reply.header.rcode = found
        reply.header.aa = 1
        for r in an:
            reply.add_answer(r.rr)
        for r in ns:
            reply.add_auth(r.rr)
        for r in ar:
            reply.add_ar(r.rr)
        return reply

    def answer(self, name, qtype):
        """The zones' answer to (name: lower case, trailing dot; qtype), CNAMEs
        chased (at most 8, within the zones), each MX with its addresses as
        additional records: (answer, authority, additional, rcode) as Packed
        records; None when no zone holds the name (an authoritative server
        refuses it; a recursive one whose world is these zones says NXDOMAIN)."""
        zone = self.find_zone_key(name)
        if zone is None:
            return None
        an, ns, ar = [], [], []
        for _ in range(8):
            here = zone.packed.get(name, [])
            match = [r for r in here if r.rtype == qtype or qtype == QTYPE.ANY]
            cname = [r for r in here if r.rtype == QTYPE.CNAME]
            if match:
                for r in match:
                    an.append(r)
                    if r.rtype == QTYPE.MX:
                        ar += [x for x in zone.packed.get(r.target, [])
                               if x.rtype in (QTYPE.A, QTYPE.AAAA)]
                return an, ns, ar, RCODE.NOERROR
            if cname and qtype != QTYPE.CNAME:
                an.append(cname[0])
                name = cname[0].target
                zone = self.find_zone_key(name)
                if zone is None:
                    return an, ns, ar, RCODE.NOERROR
                continue
            ns.append(zone.soa_packed)
            exists = here or name in zone.names
            return an, ns, ar, RCODE.NOERROR if exists else RCODE.NXDOMAIN
        return an, ns, ar, RCODE.SERVFAIL

    def answer_udp(self, data, port):
        """(seconds of delay, packed reply) for a UDP query, None: no answer."""
        question = question_of(data)
        if question is None:
            return None
        qname, qtype, qend = question
        drop, delay, fault = self.plan(qname, 'udp')
        extra = ''
        if self.log_inflight:
            extra = ' inflight=%d' % (self.udp.in_flight() + 1)
        self.log_query('udp', qname, qtype, port, extra)
        if drop:
            return None
        packed = self.answer_plain(data, qname + '.', qtype, qend) if fault is None else None
        if packed is None:
            try:
                packed = bytes(self.build(DNSRecord.parse(data), fault).pack())
            except DNSError:
                return None
        return delay, packed

    def find_zone_key(self, key):
        with self.lock:
            zones = self.zones
        for z in zones:
            if z.holds(key):
                return z
        return None

    def answer_plain(self, data, qname, qtype, qend):
        """build()'s answer in wire form from the packed records, for a query
        of one question and nothing else (None: not such a query)."""
        if data[4:12] != b'\0\x01' + b'\0' * 6 or qend != len(data) or data[2] & 0x78:
            return None
        found = self.answer(qname, qtype)
        if found is None:
            rcode = RCODE.NXDOMAIN if self.recursive else RCODE.REFUSED
            return self.header(data, False, rcode, [], [], []) + data[12:qend]
        an, ns, ar, rcode = found
        # The owner named as the zone names it, as dnslib does: a pointer to
        # the question only when the question is asked in lower case.
        pointer = qname if data[12:qend].lower() == data[12:qend] else None
        body = b''.join(r.wire(pointer) for r in an + ns + ar)
        return self.header(data, True, rcode, an, ns, ar) + data[12:qend] + body

    @staticmethod
    def header(data, aa, rcode, an, ns, ar):
        """As request.reply(ra=0, aa=0) makes it: the query's ID and flags,
        QR set, RA and AD (a mock validates nothing) clear; then aa, rcode."""
        b2 = data[2] | 0x80
        b2 = b2 | 0x04 if aa else b2 & ~0x04
        b3 = (data[3] & 0x50) | rcode
        return data[:2] + bytes([b2, b3]) + struct.pack('!HHHH', 1, len(an), len(ns), len(ar))


class FastUDP:
    """UDP: one thread reads and answers, another sends each answer when due."""

    def __init__(self, resolver, addr, port):
        family = socket.AF_INET6 if ':' in addr else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.resolver = resolver
        self.due = []                   # heap of (when, seq, packet, client)
        self.seq = 0
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self.read, daemon=True),
                        threading.Thread(target=self.send, daemon=True)]

    def start(self):
        for t in self.threads:
            t.start()

    def alive(self):
        return all(t.is_alive() for t in self.threads)

    def in_flight(self):
        return len(self.due)

    def read(self):
        while True:
            data, client, arrived = self.receive()
            out = self.resolver.answer_udp(data, client[1])
            if out is None:
                continue
            delay, packet = out
            with self.cond:
                self.seq += 1
                heapq.heappush(self.due, (arrived + delay, self.seq, packet, client))
                # The sender sleeps until the earliest answer is due: wake it
                # only when this one is the earliest (rarely, in a burst).
                if self.due[0][1] == self.seq:
                    self.cond.notify()

    def receive(self):
        """(datagram, client, when it arrived on the monotonic clock): the
        kernel's receive time, so a delay counts from the query's arrival
        even while this thread is busy with the ones before it."""
        data, anc, _, client = self.sock.recvmsg(65535, socket.CMSG_SPACE(16))
        now, arrived = time.monotonic(), None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                sec, nsec = struct.unpack('qq', value[:16])
                age = time.time() - (sec + nsec / 1e9)
                arrived = now - min(max(age, 0.0), 1.0)
        return data, client, arrived if arrived is not None else now

    def send(self):
        """Sends every answer that is due, then sleeps until the next one is."""
        while True:
            with self.cond:
                while not self.due or self.due[0][0] > time.monotonic():
                    self.cond.wait(self.due[0][0] - time.monotonic() if self.due else None)
                now, ready = time.monotonic(), []
                while self.due and self.due[0][0] <= now:
                    ready.append(heapq.heappop(self.due))
            for _, _, packet, client in ready:
                try:
                    self.sock.sendto(packet, client)
                except OSError:
                    pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--zone', action='append', default=[])
    p.add_argument('--zonedir')
    p.add_argument('--addr', default='127.0.0.1')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--delay-all', type=float, default=0.0)
    p.add_argument('--control')
    p.add_argument('--log-port', action='store_true')
    p.add_argument('--log-inflight', action='store_true')
    p.add_argument('--recursive', action='store_true')
    for opt in FAULTS:
        p.add_argument('--' + opt, action='append', default=[])
    args = p.parse_args()
    if not args.addr.startswith('127.') and args.addr != '::1':
        sys.exit("dnsmock: loopback addresses only")
    res = MockResolver(args)
    # Two busy threads share the interpreter: hand it over every
    # millisecond, not every 5, so a due answer is not held back.
    sys.setswitchinterval(0.001)
    signal.signal(signal.SIGHUP, lambda *_: res.load())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    quiet = DNSLogger("-request,-reply,-truncated,-error", prefix=False)
    udp = FastUDP(res, args.addr, args.port)
    res.udp = udp
    tcp = DNSServer(res, port=args.port, address=args.addr, logger=quiet, tcp=True,
                    handler=Handler)
    # A burst of hundreds of queries must not overflow the default receive
    # buffer (about 260 small datagrams) while the one reader thread answers
    # them. FORCE needs root; otherwise rmem_max caps it.
    for opt in (getattr(socket, 'SO_RCVBUFFORCE', 33), socket.SO_RCVBUF):
        try:
            udp.sock.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
            break
        except OSError:
            continue
    udp.start()
    tcp.start_thread()
    log("dnsmock listening on %s:%d udp+tcp" % (args.addr, args.port))
    while udp.alive() and tcp.isAlive():
        time.sleep(0.2)


if __name__ == '__main__':
    main()
