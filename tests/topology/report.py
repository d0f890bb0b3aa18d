#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""report.py - what happened to every message of run-topology, and why

Reads run-topology's scratch directory: hosts.tsv (name, host name,
addresses), sent.tsv (story, step, submitting host, count, recipient,
expected receivers, title, the host running without mxpath's doors or
"-") and each host's Postfix maillog, local
deliveries (pf/local/msg.*) and mxpathd log. For every message it follows
the Postfix log lines host to host (relay=ADDR -> the host with that
address) to the node that delivered it locally, and takes from each
mxpathd on the way its last socketmap answer for the recipient (the queue
manager's: the route Postfix used), and checks that the milter door of
every host on the way passed the recipient at RCPT time (but one running
without mxpath's doors, which the step names).

Prints one table per story (message -> node that received it -> why) and
the totals; with -o FILE also writes one line per message (tab-separated).
Exits 1 if any message is lost, duplicated, bounced, looped, received
where its step did not expect it, or not passed by a milter on its way.
"""
import argparse
import collections
import glob
import math
import os
import re
import sys

STORY_TITLES = {
    "cluster": "Story 1 - Example 17: the cluster A, B, C and CLUSTER.CS.XYZ.EDU",
    "firewall": "Story 2 - Example 18: the firewall iris and the inside host daisy",
    "boston": "Story 3a - Example 16: boston.travel.edu, MX 0 san-francisco, 10 chicago, 20 toronto",
    "software": "Story 3b - seed 004: software.com, MX 10 mail, 20 fallback, 90 mail.othercorp.com",
    "byaddress": "Story 4 - self by address only: jupiter.software.com is fallback.software.com",
}
SENT_RE = re.compile(r"postfix/(\w+)\[\d+\]: \w+: to=<([^>]+)>, relay=([^,]+), .* status=(\w+)")
DEFER_RE = re.compile(r"status=deferred \((.*)\)\s*$")
LOOP_RE = re.compile(r"loops back to myself")
MILTER_RE = re.compile(r": rcpt=<([^>]+)> action=(\S+)")   # QUEUEID: rcpt=<...> action=...
SOCKETMAP_RE = re.compile(r" socketmap: .* map=transport key=(\S+) action=(\S+)(?: rule=(\S+) "
                          r"hops=(\S+) pruned=(\S+))?")


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


class World:
    """The hosts, and everything their logs say, indexed by recipient."""

    def __init__(self, top):
        self.top = top
        self.hostname = {}
        self.by_addr = {}
        for name, hostname, addrs in read_tsv(os.path.join(top, "hosts.tsv")):
            self.hostname[name] = hostname
            for addr in addrs.split(","):
                self.by_addr[addr] = name
        self.forwards = collections.defaultdict(list)   # rcpt -> [(from, to)]
        self.local = collections.Counter()              # (rcpt, host) -> copies
        self.bounced = collections.Counter()            # rcpt -> bounce lines
        self.deferred = collections.defaultdict(dict)   # rcpt -> {host: last reason}
        self.decision = {}                              # (host, rcpt) -> text
        self.milter = {}                                # (host, rcpt) -> RCPT-time action
        self.loop_lines = []
        for name in self.hostname:
            self._read_host(name)

    def _read_host(self, name):
        base = os.path.join(self.top, "h", name)
        for line in _lines(os.path.join(base, "pf", "maillog")):
            if LOOP_RE.search(line):
                self.loop_lines.append(f"{name}: {line.strip()}")
            m = SENT_RE.search(line)
            if not m:
                continue
            rcpt, relay, status = m.group(2).lower(), m.group(3), m.group(4)
            if status == "bounced":
                self.bounced[rcpt] += 1
            elif status == "deferred":
                why = DEFER_RE.search(line)
                self.deferred[rcpt][name] = why.group(1) if why else "?"
            elif status == "sent" and relay != "local":
                addr = re.search(r"\[([0-9.]+)\]", relay)
                self.forwards[rcpt].append((name, self.by_addr.get(addr.group(1), relay)
                                            if addr else relay))
        for path in glob.glob(os.path.join(base, "pf", "local", "msg.*")):
            for line in _lines(path):
                if line.startswith("X-Local-Rcpt: <"):
                    self.local[(line[15:].strip().rstrip(">").lower(), name)] += 1
                    break
        for line in _lines(os.path.join(base, "mxpathd.log")):
            if LOOP_RE.search(line):
                self.loop_lines.append(f"{name} mxpathd: {line.strip()}")
            m = MILTER_RE.search(line)
            if m:
                self.milter[(name, m.group(1).lower())] = m.group(2)
            m = SOCKETMAP_RE.search(line)
            if m:
                self.decision[(name, m.group(1).lower())] = _decision_text(m)

    def trace(self, rcpt, start):
        """The hosts the message went through, from the submitting host."""
        path, here, seen_edges = [start], start, set()
        edges = list(self.forwards.get(rcpt, []))
        while True:
            nxt = [e for e in edges if e[0] == here and e not in seen_edges]
            if not nxt:
                return path
            seen_edges.add(nxt[0])
            here = nxt[0][1]
            path.append(here)


def _lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readlines()
    except OSError:
        return []


def _decision_text(m):
    action, rule, hops, pruned = m.group(2), m.group(3), m.group(4), m.group(5)
    if rule is None:
        return action
    text = f"{action} by {rule}"
    if hops and hops != "-":
        text += ": " + ", ".join(hops.split(","))
    if pruned and pruned != "-":
        text += "; pruned " + ", ".join(p.replace(":", " (") + ")" for p in pruned.split(","))
    return text


def self_how(world, host, text):
    """Says whether a host pruned as self was its own name or an address."""
    if text is None:
        return "(no decision logged)"

    def how(m):
        by = "by name" if m.group(1) == world.hostname[host] else "by address"
        return f"{m.group(1)} (self, {by})"
    return re.sub(r"([a-z0-9.-]+) \(self\)", how, text)


def analyse(world, sent):
    """One record per message."""
    records = []
    for story, step, host, count, rcpt, expect, title, doors_off in sent:
        for k in range(1, int(count) + 1):
            r = f"{k}{rcpt}".lower()
            path = world.trace(r, host)
            receivers = sorted({h for (rr, h) in world.local if rr == r})
            copies = sum(n for (rr, _), n in world.local.items() if rr == r)
            why = [f"{world.hostname[h]}: {self_how(world, h, world.decision.get((h, r)))}"
                   + (" (its own host name)" if r.endswith("@" + world.hostname[h]) else "")
                   for h in path]
            loops = int(len(path) != len(set(path)))
            # Every host took it over SMTP, so its milter saw the RCPT.
            passed = sum(1 for h in path if world.milter.get((h, r)) in ("relay", "local"))
            milter_due = sum(1 for h in path if h != doors_off)
            records.append({
                "story": story, "step": int(step), "title": title, "rcpt": r,
                "base": rcpt, "from": host, "path": path, "receivers": receivers,
                "copies": copies, "bounced": world.bounced[r], "loops": loops,
                "waited": sorted(world.deferred.get(r, {})),
                "held": "; ".join(f"{world.hostname[h]}: {why}"
                                  for h, why in sorted(world.deferred.get(r, {}).items())),
                "expect": expect.split(), "why": why, "milter": passed, "milter_due": milter_due,
            })
    return records


def record_ok(rec):
    return (rec["copies"] == 1 and rec["bounced"] == 0 and rec["loops"] == 0
            and rec["receivers"][0] in rec["expect"] and rec["milter"] == rec["milter_due"])


def print_story(world, story, recs):
    print(f"\n== {STORY_TITLES.get(story, story)}")
    for step in sorted({r["step"] for r in recs}):
        srecs = [r for r in recs if r["step"] == step]
        print(f"-- {srecs[0]['title']}")
        groups = collections.OrderedDict()
        for r in srecs:
            key = (" -> ".join(world.hostname[h] for h in r["path"]),
                   ",".join(world.hostname[h] for h in r["receivers"]) or "(nobody)",
                   tuple(r["why"]), tuple(sorted(world.deferred.get(r["rcpt"], {}))))
            groups.setdefault(key, []).append(r)
        for (path, recv, why, waited), rs in groups.items():
            bad = "" if all(record_ok(r) for r in rs) else "   <-- NOT AS EXPECTED"
            print(f"  {len(rs):3d} x {rs[0]['base']:28s} received by {recv}{bad}")
            print(f"        path  {path}")
            for h in waited:
                print(f"        held  at {world.hostname[h]}, last: "
                      f"{world.deferred[rs[-1]['rcpt']].get(h, '?')}")
            for w in why:
                print(f"        why   {w}")
    sent = len(recs)
    once = sum(1 for r in recs if r["copies"] == 1)
    lost = sum(1 for r in recs if r["copies"] == 0)
    dup = sum(1 for r in recs if r["copies"] > 1)
    bounced = sum(r["bounced"] for r in recs)
    loops = sum(r["loops"] for r in recs)
    wrong = sum(1 for r in recs if r["copies"] >= 1 and r["receivers"][0] not in r["expect"])
    unchecked = sum(1 for r in recs if r["milter"] != r["milter_due"])
    print(f"  totals: sent {sent}, delivered {once}, lost {lost}, duplicated {dup}, "
          f"bounced {bounced}, loops {loops}, received off the expected nodes {wrong}")
    print(f"  milter door: every host on the way passed the RCPT of "
          f"{sent - unchecked} of {sent}")
    return lost == 0 and dup == 0 and bounced == 0 and loops == 0 and wrong == 0 \
        and unchecked == 0


def cluster_share(world, recs):
    """Story 1's first step: A's and B's shares of the 200 must be fair."""
    first = [r for r in recs if r["story"] == "cluster"]
    if not first:
        return True
    step = min(r["step"] for r in first)
    first = [r for r in first if r["step"] == step]
    n = len(first)
    share = collections.Counter(r["receivers"][0] for r in first if r["receivers"])
    lo, hi = n * 35 // 100, n * 65 // 100
    ok = all(lo <= share[h] <= hi for h in ("a", "b"))
    # P(a fair coin's count falls outside [lo, hi]) = 2 P(X < lo), X ~ B(n, 1/2)
    miss = 2 * sum(math.comb(n, k) for k in range(lo)) / 2 ** n
    print(f"  fair share of the {n}: A {share['a']}, B {share['b']}; each must be in "
          f"[{lo}, {hi}] ({'yes' if ok else 'NO'}; a fair coin misses that with "
          f"probability {miss:.1e})")
    return ok


def write_results(path, world, recs):
    with open(path, "w", encoding="utf-8") as f:
        f.write("#story\tstep\tfrom\trecipient\tpath\treceivers\tcopies\tbounced\tloops"
                "\twaited\twhy\tmilter\theld\n")
        for r in recs:
            f.write("\t".join([r["story"], str(r["step"]), r["from"], r["rcpt"],
                               " ".join(r["path"]), " ".join(r["receivers"]) or "-",
                               str(r["copies"]), str(r["bounced"]), str(r["loops"]),
                               " ".join(r["waited"]) or "-", " | ".join(r["why"]),
                               f"{r['milter']}/{r['milter_due']}", r["held"] or "-"]) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("top")
    ap.add_argument("-o", dest="out")
    args = ap.parse_args()
    world = World(args.top)
    recs = analyse(world, read_tsv(os.path.join(args.top, "sent.tsv")))
    ok = True
    order = list(STORY_TITLES)
    stories = sorted(dict.fromkeys(r["story"] for r in recs),
                     key=lambda s: order.index(s) if s in order else len(order))
    for story in stories:
        srecs = [r for r in recs if r["story"] == story]
        ok = print_story(world, story, srecs) and ok
        if story == "cluster":
            ok = cluster_share(world, srecs) and ok
    print(f"\nall stories: sent {len(recs)}, delivered once "
          f"{sum(1 for r in recs if r['copies'] == 1)}, lost "
          f"{sum(1 for r in recs if r['copies'] == 0)}, bounced "
          f"{sum(r['bounced'] for r in recs)}, loops {sum(r['loops'] for r in recs)}; "
          f"'loops back to myself' logged {len(world.loop_lines)} times")
    for line in world.loop_lines[:5]:
        print(f"    {line}")
    ok = ok and not world.loop_lines
    if args.out:
        write_results(args.out, world, recs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
