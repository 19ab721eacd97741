/* The configuration's node groups: their networks (subnet choice, IP modes,
 * pod ranges, tags) and hook names. */
#include "config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* A group's or network's "name" (required): a copy, or NULL when refused. */
static char *get_name(vctx *v, const char *path, json_t *o)
{
	const char *name = cfg_get_str(v, path, o, "name", true, 64, NULL);
	if (name && !cfg_name_ok(name)) {
		hook_problems_add(v->p, "%s.name: \"%s\": use letters, digits, '-', '_', '.'", path,
				  name);
		return NULL;
	}
	return name ? cfg_xstrdup(v, name) : NULL;
}

static bool reserved_tag_key(const char *k)
{
	return !strncasecmp(k, "aws:", 4) || !strcmp(k, "node.k8s.amazonaws.com/no_manage") ||
	       !strncmp(k, "multus-hookd/", 13);
}

/* Pod ranges of one network must not overlap (a typo in one of them would
 * otherwise go unnoticed). Quadratic, but a network has a handful. */
static void check_overlaps(vctx *v, const char *path, const hook_network *net)
{
	for (size_t i = 0; i < net->n_pod_ranges; i++) {
		cidr_range a;
		if (!net->pod_ranges[i] || cidr_parse_range(net->pod_ranges[i], 0, &a, NULL))
			continue;
		for (size_t j = 0; j < i; j++) {
			cidr_range b;
			if (!net->pod_ranges[j] ||
			    cidr_parse_range(net->pod_ranges[j], 0, &b, NULL))
				continue;
			if (a.first.family == b.first.family &&
			    cidr_addr_cmp(&a.first, &b.last) <= 0 &&
			    cidr_addr_cmp(&b.first, &a.last) <= 0)
				hook_problems_add(v->p, "%s: \"%s\" overlaps \"%s\"", path,
						  net->pod_ranges[i], net->pod_ranges[j]);
		}
	}
}

/* network.subnet: tags or ids_by_az (exactly one). */
static void parse_net_subnet(vctx *v, const char *path, json_t *o, hook_network *net)
{
	char sp[PATH_MAX_LEN];
	cfg_kpath(sp, path, "subnet");
	json_t *sub = cfg_get_obj(v, path, o, "subnet", true);
	if (sub) {
		static const char *const skeys[] = {"tags", "ids_by_az", NULL};
		cfg_check_keys(v, sp, sub, skeys);
		json_t *tags = cfg_get_obj(v, sp, sub, "tags", false);
		json_t *ids = cfg_get_obj(v, sp, sub, "ids_by_az", false);
		if (!json_object_get(sub, "tags") && !json_object_get(sub, "ids_by_az"))
			hook_problems_add(v->p, "%s: needs \"tags\" or \"ids_by_az\"", sp);
		else if (json_object_get(sub, "tags") && json_object_get(sub, "ids_by_az"))
			hook_problems_add(v->p, "%s: give \"tags\" or \"ids_by_az\", not both", sp);
		char p2[PATH_MAX_LEN];
		if (tags) {
			cfg_kpath(p2, sp, "tags");
			if (json_object_size(tags) == 0)
				hook_problems_add(v->p, "%s: must not be empty", p2);
			net->subnet_tags = cfg_get_kv(v, p2, tags, 128, 256, &net->n_subnet_tags);
		}
		if (ids) {
			cfg_kpath(p2, sp, "ids_by_az");
			if (json_object_size(ids) == 0)
				hook_problems_add(v->p, "%s: must not be empty", p2);
			net->subnet_ids = cfg_get_kv(v, p2, ids, 32, 32, &net->n_subnet_ids);
			for (size_t i = 0; i < net->n_subnet_ids; i++) {
				const hook_kv *kv = &net->subnet_ids[i];
				if (!kv->key || !kv->value)
					continue;
				if (!cfg_match_id(kv->value, "subnet-"))
					hook_problems_add(v->p,
							  "%s.%s: \"%s\": not a subnet id "
							  "(subnet-0123456789abcdef0)",
							  p2, kv->key, kv->value);
				bool azok = true;
				for (const char *c = kv->key; *c; c++)
					if (!((*c >= 'a' && *c <= 'z') ||
					      (*c >= '0' && *c <= '9') || *c == '-'))
						azok = false;
				if (!azok)
					hook_problems_add(v->p,
							  "%s.%s: not an availability zone name "
							  "(like us-east-1a)",
							  p2, kv->key);
			}
		}
	}
}

