/* Configuration validation: every kind of problem gets its own message with
 * the key path, every problem is reported, the documented examples are valid,
 * defaults are applied, secret files are read strictly. */
#include "hk_test.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "awsclient.h"
#include "hk_json.h"
#include "hook_config.h"

/* JSON written as C tokens; the second level expands the macros below. */
#define J_(...) #__VA_ARGS__
#define J(...)	J_(__VA_ARGS__)

#define AUTH_OK                                                                                    \
	"auth":                                                                                    \
	{                                                                                          \
		"type" : "api_key", "value_file" : "k"                                             \
	}
#define NET_OK                                                                                     \
	{                                                                                          \
		"name" : "sig", "subnet":                                                          \
		{                                                                                  \
			"tags":                                                                    \
			{                                                                          \
				"multus.io/network" : "sig"                                        \
			}                                                                          \
		}                                                                                  \
	}
#define NET2_OK                                                                                    \
	{                                                                                          \
		"name" : "media", "subnet":                                                        \
		{                                                                                  \
			"ids_by_az":                                                               \
			{                                                                          \
				"us-east-1a" : "subnet-0123456789abcdef0"                          \
			}                                                                          \
		}                                                                                  \
	}
#define GROUP_OK                                                                                   \
	{                                                                                          \
		"name" : "g", "asg_names" : ["asg-a"], "hook_names" : ["h"], "networks" : [NET_OK] \
	}

static hook_problems P;

static hk_err parse(const char *json, hook_config **cfg)
{
	hook_problems_cleanup(&P);
	return hook_config_parse(json, strlen(json), NULL, HOOK_CONFIG_NO_FILES, cfg, &P);
}

static bool has_problem(const char *sub)
{
	for (size_t i = 0; i < P.n && i < P.cap; i++)
		if (P.msgs[i] && strstr(P.msgs[i], sub))
			return true;
	return false;
}

static void dump(void)
{
	for (size_t i = 0; i < P.n && i < P.cap; i++)
		print_message("  problem: %s\n", P.msgs[i] ? P.msgs[i] : "(null)");
}

static void expect_problem(const char *json, const char *sub)
{
	hook_config *c = NULL;
	hk_err err = parse(json, &c);
	if (err != HK_ERR_INVALID || !has_problem(sub)) {
		print_message("expected a problem containing \"%s\" in %s\n", sub, json);
		dump();
		fail();
	}
	assert_null(c);
}

static void expect_valid(const char *json, hook_config **ret)
{
	hook_config *c = NULL;
	hk_err err = parse(json, &c);
	if (err != HK_OK) {
		print_message("expected valid: %s\n", json);
		dump();
		fail();
	}
	assert_non_null(c);
	*ret = c;
}

static void test_valid_minimal_defaults(void **state)
{
	(void)state;
	hook_config *c;
	expect_valid(J({AUTH_OK, "state_dir" : "/s", "node_groups" : [GROUP_OK]}), &c);
	assert_string_equal(c->intake.address, "0.0.0.0");
	assert_int_equal(c->intake.port, 8080);
	assert_string_equal(c->admin.address, "127.0.0.1");
	assert_int_equal(c->admin.port, 9901);
	assert_string_equal(c->auth.header, "x-api-key");
	assert_int_equal(c->max_body_bytes, 256 * 1024);
	assert_int_equal(c->max_connections, 256);
	assert_int_equal(c->read_timeout_ms, 5000);
	assert_int_equal(c->request_timeout_ms, 10000);
	assert_int_equal(c->shutdown_grace_ms, 20000);
	assert_null(c->region);
	assert_true(c->aws_rate_scale == 1.0);
	assert_int_equal(c->n_aws_rate_limits, 0);
	assert_int_equal(c->n_groups, 1);
	const hook_node_group *g = &c->groups[0];
	assert_int_equal(g->failure_result, HOOK_RESULT_ABANDON);
	assert_int_equal(g->terminate, HOOK_TERMINATE_DELETE);
	assert_int_equal(g->n_networks, 1);
	const hook_network *n = &g->networks[0];
	assert_int_equal(n->device_index, 1);
	assert_int_equal(n->network_card_index, 0);
	assert_int_equal(n->ip_mode, HOOK_IP_FIRST_FREE);
	assert_int_equal(n->ipv6, HOOK_IPV6_NONE);
	assert_true(n->source_dest_check);
	assert_int_equal(n->n_subnet_tags, 1);
	assert_string_equal(n->subnet_tags[0].key, "multus.io/network");
	assert_string_equal(n->subnet_tags[0].value, "sig");
	hook_config_free(c);
}

static void test_device_index_defaults_to_position(void **state)
{
	(void)state;
	hook_config *c;
	expect_valid(J({
			     AUTH_OK,
			     "state_dir" : "/s",
			     "node_groups" : [ {
				     "name" : "g",
				     "asg_names" : ["a"],
				     "hook_names" : ["h"],
				     "networks" : [ NET_OK, NET2_OK ]
			     } ]
		     }),
		     &c);
	assert_int_equal(c->groups[0].networks[0].device_index, 1);
	assert_int_equal(c->groups[0].networks[1].device_index, 2);
	assert_string_equal(c->groups[0].networks[1].subnet_ids[0].value,
			    "subnet-0123456789abcdef0");
	hook_config_free(c);
}

