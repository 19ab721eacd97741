/* The operator commands (docs/operations.md, "Commands"):
 *   status     the Multus subnets (from AWS) and the daemon's actions (admin API)
 *   reserve    subnet CIDR reservations for pod ranges (EC2 directly)
 *   reconcile  attach missing Multus ENIs to running instances (admin API)
 * Exit codes: 0 done, 1 a runtime failure (AWS or the daemon said no, or could
 * not be reached), 2 usage or configuration error. */
#include "hook_cli_internal.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hk_json.h"

#define ADMIN_BODY_MAX (8u * 1024 * 1024)

/* ---- the admin API client ------------------------------------------------ */

typedef struct admin_buf {
	char *p;
	size_t n;
	bool over;
} admin_buf;

static size_t admin_write(char *data, size_t size, size_t nmemb, void *arg)
{
	admin_buf *b = arg;
	size_t len = size * nmemb;
	if (b->n + len > ADMIN_BODY_MAX) {
		b->over = true;
		return 0;
	}
	char *np = realloc(b->p, b->n + len + 1);
	if (!np)
		return 0;
	memcpy(np + b->n, data, len);
	b->n += len;
	np[b->n] = '\0';
	b->p = np;
	return len;
}

/* The admin API's credential (listeners.admin.auth) as one request header
 * line, for every hook_admin_call of this process; wiped at exit. */
static char *admin_cred;

static void admin_cred_clear(void)
{
	hk_free_secret(admin_cred);
	admin_cred = NULL;
}

static void admin_cred_from(const hook_config *cfg)
{
	const hook_auth *a = cfg ? &cfg->admin_auth : NULL;
	if (!a || a->kind == HOOK_AUTH_NONE || !a->secret || admin_cred)
		return;
	size_t n = 64 + (a->header ? strlen(a->header) : 0) + a->secret_len + a->basic_expect_len;
	admin_cred = malloc(n);
	if (!admin_cred)
		return;
	if (a->kind == HOOK_AUTH_API_KEY)
		snprintf(admin_cred, n, "%s: %.*s", a->header, (int)a->secret_len, a->secret);
	else
		snprintf(admin_cred, n, "Authorization: Basic %.*s", (int)a->basic_expect_len,
			 a->basic_expect ? a->basic_expect : "");
	atexit(admin_cred_clear);
}

hk_err hook_admin_call(const char *method, const char *base_url, const char *path, long *ret_status,
		       json_t **ret_doc, char *err, size_t err_len)
{
	char url[ADMIN_URL_MAX + 256];
	*ret_doc = NULL;
	*ret_status = 0;
	snprintf(url, sizeof(url), "%s%s", base_url, path);
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, err_len, "cannot start an HTTP client");
		return HK_ERR_NOMEM;
	}
	admin_buf b = {0};
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, admin_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	struct curl_slist *hdr = admin_cred ? curl_slist_append(NULL, admin_cred) : NULL;
	if (hdr)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	CURLcode rc = curl_easy_perform(c);
	for (struct curl_slist *h = hdr; h; h = h->next)
		OPENSSL_cleanse(h->data, strlen(h->data)); /* a copy of the secret */
	curl_slist_free_all(hdr);
	hk_err st = HK_OK;
	if (rc != CURLE_OK) {
		snprintf(err, err_len, "the daemon's admin API at %s cannot be reached: %s",
			 base_url,
			 b.over ? "answer over 8 MiB" : (cerr[0] ? cerr : curl_easy_strerror(rc)));
		st = HK_ERR_IO;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
		json_error_t je;
		*ret_doc = b.p ? json_loadb(b.p, b.n, 0, &je) : NULL;
	}
	curl_easy_cleanup(c);
	free(b.p);
	return st;
}

/* The admin URL: --admin, else the configuration's admin listener (a
 * wildcard address is reached on loopback). */
