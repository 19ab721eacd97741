/* creds: provider chain order, each provider against a loopback server or
 * local files, caching, single flight, refresh before expiry (injected clock). */
#include "hk_test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "creds.h"
#include "fake_server.h"
#include "httpc.h"

#define EXP_2030   "2030-01-01T00:00:00Z"
#define EXP_2030_S 1893456000LL
#define CONTAINER_OK                                                                               \
	"{\"AccessKeyId\":\"ASIACONTAINER\",\"SecretAccessKey\":\"c-secret\",\"Token\":\"c-tok\"," \
	"\"Expiration\":\"" EXP_2030 "\"}"
#define STS_OK                                                                                     \
	"<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"  \
	"<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAWEBID</AccessKeyId>"       \
	"<SecretAccessKey>w-secret</SecretAccessKey><SessionToken>w-tok</SessionToken>"            \
	"<Expiration>" EXP_2030 "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"    \
	"<ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata>"                           \
	"</AssumeRoleWithWebIdentityResponse>"
#define IMDS_CREDS                                                                                 \
	"{\"Code\":\"Success\",\"LastUpdated\":\"2029-12-31T23:00:00Z\",\"Type\":\"AWS-HMAC\","    \
	"\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":\"i-secret\",\"Token\":\"i-tok\","       \
	"\"Expiration\":\"" EXP_2030 "\"}"

struct env {
	const char *k[24];
	const char *v[24];
	size_t n;
};

static const char *env_fn(const char *name, void *arg)
{
	struct env *e = arg;
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->k[i], name) == 0)
			return e->v[i];
	return NULL;
}

static void env_set(struct env *e, const char *k, const char *v)
{
	e->k[e->n] = k;
	e->v[e->n] = v;
	e->n++;
}

struct fx {
	struct event_base *base;
	httpc *http;
	fsrv *srv;
	struct env env;
	char dir[64];
	char url[128];
	int64_t now;
	creds_config cfg;
	creds_provider *p;
};

struct got {
	int calls;
	hk_err err;
	char akid[64];
	char source[32];
	bool token;
	int64_t expiration;
	char errtext[512];
};

static int64_t now_fn(void *arg)
{
	return ((struct fx *)arg)->now;
}

