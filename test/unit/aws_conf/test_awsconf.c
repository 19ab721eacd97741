/* aws/awsconf.c: shared-file INI parsing (data-driven cases in data/), shared
 * credentials, region and endpoint precedence, endpoint URL checks. */
#include "hk_test.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "awsconf.h"
#include "hk_caps.h"

/* ---- a fake environment ---- */

typedef struct fake_env {
	const char *kv[16][2];
} fake_env;

static const char *env_lookup(const char *name, void *arg)
{
	const fake_env *e = arg;
	for (size_t i = 0; i < HK_ARRAY_LEN(e->kv) && e->kv[i][0]; i++)
		if (!strcmp(e->kv[i][0], name))
			return e->kv[i][1];
	return NULL;
}

/* ---- data-driven INI cases ---- */

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 1 >= cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

/* "a\nb" in .expect files stands for a line break. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] == 'n') {
			*w++ = '\n';
			r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

typedef void (*case_fn)(const char *dir, const char *name, awsconf_file_kind kind);

static int for_each_case(const char *sub, case_fn fn)
{
	char dirpath[4096];
	snprintf(dirpath, sizeof(dirpath), "%s/%s", HK_CONF_DATA_DIR, sub);
	DIR *d = opendir(dirpath);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".ini"))
			continue;
		char name[256];
		assert_true(l - 4 < sizeof(name));
		memcpy(name, de->d_name, l - 4);
		name[l - 4] = '\0';
		awsconf_file_kind kind;
		if (!strncmp(name, "config-", 7))
			kind = AWSCONF_FILE_CONFIG;
		else if (!strncmp(name, "credentials-", 12))
			kind = AWSCONF_FILE_CREDENTIALS;
		else
			fail_msg("%s: name must start with config- or credentials-", name);
		fn(dirpath, name, kind);
		n++;
	}
	closedir(d);
	return n;
}

static void run_valid(const char *dir, const char *name, awsconf_file_kind kind)
{
	char path[4600];
	size_t len, elen;
	snprintf(path, sizeof(path), "%s/%s.ini", dir, name);
	char *data = slurp(path, &len);
	snprintf(path, sizeof(path), "%s/%s.expect", dir, name);
	char *expect = slurp(path, &elen);
	awsconf_ini *ini = NULL;
	hk_errinfo ei = {0};
	hk_err err = awsconf_ini_parse(data, len, kind, &ini, &ei);
	if (err != HK_OK)
		fail_msg("%s: %s (%s)", name, hk_err_str(err), ei.text);
	char *save = NULL;
	for (char *line = strtok_r(expect, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool absent = line[0] == '!';
		char *profile = line + absent;
		char *key = strchr(profile, '|');
		assert_non_null(key);
		*key++ = '\0';
		char *want = strchr(key, '|');
		if (want) {
			*want++ = '\0';
			unescape(want);
		}
		const char *got = awsconf_ini_get(ini, profile, key);
		if (absent && got)
			fail_msg("%s: [%s] %s = '%s', want absent", name, profile, key, got);
		if (!absent && (!got || strcmp(got, want)))
			fail_msg("%s: [%s] %s = '%s', want '%s'", name, profile, key,
				 got ? got : "(absent)", want);
	}
	awsconf_ini_free(ini);
	free(data);
	free(expect);
}

static void run_invalid(const char *dir, const char *name, awsconf_file_kind kind)
{
	char path[4600];
	size_t len, elen;
	snprintf(path, sizeof(path), "%s/%s.ini", dir, name);
	char *data = slurp(path, &len);
	snprintf(path, sizeof(path), "%s/%s.expect", dir, name);
	char *expect = slurp(path, &elen);
	unsigned long want_line = 0;
	char code[16];
	if (sscanf(expect, "%15s %lu", code, &want_line) != 2 || strcmp(code, "PARSE"))
		fail_msg("%s.expect: want 'PARSE <line>'", name);
	awsconf_ini *ini = (awsconf_ini *)0x1;
	hk_errinfo ei = {0};
	hk_err err = awsconf_ini_parse(data, len, kind, &ini, &ei);
	if (err != HK_ERR_PARSE)
		fail_msg("%s: got %s, want parse error", name, hk_err_str(err));
	assert_ptr_equal(ini, (awsconf_ini *)0x1); /* output untouched */
	assert_int_equal(ei.code, HK_ERR_PARSE);
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "line %lu: ", want_line);
	if (strncmp(ei.text, prefix, strlen(prefix)))
		fail_msg("%s: error '%s', want it to start with '%s'", name, ei.text, prefix);
	/* The offset is the start of that line. */
	size_t off = 0;
	for (unsigned long l = 1; l < want_line; l++)
		off = (size_t)(strchr(data + off, '\n') - data) + 1;
	assert_int_equal(ei.offset, off);
	free(data);
	free(expect);
}