bool admin_url(const char *given, const hook_config *cfg, char *out, size_t size)
{
	admin_cred_from(cfg);
	if (given) {
		if (strlen(given) >= ADMIN_URL_MAX)
			return false;
		snprintf(out, size, "%s", given);
		size_t n = strlen(out);
		while (n && out[n - 1] == '/')
			out[--n] = '\0';
		return true;
	}
	if (!cfg || !cfg->admin.port)
		return false;
	const char *a = cfg->admin.address ? cfg->admin.address : "127.0.0.1";
	if (strcmp(a, "0.0.0.0") == 0)
		a = "127.0.0.1";
	if (strcmp(a, "::") == 0)
		a = "::1";
	bool v6 = strchr(a, ':') != NULL;
	snprintf(out, size, "http://%s%s%s:%u", v6 ? "[" : "", a, v6 ? "]" : "", cfg->admin.port);
	return true;
}

const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

void print_json(json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	if (text)
		printf("%s\n", text);
	free(text);
}

/* ---- status -------------------------------------------------------------- */

static void status_usage(FILE *out)
{
	fprintf(out,
		"usage: multus-hookd status --config FILE [--admin URL] [--json]\n\n"
		"Per node group and Multus subnet: CIDR, AZ, used, free, reservations and the\n"
		"next worker addresses (read from AWS now), then the running daemon's actions\n"
		"in flight (step, age) and its failed actions (read from its admin API).\n"
		"  --config FILE  the daemon's configuration (region, endpoints, groups)\n"
		"  --admin URL    the admin API (default: the configuration's admin listener)\n"
		"  --json         one JSON document instead of text\n"
		"Exit status: 0, 1 when AWS or the daemon could not be read, 2 usage.\n");
}

static void print_actions(const char *title, json_t *doc, bool failed)
{
	json_t *arr = json_object_get(doc, "actions");
	size_t n = json_array_size(arr);
	printf("%s: %zu\n", title, n);
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(arr, i);
		printf("  #%lld %s %s/%s %s",
		       (long long)json_integer_value(json_object_get(a, "id")),
		       jstr(a, "instance_id"), jstr(a, "group"), jstr(a, "asg"),
		       jstr(a, "transition"));
		if (failed)
			printf(": %s\n", jstr(a, "last_error"));
		else
			printf(", %s, step %s, %llds old\n", jstr(a, "state"),
			       *jstr(a, "step") ? jstr(a, "step") : "(not started)",
			       (long long)json_integer_value(json_object_get(a, "age_s")));
	}
}

/* GET an action list of the admin API into *doc; false (and a message) when
 * the daemon could not give it. */
static bool admin_actions(const char *url, const char *query, json_t **doc, char *err,
			  size_t err_len)
{
	long status = 0;
	char path[128];
	snprintf(path, sizeof(path), "/v1/actions?%s", query);
	if (hook_admin_call("GET", url, path, &status, doc, err, err_len) != HK_OK)
		return false;
	if (status != 200 || !json_is_array(json_object_get(*doc, "actions"))) {
		snprintf(err, err_len, "the admin API at %s answered %ld to GET %s", url, status,
			 path);
		json_decref(*doc);
		*doc = NULL;
		return false;
	}
	return true;
}

typedef struct status_args {
	ops_common c;
} status_args;