static uint32_t zero_rand(void *arg)
{
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->base = event_base_new();
	assert_int_equal(httpc_new(f->base, &f->http), HK_OK);
	f->srv = fsrv_new(f->base);
	assert_non_null(f->srv);
	snprintf(f->dir, sizeof(f->dir), "/tmp/hk-creds-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	env_set(&f->env, "HOME", f->dir); /* no ~/.aws there */
	f->now = EXP_2030_S - 3600;
	f->cfg.env = env_fn;
	f->cfg.env_arg = &f->env;
	f->cfg.now = now_fn;
	f->cfg.now_arg = f;
	f->cfg.rand = zero_rand;
	f->cfg.sts_endpoint = fsrv_url(f->srv);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	creds_provider_free(f->p);
	httpc_free(f->http);
	fsrv_free(f->srv);
	event_base_free(f->base);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "%s/credentials", f->dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/token", f->dir);
	unlink(cmd);
	rmdir(f->dir);
	free(f);
	return 0;
}

static const char *write_file(struct fx *f, const char *name, const char *text)
{
	static char path[4][128];
	static int slot;
	char *p = path[slot++ % 4];
	snprintf(p, 128, "%s/%s", f->dir, name);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return p;
}

static void got_cb(hk_err err, creds_value *v, const char *errtext, void *arg)
{
	struct got *g = arg;
	g->calls++;
	g->err = err;
	snprintf(g->errtext, sizeof(g->errtext), "%s", errtext);
	if (v) {
		snprintf(g->akid, sizeof(g->akid), "%s", v->access_key_id);
		snprintf(g->source, sizeof(g->source), "%s", v->source);
		g->token = v->session_token != NULL;
		g->expiration = v->expiration;
	}
}

static void run_until(struct fx *f, const int *counter, int want)
{
	for (int i = 0; i < 2000 && *counter < want; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(*counter, want);
}

static void get_once(struct fx *f, struct got *g)
{
	if (!f->p)
		assert_int_equal(creds_provider_new(f->base, f->http, &f->cfg, &f->p), HK_OK);
	int before = g->calls;
	assert_int_equal(creds_get(f->p, got_cb, g), HK_OK);
	assert_int_equal(g->calls, before); /* never synchronous */
	run_until(f, &g->calls, before + 1);
}

static void add_container(struct fx *f, const char *token)
{
	static char req[128];
	snprintf(req, sizeof(req), "Authorization: %s", token);
	fsrv_route r = {.method = "GET",
			.path = "/creds",
			.status = 200,
			.body = CONTAINER_OK,
			.content_type = "application/json",
			.require = req};
	fsrv_add(f->srv, &r);
	snprintf(f->url, sizeof(f->url), "%s/creds", fsrv_url(f->srv));
	env_set(&f->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", f->url);
	env_set(&f->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN", token);
}

static void add_web_identity(struct fx *f)
{
	fsrv_route r = {.method = "POST", .path = "/", .status = 200, .body = STS_OK};
	fsrv_add(f->srv, &r);
	env_set(&f->env, "AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa");
	env_set(&f->env, "AWS_WEB_IDENTITY_TOKEN_FILE", write_file(f, "token", "jwt.token.sig\n"));
}

static void add_imds(struct fx *f)
{
	fsrv_route t = {
	    .method = "PUT", .path = "/latest/api/token", .status = 200, .body = "TOK1"};
	fsrv_route role = {.method = "GET",
			   .path = "/latest/meta-data/iam/security-credentials/",
			   .status = 200,
			   .body = "node-role\n",
			   .require = "X-aws-ec2-metadata-token: TOK1"};
	fsrv_route c = {.method = "GET",
			.path = "/latest/meta-data/iam/security-credentials/node-role",
			.status = 200,
			.body = IMDS_CREDS,
			.require = "X-aws-ec2-metadata-token: TOK1"};
	fsrv_route reg = {.method = "GET",
			  .path = "/latest/meta-data/placement/region",
			  .status = 200,
			  .body = "eu-west-3",
			  .require = "X-aws-ec2-metadata-token: TOK1"};
	fsrv_add(f->srv, &t);
	fsrv_add(f->srv, &role);
	fsrv_add(f->srv, &c);
	fsrv_add(f->srv, &reg);
	env_set(&f->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT", fsrv_url(f->srv));
}

static void add_files(struct fx *f)
{
	env_set(&f->env, "AWS_SHARED_CREDENTIALS_FILE",
		write_file(f, "credentials",
			   "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n"
			   "[p2]\naws_access_key_id = AKIDP2\naws_secret_access_key = s2\n"
			   "aws_session_token = t2\n"));
}

static void chain_env_first(void **state)
{
	struct fx *f = *state;
	env_set(&f->env, "AWS_ACCESS_KEY_ID", "AKIDENV");
	env_set(&f->env, "AWS_SECRET_ACCESS_KEY", "env-secret");
	add_web_identity(f);
	add_container(f, "tok");
	add_files(f);
	add_imds(f);
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_OK);
	assert_string_equal(g.source, "environment");
	assert_string_equal(g.akid, "AKIDENV");
	assert_false(g.token);
	assert_int_equal(g.expiration, 0);
	assert_int_equal(fsrv_n_seen(f->srv), 0);
}

static void chain_web_identity_beats_container(void **state)
{
	struct fx *f = *state;
	add_web_identity(f);
	add_container(f, "tok");
	add_files(f);
	add_imds(f);
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_OK);
	assert_string_equal(g.source, "web-identity");
	assert_string_equal(g.akid, "ASIAWEBID");
	assert_true(g.token);
	assert_int_equal(g.expiration, EXP_2030_S);
	assert_int_equal(fsrv_n_seen(f->srv), 1);
	const fsrv_seen *s = fsrv_seen_at(f->srv, 0);
	assert_string_equal(s->method, "POST");
	assert_string_equal(s->authorization, ""); /* unsigned */
	assert_non_null(strstr(s->body, "Action=AssumeRoleWithWebIdentity"));
	assert_non_null(strstr(s->body, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Firsa"));
	assert_non_null(strstr(s->body, "WebIdentityToken=jwt.token.sig&") ||
			strstr(s->body, "WebIdentityToken=jwt.token.sig"));
	assert_non_null(strstr(s->body, "RoleSessionName=multus-hookd-"));
	assert_non_null(strstr(s->content_type, "application/x-www-form-urlencoded"));
}

static void chain_container_beats_files(void **state)
{
	struct fx *f = *state;
	add_container(f, "pod-token");
	add_files(f);
	add_imds(f);
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_OK);
	assert_string_equal(g.source, "container");
	assert_string_equal(g.akid, "ASIACONTAINER");
	assert_int_equal(fsrv_n_seen(f->srv), 1);
	assert_string_equal(fsrv_seen_at(f->srv, 0)->authorization, "pod-token");
}

static void chain_container_token_file_wins(void **state)
{
	struct fx *f = *state;
	add_container(f, "from-file");
	/* The file takes precedence over the variable (rotated by EKS). */
	f->env.v[f->env.n - 1] = "stale-variable";
	env_set(&f->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		write_file(f, "token", "from-file\n"));
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_OK);
	assert_string_equal(fsrv_seen_at(f->srv, 0)->authorization, "from-file");
}

static void chain_files_beat_imds(void **state)
{
	struct fx *f = *state;
	add_files(f);
	add_imds(f);
	env_set(&f->env, "AWS_PROFILE", "p2");
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_OK);
	assert_string_equal(g.source, "shared-files");
	assert_string_equal(g.akid, "AKIDP2");
	assert_true(g.token);
	assert_int_equal(fsrv_n_seen(f->srv), 0);
}

static void chain_imds_last(void **state)
{
	struct fx *f = *state;
	add_imds(f);
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_OK);
	assert_string_equal(g.source, "imds");
	assert_string_equal(g.akid, "ASIAIMDS");
	assert_int_equal(g.expiration, EXP_2030_S);
	assert_int_equal(fsrv_n_seen(f->srv), 3);
	const fsrv_seen *t = fsrv_seen_at(f->srv, 0);
	assert_string_equal(t->method, "PUT");
	assert_string_equal(t->imds_ttl, "21600");
	assert_string_equal(fsrv_seen_at(f->srv, 2)->imds_token, "TOK1");
}

static void chain_nothing_configured(void **state)
{
	struct fx *f = *state;
	env_set(&f->env, "AWS_EC2_METADATA_DISABLED", "true");
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_ERR_NO_CREDENTIALS);
	assert_non_null(strstr(g.errtext, "no credentials"));
}