/* network.security_groups: up to MAX_SECURITY_GROUPS sg- ids. */
static const char *security_group_elem(vctx *v, const char *ep, const json_t *e, char *const *kept,
				       size_t n, const void *ctx)
{
	if (!json_is_string(e) || !cfg_match_id(json_string_value(e), "sg-")) {
		hook_problems_add(v->p, "%s: not a security group id (sg-0123456789abcdef0)", ep);
		return NULL;
	}
	return json_string_value(e);
}

/* network.pod_ranges: CIDRs or first-last ranges, no overlaps (CIDRs only in dhcp mode). */
static const char *pod_range_elem(vctx *v, const char *ep, const json_t *e, char *const *kept,
				  size_t n, const void *ctx)
{
	const hook_network *net = ctx;
	if (!json_is_string(e)) {
		hook_problems_add(v->p, "%s: must be a string, not %s", ep, cfg_json_type_name(e));
		return NULL;
	}
	const char *s = json_string_value(e);
	char why[96];
	bool is_cidr = strchr(s, '/') != NULL;
	bool ok = is_cidr ? hook_cidr_syntax_ok(s, why, sizeof(why))
			  : hook_range_syntax_ok(s, why, sizeof(why));
	if (!ok) {
		hook_problems_add(v->p, "%s: \"%s\": %s", ep, s, why);
		return NULL;
	}
	if (net->ip_mode == HOOK_IP_DHCP && !is_cidr) {
		hook_problems_add(
		    v->p,
		    "%s: \"%s\": with ip_mode \"dhcp\" pod ranges must be CIDRs (each "
		    "one an explicit subnet CIDR reservation)",
		    ep, s);
		return NULL;
	}
	return s;
}

/* network.tags: user tags, reserved keys refused. */
static void parse_net_tags(vctx *v, const char *path, json_t *o, hook_network *net)
{
	char tp[PATH_MAX_LEN];
	cfg_kpath(tp, path, "tags");
	json_t *tags = cfg_get_obj(v, path, o, "tags", false);
	if (tags) {
		if (json_object_size(tags) > MAX_USER_TAGS)
			hook_problems_add(v->p, "%s: at most %u tags", tp, MAX_USER_TAGS);
		net->tags = cfg_get_kv(v, tp, tags, 128, 256, &net->n_tags);
		for (size_t i = 0; i < net->n_tags; i++)
			if (net->tags[i].key && reserved_tag_key(net->tags[i].key))
				hook_problems_add(
				    v->p,
				    "%s.%s: reserved tag key (aws:, multus-hookd/ and "
				    "node.k8s.amazonaws.com/no_manage are set by AWS "
				    "or by the daemon)",
				    tp, net->tags[i].key);
	}
}

