/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c - load a configuration file (libconfig syntax) into a policy
 *
 * Starts from the built-in defaults and applies the file over them, key by
 * key, through one table per section. Validation is strict: an unknown
 * key, a wrong type, a malformed name, address, socket or number refuses
 * the whole file with one "FILE:LINE: key: what is wrong" message.
 *
 * Reads nothing but the file (and its @include files): whether users and
 * groups exist, or sockets can be opened, is for the daemon to find out.
 */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "mxpath/engine/address.h"
#include "mxpath/base/common.h"
#include "mxpath/config/config.h"
#include "mxpath/config/sockspec.h"
#include "mxpath/config/tls_table.h"

#define KEY_PATH_MAX 160	/* "routes[12].hosts[3].host" in messages */
#define ACCOUNT_NAME_MAX 32	/* user and group names */
#define TOKEN_MAX 64		/* transport and mailer names */
#define ANSWER_MAX 255		/* socketmap.local */
#define SERVER_TEXT_MAX (MX_ADDR_TEXT_MAX + 16)	/* "[v6]:port" */
#define MODE_MAX 0777

struct loader {
	const config_t *cfg;
	struct daemon_settings *daemon;	/* base of the keys marked .daemon */
	const char *name;	/* the file, as messages name it */
	char *err;
	size_t errlen;
};

struct key;
typedef int (*key_parse_fn)(struct loader *ld, const config_setting_t *s, const struct key *key,
			    void *base);

/* One row per key: how to parse it and where in base (the struct being filled) it goes. */
struct key {
	const char *name;
	key_parse_fn parse;
	size_t offset;			/* of the field */
	size_t count_offset;		/* lists: of the element count */
	long long min, max;		/* numbers */
	const struct key *section;	/* groups: their own keys */
	bool required;
	bool daemon;			/* offset is into struct daemon_settings */
};

/* Called for each string of a string list. */
typedef int (*string_fn)(struct loader *ld, const config_setting_t *s, const char *text,
			 void *ctx);

struct string_list {
	char ***items;
	size_t *n;
	const char *what;	/* "name", "relay": for "duplicate ..." */
};

static struct policy *config_new_defaults(void);
static FILE *file_open(const char *path, char *err, size_t errlen);
static int file_read(const char *path, config_t *cfg, char *err, size_t errlen);
static int config_load(config_t *cfg, const char *name, struct policy **out,
		       struct daemon_settings *settings, char *err, size_t errlen);
static int load_fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
	MX_PRINTF(3, 4);
static const char *file_display(const config_t *cfg, const char *file, const char *main_name,
				char *buf, size_t len);
static int syntax_fail(const config_t *cfg, const char *name, char *err, size_t errlen);
static void setting_path(const config_setting_t *s, char *buf, size_t len);
static const char *type_name(int type);
static int expect_type(struct loader *ld, const config_setting_t *s, int type, const char *what);
static bool is_integer(const config_setting_t *s);
static bool is_list(const config_setting_t *s);
static int load_group(struct loader *ld, const config_setting_t *group, const struct key *keys,
		      void *base);
static int check_required(struct loader *ld, const config_setting_t *group,
			  const struct key *keys);
static int check_policy(struct loader *ld, struct policy *policy);
static int check_socket(struct loader *ld, const char *section, const struct door_socket *sock);
static int check_tls(struct loader *ld, struct policy *policy);
static int table_entry_take(void *ctx, const struct tls_table_entry *entry, char *err,
			    size_t errlen);
static enum tls_level *table_entry_routed_level(struct policy *policy, const char *domain);
static int check_tls_hosts(struct loader *ld, const char *what, const struct policy_host *hosts,
			   size_t n);
static int pattern_normalize(const char *text, char *out, bool *is_suffix, const char **why);
static const config_setting_t *lookup_either(const struct loader *ld, const char *a,
					     const char *b);

static int for_each_string(struct loader *ld, const config_setting_t *s, string_fn each,
			   void *ctx);
static int string_list_add(struct loader *ld, const config_setting_t *s, const char *text,
			   struct string_list *list);
static int string_list_reset(const config_setting_t *s, struct string_list *list);
static void strings_free(char ***items, size_t *n);
static bool strings_contain(char *const *items, size_t n, const char *text);
static int server_list_add(const char *text, size_t len, char ***servers, size_t *n,
			   char *err, size_t errlen);
static int count_strings(const config_setting_t *s);

static int name_normalize(const char *text, char *out, const char **why);
static int host_normalize(const char *text, char *out, const char **why);
static int server_normalize(const char *text, char *out, size_t len, const char **why);
static int mode_from_string(const char *text, mode_t *mode);
static int mode_from_int(long long value, bool is_hex, mode_t *mode);
static bool is_account_name(const char *text);
static bool is_token(const char *text);
static bool is_answer(const char *text);
static bool has_control(const char *text);
static bool is_name_char(char c);

/* Every key parser has this shape (key_parse_fn). */
#define KEY_PARSER(fn)                                                               \
	static int fn(struct loader *ld, const config_setting_t *s, const struct key *key, \
		      void *base)

KEY_PARSER(parse_section);
KEY_PARSER(parse_bool);
KEY_PARSER(parse_uint);
KEY_PARSER(parse_verdict);
KEY_PARSER(parse_nexthop);
KEY_PARSER(parse_default);
KEY_PARSER(parse_name);
KEY_PARSER(parse_host);
KEY_PARSER(parse_account);
KEY_PARSER(parse_token);
KEY_PARSER(parse_answer);
KEY_PARSER(parse_path);
KEY_PARSER(parse_socket);
KEY_PARSER(parse_mode);
KEY_PARSER(parse_name_list);
KEY_PARSER(parse_relay_list);
KEY_PARSER(parse_server_list);
KEY_PARSER(parse_cidr_list);
KEY_PARSER(parse_self_addresses);
KEY_PARSER(parse_address_list);
KEY_PARSER(parse_host_list);
KEY_PARSER(parse_clusters);
KEY_PARSER(parse_routes);
KEY_PARSER(parse_route_domain);
KEY_PARSER(parse_tls_level);
KEY_PARSER(parse_pattern_list);

static int get_choice(struct loader *ld, const config_setting_t *s, const char *const *choices,
		      size_t n, size_t *index);
static int get_string(struct loader *ld, const config_setting_t *s, const char **text);
static void field_set_string(void *base, size_t offset, const char *text);
static int group_list_length(struct loader *ld, const config_setting_t *s, const char *shape);
static int group_list_load(struct loader *ld, const config_setting_t *s, int i,
			   const struct key *keys, const char *shape, void *base);

static int add_name(struct loader *ld, const config_setting_t *s, const char *text, void *ctx);
static int add_relay(struct loader *ld, const config_setting_t *s, const char *text, void *ctx);
static int add_server(struct loader *ld, const config_setting_t *s, const char *text,
		      void *ctx);
static int add_cidr(struct loader *ld, const config_setting_t *s, const char *text, void *ctx);
static int add_address(struct loader *ld, const config_setting_t *s, const char *text,
		       void *ctx);