static void chain_imds_unreachable_is_no_credentials(void **state)
{
	struct fx *f = *state;
	env_set(&f->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT", fsrv_url(f->srv)); /* all 404 */
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_ERR_NO_CREDENTIALS);
	assert_non_null(strstr(g.errtext, "IMDS token"));
}

static void web_identity_error_does_not_fall_through(void **state)
{
	struct fx *f = *state;
	fsrv_route r = {.method = "POST",
			.path = "/",
			.status = 403,
			.body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
				"<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity"
				"</Message></Error><RequestId>x</RequestId></ErrorResponse>"};
	fsrv_add(f->srv, &r);
	env_set(&f->env, "AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa");
	env_set(&f->env, "AWS_WEB_IDENTITY_TOKEN_FILE", write_file(f, "token", "jwt"));
	add_files(f); /* configured web identity wins even when it fails */
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_ERR_DENIED);
	assert_non_null(strstr(g.errtext, "AccessDenied"));
	assert_null(strstr(g.errtext, "jwt"));
}

/* A 200 from STS that is not a complete answer: the shared reader (sts.c) names
 * what is missing; a bad Expiration is refused too; no secret in the text. */
static void web_identity_bad_answer(void **state)
{
	struct fx *f = *state;
	fsrv_route no_token = {
	    .method = "POST",
	    .path = "/",
	    .status = 200,
	    .times = 1,
	    .body = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
		    "<Credentials><AccessKeyId>ASIAWEBID</AccessKeyId><SecretAccessKey>w-secret"
		    "</SecretAccessKey><Expiration>" EXP_2030 "</Expiration></Credentials>"
		    "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"};
	fsrv_route bad_exp = {
	    .method = "POST",
	    .path = "/",
	    .status = 200,
	    .body = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
		    "<Credentials><AccessKeyId>ASIAWEBID</AccessKeyId><SecretAccessKey>w-secret"
		    "</SecretAccessKey><SessionToken>w-tok</SessionToken><Expiration>tomorrow"
		    "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
		    "</AssumeRoleWithWebIdentityResponse>"};
	fsrv_add(f->srv, &no_token);
	fsrv_add(f->srv, &bad_exp);
	env_set(&f->env, "AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa");
	env_set(&f->env, "AWS_WEB_IDENTITY_TOKEN_FILE", write_file(f, "token", "jwt"));
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_ERR_PARSE);
	assert_non_null(strstr(g.errtext, "SessionToken"));
	assert_null(strstr(g.errtext, "w-secret"));
	get_once(f, &g);
	assert_int_equal(g.err, HK_ERR_PARSE);
	assert_non_null(strstr(g.errtext, "Expiration"));
	assert_null(strstr(g.errtext, "w-tok"));
	assert_int_equal(fsrv_n_seen(f->srv), 2);
}