static void parse_network(vctx *v, const char *path, json_t *o, size_t pos, hook_network *net)
{
	static const char *const keys[] = {"name",
					   "device_index",
					   "network_card_index",
					   "subnet",
					   "security_groups",
					   "ip_mode",
					   "pod_ranges",
					   "ipv6",
					   "source_dest_check",
					   "tags",
					   "description",
					   NULL};
	cfg_check_keys(v, path, o, keys);
	net->name = get_name(v, path, o);
	net->device_index = (unsigned)cfg_get_uint(v, path, o, "device_index", 1, MAX_DEVICE_INDEX,
						   pos + 1 <= MAX_DEVICE_INDEX ? pos + 1 : 1);
	net->network_card_index =
	    (unsigned)cfg_get_uint(v, path, o, "network_card_index", 0, MAX_NETWORK_CARD_INDEX, 0);

	parse_net_subnet(v, path, o, net);
	net->security_groups =
	    cfg_get_strs(v, path, o, "security_groups", false, false, MAX_SECURITY_GROUPS,
			 "security groups", security_group_elem, NULL, &net->n_security_groups);
	static const char *const ipmodes[] = {"first-free", "dhcp", NULL};
	net->ip_mode =
	    (hook_ip_mode)cfg_get_enum(v, path, o, "ip_mode", ipmodes, HOOK_IP_FIRST_FREE);
	static const char *const v6modes[] = {"none", "one", "first-free", NULL};
	net->ipv6 = (hook_ipv6_mode)cfg_get_enum(v, path, o, "ipv6", v6modes, HOOK_IPV6_NONE);
	net->source_dest_check = cfg_get_bool(v, path, o, "source_dest_check", true);

	net->pod_ranges = cfg_get_strs(v, path, o, "pod_ranges", false, false, 0, "",
				       pod_range_elem, net, &net->n_pod_ranges);
	char pp[PATH_MAX_LEN];
	cfg_kpath(pp, path, "pod_ranges");
	check_overlaps(v, pp, net);
	parse_net_tags(v, path, o, net);
	const char *d = cfg_get_str(v, path, o, "description", false, 255, NULL);
	if (d)
		net->description = cfg_xstrdup(v, d);
}

/* AWS's LifecycleHookName: 1-255 of [A-Za-z0-9-_/]. */
static bool hook_name_ok(const char *s)
{
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '/'))
			return false;
	return true;
}

static const char *hook_name_elem(vctx *v, const char *ep, const json_t *e, char *const *kept,
				  size_t n, const void *ctx)
{
	const char *name = cfg_plain_str(e, 255);
	if (!name) {
		hook_problems_add(v->p,
				  "%s: must be a non-empty string of at most 255 characters (a "
				  "lifecycle hook name)",
				  ep);
		return NULL;
	}
	if (!hook_name_ok(name)) {
		hook_problems_add(
		    v->p,
		    "%s: \"%s\": a lifecycle hook name uses letters, digits, '-', '_' "
		    "and '/' only (exact names, not globs)",
		    ep, name);
		return NULL;
	}
	for (size_t j = 0; j < n; j++) {
		if (kept[j] && strcmp(kept[j], name) == 0) {
			hook_problems_add(v->p, "%s: \"%s\": listed twice", ep, name);
			return NULL;
		}
	}
	return name;
}

static const char *asg_name_elem(vctx *v, const char *ep, const json_t *e, char *const *kept,
				 size_t n, const void *ctx)
{
	const char *name = cfg_plain_str(e, 255);
	if (!name)
		hook_problems_add(v->p,
				  "%s: must be a non-empty string of at most 255 characters (an "
				  "ASG name or a glob)",
				  ep);
	return name;
}

/* hook_names: the exact names of this daemon's own lifecycle hooks. A group
 * usually carries other tools' hooks too (node drainers, bootstrap checks):
 * their events must be left alone, so the list is required. */
static void parse_hook_names(vctx *v, const char *path, json_t *o, hook_node_group *g)
{
	char hp[PATH_MAX_LEN];
	cfg_kpath(hp, path, "hook_names");
	json_t *hooks = json_object_get(o, "hook_names");
	if (!hooks) {
		hook_problems_add(v->p,
				  "%s: missing (required): list this daemon's own lifecycle hook "
				  "names, e.g. [\"multus-launch\", \"multus-terminate\"]; a group "
				  "may carry other tools' hooks, whose events must be left alone",
				  hp);
		return;
	}
	g->hook_names =
	    cfg_get_strs(v, path, o, "hook_names", true, true, HOOK_MAX_HOOK_NAMES,
			 "hook names per group", hook_name_elem, NULL, &g->n_hook_names);
}