static void load_example(const char *name, size_t groups)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/docs/examples/%s", HOOK_SOURCE_DIR, name);
	hook_problems_cleanup(&P);
	hook_config *c = NULL;
	hk_err err = hook_config_load(path, HOOK_CONFIG_NO_FILES, &c, &P);
	if (err) {
		print_message("%s: %s\n", path, hk_err_str(err));
		dump();
		fail();
	}
	assert_int_equal(c->n_groups, groups);
	assert_string_equal(c->path, path);
	hook_config_free(c);
}

static void test_docs_example_full(void **state)
{
	(void)state;
	load_example("config.json", 2);
}

static void test_docs_example_minimal(void **state)
{
	(void)state;
	load_example("config-minimal.json", 1);
}

static void test_full_example_values(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/docs/examples/config.json", HOOK_SOURCE_DIR);
	hook_problems_cleanup(&P);
	hook_config *c = NULL;
	assert_int_equal(hook_config_load(path, HOOK_CONFIG_NO_FILES, &c, &P), HK_OK);
	assert_string_equal(c->region, "us-east-1");
	const hook_node_group *g = &c->groups[0];
	assert_int_equal(g->networks[0].n_pod_ranges, 2);
	assert_false(g->networks[0].source_dest_check);
	assert_int_equal(g->networks[1].ip_mode, HOOK_IP_DHCP);
	assert_int_equal(g->networks[1].ipv6, HOOK_IPV6_ONE);
	assert_int_equal(g->networks[1].n_security_groups, 2);
	assert_int_equal(c->groups[1].failure_result, HOOK_RESULT_CONTINUE);
	assert_int_equal(c->groups[1].terminate, HOOK_TERMINATE_DELETE_ON_TERMINATION);
	assert_int_equal(c->groups[1].networks[0].ipv6, HOOK_IPV6_FIRST_FREE);
	hook_config_free(c);
}

static void test_not_json(void **state)
{
	(void)state;
	expect_problem("{\"auth\": }", "line 1");
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect_problem(
	    J({AUTH_OK, "state_dir" : "/a", "state_dir" : "/b", "node_groups" : [GROUP_OK]}),
	    "duplicate");
}

static void test_too_deep(void **state)
{
	(void)state;
	char buf[200] = "{\"x\":";
	for (int i = 0; i < 40; i++)
		strncat(buf, "[", sizeof(buf) - strlen(buf) - 1);
	expect_problem(buf, "nested deeper");
}

static void test_not_object(void **state)
{
	(void)state;
	expect_problem("[1,2]", "must be a JSON object");
}

static void test_rate_limits_valid(void **state)
{
	(void)state;
	hook_config *c;
	expect_valid(
	    J({
		    AUTH_OK,
		    "state_dir" : "/s",
		    "aws" : {
			    "region" : "us-east-1",
			    "rate_limits" : {
				    "scale" : 0.5,
				    "buckets" : {
					    "ec2-create-network-interface" :
						{"burst" : 20, "refill_per_s" : 2.5},
					    "autoscaling" : {"burst" : 40, "refill_per_s" : 10}
				    }
			    }
		    },
		    "node_groups" : [GROUP_OK]
	    }),
	    &c);
	assert_true(c->aws_rate_scale == 0.5);
	assert_int_equal(c->n_aws_rate_limits, 2);
	assert_string_equal(c->aws_rate_limits[0].family, "ec2-create-network-interface");
	assert_true(c->aws_rate_limits[0].burst == 20.0);
	assert_true(c->aws_rate_limits[0].refill_per_s == 2.5);
	assert_string_equal(c->aws_rate_limits[1].family, "autoscaling");
	/* The client accepts every family the configuration accepted. */
	struct event_base *base = event_base_new();
	assert_non_null(base);
	awc_client *client = NULL;
	assert_int_equal(hook_aws_client_new(base, c, &client), HK_OK);
	awsclient_free(client);
	event_base_free(base);
	hook_config_free(c);
}

static void test_rate_limits_problems(void **state)
{
	(void)state;
	expect_problem(
	    J({
		    AUTH_OK,
		    "state_dir" : "/s",
		    "aws" : {
			    "rate_limits" :
				{"buckets" : {"ec2-create" : {"burst" : 1, "refill_per_s" : 1}}}
		    },
		    "node_groups" : [GROUP_OK]
	    }),
	    "aws.rate_limits.buckets.ec2-create: unknown token-bucket family");
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "aws" : {"rate_limits" : {"scale" : 0}},
			       "node_groups" : [GROUP_OK]
		       }),
		       "aws.rate_limits.scale: 0: out of range");
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "aws" : {"rate_limits" : {"buckets" : {"sts" : {"burst" : 5}}}},
			       "node_groups" : [GROUP_OK]
		       }),
		       "aws.rate_limits.buckets.sts: needs both burst and refill_per_s");
	expect_problem(
	    J({
		    AUTH_OK,
		    "state_dir" : "/s",
		    "aws" : {
			    "rate_limits" :
				{"buckets" : {"sts" : {"burst" : "5", "refill_per_s" : 1}}}
		    },
		    "node_groups" : [GROUP_OK]
	    }),
	    "aws.rate_limits.buckets.sts.burst: must be a number");
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "aws" : {"rate_limits" : {"rate" : 1}},
			       "node_groups" : [GROUP_OK]
		       }),
		       "aws.rate_limits.rate: unknown key");
}