int hook_cmd_status(int argc, char **argv)
{
	static const cli_opt opts[] = {CLI_OPS_COMMON(status_args)};
	status_args s = {0};
	int rc = cli_parse(argc, argv, opts, HK_ARRAY_LEN(opts), &s, status_usage);
	if (rc >= 0)
		return rc;
	const ops_common c = s.c;
	if (!c.config) {
		fprintf(stderr, "multus-hookd status: missing --config FILE\n");
		status_usage(stderr);
		return 2;
	}
	hook_config *cfg = NULL;
	if (hook_cli_load_config("status", c.config, &cfg) != HK_OK)
		return 2;
	char url[ADMIN_URL_MAX];
	if (!admin_url(c.admin, cfg, url, sizeof(url))) {
		fprintf(stderr,
			"multus-hookd status: the admin listener's port is 0 in %s: give "
			"--admin http://ADDRESS:PORT (the ready file has the port)\n",
			c.config);
		hook_config_free(cfg);
		return 2;
	}
	hook_live live;
	char aerr[400] = "", ferr[400] = "", serr[400] = "";
	hook_live_opts o = {.count = 1};
	hk_err st = hook_live_survey(cfg, &o, &live, serr, sizeof(serr));
	json_t *inflight = NULL, *failed = NULL;
	bool have_admin =
	    admin_actions(url, "state=in_flight&limit=1000", &inflight, aerr, sizeof(aerr)) &&
	    admin_actions(url, "state=failed&limit=1000", &failed, ferr, sizeof(ferr));
	rc = 0;
	if (c.json) {
		json_t *doc = json_pack(
		    "{s:s,s:o,s:{s:s,s:b,s:o,s:o}}", "config", c.config, "subnets",
		    st == HK_OK ? hook_live_json(&live) : json_array(), "daemon", "admin_url", url,
		    "reachable", have_admin, "in_flight",
		    inflight ? json_incref(json_object_get(inflight, "actions")) : json_null(),
		    "failed",
		    failed ? json_incref(json_object_get(failed, "actions")) : json_null());
		if (st != HK_OK)
			json_object_set_new(doc, "error", json_string(serr));
		if (!have_admin)
			json_object_set_new(json_object_get(doc, "daemon"), "error",
					    json_string(aerr[0] ? aerr : ferr));
		print_json(doc);
		json_decref(doc);
	} else {
		if (st == HK_OK)
			hook_live_print_text(stdout, &live);
		else
			printf("subnets: cannot be read: %s\n", serr);
		printf("\ndaemon (%s):\n", url);
		if (have_admin) {
			print_actions("actions in flight", inflight, false);
			print_actions("failed actions", failed, true);
		} else {
			printf("  not reachable: %s\n", aerr[0] ? aerr : ferr);
		}
	}
	if (st != HK_OK || hook_live_failed(&live) || !have_admin)
		rc = 1;
	if (st == HK_OK)
		hook_live_free(&live);
	json_decref(inflight);
	json_decref(failed);
	hook_config_free(cfg);
	return rc;
}

/* ---- AWS from a command ---------------------------------------------------- */

/* One call's answer: its error (with AWS's code and message) and the kept result. */
typedef struct ops_answer {
	cli_aws *aws;
	hk_err err;
	char why[400];
	void *out;
} ops_answer;

static void answer_set(ops_answer *ans, const awc_result *res, const char *call, const void *out)
{
	ans->err = res->err;
	if (res->err)
		cli_aws_why(ans->why, sizeof(ans->why), call, res, res->err);
	else
		ans->out = awscalls_keep(out);
	cli_aws_done(ans->aws);
}

#define OPS_CB(name, type, call)                                                                   \
	static void name(const awc_result *res, const type *out, void *arg)                        \
	{                                                                                          \
		answer_set(arg, res, call, out);                                                   \
	}
OPS_CB(subnets_cb, ec2_describe_subnets_out, "DescribeSubnets")
OPS_CB(enis_cb, ec2_describe_network_interfaces_out, "DescribeNetworkInterfaces")
OPS_CB(resv_list_cb, ec2_get_subnet_cidr_reservations_out, "GetSubnetCidrReservations")
OPS_CB(resv_create_cb, ec2_subnet_cidr_reservation_out, "CreateSubnetCidrReservation")
OPS_CB(resv_delete_cb, ec2_subnet_cidr_reservation_out, "DeleteSubnetCidrReservation")

