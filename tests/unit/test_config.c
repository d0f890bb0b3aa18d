/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config.c - configuration loading: every key, the defaults, and
 * one exact "FILE:LINE: key: message" per class of error
 *
 * Files live in tests/unit/conf/ (found through $MXPATH_ROOT, which
 * tests/run-tests sets; the current directory otherwise).
 */
#include <arpa/inet.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mxpath/config/config.h"

struct error_case {
	const char *text;
	const char *error;
};

static const char *root_path(char *buf, size_t len, const char *relative);
static struct policy *load_ok(const char *text);
static void assert_error(const char *text, const char *expected);
static void assert_defaults(const struct policy *p);
static void table_new(char *path, const char *text);
static void table_write(const char *path, const char *text);
static void assert_default_settings(const struct daemon_settings *s);
static void assert_addr(const struct mx_addr *addr, const char *text);
static void assert_cidr(const struct mx_cidr *cidr, const char *net, unsigned prefix);
static void assert_host(const struct policy_host *host, const char *name, unsigned pref);
static void assert_socket(const struct door_socket *sock, const char *spec, const char *owner,
			  const char *group, mode_t mode);

static const char *root_path(char *buf, size_t len, const char *relative)
{
	const char *root = getenv("MXPATH_ROOT");

	snprintf(buf, len, "%s/%s", root != NULL ? root : ".", relative);
	return buf;
}

/* settings: the daemon's settings too (NULL: not wanted). */
static struct policy *load_ok_settings(const char *text, struct daemon_settings *settings)
{
	struct policy *p = NULL;
	char err[CONFIG_ERROR_MAX] = "";

