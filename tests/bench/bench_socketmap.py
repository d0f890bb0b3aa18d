#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""bench_socketmap.py - socketmap lookups/s and p99 latency: mxpathd against
a do-nothing netstring server, at 1, 8 and 64 concurrent connections

Starts, in a scratch directory, tests/lib/dnsmock.py on a free loopback port
(serving tests/zones), mxpathd with only its socketmap door, and
$BUILD/bench/null_socketmap (answers every request "OK smtp:[127.0.0.1]").
The route asked for is warmed up first, so mxpathd answers from its cache.
$BUILD/bench/socketmap_load drives each server closed-loop (each connection
sends its next request when the answer arrives) and the table gives both
servers' figures and their ratios. mxpathd logs its one line per decision
to a file, as it would to syslog.

usage: bench_socketmap.py [--seconds S] [--connections 1,8,64] [--key user@software.com]
Environment: BUILD (default "build"), relative to the source tree.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import smclient  # noqa: E402  (needs the path above)


def build_path(*parts):
    build = os.environ.get("BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(ROOT, build)
    return os.path.join(build, *parts)


def free_port():
    while True:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()


def wait_for(what, test, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if test():
            return
        time.sleep(0.05)
    raise RuntimeError("%s did not come up" % what)


class Bench:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mxpath-bench-sm.")
        self.procs = []

    def start(self, name, argv, **kw):
        log = open(os.path.join(self.dir, name + ".log"), "w")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, **kw)
        self.procs.append(proc)
        return proc

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_dns(self):
        port = free_port()
        self.start("dns", ["/usr/bin/python3", os.path.join(ROOT, "tests/lib/dnsmock.py"),
                           "--zonedir", os.path.join(ROOT, "tests/zones"),
                           "--port", str(port)])
        wait_for("dnsmock", lambda: subprocess.run(
            ["dig", "@127.0.0.1", "-p", str(port), "+time=1", "+tries=1", "SOA", "edge.test"],
            capture_output=True).stdout.find(b"status:") >= 0)
        return port

    def start_mxpathd(self, dns_port):
        sock = os.path.join(self.dir, "mxpathd.sock")
        conf = os.path.join(self.dir, "mxpath.conf")
        with open(conf, "w") as f:
            f.write('user = "root"; group = "root";\n'
                    'self = { names = [ ]; addresses = [ ]; };\n'
                    'dns = { servers = [ "127.0.0.1:%d" ]; };\n'
                    'socketmap = { socket = "unix:%s"; };\n' % (dns_port, sock))
        log = os.path.join(self.dir, "mxpathd.log")
        self.start("mxpathd", [build_path("mxpathd"), "-f", "-c", conf,
                               "-p", os.path.join(self.dir, "mxpathd.pid")])
        wait_for("mxpathd", lambda: " started: " in open(log).read())
        return "unix:" + sock

    def start_null(self):
        sock = os.path.join(self.dir, "null.sock")
        self.start("null", [build_path("bench", "null_socketmap"), sock])
        wait_for("null_socketmap", lambda: os.path.exists(sock))
        return "unix:" + sock


def cpu_ticks(pid):
    """The process's user + system CPU time so far, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def load(spec, connections, seconds, key, server_pid):
    """socketmap_load's figures, and the server's CPU time per lookup
    (cpu_us): unlike the rate, hardly moved by what else the machine runs."""
    before = cpu_ticks(server_pid)
    out = subprocess.run([build_path("bench", "socketmap_load"), spec, str(connections),
                          str(seconds), "transport", key],
                         capture_output=True, text=True, timeout=seconds + 30)
    ticks = cpu_ticks(server_pid) - before
    if out.returncode != 0:
        raise RuntimeError("socketmap_load: %s%s" % (out.stdout, out.stderr))
    head, _, answer = out.stdout.strip().partition(" answer=")
    figures = dict(item.split("=", 1) for item in head.split())
    figures["answer"] = answer
    lookups = max(float(figures["rate"]) * seconds, 1.0)
    figures["cpu_us"] = "%.2f" % (ticks * 1e6 / os.sysconf("SC_CLK_TCK") / lookups)
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--connections", default="1,8,64")
    ap.add_argument("--key", default="user@software.com")
    args = ap.parse_args()
    levels = [int(n) for n in args.connections.split(",")]

    bench = Bench()
    try:
        mxpathd = bench.start_mxpathd(bench.start_dns())
        mxpathd_pid = bench.procs[-1].pid
        null = bench.start_null()
        null_pid = bench.procs[-1].pid
        warm = smclient.Client(mxpathd).request("transport", args.key)
        if not warm.startswith("OK "):
            raise RuntimeError("warm-up lookup of %s: %s" % (args.key, warm))
        print("# socketmap lookups, closed loop, %.1f s per run, key %s, %d CPUs"
              % (args.seconds, args.key, os.cpu_count()))
        print("# mxpathd answers: %s" % warm)
        print("%-6s %12s %9s %12s %9s %9s %9s %9s %9s" % (
            "conns", "null/s", "null p99", "mxpathd/s", "mx p99", "rate", "p99",
            "null cpu", "mx cpu"))
        for n in levels:
            base = load(null, n, args.seconds, args.key, null_pid)
            mx = load(mxpathd, n, args.seconds, args.key, mxpathd_pid)
            rate_ratio = float(mx["rate"]) / max(float(base["rate"]), 1.0)
            p99_ratio = float(mx["p99_us"]) / max(float(base["p99_us"]), 1.0)
            print("%-6d %12s %7sus %12s %7sus %8.2fx %8.2fx %7sus %7sus"
                  % (n, base["rate"], base["p99_us"], mx["rate"], mx["p99_us"],
                     rate_ratio, p99_ratio, base["cpu_us"], mx["cpu_us"]), flush=True)
        print("# rate: mxpathd lookups/s over the null server's; p99: mxpathd's over the "
              "null's; cpu: each server's CPU time (user + system) per lookup")
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        print("bench_socketmap: %s" % e, file=sys.stderr)
        sys.exit(1)