/* Offsets into the structs the tables fill. */
#define POL(field) offsetof(struct policy, field)
#define DMN(field) offsetof(struct daemon_settings, field)
#define HOST(field) offsetof(struct policy_host, field)
#define CLUSTER(field) offsetof(struct policy_cluster, field)
#define ROUTE(field) offsetof(struct policy_route, field)
#define FIELD(base, offset, type) ((type *)(void *)((char *)(base) + (offset)))

#define KEY_SECTION(n, keys) { .name = (n), .parse = parse_section, .section = (keys) }
#define KEY_UINT(n, field, lo, hi) \
	{ .name = (n), .parse = parse_uint, .offset = POL(field), .min = (lo), .max = (hi) }
#define KEY_FIELD(n, fn, field) { .name = (n), .parse = (fn), .offset = POL(field) }
#define KEY_LIST(n, fn, field, count) \
	{ .name = (n), .parse = (fn), .offset = POL(field), .count_offset = POL(count) }
/* The daemon's own settings (settings.h). */
#define KEY_DAEMON(n, fn, field) { .name = (n), .parse = (fn), .offset = DMN(field), .daemon = true }
#define KEY_DAEMON_UINT(n, field, lo, hi) \
	{ .name = (n), .parse = parse_uint, .offset = DMN(field), .min = (lo), .max = (hi), \
	  .daemon = true }
/* section starts a member path for offsetof(), which admits no parentheses. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define KEY_SOCKET(section) \
	KEY_DAEMON("socket", parse_socket, section.spec), \
	KEY_DAEMON("owner", parse_account, section.owner), \
	KEY_DAEMON("group", parse_account, section.group), \
	KEY_DAEMON("mode", parse_mode, section.mode)
/* NOLINTEND(bugprone-macro-parentheses) */
#define KEY_END { .name = NULL }

static const struct key self_keys[] = {
	KEY_LIST("names", parse_name_list, self_names, n_self_names),
	{ .name = "addresses", .parse = parse_self_addresses },
	{ .name = "proxy_addresses", .parse = parse_address_list },
	KEY_END,
};

static const struct key host_keys[] = {
	{ .name = "host", .parse = parse_host, .offset = HOST(host), .required = true },
	{ .name = "pref", .parse = parse_uint, .offset = HOST(pref), .max = POLICY_PREF_MAX },
	KEY_END,
};

static const struct key cluster_keys[] = {
	{ .name = "name", .parse = parse_name, .offset = CLUSTER(name), .required = true },
	{ .name = "members", .parse = parse_host_list, .offset = CLUSTER(members),
	  .count_offset = CLUSTER(n_members), .required = true },
	{ .name = "tls", .parse = parse_tls_level, .offset = CLUSTER(tls) },
	KEY_END,
};

static const struct key route_keys[] = {
	{ .name = "domain", .parse = parse_route_domain, .required = true },
	{ .name = "hosts", .parse = parse_host_list, .offset = ROUTE(hosts),
	  .count_offset = ROUTE(n_hosts), .required = true },
	{ .name = "dns", .parse = parse_server_list, .offset = ROUTE(dns),
	  .count_offset = ROUTE(n_dns) },
	{ .name = "tls", .parse = parse_tls_level, .offset = ROUTE(tls) },
	KEY_END,
};

static const struct key dns_keys[] = {
	KEY_LIST("servers", parse_server_list, dns.servers, dns.n_servers),
	KEY_UINT("timeout_ms", dns.timeout_ms, 1, 60000),
	KEY_UINT("tries", dns.tries, 1, 10),
	KEY_UINT("cache_entries", dns.cache_entries, 1, 10000000),
	KEY_UINT("max_ttl", dns.max_ttl, 1, 604800),
	KEY_UINT("min_ttl", dns.min_ttl, 0, 86400),
	KEY_UINT("failure_ttl", dns.failure_ttl, 0, 3600),
	KEY_UINT("serve_stale", dns.serve_stale, 0, 604800),
	KEY_END,
};

static const struct key mx_keys[] = {
	KEY_FIELD("randomize", parse_bool, mx.randomize),
	KEY_UINT("max_hosts", mx.max_hosts, 1, POLICY_MAX_HOSTS_LIMIT),
	KEY_UINT("max_addresses", mx.max_addresses, 1, 1024),
	KEY_FIELD("ipv4", parse_bool, mx.ipv4),
	KEY_FIELD("ipv6", parse_bool, mx.ipv6),
	KEY_FIELD("null_mx", parse_verdict, mx.null_mx),
	KEY_FIELD("self_best", parse_verdict, mx.self_best),
	KEY_LIST("ignore_targets", parse_cidr_list, mx.ignore_targets, mx.n_ignore_targets),
	KEY_END,
};

static const struct key milter_keys[] = {
	KEY_SOCKET(milter),
	KEY_FIELD("reject_unroutable", parse_bool, milter.reject_unroutable),
	KEY_FIELD("rewrite_clusters", parse_bool, milter.rewrite_clusters),
	KEY_FIELD("rewrite_local", parse_name, milter.rewrite_local),
	KEY_FIELD("trace_header", parse_bool, milter.trace_header),
	KEY_DAEMON_UINT("timeout", milter_timeout, 1, 86400),
	KEY_END,
};

static const struct key socketmap_keys[] = {
	KEY_SOCKET(socketmap),
	KEY_FIELD("transport", parse_token, socketmap.transport),
	KEY_UINT("port", socketmap.port, 0, 65535),
	KEY_FIELD("mailer", parse_token, socketmap.mailer),
	KEY_FIELD("local", parse_answer, socketmap.local),
	KEY_FIELD("nexthop", parse_nexthop, socketmap.nexthop),
	KEY_FIELD("default", parse_default, socketmap.default_action),
	KEY_UINT("max_connections", socketmap.max_connections, 1, 65536),
	KEY_UINT("idle_timeout", socketmap.idle_timeout, 1, 86400),
	KEY_END,
};

static const struct key control_keys[] = {
	KEY_SOCKET(control),
	KEY_END,
};

static const struct key tls_keys[] = {
	KEY_FIELD("fallback_relays", parse_tls_level, tls.fallback_relays),
	KEY_LIST("mta_domains", parse_pattern_list, tls.mta_domains, tls.n_mta_domains),
	KEY_FIELD("policy_table", parse_path, tls.policy_table),
	KEY_FIELD("mta_sts", parse_bool, tls.mta_sts),
	KEY_FIELD("dnssec", parse_bool, tls.dnssec),
	KEY_END,
};

static const struct key top_keys[] = {
	KEY_SECTION("self", self_keys),
	KEY_LIST("local_hosts", parse_name_list, local_hosts, n_local_hosts),
	{ .name = "clusters", .parse = parse_clusters },
	{ .name = "routes", .parse = parse_routes },
	KEY_LIST("fallback_relays", parse_relay_list, fallback_relays, n_fallback_relays),
	KEY_SECTION("dns", dns_keys),
	KEY_SECTION("mx", mx_keys),
	KEY_SECTION("milter", milter_keys),
	KEY_SECTION("socketmap", socketmap_keys),
	KEY_SECTION("control", control_keys),
	KEY_SECTION("tls", tls_keys),
	KEY_DAEMON("user", parse_account, user),
	KEY_DAEMON("group", parse_account, group),
	KEY_DAEMON("pidfile", parse_path, pidfile),
	KEY_END,
};

