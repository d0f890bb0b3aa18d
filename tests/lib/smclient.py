#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""smclient.py - a socketmap test client (netstrings over unix or TCP sockets)

Library (import it) and command line. SOCKET is "unix:/path", "/path",
"inet:PORT@HOST" or "HOST:PORT".

  smclient.py query SOCKET MAP KEY...       one request at a time; prints each reply
  smclient.py pipeline SOCKET MAP KEY...    every request in one write; prints the replies
  smclient.py split SOCKET MAP KEY          the request one byte per write (partial reads)
  smclient.py raw SOCKET TEXT               sends TEXT (Python escapes allowed: \\x00),
                                            prints every reply, then "closed" (the server
                                            closed the connection) or "open" (1 s quiet)
  smclient.py abandon SOCKET MAP KEY [SECONDS]
                                            sends the request, closes SECONDS (0) later
  smclient.py overtake SOCKET SLOWKEY FASTKEY COUNT
                                            asks SLOWKEY on one connection, then COUNT x
                                            FASTKEY on another; prints "overtaken" if they
                                            all came back before the slow answer
  smclient.py concurrent SOCKET N COUNT MAP KEY EXPECT
                                            N connections, COUNT lookups each, all at
                                            once; every reply must equal EXPECT
  smclient.py burst SOCKET N MAP KEYFORMAT [PREFIX]
                                            N connections, one lookup each, all sent
                                            before any reply is read; KEYFORMAT has a
                                            %d for 0..N-1; prints "replies N SECONDS
                                            M", M of them beginning with PREFIX
  smclient.py hold SOCKET N SECONDS         opens N idle connections, prints "open N",
                                            holds them, prints how many the server closed
  smclient.py slow SOCKET MAP KEY DELAY MAX sends one byte per DELAY s; prints
                                            "closed after S s" or "answered" / "still open"
  smclient.py noread SOCKET MAP KEY COUNT SECONDS
                                            pipelines COUNT requests without reading for
                                            SECONDS; prints "closed" or "open BYTES"

Exit status 0 when the command did what it says, 1 otherwise (with a line on stderr).
"""
import os
import socket
import sys
import threading
import time

QUERY_MAX = 10000
REPLY_MAX = 100000


def netstring(payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return b"%d:%s," % (len(payload), payload)


def connect(spec, timeout=None):
    """A connected socket for a socket spec (timeout: $SMCLIENT_TIMEOUT, else 10 s)."""
    if timeout is None:
        timeout = float(os.environ.get('SMCLIENT_TIMEOUT', '10'))
    if spec.startswith("unix:"):
        spec = spec[5:]
    if spec.startswith("/"):
        # A unix socket's full backlog fails at once (EAGAIN): try again.
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            try:
                s.connect(spec)
                return s
            except BlockingIOError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
    if spec.startswith("inet:"):
        port, _, host = spec[5:].partition("@")
        host = host or "127.0.0.1"
    else:
        host, _, port = spec.rpartition(":")
    s = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Closed(Exception):
    """The server closed the connection."""


class Client:
    """One socketmap connection; replies are read as netstrings."""

    def __init__(self, spec, timeout=None):
        self.sock = connect(spec, timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def request(self, name, key):
        self.send(netstring("%s %s" % (name, key)))
        return self.reply()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf += data

    def reply(self):
        """The next reply as text; raises Closed, or socket.timeout."""
        while True:
            colon = self.buf.find(b":")
            if colon > 0:
                length = int(self.buf[:colon])
                if length > REPLY_MAX:
                    raise ValueError("reply of %d bytes" % length)
                end = colon + 1 + length
                if len(self.buf) > end:
                    if self.buf[end:end + 1] != b",":
                        raise ValueError("reply without ','")
                    payload = self.buf[colon + 1:end]
                    self.buf = self.buf[end + 1:]
                    return payload.decode("utf-8", "replace")
            elif colon == 0 or len(self.buf) > 7:
                raise ValueError("bad reply framing: %r" % self.buf[:16])
            self._fill()

    def is_closed(self, timeout):
        """True if the server closes the connection within timeout seconds
        (anything it sends meanwhile is kept for reply())."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.sock.settimeout(left)
                self._fill()
        except Closed:
            return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def cmd_query(spec, name, *keys):
    c = Client(spec)
    for key in keys:
        print(c.request(name, key))
    c.close()
    return 0


def cmd_pipeline(spec, name, *keys):
    c = Client(spec)
    c.send(b"".join(netstring("%s %s" % (name, key)) for key in keys))
    for _ in keys:
        print(c.reply())
    c.close()
    return 0


def cmd_split(spec, name, key):
    c = Client(spec)
    for byte in netstring("%s %s" % (name, key)):
        c.send(bytes([byte]))
        time.sleep(0.002)
    print(c.reply())
    c.close()
    return 0


