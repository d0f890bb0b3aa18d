/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mxpath.c - the admin command: show a route, check a configuration
 *
 *   mxpath route [-c FILE] [--dns ADDR[:PORT][,...]] [--self NAME]...
 *                [--self-address IP]... [--no-auto-self] [--json] ADDRESS|DOMAIN...
 *   mxpath route --daemon [-c FILE] [--socket SPEC] ADDRESS|DOMAIN...
 *   mxpath check [-c FILE]
 *   mxpath stats [-c FILE] [--socket SPEC]
 *   mxpath reload [-c FILE] [--socket SPEC]
 *   mxpath --version | --help
 *
 * `route` runs the daemon's own machinery (event loop, router, cache,
 * resolver) in this process: every address is decided concurrently, each
 * on its own (its own shuffle), and printed in argument order. Exit
 * status: 0 all relay or local, 1 a reject, 75 a tempfail (it wins over
 * a reject: the answer is not final), 64 usage, 78 configuration, 69 the
 * daemon could not be asked. `route --daemon` asks the running mxpathd
 * instead (its cache, its identity), over the control socket, and also
 * prints each socketmap map's exact reply.
 *
 * `stats`, `reload` and `route --daemon` find the control socket with
 * --socket, else in the configuration; a configuration the loader refuses
 * is read for control.socket alone, else the packaged default socket is
 * tried: these are the commands an admin needs when the file is broken.
 *
 * A hidden test option, `route --repeat-after MS`, decides everything
 * once more MS milliseconds after the first round, with the same cache:
 * the integration tests use it to see TTL expiry and serve-stale.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mxpath/engine/address.h"
#include "mxpath/engine/route.h"
#include "mxpath/base/common.h"
#include "mxpath/config/config.h"
#include "mxpath/config/sockspec.h"
#include "mxpath/doors/control.h"
#include "mxpath/runtime/evloop.h"
#include "mxpath/engine/policy.h"
#include "mxpath/engine/route_json.h"
#include "mxpath/engine/route_text.h"
#include "mxpath/dns/router.h"
#include "mxpath/dns/sysident.h"

#define EXIT_REJECT 1
#define HELP_SHOWN (-1)		/* route_parse_options(): --help printed, exit 0 */
#define ASK_TIMEOUT_MS 5000		/* stats */
#define ASK_WAIT_MS 65000		/* reload, route: the daemon waits 60 s at most */
#define SPEC_MAX 256

enum { OPT_DNS = 256, OPT_SELF, OPT_SELF_ADDRESS, OPT_NO_AUTO_SELF, OPT_JSON, OPT_REPEAT_AFTER,
       OPT_SOCKET, OPT_DAEMON, OPT_HELP };

struct route_options {
	const char *config;
	const char *dns;
	char **self_names;
	size_t n_self_names;
	struct mx_addr *self_addrs;
	size_t n_self_addrs;
	bool no_auto_self;
	bool json;
	bool daemon;			/* --daemon: ask the running mxpathd */
	const char *socket;		/* --socket SPEC, with --daemon */
	bool has_local_options;		/* --dns, --self..., --json: not with --daemon */
	long repeat_after_ms;		/* -1: no second round */
};

/* One address's formatted answer. */
struct answer {
	char *text;
	size_t len;
	enum route_action action;
};

/* A round of concurrent decisions. */
struct batch {
	struct evloop *loop;
	bool json;
	bool submitting;
	size_t remaining;
	char **addresses;
	struct answer *answers;
	size_t n;
};

struct answer_ctx {
	struct batch *batch;
	size_t index;
};

static int cmd_route(int argc, char **argv);
static int cmd_check(int argc, char **argv);
static int cmd_stats(int argc, char **argv);
static int cmd_reload(int argc, char **argv);
static int control_command_start(int argc, char **argv, const char *command, char *buf,
				 size_t buflen, const char **spec);
static int control_parse_options(int argc, char **argv, const char *command,
				 const char **path, const char **spec);
static const char *control_spec_find(const char *path, const char *spec, char *buf,
				     size_t buflen);
static int control_ask_text(const char *spec, const char *request, int timeout_ms,
			    char **text);