/* Wait for the call just started (err: it could not start). */
static hk_err ops_wait(cli_aws *a, ops_answer *ans, hk_err start_err)
{
	if (start_err) {
		ans->err = start_err;
		snprintf(ans->why, sizeof(ans->why), "cannot send the call: %s",
			 hk_err_str(start_err));
		return start_err;
	}
	if (cli_aws_wait(a) != HK_OK) {
		ans->err = HK_ERR_INTERNAL;
		snprintf(ans->why, sizeof(ans->why), "the AWS client stopped answering");
	}
	return ans->err;
}

static ops_answer ops_start(cli_aws *a)
{
	a->pending = 1;
	cli_aws_arm(a);
	return (ops_answer){.aws = a};
}

/* ---- reserve --------------------------------------------------------------- */

static void reserve_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: multus-hookd reserve [--config FILE] --subnet ID --cidr CIDR\n"
	    "                            [--description TEXT] [--type explicit|prefix] [--force]\n"
	    "       multus-hookd reserve [--config FILE] --delete RESERVATION-ID\n"
	    "       multus-hookd reserve [--config FILE] --list [--subnet ID]\n\n"
	    "Subnet CIDR reservations for static pod ranges, made in EC2 directly.\n"
	    "  --subnet ID         the Multus subnet\n"
	    "  --cidr CIDR         the range to reserve (IPv4 or IPv6, inside the subnet)\n"
	    "  --description TEXT  kept by EC2 with the reservation\n"
	    "  --type TYPE         explicit (default: EC2 never auto-assigns from it) or prefix\n"
	    "  --force             reserve even though addresses in the range are in use\n"
	    "  --delete ID         delete a reservation (its id, subnet-cidr-res-...)\n"
	    "  --list              list reservations: of --subnet, else of every Multus\n"
	    "                      subnet of --config\n"
	    "  --config FILE       region and endpoints (and, for --list, the subnets);\n"
	    "                      without it, the AWS SDK environment (AWS_REGION, ...)\n"
	    "  --json              JSON instead of text\n"
	    "A range that overlaps an address in use is refused, listing the addresses.\n"
	    "Exit status: 0 done, 1 refused or AWS said no, 2 usage.\n");
}

typedef struct reserve_args {
	ops_common c;
	const char *subnet, *cidr, *description, *delete_id, *type_name;
	ec2_reservation_type type;
	bool force, list;
} reserve_args;

static const cli_opt reserve_opts[] = {CLI_OPS_COMMON(reserve_args),
				       CLI_OPT_STR(reserve_args, "subnet", subnet),
				       CLI_OPT_STR(reserve_args, "cidr", cidr),
				       CLI_OPT_STR(reserve_args, "description", description),
				       CLI_OPT_STR(reserve_args, "type", type_name),
				       CLI_OPT_FLAG(reserve_args, "force", force),
				       CLI_OPT_STR(reserve_args, "delete", delete_id),
				       CLI_OPT_FLAG(reserve_args, "list", list)};

/* --type: explicit (the default) or prefix; false (said) for anything else. */
static bool reserve_type(reserve_args *r)
{
	if (!r->type_name || strcmp(r->type_name, "explicit") == 0)
		r->type = EC2_RESERVATION_EXPLICIT;
	else if (strcmp(r->type_name, "prefix") == 0)
		r->type = EC2_RESERVATION_PREFIX;
	else {
		fprintf(stderr, "multus-hookd reserve: --type \"%s\": use explicit or prefix\n",
			r->type_name);
		return false;
	}
	return true;
}

static json_t *reservation_json(const ec2_cidr_reservation *r)
{
	return json_pack("{s:s?,s:s?,s:s?,s:s,s:s?}", "id", r->reservation_id, "subnet_id",
			 r->subnet_id, "cidr", r->cidr, "type",
			 r->type == EC2_RESERVATION_PREFIX ? "prefix" : "explicit", "description",
			 r->description);
}

static void print_reservation(const char *verb, const ec2_cidr_reservation *r)
{
	printf("%s%s %s %s in %s%s%s%s\n", verb, r->reservation_id ? r->reservation_id : "?",
	       r->cidr ? r->cidr : "?", r->type == EC2_RESERVATION_PREFIX ? "prefix" : "explicit",
	       r->subnet_id ? r->subnet_id : "?", r->description ? " \"" : "",
	       r->description ? r->description : "", r->description ? "\"" : "");
}