static void test_ini_valid_cases(void **state)
{
	(void)state;
	assert_true(for_each_case("valid", run_valid) >= 7);
}

static void test_ini_invalid_cases(void **state)
{
	(void)state;
	assert_true(for_each_case("invalid", run_invalid) >= 10);
}

static void test_ini_size_cap(void **state)
{
	(void)state;
	size_t len = HK_CAP_CREDS_FILE + 1;
	char *big = malloc(len);
	assert_non_null(big);
	memset(big, '#', len);
	awsconf_ini *ini = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(awsconf_ini_parse(big, len, AWSCONF_FILE_CONFIG, &ini, &ei),
			 HK_ERR_TOO_LARGE);
	assert_null(ini);
	/* Exactly at the cap is fine (all one comment line). */
	assert_int_equal(awsconf_ini_parse(big, len - 1, AWSCONF_FILE_CONFIG, &ini, &ei), HK_OK);
	awsconf_ini_free(ini);
	free(big);
	awsconf_ini_free(NULL);
}

/* Input need not be NUL-terminated, and the parser reads only `len` bytes. */
static void test_ini_not_terminated(void **state)
{
	(void)state;
	const char text[] = "[default]\nregion = us-east-1XXXX";
	size_t len = strlen("[default]\nregion = us-east-1");
	char *exact = malloc(len);
	assert_non_null(exact);
	memcpy(exact, text, len);
	awsconf_ini *ini;
	assert_int_equal(awsconf_ini_parse(exact, len, AWSCONF_FILE_CONFIG, &ini, NULL), HK_OK);
	assert_string_equal(awsconf_ini_get(ini, "default", "REGION"), "us-east-1");
	assert_true(awsconf_ini_has_profile(ini, "default"));
	assert_false(awsconf_ini_has_profile(ini, "nope"));
	awsconf_ini_free(ini);
	free(exact);
}

/* ---- shared credentials ---- */

static const char creds_file[] = "[default]\n"
				 "aws_access_key_id = AKIDCREDS\n"
				 "aws_secret_access_key = SECRETCREDS\n"
				 "[tok]\n"
				 "aws_access_key_id = AKIDTOK\n"
				 "aws_secret_access_key = SECRETTOK\n"
				 "aws_session_token = TOKEN\n"
				 "[partial]\n"
				 "aws_access_key_id = AKIDONLY\n"
				 "[emptytoken]\n"
				 "aws_access_key_id = A\n"
				 "aws_secret_access_key = S\n"
				 "aws_session_token =\n";

static const char config_file[] = "[default]\n"
				  "aws_access_key_id = AKIDCONFIG\n"
				  "aws_secret_access_key = SECRETCONFIG\n"
				  "[profile cfgonly]\n"
				  "region = eu-west-1\n"
				  "aws_access_key_id = AKIDCFG\n"
				  "aws_secret_access_key = SECRETCFG\n"
				  "aws_session_token = CFGTOKEN\n"
				  "[profile role]\n"
				  "role_arn = arn:aws:iam::123456789012:role/x\n"
				  "source_profile = default\n"
				  "[profile regiononly]\n"
				  "region = us-east-1\n";