static int route_ask_daemon(const struct route_options *opt, char **addresses, size_t n);
static int route_ask_one(const char *spec, const char *address);
static void usage(FILE *fp);
static int usage_error(const char *fmt, ...) MX_PRINTF(1, 2);

static int route_parse_options(int argc, char **argv, struct route_options *opt);
static void route_options_free(struct route_options *opt);
static int route_run(struct router *router, struct evloop *loop, bool json, char **addresses,
		     size_t n);
static void route_on_done(void *arg, const struct route *route);
static void route_on_repeat(void *arg);
static int exit_status_of(const struct answer *answers, size_t n);

static int policy_load(const char *path, struct policy **out, struct daemon_settings *settings);
static int policy_apply_route_options(struct policy *policy, const struct route_options *opt);
static int policy_set_dns(struct policy *policy, const char *list);
static void policy_add_self_name(struct policy *policy, const char *name);
static void policy_add_self_address(struct policy *policy, const struct mx_addr *addr);

static void check_print_summary(FILE *fp, const struct policy *policy,
				const struct daemon_settings *settings);
static void check_print_self(FILE *fp, const struct policy *policy);
static void check_print_names(FILE *fp, const char *label, char *const *names, size_t n);
static void check_print_hosts(FILE *fp, const struct policy_host *hosts, size_t n);
static void check_print_dns(FILE *fp, const struct policy *policy);
static void check_print_mx(FILE *fp, const struct policy *policy);
static void check_print_level(FILE *fp, enum tls_level level);
static void check_print_tls(FILE *fp, const struct policy *policy);
static void check_print_door(FILE *fp, const char *label,
			     const struct daemon_settings *settings,
			     const struct door_socket *socket);

int main(int argc, char **argv)
{
	log_open_stderr("mxpath");
	if (argc < 2)
		return usage_error("a command is required");
	if (strcmp(argv[1], "--version") == 0) {
		printf("mxpath %s\n", MXPATH_VERSION);
		return EX_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EX_OK;
	}
	if (strcmp(argv[1], "route") == 0)
		return cmd_route(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "stats") == 0)
		return cmd_stats(argc - 1, argv + 1);
	if (strcmp(argv[1], "reload") == 0)
		return cmd_reload(argc - 1, argv + 1);
	return usage_error("unknown command \"%s\"", argv[1]);
}

static void usage(FILE *fp)
{
	fputs("usage: mxpath route [-c FILE] [--dns ADDR[:PORT][,...]] [--self NAME]...\n"
	      "                    [--self-address IP]... [--no-auto-self] [--json]\n"
	      "                    ADDRESS|DOMAIN...\n"
	      "       mxpath route --daemon [-c FILE] [--socket SPEC] ADDRESS|DOMAIN...\n"
	      "       mxpath check [-c FILE]\n"
	      "       mxpath stats [-c FILE] [--socket SPEC]\n"
	      "       mxpath reload [-c FILE] [--socket SPEC]\n"
	      "       mxpath --version | --help\n"
	      "\n"
	      "  route   decide where mail for each address goes, and explain why\n"
	      "          (--daemon: ask the running mxpathd, and show each map's reply)\n"
	      "  check   validate the configuration and summarise it\n"
	      "  stats   print the running daemon's counters\n"
	      "  reload  make the running daemon reload its configuration; print the result\n"
	      "\n"
	      "  -c FILE           configuration (default " CONFIG_DEFAULT_FILE
	      " if present,\n"
	      "                    else the built-in defaults)\n"
	      "  --dns LIST        ask these DNS servers instead of dns.servers\n"
	      "  --self NAME       one more name of this host (repeatable)\n"
	      "  --self-address IP one more address of this host (repeatable)\n"
	      "  --no-auto-self    do not count the system host name and interface addresses\n"
	      "  --json            one JSON object per address, one per line\n"
	      "  --socket SPEC     the daemon's control socket (default control.socket)\n"
	      "\n"
	      "exit: 0 relay/local (reloaded), 1 reject, 75 tempfail, 64 usage,\n"
	      "      69 daemon unreachable, 74 output error, 78 configuration (reload refused)\n",
	      fp);
}

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mxpath: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	usage(stderr);
	return EX_USAGE;
}

