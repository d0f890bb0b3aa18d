/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.c - the loaded configuration: reference counts, lookups, teardown
 *
 * config.c builds a struct policy; this file shares it between threads
 * (atomic reference count), frees it, and answers the engine's questions:
 * is this domain a local host, a cluster alias, covered by a static route?
 * The lookups are pure and read-only; nothing here parses a file.
 */
#include <stdlib.h>
#include <string.h>

#include "mxpath/base/common.h"
#include "mxpath/engine/policy.h"

static void policy_free_strings(char **strings, size_t n);
static void policy_free_hosts(struct policy_host *hosts, size_t n);
static void policy_free_cluster(struct policy_cluster *cluster);
static void policy_free_route(struct policy_route *route);
static size_t policy_route_match(const struct policy_route *route, const char *domain,
				 size_t domain_len);

struct policy *policy_ref(struct policy *policy)
{
	if (policy != NULL)
		__atomic_add_fetch(&policy->refs, 1, __ATOMIC_RELAXED);
	return policy;
}

void policy_unref(struct policy **policy)
{
	struct policy *p;

	if (policy == NULL || *policy == NULL)
		return;
	p = *policy;
	*policy = NULL;
	/* Acquire-release: the last holder sees every write made before the
	 * other holders let go. */
	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		policy_free(&p);
}

void policy_free(struct policy **policy)
{
	struct policy *p;

	if (policy == NULL || *policy == NULL)
		return;
	p = *policy;
	free(p->file);
	policy_free_strings(p->self_names, p->n_self_names);
	free(p->self_addrs);
	policy_free_strings(p->local_hosts, p->n_local_hosts);
	for (size_t i = 0; i < p->n_clusters; i++)
		policy_free_cluster(&p->clusters[i]);
	free(p->clusters);
	for (size_t i = 0; i < p->n_routes; i++)
		policy_free_route(&p->routes[i]);
	free(p->routes);
	policy_free_strings(p->fallback_relays, p->n_fallback_relays);
	policy_free_strings(p->dns.servers, p->dns.n_servers);
	free(p->mx.ignore_targets);
	free(p->milter.rewrite_local);
	free(p->socketmap.transport);
	free(p->socketmap.mailer);
	free(p->socketmap.local);
	policy_free_strings(p->tls.mta_domains, p->tls.n_mta_domains);
	free(p->tls.policy_table);
	free(p);
	*policy = NULL;
}

bool policy_is_local_host(const struct policy *policy, const char *domain)
{
	for (size_t i = 0; i < policy->n_local_hosts; i++) {
		if (strcmp(policy->local_hosts[i], domain) == 0)
			return true;
	}
	return false;
}

const struct policy_cluster *policy_find_cluster(const struct policy *policy,
						 const char *domain)
{
	for (size_t i = 0; i < policy->n_clusters; i++) {
		if (strcmp(policy->clusters[i].name, domain) == 0)
			return &policy->clusters[i];
	}
	return NULL;
}

const struct policy_route *policy_find_route(const struct policy *policy, const char *domain)
{
	const struct policy_route *best = NULL;
	size_t best_len = 0, domain_len = strlen(domain);

	for (size_t i = 0; i < policy->n_routes; i++) {
		const struct policy_route *route = &policy->routes[i];
		size_t len;

		if (!route->is_suffix) {
			if (strcmp(route->pattern, domain) == 0)
				return route;
			continue;
		}
		len = policy_route_match(route, domain, domain_len);
		if (len > best_len) {
			best = route;
			best_len = len;
		}
	}
	return best;
}

bool policy_names_domain(const struct policy *policy, const char *domain)
{
	return policy_is_local_host(policy, domain) || policy_find_cluster(policy, domain) != NULL ||
	       policy_find_route(policy, domain) != NULL;
}

static void policy_free_strings(char **strings, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(strings[i]);
	free(strings);
}

static void policy_free_hosts(struct policy_host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(hosts[i].host);
	free(hosts);
}

static void policy_free_cluster(struct policy_cluster *cluster)
{
	free(cluster->name);
	policy_free_hosts(cluster->members, cluster->n_members);
}

static void policy_free_route(struct policy_route *route)
{
	free(route->pattern);
	policy_free_hosts(route->hosts, route->n_hosts);
	policy_free_strings(route->dns, route->n_dns);
}

/*
 * How well a ".suffix" route matches: 0 for no match, else 1 + the length
 * of the suffix, so that "." (every domain) matches weakest. The pattern
 * is stored with its leading dot; one without is read as if it had it.
 * ".example.com" covers names below example.com, not example.com itself.
 */
static size_t policy_route_match(const struct policy_route *route, const char *domain,
				 size_t domain_len)
{
	const char *suffix = route->pattern[0] == '.' ? route->pattern + 1 : route->pattern;
	size_t len = strlen(suffix);

	if (len == 0)
		return 1;
	if (domain_len <= len + 1)
		return 0;
	if (domain[domain_len - len - 1] != '.' || strcmp(domain + domain_len - len, suffix) != 0)
		return 0;
	return len + 1;
}