/* The in-use addresses of `enis` that fall inside `range` (one line each). */
static size_t in_use_inside(const ec2_describe_network_interfaces_out *enis,
			    const cidr_prefix *range, json_t *list)
{
	size_t n = 0;
	for (size_t i = 0; enis && i < enis->n_enis; i++) {
		const ec2_eni *ni = &enis->enis[i];
		const char *addrs[2 + 64];
		size_t na = 0;
		for (size_t j = 0; j < ni->n_private_ips && na < 32; j++)
			addrs[na++] = ni->private_ips[j].address;
		for (size_t j = 0; j < ni->n_ipv6_addresses && na < 64; j++)
			addrs[na++] = ni->ipv6_addresses[j];
		for (size_t j = 0; j < ni->n_ipv4_prefixes && na < 64; j++)
			addrs[na++] = ni->ipv4_prefixes[j];
		for (size_t j = 0; j < ni->n_ipv6_prefixes && na < 64; j++)
			addrs[na++] = ni->ipv6_prefixes[j];
		for (size_t j = 0; j < na; j++) {
			cidr_prefix p;
			if (!addrs[j] ||
			    cidr_parse_prefix(addrs[j], CIDR_PARSE_BARE | CIDR_PARSE_NORMALIZE, &p,
					      NULL) != HK_OK ||
			    !cidr_prefix_overlaps(range, &p))
				continue;
			n++;
			json_array_append_new(
			    list,
			    json_pack("{s:s,s:s?,s:s?,s:s?}", "address", addrs[j], "eni_id",
				      ni->eni_id, "description", ni->description, "instance_id",
				      ni->attached ? ni->attachment.instance_id : NULL));
		}
	}
	return n;
}