/* ---- route ---- */

static int cmd_route(int argc, char **argv)
{
	struct route_options opt = { .repeat_after_ms = -1 };
	struct policy *policy = NULL;
	struct evloop *loop = NULL;
	struct router *router = NULL;
	char err[CONFIG_ERROR_MAX];
	int rc = route_parse_options(argc, argv, &opt);

	if (rc != EX_OK) {
		rc = rc == HELP_SHOWN ? EX_OK : rc;
		goto out;
	}
	if (optind >= argc) {
		rc = usage_error("route: an address or domain is required");
		goto out;
	}
	if (opt.daemon) {
		rc = route_ask_daemon(&opt, argv + optind, (size_t)(argc - optind));
		goto out;
	}
	if (opt.socket != NULL) {
		rc = usage_error("route: --socket goes with --daemon");
		goto out;
	}
	if (policy_load(opt.config, &policy, NULL) < 0) {
		rc = EX_CONFIG;
		goto out;
	}
	rc = policy_apply_route_options(policy, &opt);
	if (rc != EX_OK)
		goto out;
	loop = evloop_new();
	router = router_new(loop, policy, err, sizeof(err));
	if (router == NULL) {
		fprintf(stderr, "mxpath: %s\n", err);
		rc = EX_CONFIG;
		goto out;
	}
	rc = route_run(router, loop, opt.json, argv + optind, (size_t)(argc - optind));
	if (opt.repeat_after_ms >= 0) {
		evloop_timer_add(loop, (uint64_t)opt.repeat_after_ms, route_on_repeat, loop);
		evloop_run(loop);
		rc = route_run(router, loop, opt.json, argv + optind, (size_t)(argc - optind));
	}
out:
	router_free(&router);
	evloop_free(&loop);
	policy_unref(&policy);
	route_options_free(&opt);
	return rc;
}

static int route_parse_options(int argc, char **argv, struct route_options *opt)
{
	static const struct option longopts[] = {
		{ "dns", required_argument, NULL, OPT_DNS },
		{ "self", required_argument, NULL, OPT_SELF },
		{ "self-address", required_argument, NULL, OPT_SELF_ADDRESS },
		{ "no-auto-self", no_argument, NULL, OPT_NO_AUTO_SELF },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "repeat-after", required_argument, NULL, OPT_REPEAT_AFTER },
		{ "daemon", no_argument, NULL, OPT_DAEMON },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	char normal[MX_NAME_BUF];
	const char *why;
	struct mx_addr addr;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		opt->has_local_options |= c != 'c' && c != OPT_DAEMON && c != OPT_SOCKET &&
					  c != OPT_HELP;
		switch (c) {
		case 'c':
			opt->config = optarg;
			break;
		case OPT_DAEMON:
			opt->daemon = true;
			break;
		case OPT_SOCKET:
			opt->socket = optarg;
			break;
		case OPT_DNS:
			opt->dns = optarg;
			break;
		case OPT_SELF:
			if (host_name_normalize(optarg, strlen(optarg), normal, &why) < 0)
				return usage_error("--self %s: %s", optarg, why);
			opt->self_names = xreallocarray(opt->self_names, opt->n_self_names + 1,
							sizeof(*opt->self_names));
			opt->self_names[opt->n_self_names++] = xstrdup(normal);
			break;
		case OPT_SELF_ADDRESS:
			if (addr_parse(optarg, &addr) < 0)
				return usage_error("--self-address %s: not an IP address", optarg);
			opt->self_addrs = xreallocarray(opt->self_addrs, opt->n_self_addrs + 1,
							sizeof(*opt->self_addrs));
			opt->self_addrs[opt->n_self_addrs++] = addr;
			break;
		case OPT_NO_AUTO_SELF:
			opt->no_auto_self = true;
			break;
		case OPT_JSON:
			opt->json = true;
			break;
		case OPT_REPEAT_AFTER:
			errno = 0;
			opt->repeat_after_ms = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || opt->repeat_after_ms < 0 ||
			    opt->repeat_after_ms > INT_MAX)
				return usage_error("--repeat-after %s: not a number of milliseconds",
						   optarg);
			break;
		case OPT_HELP:
			usage(stdout);
			return HELP_SHOWN;
		default:
			return usage_error("route: bad option");
		}
	}
	if (opt->daemon && opt->has_local_options)
		return usage_error("route --daemon: the daemon decides with its own DNS servers, "
				   "identity and output; --dns, --self, --self-address, "
				   "--no-auto-self, --json do not apply");
	return EX_OK;
}