static void test_notify(void **state)
{
	(void)state;
	hook_config *cfg = NULL;
	expect_valid(J({
			     AUTH_OK,
			     "state_dir" : "/s",
			     "notify" : {"webhook_url" : "https://hooks.example.com/n"},
			     "node_groups" : [GROUP_OK]
		     }),
		     &cfg);
	assert_string_equal(cfg->notify_webhook_url, "https://hooks.example.com/n");
	assert_null(cfg->notify_sns_topic_arn);
	hook_config_free(cfg);
	expect_valid(
	    J({
		    AUTH_OK,
		    "state_dir" : "/s",
		    "aws" : {"endpoints" : {"sns" : "http://127.0.0.1:4566"}},
		    "notify" : {"sns_topic_arn" : "arn:aws:sns:us-east-1:123456789012:ops"},
		    "node_groups" : [GROUP_OK]
	    }),
	    &cfg);
	assert_string_equal(cfg->notify_sns_topic_arn, "arn:aws:sns:us-east-1:123456789012:ops");
	assert_string_equal(cfg->endpoint_sns, "http://127.0.0.1:4566");
	hook_config_free(cfg);
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "notify" : {
				       "webhook_url" : "https://h/n",
				       "sns_topic_arn" : "arn:aws:sns:us-east-1:123456789012:ops"
			       },
			       "node_groups" : [GROUP_OK]
		       }),
		       "notify: give exactly one of sns_topic_arn and webhook_url");
	expect_problem(J({AUTH_OK, "state_dir" : "/s", "notify" : {}, "node_groups" : [GROUP_OK]}),
		       "notify: give exactly one of sns_topic_arn and webhook_url");
	expect_problem(
	    J({
		    AUTH_OK,
		    "state_dir" : "/s",
		    "notify" : {"webhook_url" : "http://hooks.example.com/n"},
		    "node_groups" : [GROUP_OK]
	    }),
	    "notify.webhook_url: \"http://hooks.example.com/n\": must be an https:// URL");
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "notify" : {"sns_topic_arn" : "ops"},
			       "node_groups" : [GROUP_OK]
		       }),
		       "notify.sns_topic_arn: \"ops\": must be an SNS topic ARN");
}

static void test_unknown_key_top(void **state)
{
	(void)state;
	expect_problem(
	    J({AUTH_OK, "state_dir" : "/s", "statedir" : "/x", "node_groups" : [GROUP_OK]}),
	    "statedir: unknown key");
}

static void test_unknown_key_nested_path(void **state)
{
	(void)state;
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "node_groups" : [ {
				       "name" : "g",
				       "asg_names" : ["a"],
				       "hook_names" : ["h"],
				       "networks" : [
					       NET_OK, {
						       "name" : "m",
						       "ip_modee" : "dhcp",
						       "subnet" : {"tags" : {"a" : "b"}}
					       }
				       ]
			       } ]
		       }),
		       "node_groups[0].networks[1].ip_modee: unknown key");
}

static void test_missing_required_all_reported(void **state)
{
	(void)state;
	expect_problem("{}", "auth: missing");
	assert_true(has_problem("state_dir: missing"));
	assert_true(has_problem("node_groups: missing"));
	assert_int_equal(P.n, 3);
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "listeners" : {"intake" : {"port" : "8080"}},
			       "node_groups" : [ {
				       "name" : "g",
				       "asg_names" : ["a"],
				       "hook_names" : ["h"],
				       "networks" : [ {
					       "name" : "n",
					       "source_dest_check" : "no",
					       "subnet" : {"tags" : {"a" : "b"}}
				       } ]
			       } ]
		       }),
		       "listeners.intake.port: must be an integer, not a string");
	assert_true(
	    has_problem("node_groups[0].networks[0].source_dest_check: must be true or false"));
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "listeners" : {"admin" : {"port" : 70000}},
			       "limits" : {"max_connections" : 0},
			       "node_groups" : [GROUP_OK]
		       }),
		       "listeners.admin.port: 70000: out of range");
	assert_true(has_problem("limits.max_connections: 0: out of range"));
}

static void test_bad_enum_ip_mode_path(void **state)
{
	(void)state;
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "node_groups" : [ {
				       "name" : "g",
				       "asg_names" : ["a"],
				       "hook_names" : ["h"],
				       "networks" : [
					       NET_OK, {
						       "name" : "m",
						       "ip_mode" : "static",
						       "subnet" : {"tags" : {"a" : "b"}}
					       }
				       ]
			       } ]
		       }),
		       "node_groups[0].networks[1].ip_mode: \"static\": must be one of");
}

static void test_bad_failure_result_and_terminate(void **state)
{
	(void)state;
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "node_groups" : [ {
				       "name" : "g",
				       "asg_names" : ["a"],
				       "hook_names" : ["h"],
				       "failure_result" : "abandon",
				       "terminate" : "keep",
				       "networks" : [NET_OK]
			       } ]
		       }),
		       "node_groups[0].failure_result: \"abandon\"");
	assert_true(has_problem("node_groups[0].terminate: \"keep\""));
}