static int reserve_create(cli_aws *a, const reserve_args *r, bool json)
{
	cidr_prefix range;
	hk_errinfo ei = {0};
	if (cidr_parse_prefix(r->cidr, 0, &range, &ei) != HK_OK) {
		fprintf(stderr, "multus-hookd reserve: --cidr %s\n", ei.text);
		return 2;
	}
	/* the subnet, and the range inside it */
	const char *ids[1] = {r->subnet};
	ec2_describe_subnets_req sreq = {.subnet_ids = ids, .n_subnet_ids = 1};
	ops_answer sub = ops_start(a);
	if (ops_wait(a, &sub, ec2_describe_subnets(a->c, &sreq, subnets_cb, &sub, &a->opts))) {
		fprintf(stderr, "multus-hookd reserve: subnet %s: %s\n", r->subnet, sub.why);
		return 1;
	}
	const ec2_describe_subnets_out *so = sub.out;
	bool inside = false;
	char cidrs[400] = "";
	for (size_t i = 0; so->n_subnets && !inside && i <= so->subnets[0].n_ipv6_cidrs; i++) {
		const char *sc =
		    i == 0 ? so->subnets[0].cidr : so->subnets[0].ipv6_cidrs[i - 1].cidr;
		cidr_prefix sp;
		if (!sc || cidr_parse_prefix(sc, CIDR_PARSE_NORMALIZE, &sp, NULL) != HK_OK)
			continue;
		inside = cidr_prefix_contains_prefix(&sp, &range);
		size_t l = strlen(cidrs);
		snprintf(cidrs + l, sizeof(cidrs) - l, "%s%s", l ? ", " : "", sc);
	}
	bool found = so->n_subnets > 0;
	awscalls_free(sub.out);
	if (!found) {
		fprintf(stderr, "multus-hookd reserve: subnet %s: not found\n", r->subnet);
		return 1;
	}
	if (!inside) {
		fprintf(stderr, "multus-hookd reserve: --cidr %s is not inside subnet %s (%s)\n",
			r->cidr, r->subnet, cidrs);
		return 2;
	}
	/* what is in use inside the range */
	const char *vals[1] = {r->subnet};
	ec2_filter f = {.name = "subnet-id", .values = vals, .n_values = 1};
	ec2_describe_network_interfaces_req dreq = {.filters = &f, .n_filters = 1};
	ops_answer en = ops_start(a);
	if (ops_wait(a, &en,
		     ec2_describe_network_interfaces(a->c, &dreq, enis_cb, &en, &a->opts))) {
		fprintf(stderr, "multus-hookd reserve: %s\n", en.why);
		return 1;
	}
	json_t *used = json_array();
	size_t n_used = in_use_inside(en.out, &range, used);
	awscalls_free(en.out);
	if (n_used && !r->force) {
		fprintf(stderr,
			"multus-hookd reserve: refused: %zu address%s inside %s %s in use "
			"(--force reserves anyway; EC2 leaves addresses in use alone):\n",
			n_used, n_used == 1 ? "" : "es", r->cidr, n_used == 1 ? "is" : "are");
		for (size_t i = 0; i < json_array_size(used); i++) {
			json_t *u = json_array_get(used, i);
			fprintf(stderr, "  %s on %s%s%s\n", jstr(u, "address"), jstr(u, "eni_id"),
				*jstr(u, "instance_id") ? " attached to " : "",
				jstr(u, "instance_id"));
		}
		json_decref(used);
		return 1;
	}
	ec2_create_subnet_cidr_reservation_req creq = {.subnet_id = r->subnet,
						       .cidr = r->cidr,
						       .type = r->type,
						       .description = r->description};
	ops_answer cr = ops_start(a);
	a->opts.idempotent = false; /* a create is not repeated after an ambiguous failure */
	hk_err err = ops_wait(
	    a, &cr, ec2_create_subnet_cidr_reservation(a->c, &creq, resv_create_cb, &cr, &a->opts));
	a->opts.idempotent = true;
	if (err) {
		fprintf(stderr, "multus-hookd reserve: %s\n", cr.why);
		json_decref(used);
		return 1;
	}
	const ec2_subnet_cidr_reservation_out *out = cr.out;
	if (json) {
		json_t *doc = json_pack("{s:s,s:o,s:o}", "created", "reservation", "reservation",
					reservation_json(&out->reservation), "in_use_inside", used);
		print_json(doc);
		json_decref(doc);
	} else {
		print_reservation("created ", &out->reservation);
		if (n_used)
			printf("(forced: %zu address%s inside it %s in use)\n", n_used,
			       n_used == 1 ? "" : "es", n_used == 1 ? "is" : "are");
		json_decref(used);
	}
	awscalls_free(cr.out);
	return 0;
}

static int reserve_delete(cli_aws *a, const reserve_args *r, bool json)
{
	ec2_delete_subnet_cidr_reservation_req req = {.reservation_id = r->delete_id};
	ops_answer d = ops_start(a);
	if (ops_wait(
		a, &d,
		ec2_delete_subnet_cidr_reservation(a->c, &req, resv_delete_cb, &d, &a->opts))) {
		fprintf(stderr, "multus-hookd reserve: --delete %s: %s\n", r->delete_id, d.why);
		return 1;
	}
	const ec2_subnet_cidr_reservation_out *out = d.out;
	if (json) {
		json_t *doc = json_pack("{s:s,s:o}", "deleted", "reservation", "reservation",
					reservation_json(&out->reservation));
		print_json(doc);
		json_decref(doc);
	} else {
		print_reservation("deleted ", &out->reservation);
	}
	awscalls_free(d.out);
	return 0;
}