def cmd_raw(spec, text):
    c = Client(spec, timeout=1.0)
    data = text.encode().decode("unicode_escape").encode("latin-1")
    try:
        c.send(data)
        while True:
            print(c.reply())
    except (Closed, BrokenPipeError, ConnectionResetError):
        print("closed")
    except socket.timeout:
        print("open")
    c.close()
    return 0


def cmd_abandon(spec, name, key, seconds="0"):
    c = Client(spec)
    c.send(netstring("%s %s" % (name, key)))
    time.sleep(float(seconds))
    c.close()
    return 0


def cmd_overtake(spec, slow_key, fast_key, count):
    slow, fast = Client(spec), Client(spec)
    slow.send(netstring("transport %s" % slow_key))
    began = time.monotonic()
    for _ in range(int(count)):
        fast.request("transport", fast_key)
    fast_s = time.monotonic() - began
    closed = slow.is_closed(0.001)  # takes in whatever arrived
    overtaken = not closed and not slow.buf
    slow.sock.settimeout(10)
    answer = slow.reply()
    slow_s = time.monotonic() - began
    print("%s fast=%.3fs slow=%.3fs slow answer: %s"
          % ("overtaken" if overtaken else "blocked", fast_s, slow_s, answer))
    return 0


def cmd_concurrent(spec, n, count, name, key, expect):
    n, count = int(n), int(count)
    clients = [Client(spec) for _ in range(n)]
    errors = []
    start = threading.Barrier(n)

    def run(c):
        start.wait()
        for _ in range(count):
            r = c.request(name, key)
            if r != expect:
                errors.append(r)
                return

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    if errors:
        print("%d wrong replies, first: %s" % (len(errors), errors[0]), file=sys.stderr)
        return 1
    print("ok %d" % (n * count))
    return 0


def cmd_burst(spec, n, name, keyformat, prefix=""):
    n = int(n)
    began = time.monotonic()
    clients = [Client(spec, timeout=30.0) for _ in range(n)]
    for i, c in enumerate(clients):
        c.send(netstring("%s %s" % (name, keyformat % i)))
    replies = matching = 0
    for c in clients:
        matching += c.reply().startswith(prefix)
        replies += 1
        c.close()
    print("replies %d %.2f %d" % (replies, time.monotonic() - began, matching))
    return 0


def cmd_hold(spec, n, seconds):
    n, seconds = int(n), float(seconds)
    clients = []
    for _ in range(n):
        clients.append(Client(spec))
    print("open %d" % len(clients), flush=True)
    time.sleep(seconds)
    closed = 0
    for c in clients:
        if c.is_closed(0.001):
            closed += 1
        c.close()
    print("closed %d" % closed)
    return 0


def cmd_slow(spec, name, key, delay, limit):
    delay, limit = float(delay), float(limit)
    c = Client(spec)
    data = netstring("%s %s" % (name, key))
    began = time.monotonic()
    for byte in data:
        try:
            c.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            print("closed after %.1f s" % (time.monotonic() - began))
            return 0
        if c.is_closed(delay):
            print("closed after %.1f s" % (time.monotonic() - began))
            return 0
        if c.buf:
            print("answered")
            return 0
        if time.monotonic() - began > limit:
            print("still open")
            return 0
    print("answered" if c.buf or not c.is_closed(1) else "closed after %.1f s"
          % (time.monotonic() - began))
    return 0


def cmd_noread(spec, name, key, count, seconds):
    count, seconds = int(count), float(seconds)
    c = Client(spec)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    req = netstring("%s %s" % (name, key))
    c.sock.setblocking(False)
    sent = 0
    total = req * count
    began = time.monotonic()
    while sent < len(total) and time.monotonic() - began < seconds:
        try:
            sent += c.sock.send(total[sent:sent + 65536])
        except BlockingIOError:
            time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            print("closed")
            return 0
    left = seconds - (time.monotonic() - began)
    if left > 0:
        time.sleep(left)
    c.sock.setblocking(True)
    print("closed" if c.is_closed(0.5) else "open %d" % sent)
    return 0


COMMANDS = {
    "query": cmd_query,
    "pipeline": cmd_pipeline,
    "split": cmd_split,
    "raw": cmd_raw,
    "abandon": cmd_abandon,
    "overtake": cmd_overtake,
    "concurrent": cmd_concurrent,
    "hold": cmd_hold,
    "slow": cmd_slow,
    "burst": cmd_burst,
    "noread": cmd_noread,
}


def main(argv):
    if len(argv) < 3 or argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[1]](*argv[2:])
    except (OSError, ValueError, Closed, TypeError) as e:
        print("smclient: %s: %s" % (argv[1], e or type(e).__name__), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