static void route_options_free(struct route_options *opt)
{
	for (size_t i = 0; i < opt->n_self_names; i++)
		free(opt->self_names[i]);
	free(opt->self_names);
	free(opt->self_addrs);
	opt->self_names = NULL;
	opt->self_addrs = NULL;
}

/* Submits every address at once, runs the loop until all are decided,
 * prints in argument order; returns the exit status. */
static int route_run(struct router *router, struct evloop *loop, bool json, char **addresses,
		     size_t n)
{
	struct batch batch = { .loop = loop, .json = json, .addresses = addresses, .n = n };
	struct answer_ctx *ctx = xcalloc(n, sizeof(*ctx));
	int rc;

	batch.answers = xcalloc(n, sizeof(*batch.answers));
	batch.remaining = n;
	batch.submitting = true;
	for (size_t i = 0; i < n; i++) {
		ctx[i].batch = &batch;
		ctx[i].index = i;
		router_decide(router, addresses[i], NULL, route_on_done, &ctx[i]);
	}
	batch.submitting = false;
	if (batch.remaining > 0)
		evloop_run(loop);
	for (size_t i = 0; i < n; i++) {
		if (!json && i > 0)
			fputc('\n', stdout);
		fwrite(batch.answers[i].text, 1, batch.answers[i].len, stdout);
	}
	fflush(stdout);
	rc = exit_status_of(batch.answers, n);
	for (size_t i = 0; i < n; i++)
		free(batch.answers[i].text);
	free(batch.answers);
	free(ctx);
	return rc;
}

static void route_on_done(void *arg, const struct route *route)
{
	struct answer_ctx *ctx = arg;
	struct batch *batch = ctx->batch;
	struct answer *answer = &batch->answers[ctx->index];
	const char *address = batch->addresses[ctx->index];
	FILE *fp = open_memstream(&answer->text, &answer->len);

	if (fp == NULL)
		fatal("open_memstream: %s", strerror(errno));
	if (batch->json)
		route_json_write(fp, address, route);
	else
		route_text_write(fp, address, route);
	if (fclose(fp) != 0)
		fatal("formatting the route for %s: %s", address, strerror(errno));
	answer->action = route->action;
	/* A decision done before the loop runs must not leave a stop behind. */
	if (--batch->remaining == 0 && !batch->submitting)
		evloop_stop(batch->loop);
}

static void route_on_repeat(void *arg)
{
	evloop_stop(arg);
}

static int exit_status_of(const struct answer *answers, size_t n)
{
	int rc = EX_OK;

	for (size_t i = 0; i < n; i++) {
		if (answers[i].action == ROUTE_TEMPFAIL)
			return EX_TEMPFAIL;
		if (answers[i].action == ROUTE_REJECT)
			rc = EXIT_REJECT;
	}
	return rc;
}

/* ---- the configuration ---- */

/* -c FILE, else the default file if present, else the defaults. Errors
 * are printed as FILE:LINE: message. */