static const char *const verdict_names[] = {
	[VERDICT_REJECT] = "reject",
	[VERDICT_TEMPFAIL] = "tempfail",
};
static const char *const nexthop_names[] = {
	[NEXTHOP_NAME] = "name",
	[NEXTHOP_ADDRESS] = "address",
};
static const char *const default_names[] = {
	[DEFAULT_ROUTE] = "route",
	[DEFAULT_NOTFOUND] = "notfound",
};

/* Addresses no mail server has: "this network", limited broadcast, unspecified. */
static const char *const default_ignore_targets[] = { "0.0.0.0/8", "255.255.255.255", "::" };

/* ---- entry points ---- */

struct policy *config_defaults(void)
{
	struct policy *policy = config_new_defaults();

	policy->file = xstrdup("(defaults)");
	return policy;
}

int config_load_file(const char *path, struct policy **out, struct daemon_settings *settings,
		     char *err, size_t errlen)
{
	config_t cfg;
	int rc;

	*out = NULL;
	rc = file_read(path, &cfg, err, errlen);
	if (rc == 0)
		rc = config_load(&cfg, path, out, settings, err, errlen);
	else if (rc == 1)
		rc = syntax_fail(&cfg, path, err, errlen);
	else
		return -1;
	config_destroy(&cfg);
	return rc;
}

/*
 * Reads path with libconfig: 0 (cfg to destroy), 1 on a syntax error (cfg
 * holds it; destroy it too), -1 if the file cannot be opened (err).
 */
static int file_read(const char *path, config_t *cfg, char *err, size_t errlen)
{
	FILE *fp = file_open(path, err, errlen);
	char *dir;
	int rc;

	if (fp == NULL)
		return -1;
	config_init(cfg);
	/* @include "x.conf" is relative to the including file, not the cwd. */
	dir = xstrdup(path);
	config_set_include_dir(cfg, dirname(dir));
	free(dir);
	rc = config_read(cfg, fp) == CONFIG_TRUE ? 0 : 1;
	fclose(fp);
	return rc;
}

int config_load_string(const char *text, const char *name, struct policy **out,
		       struct daemon_settings *settings, char *err, size_t errlen)
{
	config_t cfg;
	int rc;

	*out = NULL;
	config_init(&cfg);
	if (config_read_string(&cfg, text) == CONFIG_TRUE)
		rc = config_load(&cfg, name, out, settings, err, errlen);
	else
		rc = syntax_fail(&cfg, name, err, errlen);
	config_destroy(&cfg);
	return rc;
}

/*
 * One string setting read from a file the loader refused: libconfig's
 * syntax only, no validation. For `mxpath stats|reload` when the file on
 * disk is broken, which is when the admin needs the running daemon.
 */
int config_peek_string(const char *path, const char *key, char *out, size_t outlen)
{
	config_t cfg;
	const char *value = NULL;
	char err[CONFIG_ERROR_MAX];
	int read = file_read(path, &cfg, err, sizeof(err)), rc = -1;

	if (read < 0)
		return -1;
	if (read == 0 && config_lookup_string(&cfg, key, &value) && strlen(value) < outlen) {
		memcpy(out, value, strlen(value) + 1);
		rc = 0;
	}
	config_destroy(&cfg);
	return rc;
}

/* A regular file (or anything but a directory) for reading, or NULL and err. */
static FILE *file_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *fp = fopen(path, "r");
	int error;

	if (fp == NULL || fstat(fileno(fp), &st) != 0)
		error = errno;
	else if (S_ISDIR(st.st_mode))
		error = EISDIR;
	else
		return fp;
	if (fp != NULL)
		fclose(fp);
	snprintf(err, errlen, "%s: cannot open: %s", path, strerror(error));
	return NULL;
}

/* The built-in defaults; every list empty unless said otherwise. */
static struct policy *config_new_defaults(void)
{
	struct policy *p = xcalloc(1, sizeof(*p));
	size_t i;

	p->refs = 1;
	p->self_auto = true;

	p->dns.timeout_ms = 2000;
	p->dns.tries = 2;
	p->dns.cache_entries = 100000;
	p->dns.max_ttl = 3600;
	p->dns.min_ttl = 1;
	p->dns.failure_ttl = 5;
	p->dns.serve_stale = 86400;

	p->mx.randomize = true;
	p->mx.max_hosts = 20;
	p->mx.max_addresses = 64;
	p->mx.ipv4 = true;
	p->mx.ipv6 = true;
	p->mx.null_mx = VERDICT_REJECT;
	p->mx.self_best = VERDICT_REJECT;
	p->mx.n_ignore_targets = MX_ARRAY_LEN(default_ignore_targets);
	p->mx.ignore_targets = xcalloc(p->mx.n_ignore_targets, sizeof(*p->mx.ignore_targets));
	for (i = 0; i < p->mx.n_ignore_targets; i++)
		if (cidr_parse(default_ignore_targets[i], &p->mx.ignore_targets[i]) != 0)
			fatal("config: bad built-in CIDR %s", default_ignore_targets[i]);

	p->milter.reject_unroutable = true;

	p->socketmap.transport = xstrdup("smtp");
	p->socketmap.mailer = xstrdup("esmtp");
	p->socketmap.local = xstrdup("local:");
	p->socketmap.nexthop = NEXTHOP_NAME;
	p->socketmap.default_action = DEFAULT_ROUTE;
	p->socketmap.max_connections = 1024;
	p->socketmap.idle_timeout = 300;

	p->tls.mta_sts = true;
	p->tls.dnssec = true;
	return p;
}

void config_settings_defaults(struct daemon_settings *settings)
{
	memset(settings, 0, sizeof(*settings));
	settings->milter.mode = 0660;
	settings->milter_timeout = 7200;
	settings->socketmap.mode = 0660;
	settings->control.mode = 0600;
	settings->user = xstrdup("mxpath");
	settings->group = xstrdup("mxpath");
}

/* Applies a parsed file over the defaults, then the checks across keys. */
static int config_load(config_t *cfg, const char *name, struct policy **out,
		       struct daemon_settings *settings, char *err, size_t errlen)
{
	struct daemon_settings daemon;
	struct loader ld = { .cfg = cfg, .daemon = &daemon, .name = name, .err = err,
			     .errlen = errlen };
	struct policy *policy = config_new_defaults();

	config_settings_defaults(&daemon);
	policy->file = xstrdup(name);
	if (load_group(&ld, config_root_setting(cfg), top_keys, policy) != 0 ||
	    check_policy(&ld, policy) != 0) {
		policy_free(&policy);
		daemon_settings_clear(&daemon);
		return -1;
	}
	*out = policy;
	if (settings != NULL)
		*settings = daemon;
	else
		daemon_settings_clear(&daemon);
	return 0;
}

/* ---- errors ---- */