	if (config_load_string(text, "t.conf", &p, settings, err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
	assert_non_null(p);
	return p;
}

static struct policy *load_ok(const char *text)
{
	return load_ok_settings(text, NULL);
}

static void assert_error(const char *text, const char *expected)
{
	struct policy *p = (struct policy *)&p;	/* must be reset to NULL */
	char err[CONFIG_ERROR_MAX] = "";

	if (config_load_string(text, "t.conf", &p, NULL, err, sizeof(err)) == 0)
		fail_msg("accepted: %s", text);
	assert_null(p);
	assert_string_equal(err, expected);
}

static void assert_addr(const struct mx_addr *addr, const char *text)
{
	char buf[MX_ADDR_TEXT_MAX];

	assert_string_equal(addr_format(addr, buf, sizeof(buf)), text);
}

static void assert_cidr(const struct mx_cidr *cidr, const char *net, unsigned prefix)
{
	assert_addr(&cidr->net, net);
	assert_int_equal(cidr->prefix, prefix);
}

static void assert_host(const struct policy_host *host, const char *name, unsigned pref)
{
	assert_string_equal(host->host, name);
	assert_int_equal(host->pref, pref);
}

static void assert_socket(const struct door_socket *sock, const char *spec, const char *owner,
			  const char *group, mode_t mode)
{
	if (spec == NULL)
		assert_null(sock->spec);
	else
		assert_string_equal(sock->spec, spec);
	if (owner == NULL)
		assert_null(sock->owner);
	else
		assert_string_equal(sock->owner, owner);
	if (group == NULL)
		assert_null(sock->group);
	else
		assert_string_equal(sock->group, group);
	assert_int_equal(sock->mode, mode);
}

/* Everything but the file name, as documented in README.md. */
static void assert_defaults(const struct policy *p)
{
	assert_int_equal(p->refs, 1);
	assert_int_equal(p->n_self_names, 0);
	assert_true(p->self_auto);
	assert_int_equal(p->n_self_addrs, 0);
	assert_int_equal(p->n_local_hosts, 0);
	assert_int_equal(p->n_clusters, 0);
	assert_int_equal(p->n_routes, 0);
	assert_int_equal(p->n_fallback_relays, 0);

	assert_int_equal(p->tls.fallback_relays, TLS_LEVEL_NONE);
	assert_int_equal(p->tls.n_mta_domains, 0);
	assert_null(p->tls.policy_table);
	assert_true(p->tls.mta_sts);
	assert_true(p->tls.dnssec);

	assert_int_equal(p->dns.n_servers, 0);
	assert_int_equal(p->dns.timeout_ms, 2000);
	assert_int_equal(p->dns.tries, 2);
	assert_int_equal(p->dns.cache_entries, 100000);
	assert_int_equal(p->dns.max_ttl, 3600);
	assert_int_equal(p->dns.min_ttl, 1);
	assert_int_equal(p->dns.failure_ttl, 5);
	assert_int_equal(p->dns.serve_stale, 86400);

	assert_true(p->mx.randomize);
	assert_int_equal(p->mx.max_hosts, 20);
	assert_int_equal(p->mx.max_addresses, 64);
	assert_true(p->mx.ipv4);
	assert_true(p->mx.ipv6);
	assert_int_equal(p->mx.null_mx, VERDICT_REJECT);
	assert_int_equal(p->mx.self_best, VERDICT_REJECT);
	assert_int_equal(p->mx.n_ignore_targets, 3);
	assert_cidr(&p->mx.ignore_targets[0], "0.0.0.0", 8);
	assert_cidr(&p->mx.ignore_targets[1], "255.255.255.255", 32);
	assert_cidr(&p->mx.ignore_targets[2], "::", 128);

	assert_true(p->milter.reject_unroutable);
	assert_false(p->milter.rewrite_clusters);
	assert_null(p->milter.rewrite_local);
	assert_false(p->milter.trace_header);

	assert_string_equal(p->socketmap.transport, "smtp");
	assert_int_equal(p->socketmap.port, 0);
	assert_string_equal(p->socketmap.mailer, "esmtp");
	assert_string_equal(p->socketmap.local, "local:");
	assert_int_equal(p->socketmap.nexthop, NEXTHOP_NAME);
	assert_int_equal(p->socketmap.default_action, DEFAULT_ROUTE);
	assert_int_equal(p->socketmap.max_connections, 1024);
	assert_int_equal(p->socketmap.idle_timeout, 300);
}

static void assert_default_settings(const struct daemon_settings *s)
{
	assert_socket(&s->milter, NULL, NULL, NULL, 0660);
	assert_int_equal(s->milter_timeout, 7200);
	assert_socket(&s->socketmap, NULL, NULL, NULL, 0660);
	assert_socket(&s->control, NULL, NULL, NULL, 0600);
	assert_string_equal(s->user, "mxpath");
	assert_string_equal(s->group, "mxpath");
	assert_null(s->pidfile);
}

/* ---- whole files ---- */

static void test_full_file_sets_every_field(void **state)
{
	char path[PATH_MAX], err[CONFIG_ERROR_MAX] = "";
	struct daemon_settings s;
	struct policy *p = NULL;

	(void)state;
	root_path(path, sizeof(path), "tests/unit/conf/full.conf");
	if (config_load_file(path, &p, &s, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(p->file, path);
	assert_int_equal(p->refs, 1);

	assert_int_equal(p->n_self_names, 2);
	assert_string_equal(p->self_names[0], "a.cs.xyz.edu");
	assert_string_equal(p->self_names[1], "mail.cs.xyz.edu");
	assert_false(p->self_auto);
	assert_int_equal(p->n_self_addrs, 3);
	assert_addr(&p->self_addrs[0], "192.0.2.10");
	assert_addr(&p->self_addrs[1], "2001:db8::10");
	assert_addr(&p->self_addrs[2], "198.51.100.7");

	assert_int_equal(p->n_local_hosts, 3);
	assert_string_equal(p->local_hosts[0], "b.cs.xyz.edu");
	assert_string_equal(p->local_hosts[1], "c.cs.xyz.edu");
	assert_string_equal(p->local_hosts[2], "cluster.cs.xyz.edu");

	assert_int_equal(p->n_clusters, 1);
	assert_string_equal(p->clusters[0].name, "cluster.cs.xyz.edu");
	assert_int_equal(p->clusters[0].n_members, 2);
	assert_host(&p->clusters[0].members[0], "a.cs.xyz.edu", 10);
	assert_host(&p->clusters[0].members[1], "b.cs.xyz.edu", 20);

	assert_int_equal(p->n_routes, 2);
	assert_string_equal(p->routes[0].pattern, ".process.com");
	assert_true(p->routes[0].is_suffix);
	assert_int_equal(p->routes[0].n_hosts, 2);
	assert_host(&p->routes[0].hosts[0], "daisy.process.com", 10);
	assert_host(&p->routes[0].hosts[1], "[192.0.2.25]", 20);
	assert_int_equal(p->routes[0].n_dns, 3);
	assert_string_equal(p->routes[0].dns[0], "192.0.2.53");
	assert_string_equal(p->routes[0].dns[1], "192.0.2.54:5353");
	assert_string_equal(p->routes[0].dns[2], "[2001:db8::53]:53");
	assert_int_equal(p->routes[0].channel, 1);
	assert_string_equal(p->routes[1].pattern, "firewall.example");
	assert_false(p->routes[1].is_suffix);
	assert_int_equal(p->routes[1].n_hosts, 1);
	assert_host(&p->routes[1].hosts[0], "[IPv6:2001:db8::25]", 0);
	assert_int_equal(p->routes[1].n_dns, 0);
	assert_int_equal(p->routes[1].channel, 0);

	assert_int_equal(p->n_fallback_relays, 2);
	assert_string_equal(p->fallback_relays[0], "mail.othercorp.com");
	assert_string_equal(p->fallback_relays[1], "[203.0.113.5]");

	assert_int_equal(p->dns.n_servers, 2);
	assert_string_equal(p->dns.servers[0], "127.0.0.1:5353");
	assert_string_equal(p->dns.servers[1], "::1");
	assert_int_equal(p->dns.timeout_ms, 500);
	assert_int_equal(p->dns.tries, 3);
	assert_int_equal(p->dns.cache_entries, 5000);
	assert_int_equal(p->dns.max_ttl, 600);
	assert_int_equal(p->dns.min_ttl, 30);
	assert_int_equal(p->dns.failure_ttl, 10);
	assert_int_equal(p->dns.serve_stale, 0);

	assert_false(p->mx.randomize);
	assert_int_equal(p->mx.max_hosts, 5);
	assert_int_equal(p->mx.max_addresses, 8);
	assert_true(p->mx.ipv4);
	assert_false(p->mx.ipv6);
	assert_int_equal(p->mx.null_mx, VERDICT_TEMPFAIL);
	assert_int_equal(p->mx.self_best, VERDICT_TEMPFAIL);
	assert_int_equal(p->mx.n_ignore_targets, 3);
	assert_cidr(&p->mx.ignore_targets[0], "0.0.0.0", 8);
	assert_cidr(&p->mx.ignore_targets[1], "127.0.0.0", 8);
	assert_cidr(&p->mx.ignore_targets[2], "::1", 128);

	assert_socket(&s.milter, "unix:/run/mxpath/milter.sock", "postfix", "postdrop", 0640);
	assert_false(p->milter.reject_unroutable);
	assert_true(p->milter.rewrite_clusters);
	assert_string_equal(p->milter.rewrite_local, "cluster.cs.xyz.edu");
	assert_true(p->milter.trace_header);
	assert_int_equal(s.milter_timeout, 600);

	assert_socket(&s.socketmap, "inet:10025@127.0.0.1", NULL, NULL, 0660);
	assert_string_equal(p->socketmap.transport, "relay");
	assert_int_equal(p->socketmap.port, 2525);
	assert_string_equal(p->socketmap.mailer, "smtp");
	assert_string_equal(p->socketmap.local, "lmtp:unix:private/dovecot-lmtp");
	assert_int_equal(p->socketmap.nexthop, NEXTHOP_ADDRESS);
	assert_int_equal(p->socketmap.default_action, DEFAULT_NOTFOUND);
	assert_int_equal(p->socketmap.max_connections, 64);
	assert_int_equal(p->socketmap.idle_timeout, 30);

	assert_socket(&s.control, "unix:/run/mxpath/control.sock", NULL, NULL, 0660);

	assert_string_equal(s.user, "mail");
	assert_string_equal(s.group, "mail");
	assert_string_equal(s.pidfile, "/run/mxpath/mxpathd.pid");
	policy_free(&p);
	assert_null(p);
	daemon_settings_clear(&s);
	assert_null(s.user);
}

static void test_empty_file_gives_defaults(void **state)
{
	struct daemon_settings s;
	struct policy *p = load_ok_settings("", &s);

	(void)state;
	assert_string_equal(p->file, "t.conf");
	assert_defaults(p);
	assert_default_settings(&s);
	policy_free(&p);
	daemon_settings_clear(&s);
}

static void test_comment_only_file_gives_defaults(void **state)
{
	struct daemon_settings s;
	struct policy *p = load_ok_settings("# nothing set\n// nor here\n/* nor here */\n", &s);

	(void)state;
	assert_defaults(p);
	assert_default_settings(&s);
	policy_free(&p);
	daemon_settings_clear(&s);
}

static void test_config_defaults_are_the_empty_file(void **state)
{
	struct policy *p = config_defaults();
	struct daemon_settings s;

	(void)state;
	config_settings_defaults(&s);
	assert_string_equal(p->file, "(defaults)");
	assert_defaults(p);
	assert_default_settings(&s);
	policy_free(&p);
	daemon_settings_clear(&s);
}

static void test_contrib_example_passes_validation(void **state)
{
	char path[PATH_MAX], err[CONFIG_ERROR_MAX] = "";
	struct daemon_settings s;
	struct policy *p = NULL;

	(void)state;
	root_path(path, sizeof(path), "contrib/mxpath.conf");
	if (config_load_file(path, &p, &s, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(s.milter.spec, "unix:/run/mxpath/milter.sock");
	assert_string_equal(s.socketmap.spec, "unix:/run/mxpath/socketmap.sock");
	assert_string_equal(s.control.spec, "unix:/run/mxpath/control.sock");
	policy_free(&p);
	daemon_settings_clear(&s);
}

/* The sketch in DESIGN.md: host A of the seed's cluster example. */
static void test_design_sketch_loads(void **state)
{
	struct policy *p = load_ok(
		"self = { names = [ \"a.cs.xyz.edu\" ]; addresses = \"auto\"; proxy_addresses = "
		"[ ]; };\n"
		"local_hosts = [ \"b.cs.xyz.edu\", \"c.cs.xyz.edu\", \"cluster.cs.xyz.edu\" ];\n"
		"clusters = ( { name = \"cluster.cs.xyz.edu\";\n"
		"               members = ( { host = \"a.cs.xyz.edu\"; pref = 10; },\n"
		"                           { host = \"b.cs.xyz.edu\"; pref = 10; } ); } );\n"
		"routes = ( { domain = \".process.com\";\n"
		"             hosts = ( { host = \"daisy.process.com\"; pref = 10; } );\n"
		"             dns = [ \"192.0.2.53\" ]; } );\n"
		"fallback_relays = [ \"mail.othercorp.com\" ];\n"
		"dns = { servers = [ \"192.0.2.53\" ]; timeout_ms = 2000; tries = 2;\n"
		"        cache_entries = 100000; max_ttl = 3600; serve_stale = 86400; };\n"
		"mx = { randomize = true; max_hosts = 20; null_mx = \"reject\";\n"
		"       self_best = \"reject\"; ignore_targets = [ \"0.0.0.0/8\" ]; };\n"
		"milter = { socket = \"unix:/run/mxpath/milter.sock\"; reject_unroutable = true;\n"
		"           rewrite_clusters = false; trace_header = false; };\n"
		"socketmap = { socket = \"unix:/run/mxpath/socketmap.sock\"; nexthop = \"name\"; "
		"};\n"
		"user = \"mxpath\"; group = \"mxpath\";\n");

	(void)state;
	assert_true(policy_is_local_host(p, "cluster.cs.xyz.edu"));
	assert_non_null(policy_find_cluster(p, "cluster.cs.xyz.edu"));
	assert_ptr_equal(policy_find_route(p, "mail.process.com"), &p->routes[0]);
	assert_int_equal(p->routes[0].channel, 1);
	policy_free(&p);
}

static void test_missing_file_cannot_open(void **state)
{
	struct policy *p = (struct policy *)&p;
	char err[CONFIG_ERROR_MAX] = "";

	(void)state;
	assert_int_equal(config_load_file("/nonexistent/mxpath.conf", &p, NULL, err, sizeof(err)), -1);
	assert_null(p);
	assert_string_equal(err,
			    "/nonexistent/mxpath.conf: cannot open: No such file or directory");
}

static void test_directory_cannot_open(void **state)
{
	struct policy *p = NULL;
	char err[CONFIG_ERROR_MAX] = "";

	(void)state;
	assert_int_equal(config_load_file("/", &p, NULL, err, sizeof(err)), -1);
	assert_null(p);
	assert_string_equal(err, "/: cannot open: Is a directory");
}

static void test_include_is_relative_to_the_file(void **state)
{
	char path[PATH_MAX], err[CONFIG_ERROR_MAX] = "";
	struct daemon_settings s;
	struct policy *p = NULL;

	(void)state;
	root_path(path, sizeof(path), "tests/unit/conf/include.conf");
	if (config_load_file(path, &p, &s, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(p->n_local_hosts, 1);
	assert_string_equal(p->local_hosts[0], "part.example");
	assert_string_equal(s.user, "nobody");
	policy_free(&p);
	daemon_settings_clear(&s);
}

static void test_error_in_include_names_the_included_file(void **state)
{
	char path[PATH_MAX], expected[PATH_MAX + 64], err[CONFIG_ERROR_MAX] = "";
	struct policy *p = NULL;

	(void)state;
	root_path(path, sizeof(path), "tests/unit/conf/include-bad.conf");
	assert_int_equal(config_load_file(path, &p, NULL, err, sizeof(err)), -1);
	assert_null(p);
	root_path(expected, sizeof(expected), "tests/unit/conf/included/bad.conf");
	strcat(expected, ":3: dns.tries: 0 is out of range 1..10");
	assert_string_equal(err, expected);
}

/* ---- single keys ---- */

static void test_route_channel_is_one_plus_index_with_own_dns(void **state)
{
	struct policy *p = load_ok("routes = (\n"
				   " { domain = \"a.example\"; hosts = ({ host = "
				   "\"h.a.example\"; });"
				   "   dns = [ \"192.0.2.53\" ]; },\n"
				   " { domain = \"b.example\"; hosts = ({ host = "
				   "\"h.b.example\"; }); },\n"
				   " { domain = \"c.example\"; hosts = ({ host = "
				   "\"h.c.example\"; });"
				   "   dns = \"192.0.2.54\"; },\n"
				   " { domain = \"d.example\"; hosts = ({ host = "
				   "\"h.d.example\"; });"
				   "   dns = [ ]; } );\n");

	(void)state;
	assert_int_equal(p->n_routes, 4);
	assert_int_equal(p->routes[0].channel, 1);
	assert_int_equal(p->routes[1].channel, 0);
	assert_int_equal(p->routes[2].channel, 3);
	assert_int_equal(p->routes[2].n_dns, 1);
	assert_int_equal(p->routes[3].channel, 0);
	policy_free(&p);
}

static void test_route_dot_matches_every_domain(void **state)
{
	struct policy *p = load_ok("routes = ( { domain = \".\"; "
				   "hosts = ( { host = \"smarthost.example\"; } ); } );");

	(void)state;
	assert_string_equal(p->routes[0].pattern, ".");
	assert_true(p->routes[0].is_suffix);
	assert_ptr_equal(policy_find_route(p, "anything.example"), &p->routes[0]);
	policy_free(&p);
}

static void test_mode_as_octal_string_or_digits(void **state)
{
	static const struct {
		const char *text;
		mode_t mode;
	} cases[] = {
		{ "milter = { mode = \"0660\"; };", 0660 },
		{ "milter = { mode = \"600\"; };", 0600 },
		{ "milter = { mode = 660; };", 0660 },
		{ "milter = { mode = 0640; };", 0640 },
		{ "milter = { mode = 0x1B0; };", 0660 },
		{ "milter = { mode = 0; };", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < MX_ARRAY_LEN(cases); i++) {
		struct daemon_settings s;
		struct policy *p = load_ok_settings(cases[i].text, &s);

		assert_int_equal(s.milter.mode, cases[i].mode);
		policy_free(&p);
		daemon_settings_clear(&s);
	}
}

static void test_string_list_takes_a_single_string(void **state)
{
	struct policy *p = load_ok("dns = { servers = \"127.0.0.1:5353\"; };\n"
				   "local_hosts = ( \"x.example\" );");

	(void)state;
	assert_int_equal(p->dns.n_servers, 1);
	assert_string_equal(p->dns.servers[0], "127.0.0.1:5353");
	assert_int_equal(p->n_local_hosts, 1);
	policy_free(&p);
}

static void test_empty_list_replaces_default(void **state)
{
	struct policy *p = load_ok("mx = { ignore_targets = [ ]; };");

	(void)state;
	assert_int_equal(p->mx.n_ignore_targets, 0);
	policy_free(&p);
}

static void test_self_addresses_auto_or_list(void **state)
{
	struct policy *p = load_ok("self = { addresses = \"auto\"; "
				   "proxy_addresses = \"192.0.2.9\"; };");

	(void)state;
	assert_true(p->self_auto);
	assert_int_equal(p->n_self_addrs, 1);
	assert_addr(&p->self_addrs[0], "192.0.2.9");
	policy_free(&p);

	p = load_ok("self = { addresses = [ ]; };");
	assert_false(p->self_auto);
	assert_int_equal(p->n_self_addrs, 0);
	policy_free(&p);
}

static void test_dns_server_forms_are_normalised(void **state)
{
	struct policy *p = load_ok("dns = { servers = [ \"192.0.2.1\", \"[192.0.2.2]:53\", "
				   "\"2001:DB8:0::1\", \"[2001:db8::2]:5353\", \"[::3]\" ]; };");

	(void)state;
	assert_int_equal(p->dns.n_servers, 5);
	assert_string_equal(p->dns.servers[0], "192.0.2.1");
	assert_string_equal(p->dns.servers[1], "192.0.2.2:53");
	assert_string_equal(p->dns.servers[2], "2001:db8::1");
	assert_string_equal(p->dns.servers[3], "[2001:db8::2]:5353");
	assert_string_equal(p->dns.servers[4], "::3");
	policy_free(&p);
}

static void test_socket_specs_accepted(void **state)
{
	static const char *const specs[] = {
		"unix:/run/mxpath/m.sock", "inet:10025", "inet:10025@127.0.0.1",
		"inet:10025@::1", "inet:10025@[::1]", "inet:1@localhost",
	};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < MX_ARRAY_LEN(specs); i++) {
		struct daemon_settings s;
		struct policy *p;

		snprintf(text, sizeof(text), "socketmap = { socket = \"%s\"; };", specs[i]);
		p = load_ok_settings(text, &s);
		assert_string_equal(s.socketmap.spec, specs[i]);
		policy_free(&p);
		daemon_settings_clear(&s);
	}
}

/* mxpath route --dns: the list parsed by the loader's own server parser. */
static void test_server_list_parses_like_dns_servers(void **state)
{
	static const struct {
		const char *list;
		const char *want;	/* joined by ' ', or the error */
	} cases[] = {
		{ "192.0.2.53", "192.0.2.53" },
		{ "192.0.2.53:5353,2001:DB8::53,[2001:db8::54]:53",
		  "192.0.2.53:5353 2001:db8::53 [2001:db8::54]:53" },
		{ "192.0.2.53,,192.0.2.54",
		  "bad DNS server \"\": expected ADDRESS, ADDRESS:PORT or [ADDRESS]:PORT" },
		{ "192.0.2.53,", "bad DNS server \"\": expected ADDRESS, ADDRESS:PORT or [ADDRESS]:PORT" },
		{ "ns.example", "bad DNS server \"ns.example\": not an IP address" },
		{ "127.0.0.1:99999", "bad DNS server \"127.0.0.1:99999\": bad port: expected 1..65535" },
		{ "192.0.2.53,192.0.2.53", "duplicate server \"192.0.2.53\"" },
	};
	char err[CONFIG_ERROR_MAX], got[CONFIG_ERROR_MAX];

	(void)state;
	for (size_t i = 0; i < MX_ARRAY_LEN(cases); i++) {
		char **servers = (char **)&servers;
		size_t n = 99, used = 0;

		got[0] = '\0';
		if (config_parse_servers(cases[i].list, &servers, &n, err, sizeof(err)) != 0) {
			assert_null(servers);
			assert_int_equal(n, 0);
			snprintf(got, sizeof(got), "%s", err);
		}
		for (size_t j = 0; j < n; j++) {
			used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", j ? " " : "",
						 servers[j]);
			free(servers[j]);
		}
		if (n > 0)
			free(servers);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].list, got, cases[i].want);
	}
}

/* ---- errors: one row per class, with the exact message ---- */

static const struct error_case syntax_errors[] = {
	{ "x = 1;\ny = ;\n", "t.conf:2: syntax error" },
	{ "user = \"a\";\nuser = \"b\";\n", "t.conf:2: duplicate setting name" },
	{ "local_hosts = [ \"a.example\", 1 ];", "t.conf:1: mismatched element type in array" },
};

static const struct error_case unknown_keys[] = {
	{ "\nfoo = 1;", "t.conf:2: foo: unknown key" },
	{ "milter = {\n  sockets = \"unix:/x\";\n};", "t.conf:2: milter.sockets: unknown key" },
	{ "clusters = ( { name = \"c.example\";\n"
	  " members = ( { host = \"a.example\"; prio = 1; } ); } );",
	  "t.conf:2: clusters[0].members[0].prio: unknown key" },
	{ "routes = ( { domain = \"x.example\"; hosts = ( { host = \"h.example\"; } );\n"
	  "  servers = [ \"192.0.2.1\" ]; } );",
	  "t.conf:2: routes[0].servers: unknown key" },
	{ "self = { name = [ \"a.example\" ]; };", "t.conf:1: self.name: unknown key" },
};

static const struct error_case wrong_types[] = {
	{ "dns = { tries = \"2\"; };", "t.conf:1: dns.tries: expected an integer, not a string" },
	{ "dns = { timeout_ms = 1.5; };",
	  "t.conf:1: dns.timeout_ms: expected an integer, not a float" },
	{ "mx = { randomize = 1; };",
	  "t.conf:1: mx.randomize: expected a boolean (true or false), not an integer" },
	{ "milter = \"unix:/x\";", "t.conf:1: milter: expected a group { }, not a string" },
	{ "local_hosts = 5;",
	  "t.conf:1: local_hosts: expected a list of strings [ \"...\" ], not an integer" },
	{ "local_hosts = ( \"a.example\", 5 );",
	  "t.conf:1: local_hosts[1]: expected a string, not an integer" },
	{ "clusters = { name = \"c.example\"; };",
	  "t.conf:1: clusters: expected a list ( { name = ...; members = ...; } ), "
	  "not a group { }" },
	{ "routes = ( \"x.example\" );",
	  "t.conf:1: routes[0]: expected a group { domain = ...; hosts = ...; }, not a string" },
	{ "clusters = ( { name = \"c.example\"; members = [ \"a.example\" ]; } );",
	  "t.conf:1: clusters[0].members: expected a list ( { host = \"...\"; pref = N; } ), not "
	  "an array [ ]" },
	{ "self = { addresses = true; };",
	  "t.conf:1: self.addresses: expected \"auto\" or a list of addresses, not a boolean" },
	{ "milter = { mode = true; };",
	  "t.conf:1: milter.mode: expected a mode such as \"0660\", not a boolean" },
	{ "user = 1000;", "t.conf:1: user: expected a string, not an integer" },
};

static const struct error_case out_of_range[] = {
	{ "mx = { max_hosts = 51; };", "t.conf:1: mx.max_hosts: 51 is out of range 1..50" },
	{ "mx = { max_hosts = 0; };", "t.conf:1: mx.max_hosts: 0 is out of range 1..50" },
	{ "dns = { timeout_ms = -5; };", "t.conf:1: dns.timeout_ms: -5 is out of range 1..60000" },
	{ "dns = { cache_entries = 20000000000L; };",
	  "t.conf:1: dns.cache_entries: 20000000000 is out of range 1..10000000" },
	{ "socketmap = { port = 65536; };",
	  "t.conf:1: socketmap.port: 65536 is out of range 0..65535" },
	{ "clusters = ( { name = \"c.example\";\n"
	  " members = ( { host = \"a.example\"; pref = 65536; } ); } );",
	  "t.conf:2: clusters[0].members[0].pref: 65536 is out of range 0..65535" },
	{ "routes = ( { domain = \"x.example\";\n"
	  " hosts = ( { host = \"a.example\"; pref = -1; } ); } );",
	  "t.conf:2: routes[0].hosts[0].pref: -1 is out of range 0..65535" },
	{ "dns = { min_ttl = 600;\n max_ttl = 300; };",
	  "t.conf:1: dns.min_ttl: min_ttl 600 is above max_ttl 300" },
	{ "dns = { min_ttl = 7200; };",
	  "t.conf:1: dns.min_ttl: min_ttl 7200 is above max_ttl 3600" },
	{ "mx = { ipv4 = false;\n ipv6 = false; };",
	  "t.conf:1: mx.ipv4: ipv4 and ipv6 cannot both be false" },
	{ "fallback_relays = [ \"r1.example\", \"r2.example\", \"r3.example\", \"r4.example\", "
	  "\"r5.example\", \"r6.example\", \"r7.example\", \"r8.example\", \"r9.example\" ];",
	  "t.conf:1: fallback_relays: more than 8 fallback relays" },
};

static const struct error_case bad_names[] = {
	{ "local_hosts = [ \"ok.example\",\n \"a..example\" ];",
	  "t.conf:2: local_hosts[1]: bad host name \"a..example\": empty label in domain name" },
	{ "self = { names = [ \"192.0.2.1\" ]; };",
	  "t.conf:1: self.names[0]: bad host name \"192.0.2.1\": an IP address, not a name "
	  "(a literal is written \"[192.0.2.1]\")" },
	{ "clusters = ( { name = \"c example\"; members = ( { host = \"a.example\"; } ); } );",
	  "t.conf:1: clusters[0].name: bad host name \"c example\": invalid character in domain "
	  "name" },
	{ "routes = ( { domain = \"x.example\"; hosts = ( { host = \"[192.0.2.300]\"; } ); } );",
	  "t.conf:1: routes[0].hosts[0].host: bad host \"[192.0.2.300]\": malformed address "
	  "literal" },
	{ "routes = ( { domain = \"..x.example\"; hosts = ( { host = \"a.example\"; } ); } );",
	  "t.conf:1: routes[0].domain: bad domain pattern \"..x.example\": empty label in domain "
	  "name" },
	{ "fallback_relays = [ \"relay.example\", \"mx@relay.example\" ];",
	  "t.conf:1: fallback_relays[1]: bad host \"mx@relay.example\": invalid character in "
	  "domain name" },
	{ "milter = { rewrite_local = \"\"; };",
	  "t.conf:1: milter.rewrite_local: bad host name \"\": empty domain name" },
	{ "user = \"-root\";", "t.conf:1: user: bad user or group name \"-root\"" },
	{ "milter = { group = \"post fix\"; };",
	  "t.conf:1: milter.group: bad user or group name \"post fix\"" },
	{ "socketmap = { transport = \"smtp relay\"; };",
	  "t.conf:1: socketmap.transport: bad name \"smtp relay\": letters, digits, '.', '-', "
	  "'_' only" },
	{ "socketmap = { local = \"local: x\"; };",
	  "t.conf:1: socketmap.local: bad answer \"local: x\": 1..255 printable characters, no "
	  "spaces" },
	{ "pidfile = \"run/mxpathd.pid\";",
	  "t.conf:1: pidfile: bad path \"run/mxpathd.pid\": expected an absolute path" },
};

/* An address with a trailing dot is still an address (fuzz_config found it). */
#define IP_WHY "an IP address, not a name (a literal is written \"[192.0.2.1]\")"
static const struct error_case addresses_as_names[] = {
	{ "local_hosts = \"203.0.113.1.\";",
	  "t.conf:1: local_hosts: bad host name \"203.0.113.1.\": " IP_WHY },
	{ "self = { names = [ \"vm.example\",\n \"192.0.2.1.\" ]; };",
	  "t.conf:2: self.names[1]: bad host name \"192.0.2.1.\": " IP_WHY },
	{ "clusters = ( { name = \"192.0.2.7.\"; members = ( { host = \"a.example\"; } ); } );",
	  "t.conf:1: clusters[0].name: bad host name \"192.0.2.7.\": " IP_WHY },
	{ "clusters = ( { name = \"c.example\";\n members = ( { host = \"198.51.100.1.\"; } ); } );",
	  "t.conf:2: clusters[0].members[0].host: bad host \"198.51.100.1.\": " IP_WHY },
	{ "routes = ( { domain = \"203.0.113.9.\"; hosts = ( { host = \"a.example\"; } ); } );",
	  "t.conf:1: routes[0].domain: bad domain pattern \"203.0.113.9.\": " IP_WHY },
	{ "routes = ( { domain = \"x.example\"; hosts = ( { host = \"203.0.113.9.\"; } ); } );",
	  "t.conf:1: routes[0].hosts[0].host: bad host \"203.0.113.9.\": " IP_WHY },
	{ "fallback_relays = [ \"relay.example\", \"192.0.2.25.\" ];",
	  "t.conf:1: fallback_relays[1]: bad host \"192.0.2.25.\": " IP_WHY },
	{ "milter = { rewrite_local = \"192.0.2.1.\"; };",
	  "t.conf:1: milter.rewrite_local: bad host name \"192.0.2.1.\": " IP_WHY },
};

static const struct error_case bad_addresses[] = {
	{ "self = { addresses = [ \"192.0.2.1\", \"192.0.2.300\" ]; };",
	  "t.conf:1: self.addresses[1]: bad IP address \"192.0.2.300\"" },
	{ "self = { proxy_addresses = [ \"gw.example\" ]; };",
	  "t.conf:1: self.proxy_addresses[0]: bad IP address \"gw.example\"" },
	{ "mx = { ignore_targets = [ \"198.51.100.1/24\" ]; };",
	  "t.conf:1: mx.ignore_targets[0]: bad CIDR block \"198.51.100.1/24\"" },
	{ "mx = { ignore_targets = [ \"198.51.100.0/33\" ]; };",
	  "t.conf:1: mx.ignore_targets[0]: bad CIDR block \"198.51.100.0/33\"" },
	{ "dns = { servers = [ \"ns.example\" ]; };",
	  "t.conf:1: dns.servers[0]: bad DNS server \"ns.example\": not an IP address" },
	{ "dns = { servers = [ \"192.0.2.1:0\" ]; };",
	  "t.conf:1: dns.servers[0]: bad DNS server \"192.0.2.1:0\": bad port: expected 1..65535" },
	{ "dns = { servers = [ \"[::1\" ]; };",
	  "t.conf:1: dns.servers[0]: bad DNS server \"[::1\": expected ADDRESS, ADDRESS:PORT or "
	  "[ADDRESS]:PORT" },
	{ "routes = ( { domain = \"x.example\"; hosts = ( { host = \"h.example\"; } );\n"
	  " dns = [ \"192.0.2.1:53:53\" ]; } );",
	  "t.conf:2: routes[0].dns[0]: bad DNS server \"192.0.2.1:53:53\": not an IP address" },
};

static const struct error_case duplicates[] = {
	{ "clusters = (\n { name = \"C.example\"; members = ( { host = \"a.example\"; } ); },\n"
	  " { name = \"c.example.\"; members = ( { host = \"b.example\"; } ); } );",
	  "t.conf:3: clusters[1]: duplicate cluster \"c.example\"" },
	{ "routes = (\n { domain = \".x.example\"; hosts = ( { host = \"a.example\"; } ); },\n"
	  " { domain = \".X.example.\"; hosts = ( { host = \"b.example\"; } ); } );",
	  "t.conf:3: routes[1]: duplicate route \".x.example\"" },
	{ "routes = ( { domain = \"x.example\";\n hosts = ( { host = \"a.example\"; pref = 1; },\n"
	  " { host = \"A.example\"; pref = 2; } ); } );",
	  "t.conf:3: routes[0].hosts[1]: duplicate host \"a.example\"" },
	{ "local_hosts = [ \"a.example\", \"A.EXAMPLE.\" ];",
	  "t.conf:1: local_hosts[1]: duplicate name \"a.example\"" },
	{ "fallback_relays = [ \"[192.0.2.1]\", \"[192.0.2.1]\" ];",
	  "t.conf:1: fallback_relays[1]: duplicate relay \"[192.0.2.1]\"" },
	{ "dns = { servers = [ \"192.0.2.1:53\", \"[192.0.2.1]:53\" ]; };",
	  "t.conf:1: dns.servers[1]: duplicate server \"192.0.2.1:53\"" },
};

static const struct error_case missing_parts[] = {
	{ "clusters = ( { name = \"c.example\";\n members = ( ); } );",
	  "t.conf:2: clusters[0].members: empty list: at least one host is needed" },
	{ "clusters = (\n { name = \"c.example\"; } );",
	  "t.conf:2: clusters[0]: missing key \"members\"" },
	{ "routes = (\n { domain = \"x.example\"; } );",
	  "t.conf:2: routes[0]: missing key \"hosts\"" },
	{ "routes = ( { domain = \"x.example\";\n hosts = ( ); } );",
	  "t.conf:2: routes[0].hosts: empty list: at least one host is needed" },
	{ "routes = ( { hosts = ( { host = \"a.example\"; } ); } );",
	  "t.conf:1: routes[0]: missing key \"domain\"" },
	{ "routes = ( { domain = \"x.example\"; hosts = ( { pref = 10; } ); } );",
	  "t.conf:1: routes[0].hosts[0]: missing key \"host\"" },
};

static const struct error_case bad_choices[] = {
	{ "mx = { null_mx = \"bounce\"; };",
	  "t.conf:1: mx.null_mx: \"bounce\" is not \"reject\" or \"tempfail\"" },
	{ "mx = { self_best = \"Reject\"; };",
	  "t.conf:1: mx.self_best: \"Reject\" is not \"reject\" or \"tempfail\"" },
	{ "socketmap = { nexthop = \"ip\"; };",
	  "t.conf:1: socketmap.nexthop: \"ip\" is not \"name\" or \"address\"" },
	{ "socketmap = { default = 0; };",
	  "t.conf:1: socketmap.default: expected a string, not an integer" },
	{ "socketmap = { default = \"reject\"; };",
	  "t.conf:1: socketmap.default: \"reject\" is not \"route\" or \"notfound\"" },
};

static const struct error_case bad_sockets[] = {
	{ "milter = { socket = \"/run/mxpath/milter.sock\"; };",
	  "t.conf:1: milter.socket: bad socket \"/run/mxpath/milter.sock\": expected unix:/path "
	  "or inet:PORT@HOST" },
	{ "milter = { socket = \"unix:run/milter.sock\"; };",
	  "t.conf:1: milter.socket: bad socket \"unix:run/milter.sock\": unix socket path must "
	  "be absolute" },
	{ "socketmap = { socket = "
	  "\"unix:/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\"; };",
	  "t.conf:1: socketmap.socket: bad socket "
	  "\"unix:/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\": unix socket "
	  "path too long" },
	{ "socketmap = { socket = \"inet:0@127.0.0.1\"; };",
	  "t.conf:1: socketmap.socket: bad socket \"inet:0@127.0.0.1\": bad port: expected "
	  "1..65535" },
	{ "socketmap = { socket = \"inet:99999\"; };",
	  "t.conf:1: socketmap.socket: bad socket \"inet:99999\": bad port: expected 1..65535" },
	{ "control = { socket = \"inet:25@bad..host\"; };",
	  "t.conf:1: control.socket: bad socket \"inet:25@bad..host\": bad host after '@': "
	  "expected an address or a name" },
	{ "socketmap = { socket = \"inet:10025@127.0.0.1\";\n owner = \"postfix\"; };",
	  "t.conf:2: socketmap.owner: only for unix: sockets, not inet:10025@127.0.0.1" },
	{ "milter = { mode = \"0999\"; };",
	  "t.conf:1: milter.mode: bad mode: expected octal 0000..0777, such as \"0660\"" },
	{ "milter = { mode = \"01777\"; };",
	  "t.conf:1: milter.mode: bad mode: expected octal 0000..0777, such as \"0660\"" },
	{ "control = { mode = 680; };",
	  "t.conf:1: control.mode: bad mode: expected octal 0000..0777, such as \"0660\"" },
	{ "control = { mode = 1777; };",
	  "t.conf:1: control.mode: bad mode: expected octal 0000..0777, such as \"0660\"" },
};

static const struct error_case bad_tls[] = {
	{ "routes = ( { domain = \"a.test\"; hosts = ( { host = \"b.test\"; } );\n"
	  "  tls = \"none\"; } );",
	  "t.conf:2: routes[0].tls: \"none\" is not a TLS level (may, encrypt, dane, dane-only, "
	  "verify, secure)" },
	{ "tls = { fallback_relays = \"Secure\"; };",
	  "t.conf:1: tls.fallback_relays: \"Secure\" is not a TLS level (may, encrypt, dane, "
	  "dane-only, verify, secure)" },
	{ "tls = { mta_domains = [ \".\" ]; };",
	  "t.conf:1: tls.mta_domains[0]: bad domain pattern \".\": \".\" would keep every domain: "
	  "use socketmap.default = \"notfound\"" },
	{ "tls = { mta_domains = [ \"a..b\" ]; };",
	  "t.conf:1: tls.mta_domains[0]: bad domain pattern \"a..b\": empty label in domain name" },
	{ "tls = { mta_domains = [ \"a.test\", \"A.test.\" ]; };",
	  "t.conf:1: tls.mta_domains[1]: duplicate domain \"a.test\"" },
	{ "tls = { policy_table = \"tls_policy\"; };",
	  "t.conf:1: tls.policy_table: bad path \"tls_policy\": expected an absolute path" },
	{ "tls = { policy_table = \"/nonexistent/tls_policy\"; };",
	  "t.conf:1: tls.policy_table: /nonexistent/tls_policy: cannot open: No such file or "
	  "directory" },
	{ "socketmap = { nexthop = \"address\"; };\n"
	  "routes = ( { domain = \"a.test\"; hosts = ( { host = \"b.test\"; } ); tls = \"may\"; } );",
	  "t.conf:2: routes: a TLS level for the named host b.test needs "
	  "socketmap.nexthop = \"name\"" },
};

/* Writes text to a new temporary file; its name into path ("...XXXXXX"). */
static void table_new(char *path, const char *text)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	table_write(path, text);
}

static void table_write(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* The domain keys of a Postfix TLS policy table become mta_domains. */
static void test_policy_table_domains_are_kept_for_the_mta(void **state)
{
	char path[] = "/tmp/mxpath-test-tls-policy.XXXXXX", text[512], err[CONFIG_ERROR_MAX];
	struct policy *p = NULL;

	(void)state;
	table_new(path, "# the admin's table\n\nExample.ORG encrypt\n.sub.example.net   secure\n"
		  "  match=nexthop\n[mx.example.com]:25 verify\n");
	snprintf(text, sizeof(text), "tls = { mta_domains = [ \"listed.test\" ]; "
		 "policy_table = \"%s\"; mta_sts = false; dnssec = false; };", path);
	p = load_ok(text);
	assert_int_equal(p->tls.n_mta_domains, 3);
	assert_string_equal(p->tls.mta_domains[0], "listed.test");
	assert_string_equal(p->tls.mta_domains[1], "example.org");
	assert_string_equal(p->tls.mta_domains[2], ".sub.example.net");
	assert_false(p->tls.mta_sts);
	assert_false(p->tls.dnssec);
	policy_unref(&p);

	table_write(path, "ok.example encrypt\nbad..example encrypt\n");
	assert_int_not_equal(config_load_string(text, "t.conf", &p, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":2: bad domain \"bad..example\": empty label"));
	unlink(path);
}

/* A level the table gives a domain our clusters or routes name goes to their hosts. */
static void test_policy_table_levels_are_carried_to_our_routes(void **state)
{
	char path[] = "/tmp/mxpath-test-tls-policy.XXXXXX", text[1024], err[CONFIG_ERROR_MAX];
	struct policy *p = NULL;

	(void)state;
	table_new(path, "routed.example verify\nx.below.example secure match=nexthop\n"
		  "cl.example encrypt\nkept.example may\nplain.example dane\n");
	snprintf(text, sizeof(text),
		 "clusters = ( { name = \"cl.example\"; members = ( { host = \"m.example\"; } ); } );\n"
		 "routes = ( { domain = \"routed.example\"; hosts = ( { host = \"r.example\"; } ); },\n"
		 "  { domain = \".below.example\"; hosts = ( { host = \"b.example\"; } ); },\n"
		 "  { domain = \"kept.example\"; tls = \"encrypt\"; hosts = ( { host = \"k.example\"; } ); } );\n"
		 "tls = { policy_table = \"%s\"; };", path);
	p = load_ok(text);
	assert_int_equal(p->routes[0].tls, TLS_LEVEL_VERIFY);
	assert_int_equal(p->routes[1].tls, TLS_LEVEL_SECURE);	/* x.below.example: .below.example */
	assert_int_equal(p->routes[2].tls, TLS_LEVEL_ENCRYPT);	/* may does not lower it */
	assert_int_equal(p->clusters[0].tls, TLS_LEVEL_ENCRYPT);
	assert_int_equal(p->tls.n_mta_domains, 5);
	policy_unref(&p);

	/* a level mxpath cannot express, for a domain it routes without a level of its own */
	table_write(path, "# pinned\nrouted.example fingerprint match=AB:CD\n");
	assert_int_not_equal(config_load_string(text, "t.conf", &p, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":2: routed.example \"fingerprint\" cannot be carried"));
	unlink(path);
}

static void run_error_cases(const struct error_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_error(cases[i].text, cases[i].error);
}

#define ERROR_TEST(name, table)                                  \
	static void name(void **state)                           \
	{                                                        \
		(void)state;                                     \
		run_error_cases(table, MX_ARRAY_LEN(table));     \
	}

ERROR_TEST(test_syntax_error_gives_line, syntax_errors)
ERROR_TEST(test_unknown_key_is_named_with_its_path, unknown_keys)
ERROR_TEST(test_wrong_type_says_expected_and_found, wrong_types)
ERROR_TEST(test_number_out_of_range_gives_the_range, out_of_range)
ERROR_TEST(test_bad_name_says_why, bad_names)
ERROR_TEST(test_bad_address_or_cidr_is_refused, bad_addresses)
ERROR_TEST(test_address_with_trailing_dot_is_not_a_name, addresses_as_names)
ERROR_TEST(test_duplicates_are_refused_after_normalising, duplicates)
ERROR_TEST(test_cluster_and_route_need_their_parts, missing_parts)
ERROR_TEST(test_choice_outside_the_set_is_refused, bad_choices)
ERROR_TEST(test_bad_socket_or_mode_is_refused, bad_sockets)
ERROR_TEST(test_bad_tls_settings_are_refused, bad_tls)

static void test_error_with_small_buffer_is_truncated_not_overrun(void **state)
{
	struct policy *p = NULL;
	char err[12];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(config_load_string("foo = 1;", "t.conf", &p, NULL, err, 8), -1);
	assert_string_equal(err, "t.conf:");
	assert_int_equal(err[8], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file_sets_every_field),
		cmocka_unit_test(test_empty_file_gives_defaults),
		cmocka_unit_test(test_comment_only_file_gives_defaults),
		cmocka_unit_test(test_config_defaults_are_the_empty_file),
		cmocka_unit_test(test_contrib_example_passes_validation),
		cmocka_unit_test(test_design_sketch_loads),
		cmocka_unit_test(test_missing_file_cannot_open),
		cmocka_unit_test(test_directory_cannot_open),
		cmocka_unit_test(test_include_is_relative_to_the_file),
		cmocka_unit_test(test_error_in_include_names_the_included_file),
		cmocka_unit_test(test_route_channel_is_one_plus_index_with_own_dns),
		cmocka_unit_test(test_route_dot_matches_every_domain),
		cmocka_unit_test(test_mode_as_octal_string_or_digits),
		cmocka_unit_test(test_string_list_takes_a_single_string),
		cmocka_unit_test(test_empty_list_replaces_default),
		cmocka_unit_test(test_self_addresses_auto_or_list),
		cmocka_unit_test(test_dns_server_forms_are_normalised),
		cmocka_unit_test(test_socket_specs_accepted),
		cmocka_unit_test(test_server_list_parses_like_dns_servers),
		cmocka_unit_test(test_syntax_error_gives_line),
		cmocka_unit_test(test_unknown_key_is_named_with_its_path),
		cmocka_unit_test(test_wrong_type_says_expected_and_found),
		cmocka_unit_test(test_number_out_of_range_gives_the_range),
		cmocka_unit_test(test_bad_name_says_why),
		cmocka_unit_test(test_bad_address_or_cidr_is_refused),
		cmocka_unit_test(test_address_with_trailing_dot_is_not_a_name),
		cmocka_unit_test(test_duplicates_are_refused_after_normalising),
		cmocka_unit_test(test_cluster_and_route_need_their_parts),
		cmocka_unit_test(test_choice_outside_the_set_is_refused),
		cmocka_unit_test(test_bad_socket_or_mode_is_refused),
		cmocka_unit_test(test_bad_tls_settings_are_refused),
		cmocka_unit_test(test_policy_table_domains_are_kept_for_the_mta),
		cmocka_unit_test(test_policy_table_levels_are_carried_to_our_routes),
		cmocka_unit_test(test_error_with_small_buffer_is_truncated_not_overrun),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