#define ONE_NET(...)                                                                               \
	J({                                                                                        \
		AUTH_OK,                                                                           \
		"state_dir" : "/s",                                                                \
		"node_groups" : [ {                                                                \
			"name" : "g",                                                              \
			"asg_names" : ["a"],                                                       \
			"hook_names" : ["h"],                                                      \
			"networks" : [__VA_ARGS__]                                                 \
		} ]                                                                                \
	})

static void test_cidr_host_bits(void **state)
{
	(void)state;
	expect_problem(ONE_NET({
			       "name" : "n",
			       "subnet" : {"tags" : {"a" : "b"}},
			       "pod_ranges" : ["10.0.1.200/26"]
		       }),
		       "node_groups[0].networks[0].pod_ranges[0]: \"10.0.1.200/26\"");
}

static void test_range_reversed(void **state)
{
	(void)state;
	expect_problem(ONE_NET({
			       "name" : "n",
			       "subnet" : {"tags" : {"a" : "b"}},
			       "pod_ranges" : ["10.0.1.9-10.0.1.1"]
		       }),
		       "pod_ranges[0]: \"10.0.1.9-10.0.1.1\"");
}

static void test_range_not_address(void **state)
{
	(void)state;
	expect_problem(
	    ONE_NET({"name" : "n", "subnet" : {"tags" : {"a" : "b"}}, "pod_ranges" : ["pods"]}),
	    "pod_ranges[0]: \"pods\": not a range");
}

static void test_dhcp_needs_cidr_pod_ranges(void **state)
{
	(void)state;
	expect_problem(ONE_NET({
			       "name" : "n",
			       "ip_mode" : "dhcp",
			       "subnet" : {"tags" : {"a" : "b"}},
			       "pod_ranges" : ["10.0.1.10-10.0.1.20"]
		       }),
		       "explicit subnet CIDR reservation");
}

static void test_pod_ranges_overlap(void **state)
{
	(void)state;
	expect_problem(ONE_NET({
			       "name" : "n",
			       "subnet" : {"tags" : {"a" : "b"}},
			       "pod_ranges" : [ "10.0.1.0/25", "10.0.1.100-10.0.1.130" ]
		       }),
		       "overlaps");
}

static void test_subnet_selection(void **state)
{
	(void)state;
	expect_problem(ONE_NET({"name" : "n", "subnet" : {}}), "needs \"tags\" or \"ids_by_az\"");
	expect_problem(
	    ONE_NET({
		    "name" : "n",
		    "subnet" :
			{"tags" : {"a" : "b"}, "ids_by_az" : {"us-east-1a" : "subnet-01234567"}}
	    }),
	    "not both");
	expect_problem(ONE_NET({"name" : "n", "subnet" : {"ids_by_az" : {"us-east-1a" : "sub-1"}}}),
		       "\"sub-1\": not a subnet id");
	expect_problem(ONE_NET({"name" : "n"}), "node_groups[0].networks[0].subnet: missing");
}

static void test_security_group_ids(void **state)
{
	(void)state;
	expect_problem(ONE_NET({
			       "name" : "n",
			       "subnet" : {"tags" : {"a" : "b"}},
			       "security_groups" : [ "sg-01234567", "default" ]
		       }),
		       "node_groups[0].networks[0].security_groups[1]: not a security group id");
}

static void test_device_index_rules(void **state)
{
	(void)state;
	expect_problem(
	    ONE_NET({"name" : "a", "device_index" : 2, "subnet" : {"tags" : {"a" : "b"}}},
		    {"name" : "b", "device_index" : 2, "subnet" : {"tags" : {"a" : "b"}}}),
	    "device_index: 2: already used");
	expect_problem(
	    ONE_NET({"name" : "a", "device_index" : 3, "subnet" : {"tags" : {"a" : "b"}}},
		    {"name" : "b", "device_index" : 1, "subnet" : {"tags" : {"a" : "b"}}}),
	    "device-index order");
	expect_problem(
	    ONE_NET({"name" : "a", "device_index" : 0, "subnet" : {"tags" : {"a" : "b"}}}),
	    "device_index: 0: out of range");
}

static void test_duplicate_names(void **state)
{
	(void)state;
	expect_problem(ONE_NET(NET_OK, {"name" : "sig", "subnet" : {"tags" : {"a" : "b"}}}),
		       "\"sig\": used twice in this group");
	expect_problem(J({AUTH_OK, "state_dir" : "/s", "node_groups" : [ GROUP_OK, GROUP_OK ]}),
		       "node_groups[1].name: \"g\": used twice");
}

static void test_reserved_tags(void **state)
{
	(void)state;
	expect_problem(ONE_NET({
			       "name" : "n",
			       "subnet" : {"tags" : {"a" : "b"}},
			       "tags" : {"multus-hookd/instance-id" : "x"}
		       }),
		       "reserved tag key");
	expect_problem(ONE_NET({
			       "name" : "n",
			       "subnet" : {"tags" : {"a" : "b"}},
			       "tags" : {"aws:cloudformation:stack-name" : "x"}
		       }),
		       "reserved tag key");
}

