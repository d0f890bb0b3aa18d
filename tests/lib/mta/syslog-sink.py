#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""syslog-sink.py SOCKET LOGFILE - a minimal syslog receiver for the bench.

sendmail logs only through syslog(3), i.e. to /dev/log. sendmail.sh runs
sendmail in a mount namespace whose /dev/log is SOCKET, and this process
appends every datagram it receives there to LOGFILE as one line (without
the <PRI> prefix), so tests can read a maillog. Stops on SIGTERM.
"""
import os
import re
import signal
import socket
import sys

PRI = re.compile(rb"^<\d{1,3}>")


def main():
    path, logfile = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)          # sendmail's children log as other users
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(logfile, "ab", buffering=0) as out:
        while True:
            data = sock.recv(65536)
            out.write(PRI.sub(b"", data).rstrip(b"\n\0") + b"\n")


if __name__ == "__main__":
    main()