/* settings, if not NULL, gets the daemon's settings (clear them after). */
static int policy_load(const char *path, struct policy **out, struct daemon_settings *settings)
{
	char err[CONFIG_ERROR_MAX];

	if (path == NULL && access(CONFIG_DEFAULT_FILE, F_OK) == 0)
		path = CONFIG_DEFAULT_FILE;
	if (path == NULL) {
		*out = config_defaults();
		if (settings != NULL)
			config_settings_defaults(settings);
		return 0;
	}
	if (config_load_file(path, out, settings, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int policy_apply_route_options(struct policy *policy, const struct route_options *opt)
{
	if (opt->dns != NULL && policy_set_dns(policy, opt->dns) < 0)
		return EX_USAGE;
	for (size_t i = 0; i < opt->n_self_names; i++)
		policy_add_self_name(policy, opt->self_names[i]);
	for (size_t i = 0; i < opt->n_self_addrs; i++)
		policy_add_self_address(policy, &opt->self_addrs[i]);
	if (opt->no_auto_self)
		policy->self_auto = false;
	return EX_OK;
}

/* --dns a,b: checked and normalised by the loader's server-list parser. */
static int policy_set_dns(struct policy *policy, const char *list)
{
	char err[CONFIG_ERROR_MAX];
	char **servers;
	size_t n;

	if (config_parse_servers(list, &servers, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxpath: --dns: %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < policy->dns.n_servers; i++)
		free(policy->dns.servers[i]);
	free(policy->dns.servers);
	policy->dns.servers = servers;
	policy->dns.n_servers = n;
	return 0;
}

static void policy_add_self_name(struct policy *policy, const char *name)
{
	policy->self_names = xreallocarray(policy->self_names, policy->n_self_names + 1,
					   sizeof(*policy->self_names));
	policy->self_names[policy->n_self_names++] = xstrdup(name);
}

static void policy_add_self_address(struct policy *policy, const struct mx_addr *addr)
{
	policy->self_addrs = xreallocarray(policy->self_addrs, policy->n_self_addrs + 1,
					   sizeof(*policy->self_addrs));
	policy->self_addrs[policy->n_self_addrs++] = *addr;
}

/* ---- check ---- */

static int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_settings settings;
	const char *path = NULL;
	struct policy *policy;
	int c;

	while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (c == 'c') {
			path = optarg;
		} else if (c == OPT_HELP) {
			usage(stdout);
			return EX_OK;
		} else {
			return usage_error("check: bad option");
		}
	}
	if (optind < argc)
		return usage_error("check: unexpected argument \"%s\"", argv[optind]);
	if (policy_load(path, &policy, &settings) < 0)
		return EX_CONFIG;
	check_print_summary(stdout, policy, &settings);
	policy_unref(&policy);
	daemon_settings_clear(&settings);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}

static void check_print_summary(FILE *fp, const struct policy *policy,
				const struct daemon_settings *settings)
{
	fprintf(fp, "%s: configuration ok\n", policy->file ? policy->file : "(defaults)");
	check_print_self(fp, policy);
	check_print_names(fp, "local hosts", policy->local_hosts, policy->n_local_hosts);
	for (size_t i = 0; i < policy->n_clusters; i++) {
		fprintf(fp, "%-14s%s ->", i == 0 ? "clusters" : "", policy->clusters[i].name);
		check_print_hosts(fp, policy->clusters[i].members, policy->clusters[i].n_members);
		check_print_level(fp, policy->clusters[i].tls);
		fputc('\n', fp);
	}
	if (policy->n_clusters == 0)
		fprintf(fp, "%-14s(none)\n", "clusters");
	for (size_t i = 0; i < policy->n_routes; i++) {
		const struct policy_route *route = &policy->routes[i];

		fprintf(fp, "%-14s%s ->", i == 0 ? "routes" : "", route->pattern);
		check_print_hosts(fp, route->hosts, route->n_hosts);
		for (size_t j = 0; j < route->n_dns; j++)
			fprintf(fp, "%s%s", j ? ", " : "; dns ", route->dns[j]);
		check_print_level(fp, route->tls);
		fputc('\n', fp);
	}
	if (policy->n_routes == 0)
		fprintf(fp, "%-14s(none)\n", "routes");
	check_print_names(fp, "fallback", policy->fallback_relays, policy->n_fallback_relays);
	check_print_dns(fp, policy);
	check_print_mx(fp, policy);
	check_print_tls(fp, policy);
	check_print_door(fp, "milter", settings, &settings->milter);
	check_print_door(fp, "socketmap", settings, &settings->socketmap);
	check_print_door(fp, "control", settings, &settings->control);
	fprintf(fp, "%-14s%s:%s\n", "runs as", settings->user ? settings->user : "-",
		settings->group ? settings->group : "-");
}

/* What the route engine will take as self: the identity sysident builds. */
static void check_print_self(FILE *fp, const struct policy *policy)
{
	struct identity *self = sysident_build(policy);

	fprintf(fp, "%-14s", "self names");
	for (size_t i = 0; i < self->n_names; i++)
		fprintf(fp, "%s%s", i ? ", " : "", self->names[i]);
	fprintf(fp, "%s\n", self->n_names == 0 ? "(none)" : "");
	fprintf(fp, "%-14s%s", "self addrs", policy->self_auto ? "auto: " : "");
	for (size_t i = 0; i < self->n_addrs; i++) {
		char text[MX_ADDR_TEXT_MAX];

		fprintf(fp, "%s%s", i ? ", " : "", addr_format(&self->addrs[i], text, sizeof(text)));
	}
	fprintf(fp, "%s\n", self->n_addrs == 0 ? "(none)" : "");
	identity_free(&self);
}

static void check_print_names(FILE *fp, const char *label, char *const *names, size_t n)
{
	fprintf(fp, "%-14s", label);
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s%s", i ? ", " : "", names[i]);
	fprintf(fp, "%s\n", n == 0 ? "(none)" : "");
}

static void check_print_hosts(FILE *fp, const struct policy_host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s %s %u", i ? "," : "", hosts[i].host, hosts[i].pref);
}

static void check_print_dns(FILE *fp, const struct policy *policy)
{
	fprintf(fp, "%-14s", "dns");
	if (policy->dns.n_servers == 0)
		fputs("servers of /etc/resolv.conf", fp);
	for (size_t i = 0; i < policy->dns.n_servers; i++)
		fprintf(fp, "%s%s", i ? ", " : "", policy->dns.servers[i]);
	fprintf(fp, "; timeout %u ms, %u tries\n", policy->dns.timeout_ms, policy->dns.tries);
	fprintf(fp, "%-14s%u entries, ttl %u..%u s, failures %u s, serve stale %u s\n", "dns cache",
		policy->dns.cache_entries, policy->dns.min_ttl, policy->dns.max_ttl,
		policy->dns.failure_ttl, policy->dns.serve_stale);
}

static void check_print_mx(FILE *fp, const struct policy *policy)
{
	static const char *const verdict[] = { [VERDICT_REJECT] = "reject",
					       [VERDICT_TEMPFAIL] = "tempfail" };

	fprintf(fp, "%-14s%s; at most %u hosts, %u addresses; %s%s%s; null MX %s, self best %s\n",
		"mx", policy->mx.randomize ? "shuffled" : "not shuffled", policy->mx.max_hosts,
		policy->mx.max_addresses, policy->mx.ipv4 ? "IPv4" : "",
		policy->mx.ipv4 && policy->mx.ipv6 ? "+" : "", policy->mx.ipv6 ? "IPv6" : "",
		verdict[policy->mx.null_mx], verdict[policy->mx.self_best]);
	fprintf(fp, "%-14s", "ignored");
	for (size_t i = 0; i < policy->mx.n_ignore_targets; i++) {
		char text[MX_ADDR_TEXT_MAX];
		const struct mx_cidr *c = &policy->mx.ignore_targets[i];

		fprintf(fp, "%s%s/%u", i ? ", " : "", addr_format(&c->net, text, sizeof(text)),
			c->prefix);
	}
	fprintf(fp, "%s\n", policy->mx.n_ignore_targets == 0 ? "(none)" : "");
}

static void check_print_level(FILE *fp, enum tls_level level)
{
	if (level != TLS_LEVEL_NONE)
		fprintf(fp, "; tls %s", tls_level_name(level));
}

/* Which DNS-MX domains the MTA keeps, and the fallback relays' level. */
static void check_print_tls(FILE *fp, const struct policy *policy)
{
	fprintf(fp, "%-14sthe MTA keeps:%s%s %zu listed domains", "tls",
		policy->tls.dnssec ? " DNSSEC-signed," : "",
		policy->tls.mta_sts ? " MTA-STS," : "", policy->tls.n_mta_domains);
	if (policy->tls.policy_table != NULL)
		fprintf(fp, " (with %s)", policy->tls.policy_table);
	if (policy->n_fallback_relays > 0 && policy->tls.fallback_relays != TLS_LEVEL_NONE)
		fprintf(fp, "; fallback relays tls %s", tls_level_name(policy->tls.fallback_relays));
	fputc('\n', fp);
}

/* A unix socket's owner and group default to the daemon's user and group. */
static void check_print_door(FILE *fp, const char *label,
			     const struct daemon_settings *settings,
			     const struct door_socket *socket)
{
	const char *owner = socket->owner ? socket->owner : settings->user;
	const char *group = socket->group ? socket->group : settings->group;

	if (socket->spec == NULL) {
		fprintf(fp, "%-14sdisabled\n", label);
		return;
	}
	fprintf(fp, "%-14s%s", label, socket->spec);
	if (sockspec_unix_path(socket->spec) != NULL)
		fprintf(fp, " (%s:%s, mode %04o)", owner ? owner : "root", group ? group : "root",
			(unsigned)socket->mode);
	fputc('\n', fp);
}

/* ---- the running daemon: stats, reload, route --daemon ---- */

static int cmd_stats(int argc, char **argv)
{
	const char *spec;
	char buf[SPEC_MAX], err[CONFIG_ERROR_MAX];
	int rc = control_command_start(argc, argv, "stats", buf, sizeof(buf), &spec);

	if (rc != EX_OK)
		return rc == HELP_SHOWN ? EX_OK : rc;
	if (control_ask(spec, "stats", stdout, ASK_TIMEOUT_MS, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxpath: %s\n", err);
		return EX_UNAVAILABLE;
	}
	return EX_OK;
}

/* Prints the daemon's answer: 0 reloaded, 78 refused, 69 not asked. */
static int cmd_reload(int argc, char **argv)
{
	const char *spec;
	char buf[SPEC_MAX], *text = NULL;
	int rc = control_command_start(argc, argv, "reload", buf, sizeof(buf), &spec);

	if (rc != EX_OK)
		return rc == HELP_SHOWN ? EX_OK : rc;
	if (control_ask_text(spec, "reload", ASK_WAIT_MS, &text) < 0)
		return EX_UNAVAILABLE;
	if (strncmp(text, "reloaded ", 9) == 0) {
		fputs(text, stdout);
		rc = EX_OK;
	} else {
		fprintf(stderr, "mxpath: %s", text);
		rc = strncmp(text, "refused: ", 9) == 0 ? EX_CONFIG : EX_UNAVAILABLE;
	}
	free(text);
	if (fflush(stdout) != 0)
		return EX_IOERR;
	return rc;
}

/* Options, then the control socket: EX_OK and *spec (in buf, or argv's),
 * HELP_SHOWN, or an exit status (said why). */
static int control_command_start(int argc, char **argv, const char *command, char *buf,
				 size_t buflen, const char **spec)
{
	const char *path = NULL;
	int rc;

	*spec = NULL;
	rc = control_parse_options(argc, argv, command, &path, spec);
	if (rc != EX_OK)
		return rc;
	*spec = control_spec_find(path, *spec, buf, buflen);
	return *spec != NULL ? EX_OK : EX_CONFIG;
}

/* -c FILE, --socket SPEC, --help; no arguments. */
static int control_parse_options(int argc, char **argv, const char *command,
				 const char **path, const char **spec)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (c == 'c') {
			*path = optarg;
		} else if (c == OPT_SOCKET) {
			*spec = optarg;
		} else if (c == OPT_HELP) {
			usage(stdout);
			return HELP_SHOWN;
		} else {
			return usage_error("%s: bad option", command);
		}
	}
	if (optind < argc)
		return usage_error("%s: unexpected argument \"%s\"", command, argv[optind]);
	return EX_OK;
}

/*
 * --socket, else control.socket of the configuration. A file the loader
 * refuses is read for control.socket alone; a file libconfig cannot read
 * either leaves the packaged default. NULL (said why) when no socket is
 * configured.
 */
static const char *control_spec_find(const char *path, const char *spec, char *buf,
				     size_t buflen)
{
	char err[CONFIG_ERROR_MAX];
	struct daemon_settings settings = { .user = NULL };
	struct policy *policy = NULL;
	const char *file;

	if (spec != NULL)
		return spec;
	file = path != NULL ? path : CONFIG_DEFAULT_FILE;
	if (path == NULL && access(CONFIG_DEFAULT_FILE, F_OK) < 0) {
		policy = config_defaults();
		config_settings_defaults(&settings);
	} else if (config_load_file(file, &policy, &settings, err, sizeof(err)) < 0) {
		policy = NULL;
	}
	if (policy != NULL) {
		spec = settings.control.spec;
		if (spec == NULL)
			fprintf(stderr, "mxpath: %s: no control socket configured "
				"(control.socket); name one with --socket SPEC\n", policy->file);
		else
			snprintf(buf, buflen, "%s", spec);
		policy_unref(&policy);
		daemon_settings_clear(&settings);
		return spec != NULL ? buf : NULL;
	}
	fprintf(stderr, "mxpath: warning: %s\n", err);
	if (config_peek_string(file, "control.socket", buf, buflen) == 0) {
		fprintf(stderr, "mxpath: asking the daemon on %s (control.socket of that file)\n",
			buf);
		return buf;
	}
	snprintf(buf, buflen, "%s", CONTROL_DEFAULT_SOCKET);
	fprintf(stderr, "mxpath: asking the daemon on %s (the default)\n", buf);
	return buf;
}

/* The daemon's whole answer in *text (free it): 0, or -1 said on stderr. */
static int control_ask_text(const char *spec, const char *request, int timeout_ms,
			    char **text)
{
	char err[CONFIG_ERROR_MAX];
	size_t len = 0;
	FILE *fp = open_memstream(text, &len);
	int rc;

	if (fp == NULL)
		fatal("open_memstream: %s", strerror(errno));
	rc = control_ask(spec, request, fp, timeout_ms, err, sizeof(err));
	if (fclose(fp) != 0)
		fatal("reading the answer: %s", strerror(errno));
	if (rc < 0) {
		fprintf(stderr, "mxpath: %s\n", err);
		free(*text);
		*text = NULL;
		return -1;
	}
	if (len == 0) {
		fprintf(stderr, "mxpath: %s: the daemon closed without an answer\n", spec);
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

/* One request per address, in order; the exit status is route's. */
static int route_ask_daemon(const struct route_options *opt, char **addresses, size_t n)
{
	char buf[SPEC_MAX];
	const char *spec = control_spec_find(opt->config, opt->socket, buf, sizeof(buf));
	int rc = EX_OK;

	if (spec == NULL)
		return EX_CONFIG;
	for (size_t i = 0; i < n; i++) {
		int one;

		if (strpbrk(addresses[i], "\r\n") != NULL || addresses[i][0] == '\0')
			return usage_error("route: \"%s\" is not an address", addresses[i]);
		if (i > 0)
			fputc('\n', stdout);
		one = route_ask_one(spec, addresses[i]);
		if (one == EX_UNAVAILABLE)
			return one;
		if (one == EX_TEMPFAIL || (one == EXIT_REJECT && rc == EX_OK))
			rc = one;
	}
	return fflush(stdout) == 0 ? rc : EX_IOERR;
}

/* The answer: "ACTION\n", then what is printed. */
static int route_ask_one(const char *spec, const char *address)
{
	static const int status_of[] = {
		[ROUTE_RELAY] = EX_OK, [ROUTE_LOCAL] = EX_OK,
		[ROUTE_REJECT] = EXIT_REJECT, [ROUTE_TEMPFAIL] = EX_TEMPFAIL,
	};
	char request[MX_ADDRESS_MAX + 16], *text = NULL, *body;
	int rc = EX_UNAVAILABLE;

	snprintf(request, sizeof(request), "route %s", address);
	if (control_ask_text(spec, request, ASK_WAIT_MS, &text) < 0)
		return EX_UNAVAILABLE;
	body = strchr(text, '\n');
	if (body != NULL) {
		*body++ = '\0';
		for (int a = ROUTE_RELAY; a <= ROUTE_TEMPFAIL; a++)
			if (strcmp(text, route_action_name((enum route_action)a)) == 0)
				rc = status_of[a];
	}
	if (rc == EX_UNAVAILABLE)
		fprintf(stderr, "mxpath: %s: %s%s", spec, text, body != NULL ? "\n" : "");
	else
		fputs(body, stdout);
	free(text);
	return rc;
}