void cfg_parse_group(vctx *v, const char *path, json_t *o, hook_node_group *g)
{
	static const char *const keys[] = {"name",	     "asg_names", "hook_names",
					   "metadata_match", "networks",  "failure_result",
					   "terminate",	     NULL};
	cfg_check_keys(v, path, o, keys);
	g->name = get_name(v, path, o);

	g->asg_names = cfg_get_strs(v, path, o, "asg_names", true, true, 0, "", asg_name_elem, NULL,
				    &g->n_asg_names);

	parse_hook_names(v, path, o, g);

	json_t *mm = json_object_get(o, "metadata_match");
	char mp[PATH_MAX_LEN];
	cfg_kpath(mp, path, "metadata_match");
	if (mm && json_is_string(mm)) {
		const char *s =
		    cfg_get_str(v, path, o, "metadata_match", false, HK_CAP_METADATA_LEN, NULL);
		if (s)
			g->metadata_glob = cfg_xstrdup(v, s);
	} else if (mm && json_is_object(mm)) {
		if (json_object_size(mm) == 0)
			hook_problems_add(v->p, "%s: must not be empty", mp);
		g->metadata_match = cfg_get_kv(v, mp, mm, 128, 1024, &g->n_metadata_match);
	} else if (mm) {
		hook_problems_add(v->p, "%s: must be a string (glob) or an object, not %s", mp,
				  cfg_json_type_name(mm));
	}

	static const char *const results[] = {"ABANDON", "CONTINUE", NULL};
	g->failure_result =
	    (hook_result)cfg_get_enum(v, path, o, "failure_result", results, HOOK_RESULT_ABANDON);
	static const char *const term[] = {"delete", "delete-on-termination", NULL};
	g->terminate =
	    (hook_terminate_mode)cfg_get_enum(v, path, o, "terminate", term, HOOK_TERMINATE_DELETE);

	char np[PATH_MAX_LEN];
	cfg_kpath(np, path, "networks");
	json_t *nets = cfg_get_arr(v, path, o, "networks", true, true);
	if (!nets)
		return;
	size_t n = json_array_size(nets);
	if (n > MAX_NETWORKS_PER_GROUP) {
		hook_problems_add(v->p, "%s: at most %u networks per group", np,
				  MAX_NETWORKS_PER_GROUP);
		return;
	}
	g->networks = calloc(n, sizeof(*g->networks));
	if (!g->networks) {
		v->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char ep[PATH_MAX_LEN];
		cfg_ipath(ep, np, i);
		json_t *e = json_array_get(nets, i);
		if (!json_is_object(e)) {
			hook_problems_add(v->p, "%s: must be an object, not %s", ep,
					  cfg_json_type_name(e));
			continue;
		}
		hook_network *net = &g->networks[g->n_networks++];
		parse_network(v, ep, e, i, net);
		for (size_t j = 0; j + 1 < g->n_networks; j++) {
			hook_network *prev = &g->networks[j];
			if (net->name && prev->name && !strcmp(net->name, prev->name))
				hook_problems_add(v->p, "%s.name: \"%s\": used twice in this group",
						  ep, net->name);
			if (prev->network_card_index == net->network_card_index &&
			    prev->device_index == net->device_index)
				hook_problems_add(v->p,
						  "%s.device_index: %u: already used by "
						  "networks[%zu] on network card %u",
						  ep, net->device_index, j,
						  net->network_card_index);
		}
		if (g->n_networks >= 2) {
			hook_network *prev = &g->networks[g->n_networks - 2];
			if (prev->network_card_index == net->network_card_index &&
			    prev->device_index > net->device_index)
				hook_problems_add(v->p,
						  "%s.device_index: %u: networks must be listed in "
						  "device-index order (previous is %u)",
						  ep, net->device_index, prev->device_index);
		}
	}
}

static void network_cleanup(hook_network *n)
{
	free(n->name);
	cfg_kv_free(n->subnet_tags, n->n_subnet_tags);
	cfg_kv_free(n->subnet_ids, n->n_subnet_ids);
	cfg_strv_free(n->security_groups, n->n_security_groups);
	cfg_strv_free(n->pod_ranges, n->n_pod_ranges);
	cfg_kv_free(n->tags, n->n_tags);
	free(n->description);
}

void cfg_group_cleanup(hook_node_group *g)
{
	free(g->name);
	cfg_strv_free(g->asg_names, g->n_asg_names);
	cfg_strv_free(g->hook_names, g->n_hook_names);
	free(g->metadata_glob);
	cfg_kv_free(g->metadata_match, g->n_metadata_match);
	for (size_t i = 0; i < g->n_networks; i++)
		network_cleanup(&g->networks[i]);
	free(g->networks);
}