/*
 * The name to show for the file a setting came from: main_name for the
 * main file (libconfig gives NULL), else the @include file, which libconfig
 * names as written; a relative one is shown below the include directory.
 */
static const char *file_display(const config_t *cfg, const char *file, const char *main_name,
				char *buf, size_t len)
{
	const char *dir = config_get_include_dir(cfg);

	if (file == NULL)
		return main_name;
	if (file[0] == '/' || dir == NULL || strcmp(dir, ".") == 0)
		return file;
	snprintf(buf, len, "%s/%s", dir, file);
	return buf;
}

/* "FILE:LINE: syntax error" and the like, from libconfig's parser; returns -1. */
static int syntax_fail(const config_t *cfg, const char *name, char *err, size_t errlen)
{
	char file[PATH_MAX];

	snprintf(err, errlen, "%s:%d: %s",
		 file_display(cfg, config_error_file(cfg), name, file, sizeof(file)),
		 config_error_line(cfg), config_error_text(cfg));
	return -1;
}

/* "FILE:LINE: key.path: message"; always returns -1. */
static int load_fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	char path[KEY_PATH_MAX], msg[CONFIG_ERROR_MAX], file[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	setting_path(s, path, sizeof(path));
	snprintf(ld->err, ld->errlen, "%s:%u: %s: %s",
		 file_display(ld->cfg, config_setting_source_file(s), ld->name, file,
			      sizeof(file)),
		 config_setting_source_line(s), path, msg);
	return -1;
}

/* "routes[1].hosts[0].host": names for group members, [index] for elements. */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *parent = config_setting_parent(s);
	const char *name = config_setting_name(s);
	size_t used;

	buf[0] = '\0';
	if (parent == NULL)
		return;
	setting_path(parent, buf, len);
	used = strlen(buf);
	if (name != NULL)
		snprintf(buf + used, len - used, "%s%s", used > 0 ? "." : "", name);
	else
		snprintf(buf + used, len - used, "[%d]", config_setting_index(s));
}

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ]";
	case CONFIG_TYPE_LIST:
		return "a list ( )";
	default:
		return "nothing";
	}
}

static int expect_type(struct loader *ld, const config_setting_t *s, int type, const char *what)
{
	if (config_setting_type(s) == type)
		return 0;
	return load_fail(ld, s, "expected %s, not %s", what, type_name(config_setting_type(s)));
}

static bool is_integer(const config_setting_t *s)
{
	int type = config_setting_type(s);

	return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
}

/* An array [ ] or a list ( ): either holds a list of strings. */
static bool is_list(const config_setting_t *s)
{
	int type = config_setting_type(s);

	return type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST;
}

/* ---- groups ---- */

/* Every member of group must be a known key; each is parsed into base. */
static int load_group(struct loader *ld, const config_setting_t *group, const struct key *keys,
		      void *base)
{
	int i, n = config_setting_length(group);

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct key *key;

		for (key = keys; key->name != NULL; key++)
			if (strcmp(key->name, name) == 0)
				break;
		if (key->name == NULL)
			return load_fail(ld, s, "unknown key");
		if (key->parse(ld, s, key, key->daemon ? (void *)ld->daemon : base) != 0)
			return -1;
	}
	return check_required(ld, group, keys);
}

static int check_required(struct loader *ld, const config_setting_t *group,
			  const struct key *keys)
{
	const struct key *key;

	for (key = keys; key->name != NULL; key++)
		if (key->required && config_setting_get_member(group, key->name) == NULL)
			return load_fail(ld, group, "missing key \"%s\"", key->name);
	return 0;
}

static int parse_section(struct loader *ld, const config_setting_t *s, const struct key *key,
			 void *base)
{
	if (expect_type(ld, s, CONFIG_TYPE_GROUP, "a group { }") != 0)
		return -1;
	return load_group(ld, s, key->section, base);
}

/* ---- checks across keys ---- */

static int check_policy(struct loader *ld, struct policy *policy)
{
	if (policy->dns.min_ttl > policy->dns.max_ttl)
		return load_fail(ld, lookup_either(ld, "dns.min_ttl", "dns.max_ttl"),
				 "min_ttl %u is above max_ttl %u", policy->dns.min_ttl,
				 policy->dns.max_ttl);
	if (!policy->mx.ipv4 && !policy->mx.ipv6)
		return load_fail(ld, lookup_either(ld, "mx.ipv4", "mx.ipv6"),
				 "ipv4 and ipv6 cannot both be false");
	if (check_socket(ld, "milter", &ld->daemon->milter) != 0 ||
	    check_socket(ld, "socketmap", &ld->daemon->socketmap) != 0 ||
	    check_socket(ld, "control", &ld->daemon->control) != 0)
		return -1;
	return check_tls(ld, policy);
}

/*
 * The admin's policy table is read first: its domains join mta_domains,
 * and a level it gives a domain that a cluster or route of ours names is
 * carried to that cluster's or route's hosts (the TLS door answers them).
 * Then, the TLS door answers by host name: with nexthop = "address" the
 * keys Postfix asks are addresses, so a level on a named host would
 * silently not apply.
 */
static int check_tls(struct loader *ld, struct policy *policy)
{
	size_t i;

	if (policy->tls.policy_table != NULL &&
	    tls_table_read(policy->tls.policy_table, table_entry_take, policy, ld->err,
			   ld->errlen) != 0)
		return -1;
	if (policy->socketmap.nexthop != NEXTHOP_ADDRESS)
		return 0;
	for (i = 0; i < policy->n_clusters; i++)
		if (policy->clusters[i].tls != TLS_LEVEL_NONE &&
		    check_tls_hosts(ld, "clusters", policy->clusters[i].members,
				    policy->clusters[i].n_members) != 0)
			return -1;
	for (i = 0; i < policy->n_routes; i++)
		if (policy->routes[i].tls != TLS_LEVEL_NONE &&
		    check_tls_hosts(ld, "routes", policy->routes[i].hosts,
				    policy->routes[i].n_hosts) != 0)
			return -1;
	for (i = 0; i < policy->n_fallback_relays; i++)
		if (policy->tls.fallback_relays != TLS_LEVEL_NONE &&
		    policy->fallback_relays[i][0] != '[')
			return load_fail(ld, config_lookup(ld->cfg, "tls.fallback_relays"),
					 "a TLS level for a named relay needs "
					 "socketmap.nexthop = \"name\"");
	return 0;
}

/* One domain entry of the policy table (tls_table_fn). */
static int table_entry_take(void *ctx, const struct tls_table_entry *entry, char *err,
			    size_t errlen)
{
	struct policy *policy = ctx;
	enum tls_level *level = table_entry_routed_level(policy, entry->domain);
	enum tls_level given;

	policy->tls.mta_domains = xreallocarray(policy->tls.mta_domains,
						policy->tls.n_mta_domains + 1, sizeof(char *));
	policy->tls.mta_domains[policy->tls.n_mta_domains++] = xstrdup(entry->domain);
	if (level == NULL || entry->level[0] == '\0' || strcmp(entry->level, "none") == 0)
		return 0;
	if (tls_level_parse(entry->level, &given) == 0) {
		if (given > *level)
			*level = given;
		return 0;
	}
	if (*level != TLS_LEVEL_NONE)
		return 0;
	snprintf(err, errlen, "%s:%u: %s \"%s\" cannot be carried to the hosts of the "
		 "cluster or route that routes %s: give that cluster or route a tls level",
		 policy->tls.policy_table, entry->line, entry->domain, entry->level,
		 entry->domain);
	return -1;
}