static void test_shared_creds(void **state)
{
	(void)state;
	awsconf_creds c = {0};
	hk_errinfo ei = {0};
	/* The credentials file wins over the config file. */
	assert_int_equal(awsconf_shared_creds(creds_file, strlen(creds_file), config_file,
					      strlen(config_file), NULL, &c, &ei),
			 HK_OK);
	assert_string_equal(c.access_key_id, "AKIDCREDS");
	assert_string_equal(c.secret_access_key, "SECRETCREDS");
	assert_null(c.session_token);
	awsconf_creds_cleanup(&c);
	assert_null(c.access_key_id);
	/* Session token. */
	assert_int_equal(awsconf_shared_creds(creds_file, strlen(creds_file), config_file,
					      strlen(config_file), "tok", &c, &ei),
			 HK_OK);
	assert_string_equal(c.session_token, "TOKEN");
	awsconf_creds_cleanup(&c);
	/* An empty token is no token. */
	assert_int_equal(
	    awsconf_shared_creds(creds_file, strlen(creds_file), NULL, 0, "emptytoken", &c, &ei),
	    HK_OK);
	assert_null(c.session_token);
	awsconf_creds_cleanup(&c);
	/* Only in the config file, under [profile NAME], all three from there. */
	assert_int_equal(awsconf_shared_creds(creds_file, strlen(creds_file), config_file,
					      strlen(config_file), "cfgonly", &c, &ei),
			 HK_OK);
	assert_string_equal(c.access_key_id, "AKIDCFG");
	assert_string_equal(c.session_token, "CFGTOKEN");
	awsconf_creds_cleanup(&c);
	/* No credentials file at all. */
	assert_int_equal(
	    awsconf_shared_creds(NULL, 0, config_file, strlen(config_file), "default", &c, &ei),
	    HK_OK);
	assert_string_equal(c.access_key_id, "AKIDCONFIG");
	awsconf_creds_cleanup(&c);
	awsconf_creds_cleanup(NULL);
}

static void test_shared_creds_errors(void **state)
{
	(void)state;
	awsconf_creds c = {(char *)"untouched", NULL, NULL};
	hk_errinfo ei = {0};
	assert_int_equal(awsconf_shared_creds(creds_file, strlen(creds_file), config_file,
					      strlen(config_file), "partial", &c, &ei),
			 HK_ERR_INVALID);
	assert_non_null(strstr(ei.text, "aws_access_key_id without aws_secret_access_key"));
	assert_int_equal(awsconf_shared_creds(creds_file, strlen(creds_file), config_file,
					      strlen(config_file), "role", &c, &ei),
			 HK_ERR_NOT_FOUND);
	assert_non_null(strstr(ei.text, "role_arn"));
	assert_int_equal(awsconf_shared_creds(creds_file, strlen(creds_file), config_file,
					      strlen(config_file), "regiononly", &c, &ei),
			 HK_ERR_NOT_FOUND);
	assert_non_null(strstr(ei.text, "no aws_access_key_id"));
	assert_int_equal(awsconf_shared_creds(creds_file, strlen(creds_file), config_file,
					      strlen(config_file), "missing", &c, &ei),
			 HK_ERR_NOT_FOUND);
	assert_non_null(strstr(ei.text, "not found"));
	assert_int_equal(awsconf_shared_creds(NULL, 0, NULL, 0, "default", &c, &ei),
			 HK_ERR_NOT_FOUND);
	/* A parse error names the file and the line, never the secret on it. */
	const char bad[] = "[default]\naws_secret_access_key SUPERSECRET\n";
	assert_int_equal(
	    awsconf_shared_creds(bad, strlen(bad), config_file, strlen(config_file), NULL, &c, &ei),
	    HK_ERR_PARSE);
	assert_string_equal(ei.text, "credentials file: line 2: expected 'key = value'");
	assert_null(strstr(ei.text, "SUPERSECRET"));
	assert_int_equal(awsconf_shared_creds(creds_file, strlen(creds_file), bad, strlen(bad),
					      "cfgonly", &c, &ei),
			 HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "config file: line 2"));
	assert_string_equal(c.access_key_id, "untouched");
}

/* ---- paths and profile ---- */

static void check_path(const fake_env *e, bool config, hk_err want_err, const char *want)
{
	char *p = NULL;
	hk_err err = config ? awsconf_config_path(env_lookup, (void *)(uintptr_t)e, &p)
			    : awsconf_credentials_path(env_lookup, (void *)(uintptr_t)e, &p);
	assert_int_equal(err, want_err);
	if (want)
		assert_string_equal(p, want);
	else
		assert_null(p);
	free(p);
}

