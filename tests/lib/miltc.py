#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""miltc.py - the MTA side of milter sessions, for what miltertest cannot show

The exact SMTP reply on the wire, Postfix's local submission (port 0), the
recipient bytes an MTA may pass on (8-bit), many sessions at once. Speaks
the milter protocol (version 6) over a unix socket, offering what Postfix
3.7 offers unless told otherwise.

  miltc.py session SOCK [--host H --addr A --port N --actions N] [--eom-queue-id ID]
                   'RCPT [ESMTP..]'..
      one session, one message from <sender@example.org>; RCPT may hold
      Python escapes (\\xfc), sent as those bytes; prints "negotiate
      actions=0x.. steps=0x..", "connect R", "mail R", "rcpt RCPT R" per
      recipient (R: the reply command, "y CODE TEXT" for a reply code), and
      if one was accepted, "eom OP FIELD | FIELD" per modification and
      "eom end R"; --eom-queue-id sends {i} with end of message only, as
      Postfix does for the first recipients' transaction
  miltc.py parallel SOCK N FORMAT FAST
      N sessions at once, RCPT FORMAT % i each; while they wait, one more
      with RCPT FAST; prints "replies=.. all=SECONDS fast=SECONDS"
"""
import argparse
import socket
import struct
import sys
import threading
import time

ACTIONS_POSTFIX = 0x1ff         # what Postfix 3.7 offers (measured)
STEPS_POSTFIX = 0x1fffff


class Session:
    def __init__(self, path, actions=ACTIONS_POSTFIX):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.send(b'O', struct.pack('!III', 6, actions, STEPS_POSTFIX))
        _, data = self.recv()
        self.actions, self.steps = struct.unpack('!II', data[4:12])

    def send(self, cmd, data=b''):
        self.sock.sendall(struct.pack('!I', len(data) + 1) + cmd + data)

    def read(self, n):
        data = b''
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError('the milter closed the connection')
            data += chunk
        return data

    def recv(self):
        head = self.read(5)
        return head[4:5], self.read(struct.unpack('!I', head[:4])[0] - 1)

    def connect(self, host, addr, port, j='mta.test'):
        self.send(b'D', b'Cj\0' + j.encode() + b'\0')
        self.send(b'C', host.encode() + b'\0' + b'4' + struct.pack('!H', port) +
                  addr.encode() + b'\0')
        return reply(*self.recv())

    def command(self, cmd, args):
        self.send(cmd, b''.join(unescape(a) + b'\0' for a in args))
        return reply(*self.recv())

    def eom(self, queue_id=None):
        if queue_id is not None:
            self.send(b'D', b'Ei\0' + queue_id.encode() + b'\0')
        self.send(b'E')
        mods = []
        while True:
            cmd, data = self.recv()
            if cmd in (b'c', b'a', b'r', b't', b'y', b'd'):
                return mods, reply(cmd, data)
            fields = [f.decode('latin-1') for f in data.split(b'\0')[:-1]]
            mods.append('%s %s' % (cmd.decode(), ' | '.join(fields)))

    def quit(self):
        self.send(b'Q')
        self.sock.close()


def unescape(text):
    """TEXT's Python escapes (\\xfc) as those bytes; the rest as it is."""
    return text.encode().decode('unicode_escape').encode('latin-1')


def reply(cmd, data):
    if cmd == b'y':
        return 'y ' + data.rstrip(b'\0').decode('latin-1')
    return cmd.decode()


def one_session(args):
    s = Session(args.socket, args.actions)
    print('negotiate actions=0x%x steps=0x%x' % (s.actions, s.steps))
    r = s.connect(args.host, args.addr, args.port)
    print('connect ' + r)
    if r == 'c':
        print('mail ' + s.command(b'M', ['<sender@example.org>']))
        accepted = 0
        for spec in args.rcpts:
            parts = spec.split(' ')
            r = s.command(b'R', parts)
            print('rcpt %s %s' % (parts[0], r))
            accepted += r == 'c'
        if accepted:
            mods, r = s.eom(args.eom_queue_id)
            for m in mods:
                print('eom ' + m.replace('\n', '\\n').replace('\t', '\\t'))
            print('eom end ' + r)
    s.quit()
    return 0


def parallel(args):
    results = []
    lock = threading.Lock()

    def run(rcpt):
        start = time.monotonic()
        try:
            s = Session(args.socket)
            s.connect('client.test', '192.0.2.25', 40000)
            s.command(b'M', ['<sender@example.org>'])
            r = s.command(b'R', [rcpt])
            s.quit()
        except (OSError, EOFError) as e:
            r = 'error'
            print('error: %s: %s' % (rcpt, e), file=sys.stderr)
        with lock:
            results.append((rcpt, r, time.monotonic() - start))

    start = time.monotonic()
    threads = [threading.Thread(target=run, args=(args.format % i,)) for i in range(args.n)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    run(args.fast)
    for t in threads:
        t.join()
    total = time.monotonic() - start
    fast = [d for rcpt, _, d in results if rcpt == args.fast][0]
    replies = {}
    for _, r, _ in results:
        key = ''.join(r.split(' ')[:2])
        replies[key] = replies.get(key, 0) + 1
    print('replies=%s all=%.2f fast=%.2f' % (
        ','.join('%s:%d' % kv for kv in sorted(replies.items())), total, fast))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='mode', required=True)
    one = sub.add_parser('session')
    one.add_argument('socket')
    one.add_argument('--host', default='client.test')
    one.add_argument('--addr', default='192.0.2.25')
    one.add_argument('--port', type=int, default=40000)
    one.add_argument('--actions', type=lambda v: int(v, 0), default=ACTIONS_POSTFIX)
    one.add_argument('--eom-queue-id', default=None)
    one.add_argument('rcpts', nargs='*')
    many = sub.add_parser('parallel')
    many.add_argument('socket')
    many.add_argument('n', type=int)
    many.add_argument('format')
    many.add_argument('fast')
    args = ap.parse_args()
    return one_session(args) if args.mode == 'session' else parallel(args)


if __name__ == '__main__':
    sys.exit(main())
