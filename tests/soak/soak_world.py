#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""soak_world.py - the world of the fault soak: exchangers, zone, policy, plan

One place that says what the soak routes and where every message must end
up, so the zone served, the policy mxpathd loads and the verdicts of
soak-verify cannot disagree. Imported by soak-send and soak-verify; run by
run-soak as a command:

  soak_world.py sinks                      "NAME ADDRESS" per exchanger
  soak_world.py zone                       the soak.test zone file
  soak_world.py policy before|after|bad    mxpathd's routing rules (libconfig):
                                           before and after the reload, and a
                                           file mxpathd must refuse
  soak_world.py domains                    "DOMAIN KIND" per recipient domain

The world (all under soak.test; exchangers on 127.0.7.x, never anything
else; nothing here is connected to but the sinks):
  ttl1..ttl5      MX 10 pN, MX 20 b2, TTL 2 s  (expire while DNS is down)
  mx01..mx30      MX 10 pN, MX 20 bN           (p5 is stopped during the run)
  eq1..eq5        two primaries at 10, b1 at 20 (shuffled: both get mail)
  imp1, imp2      no MX, an A record            (implicit MX)
  cl1..cl3        cluster aliases (policy)      two members at 10, one at 20
  sN.static       static route r1 10, r2 20     (policy, not DNS)
  mvN.moved       static route to "old"; after the reload to "new"
  loc             a local host                  (Postfix's local service)
  null1..null3    MX 0 .                        (refused at RCPT)
  fN.flaky        MX 10 pN; SERVFAILs for a while (tempfailed, retried)
"""
import sys

ZONE = 'soak.test'
SENDER = 'soak@origin.soak.test'
STOPPED_PRIMARY = 'p5'
FLAKY_SUFFIX = 'flaky.' + ZONE
LOCAL = 'local'		# pseudo-sink: Postfix's local service

SINKS = {
    'p1': '127.0.7.11', 'p2': '127.0.7.12', 'p3': '127.0.7.13',
    'p4': '127.0.7.14', 'p5': '127.0.7.15',
    'b1': '127.0.7.21', 'b2': '127.0.7.22',
    'c1': '127.0.7.31', 'c2': '127.0.7.32', 'c3': '127.0.7.33',
    'r1': '127.0.7.41', 'r2': '127.0.7.42',
    'old': '127.0.7.51', 'new': '127.0.7.52',
    'imp': '127.0.7.61',
}

# Cluster aliases: (alias, [(member sink, pref), ...]).
CLUSTERS = [
    ('cl1', [('c1', 10), ('c2', 10), ('c3', 20)]),
    ('cl2', [('c2', 10), ('c3', 10), ('c1', 20)]),
    ('cl3', [('c3', 10), ('c1', 10), ('c2', 20)]),
]
EQUAL_PAIRS = [('p1', 'p2'), ('p3', 'p4'), ('p1', 'p3'), ('p2', 'p4'), ('p1', 'p4')]


def host(sink):
    """The exchanger's name in the zone."""
    return '%s.hosts.%s' % (sink, ZONE)


class Domain:
    """A recipient domain: its kind and the sinks that may receive its mail.

    primary: the sinks its mail goes to while every exchanger is up (two
    for shuffled equal preferences and cluster aliases: the best members,
    whose names the milter rewrites the alias to); backup: where it goes
    when the primary is down (for "moved": where it goes after the
    reload); ttl: the MX records' TTL when not the zone's."""

    def __init__(self, name, kind, primary, backup=None, ttl=None):
        self.name = name
        self.kind = kind
        self.primary = set(primary)
        self.backup = backup
        self.ttl = ttl


def build_domains():
    d = []
    # The short-TTL domains come first: the harness stops DNS at 10% of
    # the messages, and they must have been resolved by then.
    for k in range(1, 6):
        d.append(Domain('ttl%d.%s' % (k, ZONE), 'ttl', ['p%d' % k], backup='b2', ttl=2))
    for k in range(1, 31):
        d.append(Domain('mx%02d.%s' % (k, ZONE), 'mx', ['p%d' % ((k - 1) % 5 + 1)],
                        backup='b%d' % ((k - 1) % 2 + 1)))
    for k, pair in enumerate(EQUAL_PAIRS, 1):
        d.append(Domain('eq%d.%s' % (k, ZONE), 'equal', pair, backup='b1'))
    for k in (1, 2):
        d.append(Domain('imp%d.%s' % (k, ZONE), 'implicit', ['imp']))
    for alias, members in CLUSTERS:
        best = min(p for _, p in members)
        d.append(Domain('%s.%s' % (alias, ZONE), 'cluster',
                        [s for s, p in members if p == best]))
    for k in range(1, 6):
        d.append(Domain('s%d.static.%s' % (k, ZONE), 'static', ['r1']))
    for k in range(1, 4):
        d.append(Domain('mv%d.moved.%s' % (k, ZONE), 'moved', ['old'], backup='new'))
    d.append(Domain('loc.' + ZONE, 'local', [LOCAL]))
    for k in range(1, 4):
        d.append(Domain('null%d.%s' % (k, ZONE), 'nullmx', []))
    d.append(Domain('f1.' + FLAKY_SUFFIX, 'flaky', ['p2'], backup='b2'))
    d.append(Domain('f2.' + FLAKY_SUFFIX, 'flaky', ['p3'], backup='b1'))
    return d


DOMAINS = build_domains()
BY_NAME = {x.name: x for x in DOMAINS}


def message(i, run):
    """Message i of the plan: (local part, recipient, Message-ID)."""
    local = 'm%06d' % i
    dom = DOMAINS[i % len(DOMAINS)]
    return local, '%s@%s' % (local, dom.name), '<%s.%s@%s>' % (local, run, ZONE)


def zone_text():
    out = ['$ORIGIN %s.' % ZONE, '$TTL 300',
           '@ IN SOA ns1 hostmaster ( 1 3600 600 86400 300 )',
           '@ IN NS ns1', 'ns1 IN A 127.0.0.1',
           'origin IN MX 10 %s.' % host('p1')]
    for name, addr in sorted(SINKS.items()):
        out.append('%s IN A %s' % (host(name)[:-len(ZONE) - 1], addr))
    for x in DOMAINS:
        rel = x.name[:-len(ZONE) - 1]
        ttl = '%d ' % x.ttl if x.ttl else ''
        if x.kind in ('mx', 'ttl', 'flaky', 'equal'):
            for p in sorted(x.primary):
                out.append('%s %sIN MX 10 %s.' % (rel, ttl, host(p)))
            out.append('%s %sIN MX 20 %s.' % (rel, ttl, host(x.backup)))
        elif x.kind == 'implicit':
            out.append('%s IN A %s' % (rel, SINKS['imp']))
        elif x.kind == 'nullmx':
            out.append('%s IN MX 0 .' % rel)
    return '\n'.join(out) + '\n'


def policy_text(which):
    """The routing part of mxpathd's configuration. "bad" moves the moved
    domains back to "old", with a preference out of range: mxpathd must
    refuse the whole file, so mail keeps going to "new"."""
    moved = 'new' if which == 'after' else 'old'
    moved_pref = 70000 if which == 'bad' else 10
    clusters = ',\n  '.join(
        '{ name = "%s.%s"; members = ( %s ); }' % (
            alias, ZONE, ', '.join('{ host = "%s"; pref = %d; }' % (host(s), p)
                                   for s, p in members))
        for alias, members in CLUSTERS)
    text = ('local_hosts = [ "loc.%s" ];\n' % ZONE +
            'clusters = (\n  %s );\n' % clusters +
            'routes = (\n'
            '  { domain = ".static.%s";\n'
            '    hosts = ( { host = "%s"; pref = 10; }, { host = "%s"; pref = 20; } ); },\n'
            '  { domain = ".moved.%s"; hosts = ( { host = "%s"; pref = %d; } ); } );\n'
            % (ZONE, host('r1'), host('r2'), ZONE, host(moved), moved_pref))
    return text


def main(argv):
    if len(argv) == 2 and argv[1] == 'sinks':
        for name, addr in sorted(SINKS.items()):
            print(name, addr)
    elif len(argv) == 2 and argv[1] == 'zone':
        sys.stdout.write(zone_text())
    elif len(argv) == 3 and argv[1] == 'policy' and argv[2] in ('before', 'after', 'bad'):
        sys.stdout.write(policy_text(argv[2]))
    elif len(argv) == 2 and argv[1] == 'domains':
        for x in DOMAINS:
            print(x.name, x.kind)
    else:
        sys.exit('usage: soak_world.py sinks | zone | policy before|after|bad | domains')


if __name__ == '__main__':
    main(sys.argv)