static int reserve_list(cli_aws *a, const hook_config *cfg, const char *cfg_path,
			const reserve_args *r, bool json)
{
	json_t *all = json_array();
	int rc = 0;
	if (r->subnet) {
		ec2_get_subnet_cidr_reservations_req req = {.subnet_id = r->subnet};
		ops_answer l = ops_start(a);
		if (ops_wait(
			a, &l,
			ec2_get_subnet_cidr_reservations(a->c, &req, resv_list_cb, &l, &a->opts))) {
			fprintf(stderr, "multus-hookd reserve: --list --subnet %s: %s\n", r->subnet,
				l.why);
			json_decref(all);
			return 1;
		}
		const ec2_get_subnet_cidr_reservations_out *out = l.out;
		for (size_t i = 0; i < out->n_reservations; i++)
			json_array_append_new(all, reservation_json(&out->reservations[i]));
		awscalls_free(l.out);
	} else {
		if (!cfg_path) {
			fprintf(stderr,
				"multus-hookd reserve: --list needs --subnet ID or --config "
				"FILE (its Multus subnets)\n");
			json_decref(all);
			return 2;
		}
		hook_live live;
		char err[300] = "";
		hook_live_opts o = {0};
		if (hook_live_survey(cfg, &o, &live, err, sizeof(err)) != HK_OK) {
			fprintf(stderr, "multus-hookd reserve: %s\n", err);
			json_decref(all);
			return 1;
		}
		for (size_t i = 0; i < live.n; i++) {
			const hook_live_subnet *s = &live.v[i];
			if (s->err) {
				fprintf(stderr, "multus-hookd reserve: %s/%s: %s\n", s->group->name,
					s->net->name, s->why);
				rc = 1;
				continue;
			}
			json_t *rs = hook_live_reservations_json(s);
			json_array_extend(all, rs);
			json_decref(rs);
		}
		hook_live_free(&live);
	}
	if (json) {
		json_t *doc = json_pack("{s:o}", "reservations", all);
		print_json(doc);
		json_decref(doc);
		return rc;
	}
	if (json_array_size(all) == 0)
		printf("no subnet CIDR reservations\n");
	for (size_t i = 0; i < json_array_size(all); i++) {
		json_t *o = json_array_get(all, i);
		printf("%s %s %s in %s%s%s%s\n", jstr(o, "id"), jstr(o, "cidr"), jstr(o, "type"),
		       jstr(o, "subnet_id"), *jstr(o, "description") ? " \"" : "",
		       jstr(o, "description"), *jstr(o, "description") ? "\"" : "");
	}
	json_decref(all);
	return rc;
}

int hook_cmd_reserve(int argc, char **argv)
{
	reserve_args r = {0};
	int rc = cli_parse(argc, argv, reserve_opts, HK_ARRAY_LEN(reserve_opts), &r, reserve_usage);
	if (rc >= 0)
		return rc;
	if (!reserve_type(&r))
		return 2;
	const ops_common c = r.c;
	int modes = (r.cidr != NULL) + (r.delete_id != NULL) + r.list;
	if (modes != 1 || (r.cidr && !r.subnet) || (r.delete_id && r.subnet)) {
		fprintf(stderr, "multus-hookd reserve: give one of --subnet ID --cidr CIDR, "
				"--delete ID, or --list\n");
		reserve_usage(stderr);
		return 2;
	}
	hook_config *cfg = NULL;
	hook_config none = {.aws_rate_scale = 1.0};
	if (c.config && hook_cli_load_config("reserve", c.config, &cfg) != HK_OK)
		return 2;
	cli_aws a;
	char err[300];
	if (cli_aws_open(&a, cfg ? cfg : &none, err, sizeof(err)) != HK_OK) {
		fprintf(stderr, "multus-hookd reserve: %s\n", err);
		cli_aws_close(&a);
		hook_config_free(cfg);
		return 2;
	}
	if (r.cidr)
		rc = reserve_create(&a, &r, c.json);
	else if (r.delete_id)
		rc = reserve_delete(&a, &r, c.json);
	else
		rc = reserve_list(&a, cfg, c.config, &r, c.json);
	cli_aws_close(&a);
	hook_config_free(cfg);
	return rc;
}