static void test_paths_and_profile(void **state)
{
	(void)state;
	fake_env home = {{{"HOME", "/home/u"}}};
	check_path(&home, true, HK_OK, "/home/u/.aws/config");
	check_path(&home, false, HK_OK, "/home/u/.aws/credentials");
	fake_env slash = {{{"HOME", "/root/"}}};
	check_path(&slash, true, HK_OK, "/root/.aws/config");
	fake_env set = {{{"HOME", "/home/u"},
			 {"AWS_CONFIG_FILE", "/etc/hookd/aws-config"},
			 {"AWS_SHARED_CREDENTIALS_FILE", "~/creds"}}};
	check_path(&set, true, HK_OK, "/etc/hookd/aws-config");
	check_path(&set, false, HK_OK, "/home/u/creds");
	fake_env nohome = {{{"AWS_SHARED_CREDENTIALS_FILE", "~/creds"}}};
	check_path(&nohome, true, HK_ERR_NOT_FOUND, NULL);
	check_path(&nohome, false, HK_ERR_NOT_FOUND, NULL);
	fake_env empty = {{{"HOME", "/h"}, {"AWS_CONFIG_FILE", ""}}};
	check_path(&empty, true, HK_OK, "/h/.aws/config");

	fake_env none = {{{NULL, NULL}}};
	assert_string_equal(awsconf_profile(env_lookup, &none), "default");
	fake_env prof = {{{"AWS_PROFILE", "prod"}}};
	assert_string_equal(awsconf_profile(env_lookup, &prof), "prod");
	fake_env emptyprof = {{{"AWS_PROFILE", ""}}};
	assert_string_equal(awsconf_profile(env_lookup, &emptyprof), "default");
	assert_string_equal(awsconf_profile(NULL, NULL), "default");
}

/* ---- region ---- */

static hk_err region_of(const fake_env *e, const char *config, char *out, hk_errinfo *ei)
{
	return awsconf_region(env_lookup, (void *)(uintptr_t)e, config, config ? strlen(config) : 0,
			      out, ei);
}

static void test_region_precedence(void **state)
{
	(void)state;
	char r[AWSCONF_REGION_MAX];
	hk_errinfo ei = {0};
	const char cfg[] = "[default]\nregion = us-west-1\n[profile prod]\nregion = eu-west-1\n";
	fake_env both = {{{"AWS_REGION", "us-east-2"}, {"AWS_DEFAULT_REGION", "ap-south-1"}}};
	assert_int_equal(region_of(&both, cfg, r, &ei), HK_OK);
	assert_string_equal(r, "us-east-2");
	fake_env dflt = {{{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "ap-south-1"}}};
	assert_int_equal(region_of(&dflt, cfg, r, &ei), HK_OK);
	assert_string_equal(r, "ap-south-1");
	fake_env none = {{{NULL, NULL}}};
	assert_int_equal(region_of(&none, cfg, r, &ei), HK_OK);
	assert_string_equal(r, "us-west-1");
	fake_env prod = {{{"AWS_PROFILE", "prod"}}};
	assert_int_equal(region_of(&prod, cfg, r, &ei), HK_OK);
	assert_string_equal(r, "eu-west-1");
	/* Nothing configured: ask IMDS. */
	fake_env other = {{{"AWS_PROFILE", "other"}}};
	memset(r, 'x', sizeof(r));
	assert_int_equal(region_of(&other, cfg, r, &ei), HK_ERR_NOT_FOUND);
	assert_int_equal(r[0], 'x');
	assert_int_equal(region_of(&none, NULL, r, &ei), HK_ERR_NOT_FOUND);
	/* A broken config file matters only when it is consulted. */
	const char broken[] = "[default\n";
	assert_int_equal(region_of(&both, broken, r, &ei), HK_OK);
	assert_int_equal(region_of(&none, broken, r, &ei), HK_ERR_PARSE);
	assert_string_equal(ei.text, "config file: line 1: section header without ']'");
	/* Invalid values. */
	fake_env bad = {{{"AWS_REGION", "us-east-1.evil.com/"}}};
	assert_int_equal(region_of(&bad, cfg, r, &ei), HK_ERR_INVALID);
	assert_non_null(strstr(ei.text, "AWS_REGION"));
	const char badcfg[] = "[default]\nregion = US-EAST-1\n";
	assert_int_equal(region_of(&none, badcfg, r, &ei), HK_ERR_INVALID);
	assert_non_null(strstr(ei.text, "config file"));
}