/* The level of the cluster or route that routes a table domain; NULL if none does. */
static enum tls_level *table_entry_routed_level(struct policy *policy, const char *domain)
{
	char stand_in[MX_NAME_BUF + 2];
	const struct policy_route *route;

	for (size_t i = 0; i < policy->n_clusters; i++)
		if (strcmp(policy->clusters[i].name, domain) == 0)
			return &policy->clusters[i].tls;
	/* ".example.com": what routes the names below it ("_" stands for one). */
	snprintf(stand_in, sizeof(stand_in), "%s%s", domain[0] == '.' ? "_" : "", domain);
	route = policy_find_route(policy, stand_in);
	if (route == NULL)
		return NULL;
	return &policy->routes[route - policy->routes].tls;
}

static int check_tls_hosts(struct loader *ld, const char *what, const struct policy_host *hosts,
			   size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hosts[i].host[0] != '[')
			return load_fail(ld, config_lookup(ld->cfg, what),
					 "a TLS level for the named host %s needs "
					 "socketmap.nexthop = \"name\"", hosts[i].host);
	return 0;
}

/* Owner, group and mode are for unix sockets; on an inet one they are a mistake. */
static int check_socket(struct loader *ld, const char *section, const struct door_socket *sock)
{
	static const char *const unix_only[] = { "owner", "group", "mode" };
	const config_setting_t *group, *s;
	size_t i;

	if (sock->spec == NULL || sockspec_unix_path(sock->spec) != NULL)
		return 0;
	group = config_lookup(ld->cfg, section);
	for (i = 0; i < MX_ARRAY_LEN(unix_only); i++) {
		s = config_setting_get_member(group, unix_only[i]);
		if (s != NULL)
			return load_fail(ld, s, "only for unix: sockets, not %s", sock->spec);
	}
	return 0;
}

/* The first of two settings that exists (one must: the defaults pass the checks). */
static const config_setting_t *lookup_either(const struct loader *ld, const char *a,
					     const char *b)
{
	const config_setting_t *s = config_lookup(ld->cfg, a);

	return s != NULL ? s : config_lookup(ld->cfg, b);
}

/* ---- scalars ---- */

static int parse_bool(struct loader *ld, const config_setting_t *s, const struct key *key,
		      void *base)
{
	if (expect_type(ld, s, CONFIG_TYPE_BOOL, "a boolean (true or false)") != 0)
		return -1;
	*FIELD(base, key->offset, bool) = config_setting_get_bool(s) != 0;
	return 0;
}

static int parse_uint(struct loader *ld, const config_setting_t *s, const struct key *key,
		      void *base)
{
	long long value;

	if (!is_integer(s))
		return expect_type(ld, s, CONFIG_TYPE_INT, "an integer");
	value = config_setting_get_int64(s);
	if (value < key->min || value > key->max)
		return load_fail(ld, s, "%lld is out of range %lld..%lld", value, key->min,
				 key->max);
	*FIELD(base, key->offset, unsigned) = (unsigned)value;
	return 0;
}

static int get_choice(struct loader *ld, const config_setting_t *s, const char *const *choices,
		      size_t n, size_t *index)
{
	const char *text;

	if (get_string(ld, s, &text) != 0)
		return -1;
	for (*index = 0; *index < n; (*index)++)
		if (strcmp(text, choices[*index]) == 0)
			return 0;
	if (n == 2)
		return load_fail(ld, s, "\"%s\" is not \"%s\" or \"%s\"", text, choices[0],
				 choices[1]);
	return load_fail(ld, s, "\"%s\" is not a valid choice", text);
}

static int parse_verdict(struct loader *ld, const config_setting_t *s, const struct key *key,
			 void *base)
{
	size_t i;

	if (get_choice(ld, s, verdict_names, MX_ARRAY_LEN(verdict_names), &i) != 0)
		return -1;
	*FIELD(base, key->offset, enum policy_verdict) = (enum policy_verdict)i;
	return 0;
}

static int parse_nexthop(struct loader *ld, const config_setting_t *s, const struct key *key,
			 void *base)
{
	size_t i;

	if (get_choice(ld, s, nexthop_names, MX_ARRAY_LEN(nexthop_names), &i) != 0)
		return -1;
	*FIELD(base, key->offset, enum policy_nexthop) = (enum policy_nexthop)i;
	return 0;
}

static int parse_default(struct loader *ld, const config_setting_t *s, const struct key *key,
			 void *base)
{
	size_t i;

	if (get_choice(ld, s, default_names, MX_ARRAY_LEN(default_names), &i) != 0)
		return -1;
	*FIELD(base, key->offset, enum policy_default) = (enum policy_default)i;
	return 0;
}

static int get_string(struct loader *ld, const config_setting_t *s, const char **text)
{
	if (expect_type(ld, s, CONFIG_TYPE_STRING, "a string") != 0)
		return -1;
	*text = config_setting_get_string(s);
	return 0;
}

/* Stores a string in a char * field, replacing a default. */
static void field_set_string(void *base, size_t offset, const char *text)
{
	char **field = FIELD(base, offset, char *);

	free(*field);
	*field = xstrdup(text);
}

/* A host name (normalised). */
static int parse_name(struct loader *ld, const config_setting_t *s, const struct key *key,
		      void *base)
{
	char name[MX_NAME_BUF];
	const char *text, *why;

	if (get_string(ld, s, &text) != 0)
		return -1;
	if (name_normalize(text, name, &why) != 0)
		return load_fail(ld, s, "bad host name \"%s\": %s", text, why);
	field_set_string(base, key->offset, name);
	return 0;
}

/* A host name or an address literal "[192.0.2.1]" (normalised). */
static int parse_host(struct loader *ld, const config_setting_t *s, const struct key *key,
		      void *base)
{
	char host[MX_NAME_BUF];
	const char *text, *why;

	if (get_string(ld, s, &text) != 0)
		return -1;
	if (host_normalize(text, host, &why) != 0)
		return load_fail(ld, s, "bad host \"%s\": %s", text, why);
	field_set_string(base, key->offset, host);
	return 0;
}

/* A user or group name, or a number; whether it exists is checked at start-up. */
static int parse_account(struct loader *ld, const config_setting_t *s, const struct key *key,
			 void *base)
{
	const char *text;

	if (get_string(ld, s, &text) != 0)
		return -1;
	if (!is_account_name(text))
		return load_fail(ld, s, "bad user or group name \"%s\"", text);
	field_set_string(base, key->offset, text);
	return 0;
}