static void test_auth_problems(void **state)
{
	(void)state;
	expect_problem(
	    J({"auth" : {"type" : "oauth"}, "state_dir" : "/s", "node_groups" : [GROUP_OK]}),
	    "auth.type: \"oauth\"");
	expect_problem(
	    J({
		    "auth" : {"type" : "basic", "username" : "a:b", "password_file" : "p"},
		    "state_dir" : "/s",
		    "node_groups" : [GROUP_OK]
	    }),
	    "auth.username: must not contain ':'");
	expect_problem(
	    J({
		    "auth" : {"type" : "api_key", "value_file" : "k", "password_file" : "p"},
		    "state_dir" : "/s",
		    "node_groups" : [GROUP_OK]
	    }),
	    "auth.password_file: unknown key");
	expect_problem(
	    J({
		    "auth" : {"type" : "api_key", "header" : "Authorization", "value_file" : "k"},
		    "state_dir" : "/s",
		    "node_groups" : [GROUP_OK]
	    }),
	    "auth.header");
	expect_problem(
	    J({"auth" : {"type" : "api_key"}, "state_dir" : "/s", "node_groups" : [GROUP_OK]}),
	    "auth.value_file: missing");
}

static void test_aws_problems(void **state)
{
	(void)state;
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "aws" : {
				       "region" : "US East",
				       "endpoints" : {"ec2" : "ftp://x", "s3" : "http://y"}
			       },
			       "node_groups" : [GROUP_OK]
		       }),
		       "aws.region: \"US East\"");
	assert_true(has_problem("aws.endpoints.ec2: \"ftp://x\""));
	assert_true(has_problem("aws.endpoints.s3: unknown key"));
}

static void test_listener_problems(void **state)
{
	(void)state;
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "listeners" : {
				       "intake" : {"address" : "localhost"},
				       "admin" : {"address" : "0.0.0.0", "port" : 8080}
			       },
			       "node_groups" : [GROUP_OK]
		       }),
		       "listeners.intake.address: \"localhost\"");
}

static void test_empty_arrays_and_strings(void **state)
{
	(void)state;
	expect_problem(J({AUTH_OK, "state_dir" : "", "node_groups" : []}),
		       "state_dir: must not be empty");
	assert_true(has_problem("node_groups: must not be empty"));
	expect_problem(
	    J({
		    AUTH_OK,
		    "state_dir" : "/s",
		    "node_groups" :
			[ {"name" : "g", "asg_names" : [], "hook_names" : ["h"], "networks" : []} ]
	    }),
	    "node_groups[0].asg_names: must not be empty");
	assert_true(has_problem("node_groups[0].networks: must not be empty"));
}

static void test_many_problems_all_reported(void **state)
{
	(void)state;
	expect_problem(J({
			       "auth" : {"type" : "api_key", "value_file" : "k", "x" : 1},
			       "state_dir" : 5,
			       "limits" : {"max_body_bytes" : 1},
			       "node_groups" : [ {
				       "name" : "g",
				       "asg_names" : ["a"],
				       "hook_names" : ["h"],
				       "networks" : [ {
					       "name" : "n",
					       "ip_mode" : "x",
					       "ipv6" : "two",
					       "subnet" : {"tags" : {"a" : "b"}}
				       } ]
			       } ]
		       }),
		       "auth.x: unknown key");
	assert_true(has_problem("state_dir: must be a string"));
	assert_true(has_problem("limits.max_body_bytes: 1: out of range"));
	assert_true(has_problem("networks[0].ip_mode"));
	assert_true(has_problem("networks[0].ipv6"));
	assert_int_equal(P.n, 5);
}

static void test_metadata_match_type(void **state)
{
	(void)state;
	expect_problem(J({
			       AUTH_OK,
			       "state_dir" : "/s",
			       "node_groups" : [ {
				       "name" : "g",
				       "asg_names" : ["a"],
				       "hook_names" : ["h"],
				       "metadata_match" : 3,
				       "networks" : [NET_OK]
			       } ]
		       }),
		       "metadata_match: must be a string (glob) or an object");
}

/* ---- secret files ---- */

static char tmpdir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static hk_err parse_with_files(const char *json, hook_config **cfg)
{
	hook_problems_cleanup(&P);
	return hook_config_parse(json, strlen(json), tmpdir, 0, cfg, &P);
}

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hookcfgXXXXXX");
	assert_non_null(mkdtemp(tmpdir));
}

static void rm_tmpdir(void)
{
	char cmd[128];
	const char *names[] = {"k",	"p",	 "open", "empty", "twoline",
			       "group", "other", "link", "fifo",  "theirs"};
	for (size_t i = 0; i < HK_ARRAY_LEN(names); i++) {
		snprintf(cmd, sizeof(cmd), "%s/%s", tmpdir, names[i]);
		unlink(cmd);
	}
	rmdir(tmpdir);
}

static void test_secret_file_read(void **state)
{
	(void)state;
	make_tmpdir();
	write_file("k", "s3cret-value\n", 0600);
	hook_config *c = NULL;
	hk_err err =
	    parse_with_files(J({AUTH_OK, "state_dir" : "st", "node_groups" : [GROUP_OK]}), &c);
	if (err)
		dump();
	assert_int_equal(err, HK_OK);
	assert_int_equal(c->auth.secret_len, strlen("s3cret-value"));
	assert_memory_equal(c->auth.secret, "s3cret-value", c->auth.secret_len);
	/* relative paths resolve against the config directory */
	char want[128];
	snprintf(want, sizeof(want), "%s/st", tmpdir);
	assert_string_equal(c->state_dir, want);
	hook_config_free(c);
	rm_tmpdir();
}