static void test_region_valid(void **state)
{
	(void)state;
	assert_true(awsconf_region_valid("us-east-1"));
	assert_true(awsconf_region_valid("cn-northwest-1"));
	assert_true(awsconf_region_valid("us-gov-west-1"));
	assert_false(awsconf_region_valid(""));
	assert_false(awsconf_region_valid(NULL));
	assert_false(awsconf_region_valid("-us"));
	assert_false(awsconf_region_valid("us-"));
	assert_false(awsconf_region_valid("us_east_1"));
	assert_false(awsconf_region_valid("us.east"));
	char longr[80];
	memset(longr, 'a', sizeof(longr) - 1);
	longr[sizeof(longr) - 1] = '\0';
	assert_false(awsconf_region_valid(longr));
	longr[AWSCONF_REGION_MAX - 1] = '\0';
	assert_true(awsconf_region_valid(longr));
}

/* ---- endpoints ---- */

static void check_endpoint(const fake_env *e, awsconf_service svc, const char *region,
			   hk_err want_err, const char *want)
{
	char *url = NULL;
	hk_errinfo ei = {0};
	hk_err err = awsconf_endpoint(svc, region, env_lookup, (void *)(uintptr_t)e, &url, &ei);
	if (err != want_err)
		fail_msg("%s in %s: %s (%s), want %s", awsconf_service_signing_name(svc),
			 region ? region : "NULL", hk_err_str(err), ei.text, hk_err_str(want_err));
	if (want)
		assert_string_equal(url, want);
	else
		assert_null(url);
	free(url);
}

static void test_endpoint_defaults(void **state)
{
	(void)state;
	fake_env none = {{{NULL, NULL}}};
	check_endpoint(&none, AWSCONF_SVC_EC2, "us-west-2", HK_OK,
		       "https://ec2.us-west-2.amazonaws.com");
	check_endpoint(&none, AWSCONF_SVC_AUTOSCALING, "us-west-2", HK_OK,
		       "https://autoscaling.us-west-2.amazonaws.com");
	check_endpoint(&none, AWSCONF_SVC_STS, "eu-west-1", HK_OK,
		       "https://sts.eu-west-1.amazonaws.com");
	check_endpoint(&none, AWSCONF_SVC_SQS, "ap-south-1", HK_OK,
		       "https://sqs.ap-south-1.amazonaws.com");
	check_endpoint(&none, AWSCONF_SVC_EC2, "cn-north-1", HK_OK,
		       "https://ec2.cn-north-1.amazonaws.com.cn");
	check_endpoint(&none, AWSCONF_SVC_SQS, "cn-northwest-1", HK_OK,
		       "https://sqs.cn-northwest-1.amazonaws.com.cn");
	check_endpoint(&none, AWSCONF_SVC_EC2, "bad/region", HK_ERR_INVALID, NULL);
	check_endpoint(&none, AWSCONF_SVC_EC2, NULL, HK_ERR_INVALID, NULL);
	check_endpoint(&none, AWSCONF_SVC__COUNT, "us-east-1", HK_ERR_INVALID, NULL);
	assert_string_equal(awsconf_service_signing_name(AWSCONF_SVC_AUTOSCALING), "autoscaling");
	assert_null(awsconf_service_signing_name(AWSCONF_SVC__COUNT));
}