/* A transport or mailer name: "smtp", "esmtp", "relay". */
static int parse_token(struct loader *ld, const config_setting_t *s, const struct key *key,
		       void *base)
{
	const char *text;

	if (get_string(ld, s, &text) != 0)
		return -1;
	if (!is_token(text))
		return load_fail(ld, s, "bad name \"%s\": letters, digits, '.', '-', '_' only",
				 text);
	field_set_string(base, key->offset, text);
	return 0;
}

/* A socketmap answer given verbatim: printable, no spaces. */
static int parse_answer(struct loader *ld, const config_setting_t *s, const struct key *key,
			void *base)
{
	const char *text;

	if (get_string(ld, s, &text) != 0)
		return -1;
	if (!is_answer(text))
		return load_fail(ld, s, "bad answer \"%s\": 1..%d printable characters, no spaces",
				 text, ANSWER_MAX);
	field_set_string(base, key->offset, text);
	return 0;
}

static int parse_path(struct loader *ld, const config_setting_t *s, const struct key *key,
		      void *base)
{
	const char *text;

	if (get_string(ld, s, &text) != 0)
		return -1;
	if (text[0] != '/' || strlen(text) >= PATH_MAX || has_control(text))
		return load_fail(ld, s, "bad path \"%s\": expected an absolute path", text);
	field_set_string(base, key->offset, text);
	return 0;
}

static int parse_socket(struct loader *ld, const config_setting_t *s, const struct key *key,
			void *base)
{
	struct sockspec parsed;
	const char *text, *why;

	if (get_string(ld, s, &text) != 0)
		return -1;
	if (sockspec_parse(text, &parsed, &why) != 0)
		return load_fail(ld, s, "bad socket \"%s\": %s", text, why);
	field_set_string(base, key->offset, text);
	return 0;
}

/* "0660" (octal text) or 660 / 0660 (libconfig has no octal: the digits are read as octal). */
static int parse_mode(struct loader *ld, const config_setting_t *s, const struct key *key,
		      void *base)
{
	mode_t *field = FIELD(base, key->offset, mode_t);
	int type = config_setting_type(s);
	int rc;

	if (type == CONFIG_TYPE_STRING)
		rc = mode_from_string(config_setting_get_string(s), field);
	else if (is_integer(s))
		rc = mode_from_int(config_setting_get_int64(s),
				   config_setting_get_format(s) == CONFIG_FORMAT_HEX, field);
	else
		return load_fail(ld, s, "expected a mode such as \"0660\", not %s",
				 type_name(type));
	if (rc != 0)
		return load_fail(ld, s, "bad mode: expected octal 0000..0777, such as \"0660\"");
	return 0;
}

/* ---- string lists ---- */

/* A string, an array [ ] or a list ( ) of strings: each() for every string. */
static int for_each_string(struct loader *ld, const config_setting_t *s, string_fn each,
			   void *ctx)
{
	int i, n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return each(ld, s, config_setting_get_string(s), ctx);
	if (!is_list(s))
		return load_fail(ld, s, "expected a list of strings [ \"...\" ], not %s",
				 type_name(config_setting_type(s)));
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *elem = config_setting_get_elem(s, (unsigned)i);
		const char *text;

		if (get_string(ld, elem, &text) != 0 || each(ld, elem, text, ctx) != 0)
			return -1;
	}
	return 0;
}

static int count_strings(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ? 1 : config_setting_length(s);
}

static void strings_free(char ***items, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*items)[i]);
	free(*items);
	*items = NULL;
	*n = 0;
}

/* Replaces the list with an empty one with room for every element of s. */
static int string_list_reset(const config_setting_t *s, struct string_list *list)
{
	int n = count_strings(s);

	strings_free(list->items, list->n);
	*list->items = xcalloc(n > 0 ? (size_t)n : 1, sizeof(char *));
	return n;
}

static int string_list_add(struct loader *ld, const config_setting_t *s, const char *text,
			   struct string_list *list)
{
	if (strings_contain(*list->items, *list->n, text))
		return load_fail(ld, s, "duplicate %s \"%s\"", list->what, text);
	(*list->items)[(*list->n)++] = xstrdup(text);
	return 0;
}

static bool strings_contain(char *const *items, size_t n, const char *text)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i], text) == 0)
			return true;
	return false;
}

static int add_name(struct loader *ld, const config_setting_t *s, const char *text, void *ctx)
{
	char name[MX_NAME_BUF];
	const char *why;

	if (name_normalize(text, name, &why) != 0)
		return load_fail(ld, s, "bad host name \"%s\": %s", text, why);
	return string_list_add(ld, s, name, ctx);
}

static int parse_name_list(struct loader *ld, const config_setting_t *s,
			   const struct key *key, void *base)
{
	struct string_list list = { FIELD(base, key->offset, char **),
				    FIELD(base, key->count_offset, size_t), "name" };

	string_list_reset(s, &list);
	return for_each_string(ld, s, add_name, &list);
}

static int add_relay(struct loader *ld, const config_setting_t *s, const char *text, void *ctx)
{
	char host[MX_NAME_BUF];
	const char *why;

	if (host_normalize(text, host, &why) != 0)
		return load_fail(ld, s, "bad host \"%s\": %s", text, why);
	return string_list_add(ld, s, host, ctx);
}

static int parse_relay_list(struct loader *ld, const config_setting_t *s,
			    const struct key *key, void *base)
{
	struct string_list list = { FIELD(base, key->offset, char **),
				    FIELD(base, key->count_offset, size_t), "relay" };

	if (string_list_reset(s, &list) > POLICY_FALLBACK_MAX)
		return load_fail(ld, s, "more than %d fallback relays", POLICY_FALLBACK_MAX);
	return for_each_string(ld, s, add_relay, &list);
}

static int add_server(struct loader *ld, const config_setting_t *s, const char *text,
		      void *ctx)
{
	char server[SERVER_TEXT_MAX];
	const char *why;

	if (server_normalize(text, server, sizeof(server), &why) != 0)
		return load_fail(ld, s, "bad DNS server \"%s\": %s", text, why);
	return string_list_add(ld, s, server, ctx);
}

int config_parse_servers(const char *list, char ***servers, size_t *n, char *err, size_t errlen)
{
	const char *item = list, *comma;

	*servers = NULL;
	*n = 0;
	do {
		comma = strchr(item, ',');
		if (server_list_add(item, comma ? (size_t)(comma - item) : strlen(item), servers, n,
				    err, errlen) != 0) {
			strings_free(servers, n);
			return -1;
		}
		item = comma + 1;
	} while (comma != NULL);
	return 0;
}

/* One item of config_parse_servers(): checked as in a file, no duplicate. */
static int server_list_add(const char *text, size_t len, char ***servers, size_t *n,
			   char *err, size_t errlen)
{
	char item[SERVER_TEXT_MAX], server[SERVER_TEXT_MAX];
	const char *why = "too long";

	if (len < sizeof(item)) {
		memcpy(item, text, len);
		item[len] = '\0';
		if (server_normalize(item, server, sizeof(server), &why) == 0) {
			if (strings_contain(*servers, *n, server)) {
				snprintf(err, errlen, "duplicate server \"%s\"", server);
				return -1;
			}
			*servers = xreallocarray(*servers, *n + 1, sizeof(**servers));
			(*servers)[(*n)++] = xstrdup(server);
			return 0;
		}
	}
	snprintf(err, errlen, "bad DNS server \"%.*s\": %s", (int)(len > 64 ? 64 : len), text,
		 why);
	return -1;
}

