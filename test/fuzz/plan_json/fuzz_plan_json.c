/* libFuzzer target for the --input JSON of `multus-hookd plan`: the schema walk
 * (plan_cfg_from_json) and plan_build on whatever it accepts. hook/cli/plan.c is
 * included so its static functions can be driven without files or stdout.
 * Checks: a failure leaves one message; a success gives `count` ascending addresses
 * inside the subnet, none AWS-reserved, and --json output that jansson parses back
 * to the same addresses. */
#include "plan.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_plan_json: check failed: %s (line %d)\n", #cond,     \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void check_result(const plan_cfg *cfg, const plan_result *res)
{
	CHECK(res->n == (cfg->count ? cfg->count : 1));
	for (size_t i = 0; i < res->n; i++) {
		CHECK(cidr_prefix_contains(&res->subnet, &res->addrs[i]));
		CHECK(!cidr_subnet_is_aws_reserved(&res->subnet, &res->addrs[i]));
		if (i)
			CHECK(cidr_addr_cmp(&res->addrs[i - 1], &res->addrs[i]) < 0);
	}
	CHECK(res->after.free + res->n == res->before.free);

	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	CHECK(mem != NULL);
	plan_print_json(mem, res);
	plan_print_text(mem, res);
	CHECK(fclose(mem) == 0);
	/* The JSON document comes first; decode just it. */
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, &jerr);
	CHECK(doc != NULL);
	json_t *addrs = json_object_get(doc, "addresses");
	CHECK(json_is_array(addrs) && json_array_size(addrs) == res->n);
	for (size_t i = 0; i < res->n; i++) {
		cidr_str sb;
		const char *s = json_string_value(json_array_get(addrs, i));
		CHECK(s && !strcmp(s, cidr_addr_str(&res->addrs[i], &sb)));
	}
	json_decref(doc);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	plan_cfg cfg;
	plan_result res;
	char err[PLAN_ERR_LEN] = "";
	memset(&cfg, 0, sizeof(cfg));
	hk_err st = plan_cfg_from_json(&cfg, (const char *)data, size, "fuzz.json", err);
	if (st == HK_OK) {
		st = plan_build(&cfg, &res, err);
		if (st == HK_OK) {
			check_result(&cfg, &res);
			result_cleanup(&res);
		}
	}
	if (st != HK_OK) {
		/* One line of printable text: input bytes are escaped in messages. */
		CHECK(err[0] != '\0');
		for (const char *p = err; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	}
	cfg_cleanup(&cfg);
	return 0;
}