static void test_endpoint_overrides(void **state)
{
	(void)state;
	fake_env e = {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
		       {"AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:5000/"},
		       {"AWS_ENDPOINT_URL_AUTO_SCALING", "http://[::1]:5001"},
		       {"AWS_ENDPOINT_URL_SQS", ""}}};
	check_endpoint(&e, AWSCONF_SVC_EC2, "us-east-1", HK_OK, "http://127.0.0.1:5000/");
	check_endpoint(&e, AWSCONF_SVC_AUTOSCALING, "us-east-1", HK_OK, "http://[::1]:5001");
	check_endpoint(&e, AWSCONF_SVC_STS, "us-east-1", HK_OK, "http://127.0.0.1:4566");
	check_endpoint(&e, AWSCONF_SVC_SQS, "us-east-1", HK_OK, "http://127.0.0.1:4566");
	/* The region still has to be valid: it is the signing region. */
	check_endpoint(&e, AWSCONF_SVC_EC2, "", HK_ERR_INVALID, NULL);
	fake_env ign = {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
			 {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"}}};
	check_endpoint(&ign, AWSCONF_SVC_STS, "us-east-1", HK_OK,
		       "https://sts.us-east-1.amazonaws.com");
	fake_env notign = {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
			    {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"}}};
	check_endpoint(&notign, AWSCONF_SVC_STS, "us-east-1", HK_OK, "http://127.0.0.1:4566");
	/* A bad override is an error naming the variable, not a silent fallback. */
	fake_env bad = {{{"AWS_ENDPOINT_URL_STS", "ftp://x"}}};
	char *url = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(
	    awsconf_endpoint(AWSCONF_SVC_STS, "us-east-1", env_lookup, &bad, &url, &ei),
	    HK_ERR_INVALID);
	assert_null(url);
	assert_string_equal(ei.text, "AWS_ENDPOINT_URL_STS: URL scheme must be http or https");
}

typedef struct url_row {
	const char *url;
	hk_err err;
	bool https;
	const char *host;
	unsigned port;
	const char *host_header;
	const char *path;
} url_row;

static const url_row urls[] = {
    {"https://ec2.us-east-1.amazonaws.com", HK_OK, true, "ec2.us-east-1.amazonaws.com", 0,
     "ec2.us-east-1.amazonaws.com", "/"},
    {"http://127.0.0.1:4566", HK_OK, false, "127.0.0.1", 4566, "127.0.0.1:4566", "/"},
    {"HTTP://localhost:80/", HK_OK, false, "localhost", 80, "localhost", "/"},
    {"https://h:443/base/path", HK_OK, true, "h", 443, "h", "/base/path"},
    {"https://h:80", HK_OK, true, "h", 80, "h:80", "/"},
    {"http://[::1]:5000", HK_OK, false, "[::1]", 5000, "[::1]:5000", "/"},
    {"http://[fd00::a:1]/", HK_OK, false, "[fd00::a:1]", 0, "[fd00::a:1]", "/"},
    {"http://my_host.local", HK_OK, false, "my_host.local", 0, "my_host.local", "/"},
    {"ftp://h", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"h:4566", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http:///path", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://:80", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://h:", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://h:0", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://h:65536", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://h:123456", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://h:8x", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://user:pw@h", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://h h", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://h/\x01", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://h\xc3\xbc", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://h/?q=1", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://h#frag", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://[::1", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://[]", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://[::g]", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"http://[::1]x", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
    {"", HK_ERR_INVALID, false, NULL, 0, NULL, NULL},
};

static void test_url_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < HK_ARRAY_LEN(urls); i++) {
		const url_row *r = &urls[i];
		awsconf_url u;
		hk_errinfo ei = {0};
		hk_err err = awsconf_url_parse(r->url, &u, &ei);
		if (err != r->err)
			fail_msg("'%s': %s (%s), want %s", r->url, hk_err_str(err), ei.text,
				 hk_err_str(r->err));
		if (err != HK_OK)
			continue;
		assert_int_equal(u.https, r->https);
		assert_string_equal(u.host, r->host);
		assert_int_equal(u.port, r->port);
		assert_string_equal(u.host_header, r->host_header);
		assert_string_equal(u.path, r->path);
	}
	assert_int_equal(awsconf_url_parse(NULL, NULL, NULL), HK_ERR_INVALID);
	char longhost[400] = "http://";
	memset(longhost + 7, 'a', 300);
	longhost[307] = '\0';
	assert_int_equal(awsconf_url_parse(longhost, NULL, NULL), HK_ERR_INVALID);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ini_valid_cases),    cmocka_unit_test(test_ini_invalid_cases),
    cmocka_unit_test(test_ini_size_cap),       cmocka_unit_test(test_ini_not_terminated),
    cmocka_unit_test(test_shared_creds),       cmocka_unit_test(test_shared_creds_errors),
    cmocka_unit_test(test_paths_and_profile),  cmocka_unit_test(test_region_precedence),
    cmocka_unit_test(test_region_valid),       cmocka_unit_test(test_endpoint_defaults),
    cmocka_unit_test(test_endpoint_overrides), cmocka_unit_test(test_url_parse),
};

HK_TEST_MAIN(tests)