static void test_secret_file_problems(void **state)
{
	(void)state;
	make_tmpdir();
	write_file("open", "x\n", 0644);
	write_file("empty", "\n", 0600);
	write_file("twoline", "a\nb\n", 0600);
	hook_config *c = NULL;
	assert_int_equal(
	    parse_with_files(J({
				     "auth" : {"type" : "api_key", "value_file" : "open"},
				     "state_dir" : "/s",
				     "node_groups" : [GROUP_OK]
			     }),
			     &c),
	    HK_ERR_INVALID);
	assert_true(has_problem("readable by every user"));
	assert_int_equal(
	    parse_with_files(J({
				     "auth" : {"type" : "api_key", "value_file" : "empty"},
				     "state_dir" : "/s",
				     "node_groups" : [GROUP_OK]
			     }),
			     &c),
	    HK_ERR_INVALID);
	assert_true(has_problem("the file is empty"));
	assert_int_equal(
	    parse_with_files(J({
				     "auth" : {"type" : "api_key", "value_file" : "twoline"},
				     "state_dir" : "/s",
				     "node_groups" : [GROUP_OK]
			     }),
			     &c),
	    HK_ERR_INVALID);
	assert_true(has_problem("one line"));
	assert_int_equal(
	    parse_with_files(J({
				     "auth" : {"type" : "api_key", "value_file" : "nope"},
				     "state_dir" : "/s",
				     "node_groups" : [GROUP_OK]
			     }),
			     &c),
	    HK_ERR_INVALID);
	assert_true(has_problem("auth.value_file: \"nope\": cannot open"));
	assert_null(c);
	rm_tmpdir();
}

/* The value_file rules: regular file, no symbolic link, no group or other
 * bit, the daemon's user or root as owner; a FIFO does not hang. */
static void test_secret_file_strict(void **state)
{
	(void)state;
	make_tmpdir();
	write_file("group", "x\n", 0640);
	write_file("other", "x\n", 0602);
	write_file("k", "x\n", 0600);
	write_file("theirs", "x\n", 0600);
	char path[256], target[256];
	snprintf(path, sizeof(path), "%s/link", tmpdir);
	snprintf(target, sizeof(target), "%s/k", tmpdir);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/theirs", tmpdir);
	bool can_chown = chown(path, 12345, 12345) == 0; /* as root */
	static const struct {
		const char *file, *problem;
	} cases[] = {{"group", "open to its group or other users (mode 640)"},
		     {"other", "open to its group or other users (mode 602)"},
		     {"link", "a symbolic link"},
		     {"fifo", "not a regular file"},
		     {"theirs", "owned by uid 12345"}};
	for (size_t i = 0; i < HK_ARRAY_LEN(cases); i++) {
		if (!strcmp(cases[i].file, "theirs") && !can_chown)
			continue;
		char json[512];
		snprintf(json, sizeof(json),
			 "{\"auth\": {\"type\": \"api_key\", \"value_file\": \"%s\"}, "
			 "\"state_dir\": \"/s\", \"node_groups\": [%s]}",
			 cases[i].file, J(GROUP_OK));
		hook_config *c = NULL;
		assert_int_equal(parse_with_files(json, &c), HK_ERR_INVALID);
		if (!has_problem(cases[i].problem)) {
			dump();
			fail_msg("%s: expected \"%s\"", cases[i].file, cases[i].problem);
		}
		assert_null(c);
	}
	rm_tmpdir();
}

static void test_admin_auth(void **state)
{
	(void)state;
	hook_config *c = NULL;
	/* off loopback without admin.auth: refused, naming the fix */
	assert_int_equal(parse(J({
				       AUTH_OK,
				       "listeners" : {"admin" : {"address" : "0.0.0.0"}},
				       "state_dir" : "/s",
				       "node_groups" : [GROUP_OK]
			       }),
			       &c),
			 HK_ERR_INVALID);
	assert_true(has_problem("listeners.admin.address: \"0.0.0.0\" is not a loopback address"));
	/* with it: fine, and its problems are named under its own path */
	assert_int_equal(parse(J({
				       AUTH_OK,
				       "listeners" : {
					       "admin" : {
						       "address" : "10.0.0.5",
						       "auth" : {
							       "type" : "basic",
							       "username" : "op",
							       "password_file" : "p"
						       }
					       }
				       },
				       "state_dir" : "/s",
				       "node_groups" : [GROUP_OK]
			       }),
			       &c),
			 HK_OK);
	assert_int_equal(c->admin_auth.kind, HOOK_AUTH_BASIC);
	assert_int_equal(c->auth.kind, HOOK_AUTH_API_KEY);
	hook_config_free(c);
	assert_int_equal(parse(J({
				       AUTH_OK,
				       "listeners" : {"admin" : {"auth" : {"type" : "token"}}},
				       "state_dir" : "/s",
				       "node_groups" : [GROUP_OK]
			       }),
			       &c),
			 HK_ERR_INVALID);
	assert_true(has_problem("listeners.admin.auth.type: \"token\""));
	/* loopback and no admin.auth: no credentials asked */
	assert_int_equal(parse(J({AUTH_OK, "state_dir" : "/s", "node_groups" : [GROUP_OK]}), &c),
			 HK_OK);
	assert_int_equal(c->admin_auth.kind, HOOK_AUTH_NONE);
	hook_config_free(c);
}