static void container_uri_not_allowed(void **state)
{
	struct fx *f = *state;
	env_set(&f->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.10/creds");
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_ERR_INVALID);
	assert_int_equal(fsrv_n_seen(f->srv), 0);
}

static void container_uri_rules(void **state)
{
	assert_true(creds_container_uri_allowed("http://127.0.0.1:8080/creds"));
	assert_true(creds_container_uri_allowed("http://127.9.9.9/creds"));
	assert_true(creds_container_uri_allowed("http://localhost/creds"));
	assert_true(creds_container_uri_allowed("http://[::1]:80/creds"));
	assert_true(creds_container_uri_allowed("http://169.254.170.2/v2/credentials/x"));
	assert_true(creds_container_uri_allowed("http://169.254.170.23/v1/credentials"));
	assert_true(creds_container_uri_allowed("http://[fd00:ec2::23]/v1/credentials"));
	assert_true(creds_container_uri_allowed("https://creds.example.com/x"));
	assert_false(creds_container_uri_allowed("http://169.254.169.254/latest"));
	assert_false(creds_container_uri_allowed("http://example.com/creds"));
	assert_false(creds_container_uri_allowed("http://128.0.0.1/creds"));
	assert_false(creds_container_uri_allowed("http://localhost.example.com/creds"));
	assert_false(creds_container_uri_allowed("ftp://127.0.0.1/creds"));
	assert_false(creds_container_uri_allowed("not a url"));
	assert_false(creds_container_uri_allowed(NULL));
}