/* "ADDR", "ADDR:PORT", "IPV6", "[IPV6]:PORT" (normalised). */
static int parse_server_list(struct loader *ld, const config_setting_t *s,
			     const struct key *key, void *base)
{
	struct string_list list = { FIELD(base, key->offset, char **),
				    FIELD(base, key->count_offset, size_t), "server" };

	string_list_reset(s, &list);
	return for_each_string(ld, s, add_server, &list);
}

/* ---- address lists ---- */

struct cidr_list {
	struct mx_cidr *items;
	size_t n;
};

static int add_cidr(struct loader *ld, const config_setting_t *s, const char *text, void *ctx)
{
	struct cidr_list *list = ctx;

	if (cidr_parse(text, &list->items[list->n]) != 0)
		return load_fail(ld, s, "bad CIDR block \"%s\"", text);
	list->n++;
	return 0;
}

static int parse_cidr_list(struct loader *ld, const config_setting_t *s,
			   const struct key *key, void *base)
{
	struct mx_cidr **items = FIELD(base, key->offset, struct mx_cidr *);
	size_t *count = FIELD(base, key->count_offset, size_t);
	struct cidr_list list;
	int n = count_strings(s);

	list.items = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*list.items));
	list.n = 0;
	if (for_each_string(ld, s, add_cidr, &list) != 0) {
		free(list.items);
		return -1;
	}
	free(*items);
	*items = list.items;
	*count = list.n;
	return 0;
}

/* Appends to policy->self_addrs, shared by addresses and proxy_addresses. */
static int add_address(struct loader *ld, const config_setting_t *s, const char *text,
		       void *ctx)
{
	struct policy *policy = ctx;
	struct mx_addr addr;

	if (addr_parse(text, &addr) != 0)
		return load_fail(ld, s, "bad IP address \"%s\"", text);
	policy->self_addrs = xreallocarray(policy->self_addrs, policy->n_self_addrs + 1,
					   sizeof(*policy->self_addrs));
	policy->self_addrs[policy->n_self_addrs++] = addr;
	return 0;
}

static int parse_address_list(struct loader *ld, const config_setting_t *s,
			      const struct key *key, void *base)
{
	(void)key;
	return for_each_string(ld, s, add_address, base);
}

/* "auto" (interface addresses) or a list of addresses. */
static int parse_self_addresses(struct loader *ld, const config_setting_t *s,
				const struct key *key, void *base)
{
	struct policy *policy = base;

	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(s), "auto") == 0) {
		policy->self_auto = true;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING && !is_list(s))
		return load_fail(ld, s, "expected \"auto\" or a list of addresses, not %s",
				 type_name(config_setting_type(s)));
	policy->self_auto = false;
	return parse_address_list(ld, s, key, base);
}

/* ---- host lists, clusters, routes ---- */

#define HOST_SHAPE "{ host = \"...\"; pref = N; }"
#define CLUSTER_SHAPE "{ name = ...; members = ...; }"
#define ROUTE_SHAPE "{ domain = ...; hosts = ...; }"

/* The length of a list ( ) of groups shaped like shape, or -1. */
static int group_list_length(struct loader *ld, const config_setting_t *s, const char *shape)
{
	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return load_fail(ld, s, "expected a list ( %s ), not %s", shape,
				 type_name(config_setting_type(s)));
	return config_setting_length(s);
}

/* Element i of a list of groups, loaded into base with keys. */
static int group_list_load(struct loader *ld, const config_setting_t *s, int i,
			   const struct key *keys, const char *shape, void *base)
{
	const config_setting_t *elem = config_setting_get_elem(s, (unsigned)i);

	if (config_setting_type(elem) != CONFIG_TYPE_GROUP)
		return load_fail(ld, elem, "expected a group %s, not %s", shape,
				 type_name(config_setting_type(elem)));
	return load_group(ld, elem, keys, base);
}

/* ( { host = "..."; pref = N; }, ... ): at least one, no host twice. */
static int parse_host_list(struct loader *ld, const config_setting_t *s,
			   const struct key *key, void *base)
{
	struct policy_host **hosts = FIELD(base, key->offset, struct policy_host *);
	size_t *count = FIELD(base, key->count_offset, size_t);
	int i, j, n = group_list_length(ld, s, HOST_SHAPE);

	if (n < 0)
		return -1;
	if (n == 0)
		return load_fail(ld, s, "empty list: at least one host is needed");
	if (n > POLICY_MAX_HOSTS_LIMIT)
		return load_fail(ld, s, "more than %d hosts", POLICY_MAX_HOSTS_LIMIT);
	*hosts = xcalloc((size_t)n, sizeof(**hosts));
	*count = (size_t)n;
	for (i = 0; i < n; i++) {
		if (group_list_load(ld, s, i, host_keys, HOST_SHAPE, &(*hosts)[i]) != 0)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp((*hosts)[j].host, (*hosts)[i].host) == 0)
				return load_fail(ld, config_setting_get_elem(s, (unsigned)i),
						 "duplicate host \"%s\"", (*hosts)[i].host);
	}
	return 0;
}

static int parse_clusters(struct loader *ld, const config_setting_t *s, const struct key *key,
			  void *base)
{
	struct policy *policy = base;
	int i, j, n = group_list_length(ld, s, CLUSTER_SHAPE);

	(void)key;
	if (n < 0)
		return -1;
	policy->clusters = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*policy->clusters));
	policy->n_clusters = (size_t)n;
	for (i = 0; i < n; i++) {
		struct policy_cluster *cluster = &policy->clusters[i];

		if (group_list_load(ld, s, i, cluster_keys, CLUSTER_SHAPE, cluster) != 0)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(policy->clusters[j].name, cluster->name) == 0)
				return load_fail(ld, config_setting_get_elem(s, (unsigned)i),
						 "duplicate cluster \"%s\"", cluster->name);
	}
	return 0;
}

static int parse_routes(struct loader *ld, const config_setting_t *s, const struct key *key,
			void *base)
{
	struct policy *policy = base;
	int i, j, n = group_list_length(ld, s, ROUTE_SHAPE);

	(void)key;
	if (n < 0)
		return -1;
	policy->routes = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*policy->routes));
	policy->n_routes = (size_t)n;
	for (i = 0; i < n; i++) {
		struct policy_route *route = &policy->routes[i];

		if (group_list_load(ld, s, i, route_keys, ROUTE_SHAPE, route) != 0)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(policy->routes[j].pattern, route->pattern) == 0)
				return load_fail(ld, config_setting_get_elem(s, (unsigned)i),
						 "duplicate route \"%s\"", route->pattern);
		/* Channel 0 is the default servers; route i with its own has 1 + i. */
		route->channel = route->n_dns > 0 ? 1 + (unsigned)i : 0;
	}
	return 0;
}

