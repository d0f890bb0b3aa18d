#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""stress-load.py - concurrent load on mxpathd's doors for the ThreadSanitizer run

For SECONDS, MILTERS threads each run milter sessions (one recipient per
session, taken in turn from the keys) and SOCKETMAPS threads each ask
socketmap lookups on one connection, while the caller reloads and stops the
daemon. Errors are expected once the daemon stops (refused, reset): they are
counted, not fatal. Prints "milter=N socketmap=N errors=N".

Usage: stress-load.py MILTER_SOCK SOCKETMAP_SOCK SECONDS MILTERS SOCKETMAPS KEY...
"""
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import miltc  # noqa: E402
import smclient  # noqa: E402


def main(argv):
    milter_sock, sm_sock = argv[1], argv[2]
    seconds, n_milter, n_sm = float(argv[3]), int(argv[4]), int(argv[5])
    keys = argv[6:]
    end = time.monotonic() + seconds
    counts = {'milter': 0, 'socketmap': 0, 'errors': 0}
    lock = threading.Lock()

    def count(what):
        with lock:
            counts[what] += 1

    def milter_worker(k):
        i = k
        while time.monotonic() < end:
            try:
                s = miltc.Session(milter_sock)
                s.connect('client.test', '192.0.2.25', 40000 + k)
                s.command(b'M', ['<sender@example.org>'])
                s.command(b'R', ['<%s>' % keys[i % len(keys)]])
                s.quit()
                count('milter')
            except (OSError, EOFError, ValueError):
                count('errors')
                time.sleep(0.05)
            i += 1

    def socketmap_worker(k):
        i = k
        client = None
        while time.monotonic() < end:
            try:
                if client is None:
                    client = smclient.Client(sm_sock)
                client.request('transport', keys[i % len(keys)])
                count('socketmap')
            except (OSError, EOFError, ValueError, smclient.Closed):
                count('errors')
                client = None
                time.sleep(0.05)
            i += 1

    threads = [threading.Thread(target=milter_worker, args=(k,)) for k in range(n_milter)]
    threads += [threading.Thread(target=socketmap_worker, args=(k,)) for k in range(n_sm)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print('milter=%(milter)d socketmap=%(socketmap)d errors=%(errors)d' % counts)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