static void parse_time_forms(void **state)
{
	int64_t t = 0;
	assert_int_equal(creds_parse_time("2030-01-01T00:00:00Z", &t), HK_OK);
	assert_int_equal(t, EXP_2030_S);
	assert_int_equal(creds_parse_time("2030-01-01T00:00:01.123Z", &t), HK_OK);
	assert_int_equal(t, EXP_2030_S + 1);
	assert_int_equal(creds_parse_time("2030-01-01T00:00:02+00:00", &t), HK_OK);
	assert_int_equal(t, EXP_2030_S + 2);
	t = 7;
	const char *bad[] = {"",
			     "2030-01-01",
			     "2030-01-01T00:00:00",
			     "2030-01-01T00:00:00+02:00",
			     "2030-13-01T00:00:00Z",
			     "2030-01-01T24:00:00Z",
			     "2030-01-01T00:00:00Zjunk",
			     "1969-12-31T23:59:59Z",
			     "20300101T000000Z"};
	for (size_t i = 0; i < HK_ARRAY_LEN(bad); i++)
		assert_int_equal(creds_parse_time(bad[i], &t), HK_ERR_PARSE);
	assert_int_equal(t, 7);
}

static void single_flight_and_cache(void **state)
{
	struct fx *f = *state;
	add_imds(f);
	assert_int_equal(creds_provider_new(f->base, f->http, &f->cfg, &f->p), HK_OK);
	struct got a = {0}, b = {0};
	int total = 0;
	assert_int_equal(creds_get(f->p, got_cb, &a), HK_OK);
	assert_int_equal(creds_get(f->p, got_cb, &b), HK_OK);
	for (int i = 0; i < 2000 && a.calls + b.calls < 2; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	total = a.calls + b.calls;
	assert_int_equal(total, 2);
	assert_int_equal(a.err, HK_OK);
	assert_int_equal(b.err, HK_OK);
	assert_string_equal(a.akid, "ASIAIMDS");
	assert_string_equal(b.akid, "ASIAIMDS");
	assert_int_equal(creds_fetch_count(f->p), 1);
	assert_int_equal(fsrv_count(f->srv, "/latest/api/token"), 1);
	/* Cached: no new fetch, still asynchronous. */
	struct got c = {0};
	get_once(f, &c);
	assert_string_equal(c.akid, "ASIAIMDS");
	assert_int_equal(creds_fetch_count(f->p), 1);
	assert_int_equal(fsrv_n_seen(f->srv), 3);
	/* Invalidated: fetched again. */
	creds_invalidate(f->p);
	get_once(f, &c);
	assert_int_equal(creds_fetch_count(f->p), 2);
}

static void refresh_before_expiry(void **state)
{
	struct fx *f = *state;
	add_container(f, "tok");
	struct got g = {0};
	f->now = EXP_2030_S - 3600;
	get_once(f, &g);
	assert_int_equal(creds_fetch_count(f->p), 1);
	/* Jitter is 0 here: refresh starts exactly 300 s before expiry. */
	f->now = EXP_2030_S - 301;
	get_once(f, &g);
	assert_int_equal(creds_fetch_count(f->p), 1);
	/* Due: the cached ones are handed out at once, the refresh runs behind. */
	f->now = EXP_2030_S - 300;
	get_once(f, &g);
	assert_int_equal(g.err, HK_OK);
	assert_int_equal(creds_fetch_count(f->p), 2);
	for (int i = 0; i < 200 && fsrv_count(f->srv, "/creds") < 2; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(fsrv_count(f->srv, "/creds"), 2);
	/* Still the same refresh window: no third fetch while one is running or
	 * after it succeeded. */
	get_once(f, &g);
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(creds_fetch_count(f->p), 2);
	/* Forgotten (AWS said ExpiredToken): callers wait for a fetch. */
	creds_invalidate(f->p);
	get_once(f, &g);
	assert_int_equal(creds_fetch_count(f->p), 3);
}

static void stale_credentials_survive_failed_refresh(void **state)
{
	struct fx *f = *state;
	fsrv_route once = {
	    .method = "GET", .path = "/creds", .status = 200, .body = CONTAINER_OK, .times = 1};
	fsrv_route fail = {.method = "GET", .path = "/creds", .status = 503, .body = "busy"};
	fsrv_add(f->srv, &once);
	fsrv_add(f->srv, &fail);
	snprintf(f->url, sizeof(f->url), "%s/creds", fsrv_url(f->srv));
	env_set(&f->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", f->url);
	struct got g = {0};
	get_once(f, &g);
	assert_int_equal(g.err, HK_OK);
	f->now = EXP_2030_S - 100; /* refresh due, still valid */
	get_once(f, &g);
	assert_int_equal(g.err, HK_OK);
	assert_string_equal(g.akid, "ASIACONTAINER");
	assert_int_equal(creds_fetch_count(f->p), 2);
	for (int i = 0; i < 200 && fsrv_count(f->srv, "/creds") < 2; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	/* The failed background refresh is retried a minute later, not at once. */
	f->now = EXP_2030_S - 90;
	get_once(f, &g);
	assert_int_equal(g.err, HK_OK);
	assert_int_equal(creds_fetch_count(f->p), 2);
	f->now = EXP_2030_S - 5; /* effectively expired: the failure shows */
	get_once(f, &g);
	assert_int_equal(g.err, HK_ERR_TRANSIENT);
	assert_non_null(strstr(g.errtext, "HTTP 503"));
}

static int region_calls;
static char region_seen[64];

static void region_cb(hk_err err, const char *region, const char *errtext, void *arg)
{
	region_calls++;
	snprintf(region_seen, sizeof(region_seen), "%s", err == HK_OK ? region : errtext);
}

static void imds_region_value(void **state)
{
	struct fx *f = *state;
	add_imds(f);
	assert_int_equal(creds_provider_new(f->base, f->http, &f->cfg, &f->p), HK_OK);
	region_calls = 0;
	assert_int_equal(creds_imds_region(f->p, region_cb, NULL), HK_OK);
	assert_int_equal(creds_imds_region(f->p, region_cb, NULL), HK_ERR_EXISTS);
	assert_int_equal(region_calls, 0);
	run_until(f, &region_calls, 1);
	assert_string_equal(region_seen, "eu-west-3");
	assert_int_equal(fsrv_count(f->srv, "/latest/api/token"), 1);
	env_set(&f->env, "AWS_EC2_METADATA_DISABLED", "TRUE");
	assert_int_equal(creds_imds_region(f->p, region_cb, NULL), HK_ERR_STATE);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(chain_env_first, setup, teardown),
    cmocka_unit_test_setup_teardown(chain_web_identity_beats_container, setup, teardown),
    cmocka_unit_test_setup_teardown(chain_container_beats_files, setup, teardown),
    cmocka_unit_test_setup_teardown(chain_container_token_file_wins, setup, teardown),
    cmocka_unit_test_setup_teardown(chain_files_beat_imds, setup, teardown),
    cmocka_unit_test_setup_teardown(chain_imds_last, setup, teardown),
    cmocka_unit_test_setup_teardown(chain_nothing_configured, setup, teardown),
    cmocka_unit_test_setup_teardown(chain_imds_unreachable_is_no_credentials, setup, teardown),
    cmocka_unit_test_setup_teardown(web_identity_error_does_not_fall_through, setup, teardown),
    cmocka_unit_test_setup_teardown(web_identity_bad_answer, setup, teardown),
    cmocka_unit_test_setup_teardown(container_uri_not_allowed, setup, teardown),
    cmocka_unit_test(container_uri_rules),
    cmocka_unit_test(parse_time_forms),
    cmocka_unit_test_setup_teardown(single_flight_and_cache, setup, teardown),
    cmocka_unit_test_setup_teardown(refresh_before_expiry, setup, teardown),
    cmocka_unit_test_setup_teardown(stale_credentials_survive_failed_refresh, setup, teardown),
    cmocka_unit_test_setup_teardown(imds_region_value, setup, teardown),
};

HK_TEST_MAIN(tests)