/* "example.com" (that domain), ".example.com" (every name below it) or "." (any). */
static int parse_route_domain(struct loader *ld, const config_setting_t *s,
			      const struct key *key, void *base)
{
	struct policy_route *route = base;
	char pattern[MX_NAME_BUF + 1];
	const char *text, *why;
	bool is_suffix;

	(void)key;
	if (get_string(ld, s, &text) != 0)
		return -1;
	if (pattern_normalize(text, pattern, &is_suffix, &why) != 0)
		return load_fail(ld, s, "bad domain pattern \"%s\": %s", text, why);
	free(route->pattern);
	route->pattern = xstrdup(pattern);
	route->is_suffix = is_suffix;
	return 0;
}

/* A route's pattern into out (MX_NAME_BUF + 1): normalised, a suffix keeps its dot. */
static int pattern_normalize(const char *text, char *out, bool *is_suffix, const char **why)
{
	char name[MX_NAME_BUF + 1] = ".";

	*is_suffix = text[0] == '.';
	if (strcmp(text, ".") != 0 && name_normalize(text + *is_suffix, name + 1, why) != 0)
		return -1;
	memcpy(out, *is_suffix ? name : name + 1, strlen(*is_suffix ? name : name + 1) + 1);
	return 0;
}

static int add_pattern(struct loader *ld, const config_setting_t *s, const char *text,
		       void *ctx)
{
	char pattern[MX_NAME_BUF + 1];
	const char *why;
	bool is_suffix;

	if (strcmp(text, ".") == 0 || pattern_normalize(text, pattern, &is_suffix, &why) != 0)
		return load_fail(ld, s, "bad domain pattern \"%s\": %s", text,
				 strcmp(text, ".") == 0 ? "\".\" would keep every domain: "
				 "use socketmap.default = \"notfound\"" : why);
	return string_list_add(ld, s, pattern, ctx);
}

static int parse_pattern_list(struct loader *ld, const config_setting_t *s,
			      const struct key *key, void *base)
{
	struct string_list list = { FIELD(base, key->offset, char **),
				    FIELD(base, key->count_offset, size_t), "domain" };

	string_list_reset(s, &list);
	return for_each_string(ld, s, add_pattern, &list);
}

/* "may", "encrypt", "dane", "dane-only", "verify", "secure". */
static int parse_tls_level(struct loader *ld, const config_setting_t *s, const struct key *key,
			   void *base)
{
	const char *text;

	if (get_string(ld, s, &text) != 0)
		return -1;
	if (tls_level_parse(text, FIELD(base, key->offset, enum tls_level)) != 0)
		return load_fail(ld, s, "\"%s\" is not a TLS level (may, encrypt, dane, "
				 "dane-only, verify, secure)", text);
	return 0;
}

/* ---- text checks ---- */

/* A domain name that is not an IP address in disguise. */
static int name_normalize(const char *text, char *out, const char **why)
{
	return host_name_normalize(text, strlen(text), out, why);
}

/*
 * A name, or an address literal written back in the RFC 5321 form that
 * recipient_parse() gives: "[192.0.2.1]", "[IPv6:2001:db8::1]" (the tag
 * may be left out in the file).
 */
static int host_normalize(const char *text, char *out, const char **why)
{
	struct mx_addr addr;

	if (text[0] != '[')
		return name_normalize(text, out, why);
	return addr_literal_parse(text, strlen(text), true, &addr, out, why);
}

/* "ADDR", "ADDR:PORT" (IPv4), "IPV6", "[ADDR]:PORT"; out is the canonical form. */
static int server_normalize(const char *text, char *out, size_t len, const char **why)
{
	char host[MX_ADDR_TEXT_MAX + 1], canon[MX_ADDR_TEXT_MAX];
	const char *host_start = text, *host_end, *port_text = NULL;
	struct mx_addr addr;
	unsigned port = 0;

	*why = "expected ADDRESS, ADDRESS:PORT or [ADDRESS]:PORT";
	if (text[0] == '[') {
		host_start = text + 1;
		host_end = strchr(host_start, ']');
		if (host_end == NULL || (host_end[1] != '\0' && host_end[1] != ':'))
			return -1;
		if (host_end[1] == ':')
			port_text = host_end + 2;
	} else {
		host_end = strchr(text, ':');
		if (host_end != NULL && strchr(host_end + 1, ':') == NULL)
			port_text = host_end + 1;	/* exactly one ':': IPv4 and a port */
		else
			host_end = text + strlen(text);	/* no port, or a bare IPv6 address */
	}
	if (host_end == host_start || (size_t)(host_end - host_start) >= sizeof(host))
		return -1;
	memcpy(host, host_start, (size_t)(host_end - host_start));
	host[host_end - host_start] = '\0';
	if (addr_parse(host, &addr) != 0) {
		*why = "not an IP address";
		return -1;
	}
	if (port_text != NULL && sockspec_parse_port(port_text, strlen(port_text), &port) != 0) {
		*why = "bad port: expected 1..65535";
		return -1;
	}
	addr_format(&addr, canon, sizeof(canon));
	if (port == 0)
		snprintf(out, len, "%s", canon);
	else if (addr.family == AF_INET6)
		snprintf(out, len, "[%s]:%u", canon, port);
	else
		snprintf(out, len, "%s:%u", canon, port);
	return 0;
}

static int mode_from_string(const char *text, mode_t *mode)
{
	unsigned long value = 0;
	size_t i, len = strlen(text);

	if (len == 0 || len > 4)
		return -1;
	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '7')
			return -1;
		value = value * 8 + (unsigned long)(text[i] - '0');
	}
	if (value > MODE_MAX)
		return -1;
	*mode = (mode_t)value;
	return 0;
}

/* mode = 660 means 0660: libconfig reads 0660 as decimal 660. A hex value is taken as is. */
static int mode_from_int(long long value, bool is_hex, mode_t *mode)
{
	unsigned long octal = 0, scale = 1;

	if (value < 0 || value > (is_hex ? MODE_MAX : 777))
		return -1;
	if (is_hex) {
		*mode = (mode_t)value;
		return 0;
	}
	for (; value > 0; value /= 10, scale *= 8) {
		if (value % 10 > 7)
			return -1;
		octal += (unsigned long)(value % 10) * scale;
	}
	*mode = (mode_t)octal;
	return 0;
}

/* Letters, digits, '.', '-', '_', not starting with '-'; or a numeric id. */
static bool is_account_name(const char *text)
{
	size_t i, len = strlen(text);

	if (len == 0 || len > ACCOUNT_NAME_MAX || text[0] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!is_name_char(text[i]))
			return false;
	return true;
}

static bool is_token(const char *text)
{
	size_t i, len = strlen(text);

	if (len == 0 || len > TOKEN_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!is_name_char(text[i]))
			return false;
	return true;
}

static bool is_answer(const char *text)
{
	size_t i, len = strlen(text);

	if (len == 0 || len > ANSWER_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)text[i]))
			return false;
	return true;
}

static bool has_control(const char *text)
{
	for (; *text != '\0'; text++)
		if (iscntrl((unsigned char)*text))
			return true;
	return false;
}

/* ASCII letters, digits, '.', '-', '_' (no locale). */
static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}