static void test_basic_expectation(void **state)
{
	(void)state;
	make_tmpdir();
	write_file("p", "pass", 0600);
	hook_config *c = NULL;
	assert_int_equal(
	    parse_with_files(
		J({
			"auth" : {"type" : "basic", "username" : "eb", "password_file" : "p"},
			"state_dir" : "/s",
			"node_groups" : [GROUP_OK]
		}),
		&c),
	    HK_OK);
	assert_int_equal(c->auth.kind, HOOK_AUTH_BASIC);
	assert_string_equal(c->auth.basic_expect, "ZWI6cGFzcw=="); /* base64("eb:pass") */
	hook_config_free(c);
	rm_tmpdir();
}

/* ---- group matching ---- */

static void test_match_group(void **state)
{
	(void)state;
	hook_config *c;
	expect_valid(J({
			     AUTH_OK,
			     "state_dir" : "/s",
			     "node_groups" : [
				     {
					     "name" : "meta",
					     "asg_names" : ["eks-*"],
					     "hook_names" : ["h"],
					     "metadata_match" : {"role" : "sig*"},
					     "networks" : [NET_OK]
				     },
				     {
					     "name" : "glob",
					     "asg_names" : ["eks-*"],
					     "hook_names" : ["h"],
					     "metadata_match" : "plain=*",
					     "networks" : [NET_OK]
				     },
				     {
					     "name" : "exact",
					     "asg_names" : ["workers"],
					     "hook_names" : ["h"],
					     "networks" : [NET_OK]
				     }
			     ]
		     }),
		     &c);
	const hook_node_group *g;
	g = hook_config_match_group(c, "eks-a", "{\"role\":\"signal\"}");
	assert_non_null(g);
	assert_string_equal(g->name, "meta");
	g = hook_config_match_group(c, "eks-a", "plain=yes");
	assert_non_null(g);
	assert_string_equal(g->name, "glob");
	assert_null(hook_config_match_group(c, "eks-a", NULL));
	assert_null(hook_config_match_group(c, "eks-a", "{\"role\":\"oam\"}"));
	g = hook_config_match_group(c, "workers", NULL);
	assert_non_null(g);
	assert_string_equal(g->name, "exact");
	assert_null(hook_config_match_group(c, "workers-2", NULL));
	hook_config_free(c);
}

static void test_syntax_helpers(void **state)
{
	(void)state;
	char why[128];
	assert_true(hook_cidr_syntax_ok("10.0.0.0/24", why, sizeof(why)));
	assert_true(hook_cidr_syntax_ok("2600:1f18::/56", why, sizeof(why)));
	assert_true(hook_cidr_syntax_ok("10.0.0.7/32", why, sizeof(why)));
	assert_false(hook_cidr_syntax_ok("10.0.0.7/24", why, sizeof(why)));
	assert_false(hook_cidr_syntax_ok("10.0.0.0/33", why, sizeof(why)));
	assert_false(hook_cidr_syntax_ok("10.0.0.0", why, sizeof(why)));
	assert_true(hook_range_syntax_ok("10.0.0.1-10.0.0.1", why, sizeof(why)));
	assert_false(hook_range_syntax_ok("10.0.0.1-::1", why, sizeof(why)));
	assert_true(hk_json_depth_ok("[[[\"[[[[\"]]]", 12, 3));
	assert_false(hk_json_depth_ok("[[[[]]]]", 8, 3));
}

#define GROUP_HOOKS(...)                                                                           \
	J({                                                                                        \
		AUTH_OK,                                                                           \
		"state_dir" : "/s",                                                                \
		"node_groups" :                                                                    \
		    [ {"name" : "g", "asg_names" : ["a"], __VA_ARGS__ "networks" : [NET_OK]} ]     \
	})

static void test_hook_names_required_and_checked(void **state)
{
	(void)state;
	/* missing: the message says why it is required */
	expect_problem(GROUP_HOOKS(), "node_groups[0].hook_names: missing (required)");
	expect_problem(GROUP_HOOKS(), "other tools' hooks");
	expect_problem(GROUP_HOOKS("hook_names"
				   : [], ),
		       "node_groups[0].hook_names: must not be empty");
	expect_problem(GROUP_HOOKS("hook_names"
				   : "multus-launch", ),
		       "node_groups[0].hook_names: must be an array");
	expect_problem(GROUP_HOOKS("hook_names"
				   : [ "ok", 7 ], ),
		       "node_groups[0].hook_names[1]: must be a non-empty string");
	expect_problem(GROUP_HOOKS("hook_names"
				   : ["multus-*"], ),
		       "node_groups[0].hook_names[0]: \"multus-*\": a lifecycle hook name uses");
	expect_problem(GROUP_HOOKS("hook_names" : ["a.b"], ), "hook_names[0]: \"a.b\"");
	expect_problem(GROUP_HOOKS("hook_names"
				   : [ "x", "y", "x" ], ),
		       "node_groups[0].hook_names[2]: \"x\": listed twice");
	expect_problem(GROUP_HOOKS("hook_names"
				   :
				   [
					   "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9",
					   "h10", "h11", "h12", "h13", "h14", "h15", "h16", "h17"
				   ], ),
		       "node_groups[0].hook_names: at most 16 hook names per group");
	hook_config *c = NULL;
	expect_valid(GROUP_HOOKS("hook_names" : [ "multus-launch", "a/b_c-9" ], ), &c);
	assert_int_equal(c->groups[0].n_hook_names, 2);
	assert_string_equal(c->groups[0].hook_names[0], "multus-launch");
	assert_string_equal(c->groups[0].hook_names[1], "a/b_c-9");
	assert_true(hook_group_owns_hook(&c->groups[0], "a/b_c-9"));
	assert_false(hook_group_owns_hook(&c->groups[0], "multus-launc"));
	assert_false(hook_group_owns_hook(&c->groups[0], "MULTUS-LAUNCH"));
	assert_false(hook_group_owns_hook(&c->groups[0], NULL));
	hook_config_free(c);
}

static void test_match_event_by_hook(void **state)
{
	(void)state;
	hook_config *c = NULL;
	expect_valid(J({
			     AUTH_OK,
			     "state_dir" : "/s",
			     "node_groups" : [
				     {
					     "name" : "sig",
					     "asg_names" : ["eks-*"],
					     "hook_names" : [ "sig-launch", "sig-terminate" ],
					     "networks" : [NET_OK]
				     },
				     {
					     "name" : "oam",
					     "asg_names" : ["eks-*"],
					     "hook_names" : ["oam-launch"],
					     "networks" : [NET_OK]
				     }
			     ]
		     }),
		     &c);
	const hook_node_group *g = NULL;
	assert_int_equal(hook_config_match_event(c, "eks-a", "sig-terminate", NULL, &g),
			 HOOK_MATCH_OK);
	assert_string_equal(g->name, "sig");
	g = NULL;
	assert_int_equal(hook_config_match_event(c, "eks-a", "oam-launch", NULL, &g),
			 HOOK_MATCH_OK);
	assert_string_equal(g->name, "oam");
	/* another tool's hook on a group we serve: foreign, *ret the first group */
	g = NULL;
	assert_int_equal(hook_config_match_event(c, "eks-a", "drain", NULL, &g),
			 HOOK_MATCH_FOREIGN_HOOK);
	assert_non_null(g);
	assert_string_equal(g->name, "sig");
	/* no group serves the ASG: NO_GROUP, *ret untouched */
	g = NULL;
	assert_int_equal(hook_config_match_event(c, "other", "sig-launch", NULL, &g),
			 HOOK_MATCH_NO_GROUP);
	assert_null(g);
	assert_int_equal(hook_config_match_event(c, NULL, "sig-launch", NULL, &g),
			 HOOK_MATCH_NO_GROUP);
	assert_int_equal(hook_config_match_event(c, "eks-a", NULL, NULL, &g),
			 HOOK_MATCH_FOREIGN_HOOK);
	hook_config_free(c);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_valid_minimal_defaults),
    cmocka_unit_test(test_device_index_defaults_to_position),
    cmocka_unit_test(test_docs_example_full),
    cmocka_unit_test(test_docs_example_minimal),
    cmocka_unit_test(test_full_example_values),
    cmocka_unit_test(test_not_json),
    cmocka_unit_test(test_duplicate_keys),
    cmocka_unit_test(test_too_deep),
    cmocka_unit_test(test_not_object),
    cmocka_unit_test(test_rate_limits_valid),
    cmocka_unit_test(test_rate_limits_problems),
    cmocka_unit_test(test_notify),
    cmocka_unit_test(test_unknown_key_top),
    cmocka_unit_test(test_unknown_key_nested_path),
    cmocka_unit_test(test_missing_required_all_reported),
    cmocka_unit_test(test_wrong_types),
    cmocka_unit_test(test_out_of_range),
    cmocka_unit_test(test_bad_enum_ip_mode_path),
    cmocka_unit_test(test_bad_failure_result_and_terminate),
    cmocka_unit_test(test_cidr_host_bits),
    cmocka_unit_test(test_range_reversed),
    cmocka_unit_test(test_range_not_address),
    cmocka_unit_test(test_dhcp_needs_cidr_pod_ranges),
    cmocka_unit_test(test_pod_ranges_overlap),
    cmocka_unit_test(test_subnet_selection),
    cmocka_unit_test(test_security_group_ids),
    cmocka_unit_test(test_device_index_rules),
    cmocka_unit_test(test_duplicate_names),
    cmocka_unit_test(test_reserved_tags),
    cmocka_unit_test(test_auth_problems),
    cmocka_unit_test(test_aws_problems),
    cmocka_unit_test(test_listener_problems),
    cmocka_unit_test(test_empty_arrays_and_strings),
    cmocka_unit_test(test_many_problems_all_reported),
    cmocka_unit_test(test_metadata_match_type),
    cmocka_unit_test(test_secret_file_read),
    cmocka_unit_test(test_secret_file_strict),
    cmocka_unit_test(test_admin_auth),
    cmocka_unit_test(test_secret_file_problems),
    cmocka_unit_test(test_basic_expectation),
    cmocka_unit_test(test_match_group),
    cmocka_unit_test(test_syntax_helpers),
    cmocka_unit_test(test_hook_names_required_and_checked),
    cmocka_unit_test(test_match_event_by_hook),
};

HK_TEST_MAIN(tests)
