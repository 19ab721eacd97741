/* httpc and awc against a loopback evhttp server on the same loop: caps,
 * timeouts, keep-alive, signing headers, the JSON protocol, ExpiredToken
 * refresh, region from IMDS, client-side buckets, teardown with calls pending. */
#include "hk_test.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "awc.h"
#include "awsclient.h"
#include "fake_server.h"
#include "hk_caps.h"
#include "httpc.h"

#define EC2_OK                                                                                     \
	"<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"             \
	"<requestId>rid-ok</requestId><regionInfo><item><regionName>us-east-1</regionName>"        \
	"</item></regionInfo></DescribeRegionsResponse>"

struct env {
	const char *k[16];
	const char *v[16];
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
	awc_config cfg;
	awc_client *c;
	int done;
	awc_result res;
	char code[64], errtext[512], rid[64];
	char json_dump[256];
	unsigned bucket_waits;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->base = event_base_new();
	f->srv = fsrv_new(f->base);
	assert_non_null(f->srv);
	env_set(&f->env, "HOME", "/nonexistent-hk-test");
	env_set(&f->env, "AWS_EC2_METADATA_DISABLED", "true");
	f->cfg.env = env_fn;
	f->cfg.env_arg = &f->env;
	f->cfg.no_buckets = true;
	f->cfg.backoff_base_ms = 1;
	f->cfg.backoff_throttle_base_ms = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	awc_client_free(f->c);
	httpc_free(f->http);
	fsrv_free(f->srv);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void run_until(struct fx *f, const int *counter, int want)
{
	for (int i = 0; i < 5000 && *counter < want; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(*counter, want);
}

/* ---- httpc ---------------------------------------------------------------- */

struct hres {
	int calls;
	hk_err err;
	long status;
	size_t body_len, n_headers;
	bool not_sent;
};

static void hres_cb(const httpc_response *r, void *arg)
{
	struct hres *h = arg;
	h->calls++;
	h->err = r->err;
	h->status = r->status;
	h->body_len = r->body_len;
	h->n_headers = r->n_headers;
	h->not_sent = r->not_sent;
}

static void http_get(struct fx *f, const char *path, httpc_request *req, struct hres *h)
{
	if (!f->http)
		assert_int_equal(httpc_new(f->base, &f->http), HK_OK);
	char url[256];
	snprintf(url, sizeof(url), "%s%s", fsrv_url(f->srv), path);
	req->method = req->method ? req->method : "GET";
	req->url = url;
	int before = h->calls;
	assert_int_equal(httpc_send(f->http, req, hres_cb, h, NULL), HK_OK);
	assert_int_equal(h->calls, before);
	run_until(f, &h->calls, before + 1);
}

static void httpc_body_cap(void **state)
{
	struct fx *f = *state;
	fsrv_route r = {.method = "GET", .path = "/big", .status = 200, .filler_len = 5000};
	fsrv_add(f->srv, &r);
	struct hres h = {0};
	httpc_request req = {.max_body = 1000};
	http_get(f, "/big", &req, &h);
	assert_int_equal(h.err, HK_ERR_TOO_LARGE);
	httpc_request req2 = {.max_body = 5000};
	http_get(f, "/big", &req2, &h);
	assert_int_equal(h.err, HK_OK);
	assert_int_equal(h.body_len, 5000);
}

static void httpc_header_cap(void **state)
{
	struct fx *f = *state;
	fsrv_route r = {
	    .method = "GET", .path = "/h", .status = 200, .body = "x", .n_headers = 150};
	fsrv_add(f->srv, &r);
	struct hres h = {0};
	httpc_request req = {0};
	http_get(f, "/h", &req, &h);
	assert_int_equal(h.err, HK_OK);
	assert_int_equal(h.n_headers, HK_CAP_AWS_RESPONSE_HEADERS);
}

static void httpc_total_timeout(void **state)
{
	struct fx *f = *state;
	fsrv_route r = {.method = "GET", .path = "/hang", .hang = true};
	fsrv_add(f->srv, &r);
	struct hres h = {0};
	httpc_request req = {.timeout_ms = 200};
	http_get(f, "/hang", &req, &h);
	assert_int_equal(h.err, HK_ERR_TIMEOUT);
	assert_false(h.not_sent); /* it was connected: maybe executed */
	assert_int_equal(h.status, 0);
}

static void httpc_keepalive_reuse(void **state)
{
	struct fx *f = *state;
	fsrv_route r = {.method = "GET", .path = "/k", .status = 200, .body = "ok"};
	fsrv_add(f->srv, &r);
	struct hres h = {0};
	httpc_request req = {0};
	http_get(f, "/k", &req, &h);
	httpc_request req2 = {0};
	http_get(f, "/k", &req2, &h);
	assert_int_equal(fsrv_n_seen(f->srv), 2);
	assert_int_equal(fsrv_seen_at(f->srv, 0)->peer_port, fsrv_seen_at(f->srv, 1)->peer_port);
}

static void httpc_rejects_bad_input(void **state)
{
	struct fx *f = *state;
	assert_int_equal(httpc_new(f->base, &f->http), HK_OK);
	struct hres h = {0};
	httpc_header bad = {"X-A", "v\r\nInjected: 1"};
	httpc_request req = {
	    .method = "GET", .url = "http://127.0.0.1:1/", .headers = &bad, .n_headers = 1};
	assert_int_equal(httpc_send(f->http, &req, hres_cb, &h, NULL), HK_ERR_INVALID);
	httpc_header bad_name = {"X:A", "v"};
	req.headers = &bad_name;
	assert_int_equal(httpc_send(f->http, &req, hres_cb, &h, NULL), HK_ERR_INVALID);
	httpc_request ftp = {.method = "GET", .url = "ftp://127.0.0.1/"};
	assert_int_equal(httpc_send(f->http, &ftp, hres_cb, &h, NULL), HK_ERR_INVALID);
	httpc_request m = {.method = "get", .url = "http://127.0.0.1/"};
	assert_int_equal(httpc_send(f->http, &m, hres_cb, &h, NULL), HK_ERR_INVALID);
	httpc_request sp = {.method = "GET", .url = "http://127.0.0.1/a b"};
	assert_int_equal(httpc_send(f->http, &sp, hres_cb, &h, NULL), HK_ERR_INVALID);
	assert_int_equal(h.calls, 0);
}

static unsigned short closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof(sin);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(s, (struct sockaddr *)&sin, &sl);
	close(s);
	return ntohs(sin.sin_port);
}

static void httpc_refused_is_not_sent(void **state)
{
	struct fx *f = *state;
	assert_int_equal(httpc_new(f->base, &f->http), HK_OK);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", closed_port());
	struct hres h = {0};
	httpc_request req = {.method = "POST", .url = url, .body = "a=b", .body_len = 3};
	assert_int_equal(httpc_send(f->http, &req, hres_cb, &h, NULL), HK_OK);
	run_until(f, &h.calls, 1);
	assert_int_equal(h.err, HK_ERR_TRANSIENT);
	assert_true(h.not_sent);
}

static void httpc_free_with_transfers(void **state)
{
	struct fx *f = *state;
	fsrv_route r = {.method = "GET", .path = "/hang", .hang = true};
	fsrv_add(f->srv, &r);
	assert_int_equal(httpc_new(f->base, &f->http), HK_OK);
	char url[128];
	snprintf(url, sizeof(url), "%s/hang", fsrv_url(f->srv));
	struct hres h = {0};
	httpc_request req = {.method = "GET", .url = url};
	assert_int_equal(httpc_send(f->http, &req, hres_cb, &h, NULL), HK_OK);
	assert_int_equal(httpc_send(f->http, &req, hres_cb, &h, NULL), HK_OK);
	for (int i = 0; i < 50 && fsrv_n_seen(f->srv) < 2; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(fsrv_n_seen(f->srv), 2);
	httpc_free(f->http);
	f->http = NULL;
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(h.calls, 0);
}

/* ---- awc ------------------------------------------------------------------- */

static void done_cb(const awc_result *res, void *arg)
{
	struct fx *f = arg;
	f->done++;
	f->res = *res;
	snprintf(f->code, sizeof(f->code), "%s", res->aws_code ? res->aws_code : "");
	snprintf(f->errtext, sizeof(f->errtext), "%s", res->errtext ? res->errtext : "");
	snprintf(f->rid, sizeof(f->rid), "%s", res->request_id ? res->request_id : "");
	f->json_dump[0] = '\0';
	if (res->json) {
		char *s = json_dumps(res->json, JSON_COMPACT | JSON_SORT_KEYS);
		snprintf(f->json_dump, sizeof(f->json_dump), "%s", s ? s : "");
		free(s);
	}
	f->res.doc = NULL;
	f->res.json = NULL;
}

static void env_keys(struct fx *f)
{
	env_set(&f->env, "AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
	env_set(&f->env, "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
}

static void start_client(struct fx *f)
{
	assert_int_equal(awsclient_new(f->base, &f->cfg, &f->c), HK_OK);
}

static void query(struct fx *f, awc_service svc, const char *action, const char *version,
		  bool idempotent)
{
	query_params *q = query_params_new(action, version);
	assert_non_null(q);
	awc_call_opts o = {.idempotent = idempotent};
	int before = f->done;
	assert_int_equal(awc_query(f->c, svc, q, &o, done_cb, f), HK_OK);
	assert_int_equal(f->done, before); /* never synchronous */
	run_until(f, &f->done, before + 1);
}

static void awc_signed_query(void **state)
{
	struct fx *f = *state;
	fsrv_route r = {.method = "POST", .path = "/", .status = 200, .body = EC2_OK};
	fsrv_add(f->srv, &r);
	env_keys(f);
	env_set(&f->env, "AWS_REGION", "us-east-1");
	env_set(&f->env, "AWS_ENDPOINT_URL_EC2", fsrv_url(f->srv));
	start_client(f);
	assert_string_equal(awc_client_region(f->c), "us-east-1");
	query(f, AWC_SVC_EC2, "DescribeRegions", "2016-11-15", true);
	assert_int_equal(f->res.err, HK_OK);
	assert_int_equal(f->res.http_status, 200);
	assert_int_equal(f->res.attempts, 1);
	assert_string_equal(f->rid, "rid-ok");
	const fsrv_seen *s = fsrv_seen_at(f->srv, 0);
	assert_string_equal(s->body, "Action=DescribeRegions&Version=2016-11-15");
	assert_string_equal(s->content_type, "application/x-www-form-urlencoded; charset=utf-8");
	assert_string_equal(s->host, fsrv_url(f->srv) + strlen("http://"));
	assert_int_equal(strlen(s->amz_date), 16);
	char want[128];
	snprintf(want, sizeof(want), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/%.8s/us-east-1/ec2/",
		 s->amz_date);
	assert_memory_equal(s->authorization, want, strlen(want));
	assert_non_null(strstr(s->authorization,
			       "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
			       "Signature="));
	assert_string_equal(s->security_token, "");
}

static void awc_session_token_header(void **state)
{
	struct fx *f = *state;
	fsrv_route r = {.method = "POST", .path = "/", .status = 200, .body = EC2_OK};
	fsrv_add(f->srv, &r);
	env_keys(f);
	env_set(&f->env, "AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN");
	env_set(&f->env, "AWS_REGION", "eu-central-1");
	env_set(&f->env, "AWS_ENDPOINT_URL", fsrv_url(f->srv));
	start_client(f);
	query(f, AWC_SVC_AUTOSCALING, "DescribeAutoScalingGroups", "2011-01-01", true);
	assert_int_equal(f->res.err, HK_OK);
	const fsrv_seen *s = fsrv_seen_at(f->srv, 0);
	assert_string_equal(s->security_token, "FwoGZXIvYXdzEXAMPLETOKEN");
	assert_non_null(strstr(s->authorization, "/eu-central-1/autoscaling/aws4_request"));
	assert_non_null(
	    strstr(s->authorization, "content-type;host;x-amz-date;x-amz-security-token"));
}

static void awc_json_protocol(void **state)
{
	struct fx *f = *state;
	fsrv_route ok = {.method = "POST",
			 .path = "/",
			 .status = 200,
			 .times = 1,
			 .content_type = "application/x-amz-json-1.0",
			 .body = "{\"Messages\":[{\"MessageId\":\"m1\",\"Body\":\"hi\"}]}"};
	fsrv_route err = {.method = "POST",
			  .path = "/",
			  .status = 400,
			  .content_type = "application/x-amz-json-1.0",
			  .body = "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\","
				  "\"message\":\"The specified queue does not exist.\"}"};
	fsrv_add(f->srv, &ok);
	fsrv_add(f->srv, &err);
	env_keys(f);
	env_set(&f->env, "AWS_REGION", "us-west-2");
	env_set(&f->env, "AWS_ENDPOINT_URL_SQS", fsrv_url(f->srv));
	start_client(f);
	json_t *body = json_pack("{s:s, s:i}", "QueueUrl", "http://q", "WaitTimeSeconds", 1);
	awc_call_opts o = {.idempotent = true};
	assert_int_equal(
	    awc_json(f->c, AWC_SVC_SQS, "AmazonSQS.ReceiveMessage", body, &o, done_cb, f), HK_OK);
	run_until(f, &f->done, 1);
	assert_int_equal(f->res.err, HK_OK);
	assert_string_equal(f->json_dump,
			    "{\"Messages\":[{\"Body\":\"hi\",\"MessageId\":\"m1\"}]}");
	const fsrv_seen *s = fsrv_seen_at(f->srv, 0);
	assert_string_equal(s->amz_target, "AmazonSQS.ReceiveMessage");
	assert_string_equal(s->content_type, "application/x-amz-json-1.0");
	assert_non_null(strstr(s->authorization, "/us-west-2/sqs/aws4_request"));
	assert_non_null(strstr(s->authorization, "content-type;host;x-amz-date;x-amz-target"));
	assert_string_equal(s->body, "{\"QueueUrl\":\"http://q\",\"WaitTimeSeconds\":1}");
	/* The error shape: code after '#', never retried (permanent). */
	assert_int_equal(
	    awc_json(f->c, AWC_SVC_SQS, "AmazonSQS.DeleteMessage", body, &o, done_cb, f), HK_OK);
	json_decref(body);
	run_until(f, &f->done, 2);
	assert_int_not_equal(f->res.err, HK_OK);
	assert_string_equal(f->code, "QueueDoesNotExist");
	assert_int_equal(f->res.attempts, 1);
	assert_int_equal(f->res.http_status, 400);
}

static void awc_expired_token_refreshes_once(void **state)
{
	struct fx *f = *state;
	fsrv_route expired = {.method = "POST",
			      .path = "/",
			      .status = 400,
			      .times = 1,
			      .body =
				  "<Response><Errors><Error><Code>ExpiredToken</Code><Message>The "
				  "security token included in the request is expired</Message>"
				  "</Error></Errors><RequestID>e1</RequestID></Response>"};
	fsrv_route ok = {.method = "POST", .path = "/", .status = 200, .body = EC2_OK};
	fsrv_route creds = {.method = "GET",
			    .path = "/creds",
			    .status = 200,
			    .body =
				"{\"AccessKeyId\":\"ASIAC\",\"SecretAccessKey\":\"s\",\"Token\":"
				"\"t\",\"Expiration\":\"2099-01-01T00:00:00Z\"}"};
	fsrv_add(f->srv, &expired);
	fsrv_add(f->srv, &ok);
	fsrv_add(f->srv, &creds);
	static char uri[128];
	snprintf(uri, sizeof(uri), "%s/creds", fsrv_url(f->srv));
	env_set(&f->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", uri);
	env_set(&f->env, "AWS_REGION", "us-east-1");
	env_set(&f->env, "AWS_ENDPOINT_URL_EC2", fsrv_url(f->srv));
	start_client(f);
	query(f, AWC_SVC_EC2, "CreateTags", "2016-11-15", false);
	assert_int_equal(f->res.err, HK_OK);
	assert_int_equal(f->res.attempts, 2);
	assert_int_equal(fsrv_count(f->srv, "/creds"), 2);
}

static void awc_no_region(void **state)
{
	struct fx *f = *state;
	env_keys(f);
	start_client(f);
	assert_null(awc_client_region(f->c));
	query(f, AWC_SVC_EC2, "DescribeRegions", "2016-11-15", true);
	assert_int_equal(f->res.err, HK_ERR_INVALID);
	assert_non_null(strstr(f->errtext, "no AWS region"));
	assert_int_equal(fsrv_n_seen(f->srv), 0);
}

static void awc_region_from_imds(void **state)
{
	struct fx *f = *state;
	f->env.n = 1; /* drop AWS_EC2_METADATA_DISABLED */
	fsrv_route t = {.method = "PUT", .path = "/latest/api/token", .status = 200, .body = "T"};
	fsrv_route reg = {.method = "GET",
			  .path = "/latest/meta-data/placement/region",
			  .status = 200,
			  .body = "ap-south-2\n"};
	fsrv_route ok = {.method = "POST", .path = "/", .status = 200, .body = EC2_OK};
	fsrv_add(f->srv, &t);
	fsrv_add(f->srv, &reg);
	fsrv_add(f->srv, &ok);
	env_keys(f);
	env_set(&f->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT", fsrv_url(f->srv));
	env_set(&f->env, "AWS_ENDPOINT_URL_EC2", fsrv_url(f->srv));
	start_client(f);
	assert_null(awc_client_region(f->c)); /* pending */
	query(f, AWC_SVC_EC2, "DescribeRegions", "2016-11-15", true);
	assert_int_equal(f->res.err, HK_OK);
	assert_string_equal(awc_client_region(f->c), "ap-south-2");
	const fsrv_seen *s = fsrv_seen_at(f->srv, 2);
	assert_string_equal(s->path, "/");
	assert_non_null(strstr(s->authorization, "/ap-south-2/ec2/aws4_request"));
}

static void count_waits(const awc_event *ev, void *arg)
{
	struct fx *f = arg;
	if (ev->kind == AWC_EV_BUCKET_WAIT) {
		assert_true(ev->delay_us > 0);
		f->bucket_waits++;
	}
}

static void awc_bucket_paces_calls(void **state)
{
	struct fx *f = *state;
	fsrv_route ok = {.method = "POST", .path = "/", .status = 200, .body = EC2_OK};
	fsrv_add(f->srv, &ok);
	env_keys(f);
	env_set(&f->env, "AWS_REGION", "us-east-1");
	env_set(&f->env, "AWS_ENDPOINT_URL_EC2", fsrv_url(f->srv));
	awc_bucket_override o = {.family = "ec2-describe", .burst = 1, .refill_per_s = 5};
	f->cfg.no_buckets = false;
	f->cfg.bucket_overrides = &o;
	f->cfg.n_bucket_overrides = 1;
	f->cfg.on_event = count_waits;
	f->cfg.event_arg = f;
	start_client(f);
	for (int i = 0; i < 3; i++) {
		query_params *q = query_params_new("DescribeSubnets", "2016-11-15");
		assert_int_equal(query_add(q, "SubnetId.1", "subnet-1"), HK_OK);
		awc_call_opts opts = {.idempotent = true};
		assert_int_equal(awc_query(f->c, AWC_SVC_EC2, q, &opts, done_cb, f), HK_OK);
	}
	assert_int_equal(awc_client_pending(f->c), 3);
	run_until(f, &f->done, 3);
	assert_int_equal(f->bucket_waits, 2); /* the burst of one lets the first through */
	assert_int_equal(fsrv_n_seen(f->srv), 3);
	assert_int_equal(awc_client_pending(f->c), 0);
	/* An unknown family name is refused. */
	awc_client *c2 = NULL;
	o.family = "no-such-family";
	assert_int_equal(awsclient_new(f->base, &f->cfg, &c2), HK_ERR_INVALID);
}

/* The adaptive slow-down end to end: AWS throttles once although the bucket let
 * the call through, and the family's refill rate halves. Observed through the
 * AWC_EV_BUCKET_WAIT delays: calls queued together in one bucket get waits
 * 1/rate apart (their tokens are taken in the same loop turn, microseconds
 * apart), so the spacing of a batch measures the rate without any clock. */
struct waits {
	uint64_t delay_us[16];
	size_t n;
	unsigned retries;
	char retry_code[64];
};

static void record_waits(const awc_event *ev, void *arg)
{
	struct waits *w = arg;
	if (ev->kind == AWC_EV_BUCKET_WAIT && w->n < HK_ARRAY_LEN(w->delay_us))
		w->delay_us[w->n++] = ev->delay_us;
	if (ev->kind == AWC_EV_RETRY) {
		w->retries++;
		snprintf(w->retry_code, sizeof(w->retry_code), "%s",
			 ev->aws_code ? ev->aws_code : "");
	}
}

static void describe_batch(struct fx *f, int n)
{
	int before = f->done;
	for (int i = 0; i < n; i++) {
		query_params *q = query_params_new("DescribeSubnets", "2016-11-15");
		assert_int_equal(query_add(q, "SubnetId.1", "subnet-1"), HK_OK);
		awc_call_opts opts = {.idempotent = true};
		assert_int_equal(awc_query(f->c, AWC_SVC_EC2, q, &opts, done_cb, f), HK_OK);
	}
	run_until(f, &f->done, before + n);
	assert_int_equal(f->res.err, HK_OK);
}

static void awc_bucket_slows_down_after_throttle(void **state)
{
	struct fx *f = *state;
	/* Three answers for the first batch, then one throttle, then success. */
	fsrv_route first = {
	    .method = "POST", .path = "/", .status = 200, .body = EC2_OK, .times = 3};
	fsrv_route throttle = {.method = "POST",
			       .path = "/",
			       .status = 503,
			       .times = 1,
			       .body = "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
				       "<Message>Request limit exceeded.</Message></Error></Errors>"
				       "<RequestID>t1</RequestID></Response>"};
	fsrv_route ok = {.method = "POST", .path = "/", .status = 200, .body = EC2_OK};
	fsrv_add(f->srv, &first);
	fsrv_add(f->srv, &throttle);
	fsrv_add(f->srv, &ok);
	env_keys(f);
	env_set(&f->env, "AWS_REGION", "us-east-1");
	env_set(&f->env, "AWS_ENDPOINT_URL_EC2", fsrv_url(f->srv));
	awc_bucket_override o = {.family = "ec2-describe", .burst = 1, .refill_per_s = 10};
	struct waits w = {0};
	f->cfg.no_buckets = false;
	f->cfg.bucket_overrides = &o;
	f->cfg.n_bucket_overrides = 1;
	f->cfg.on_event = record_waits;
	f->cfg.event_arg = &w;
	start_client(f);

	/* Before: a burst of one, 10 tokens/s: the 2nd and 3rd wait ~100 ms apart. */
	describe_batch(f, 3);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.retries, 0);
	assert_true(w.delay_us[1] > w.delay_us[0]);
	uint64_t gap_before = w.delay_us[1] - w.delay_us[0];
	assert_true(gap_before <= 100000); /* 1/10 s, less what was earned meanwhile */

	/* One call is throttled (503 RequestLimitExceeded), retried, succeeds. */
	size_t mark = w.n;
	describe_batch(f, 1);
	assert_int_equal(w.retries, 1);
	assert_string_equal(w.retry_code, "RequestLimitExceeded");
	assert_int_equal(f->res.attempts, 2);
	/* The throttle emptied the bucket: the retry waited for a token. */
	assert_true(w.n > mark);

	/* After: the same batch is paced at about half the rate (5/s plus the 5%/s
	 * recovery since): its waits are ~200 ms apart. */
	mark = w.n;
	describe_batch(f, 3);
	/* The first may find a token (if the loop was slow); the others wait. */
	assert_true(w.n >= mark + 2);
	assert_true(w.delay_us[w.n - 1] > w.delay_us[w.n - 2]);
	uint64_t gap_after = w.delay_us[w.n - 1] - w.delay_us[w.n - 2];
	assert_true(gap_after > gap_before + gap_before / 2);
	assert_true(gap_after <= 200000);
	assert_int_equal(fsrv_n_seen(f->srv), 8);
}

static void awc_free_with_calls_pending(void **state)
{
	struct fx *f = *state;
	fsrv_route hang = {.method = "POST", .path = "/", .hang = true};
	fsrv_add(f->srv, &hang);
	env_keys(f);
	env_set(&f->env, "AWS_REGION", "us-east-1");
	env_set(&f->env, "AWS_ENDPOINT_URL_EC2", fsrv_url(f->srv));
	start_client(f);
	for (int i = 0; i < 2; i++) {
		query_params *q = query_params_new("DescribeVpcs", "2016-11-15");
		assert_int_equal(awc_query(f->c, AWC_SVC_EC2, q, NULL, done_cb, f), HK_OK);
	}
	for (int i = 0; i < 100 && fsrv_n_seen(f->srv) < 2; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(fsrv_n_seen(f->srv), 2);
	awc_client_free(f->c);
	f->c = NULL;
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(f->done, 0);
}

static void free_in_cb(const awc_result *res, void *arg)
{
	struct fx *f = arg;
	f->done++;
	awc_client_free(f->c); /* shutting down from inside a callback */
	f->c = NULL;
}

static void awc_free_inside_callback(void **state)
{
	struct fx *f = *state;
	fsrv_route ok = {.method = "POST", .path = "/", .status = 200, .body = EC2_OK, .times = 1};
	fsrv_route hang = {.method = "POST", .path = "/", .hang = true};
	fsrv_add(f->srv, &ok);
	fsrv_add(f->srv, &hang);
	env_keys(f);
	env_set(&f->env, "AWS_REGION", "us-east-1");
	env_set(&f->env, "AWS_ENDPOINT_URL_EC2", fsrv_url(f->srv));
	start_client(f);
	query_params *q1 = query_params_new("DescribeVpcs", "2016-11-15");
	query_params *q2 = query_params_new("DescribeVpcs", "2016-11-15");
	assert_int_equal(awc_query(f->c, AWC_SVC_EC2, q1, NULL, free_in_cb, f), HK_OK);
	assert_int_equal(awc_query(f->c, AWC_SVC_EC2, q2, NULL, free_in_cb, f), HK_OK);
	run_until(f, &f->done, 1);
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(f->done, 1);
	assert_null(f->c);
}

#define THROTTLED_BODY                                                                             \
	"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit "        \
	"exceeded.</Message></Error></Errors><RequestID>t1</RequestID></Response>"

/* A client against a server that always throttles; max 3 attempts. */
static void start_throttled(struct fx *f, long throttle_base_ms)
{
	fsrv_route r = {.method = "POST", .path = "/", .status = 503, .body = THROTTLED_BODY};
	fsrv_add(f->srv, &r);
	env_keys(f);
	env_set(&f->env, "AWS_REGION", "us-east-1");
	env_set(&f->env, "AWS_ENDPOINT_URL_EC2", fsrv_url(f->srv));
	f->cfg.max_attempts = 3;
	f->cfg.backoff_throttle_base_ms = throttle_base_ms;
	start_client(f);
}

static void query_opts(struct fx *f, const awc_call_opts *o)
{
	query_params *q = query_params_new("AttachNetworkInterface", "2016-11-15");
	assert_non_null(q);
	int before = f->done;
	assert_int_equal(awc_query(f->c, AWC_SVC_EC2, q, o, done_cb, f), HK_OK);
	run_until(f, &f->done, before + 1);
}

/* A deadline already reached: the first attempt is sent, no retry follows,
 * and the caller gets the throttling error at once (backoff would be up to
 * 10 s per retry here). */
static void awc_deadline_stops_retries(void **state)
{
	struct fx *f = *state;
	start_throttled(f, 10000);
	awc_call_opts o = {.idempotent = true, .deadline_us = awc_now_us()};
	query_opts(f, &o);
	assert_int_equal(f->res.err, HK_ERR_THROTTLED);
	assert_string_equal(f->code, "RequestLimitExceeded");
	assert_int_equal(f->res.attempts, 1);
	assert_int_equal(fsrv_count(f->srv, "/"), 1);
}

/* A deadline far away changes nothing: every attempt is made. */
static void awc_deadline_far_keeps_retries(void **state)
{
	struct fx *f = *state;
	start_throttled(f, 1);
	awc_call_opts o = {.idempotent = true, .deadline_us = awc_now_us() + 600u * 1000000u};
	query_opts(f, &o);
	assert_int_equal(f->res.err, HK_ERR_THROTTLED);
	assert_int_equal(f->res.attempts, 3);
	assert_int_equal(fsrv_count(f->srv, "/"), 3);
}

/* The call state changes in one place and every transition is traced: a
 * throttled call retried once goes WAIT_REGION (initial) -> WAIT_CREDS ->
 * IN_FLIGHT (a bucket token at once: no WAIT_TOKEN) -> BACKOFF -> WAIT_CREDS
 * -> IN_FLIGHT -> DONE. */
static char g_trace[2048];

static void trace_cb(void *arg, const char *fmt, ...)
{
	(void)arg;
	size_t n = strlen(g_trace);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_trace + n, sizeof(g_trace) - n, fmt, ap);
	va_end(ap);
	n = strlen(g_trace);
	if (n + 1 < sizeof(g_trace)) {
		g_trace[n] = '\n';
		g_trace[n + 1] = '\0';
	}
}

static void awc_state_transitions_traced(void **state)
{
	struct fx *f = *state;
	g_trace[0] = '\0';
	f->cfg.debug = trace_cb;
	start_throttled(f, 1);
	f->cfg.debug = NULL;
	awc_call_opts o = {.idempotent = true, .max_attempts = 2};
	query_opts(f, &o);
	assert_int_equal(f->res.err, HK_ERR_THROTTLED);
	assert_int_equal(f->res.attempts, 2);
	const char *want[] = {"ec2 AttachNetworkInterface: WAIT_REGION -> WAIT_CREDS",
			      "WAIT_CREDS -> IN_FLIGHT",
			      "IN_FLIGHT -> BACKOFF",
			      "BACKOFF -> WAIT_CREDS",
			      "WAIT_CREDS -> IN_FLIGHT",
			      "IN_FLIGHT -> DONE"};
	const char *at = g_trace;
	for (size_t i = 0; i < HK_ARRAY_LEN(want); i++) {
		const char *p = strstr(at, want[i]);
		if (!p)
			fail_msg("missing \"%s\" after offset %zu in trace:\n%s", want[i],
				 (size_t)(at - g_trace), g_trace);
		at = p + strlen(want[i]);
	}
	assert_null(strstr(g_trace, "AKIA")); /* no secrets in the trace */
}

/* A call's own deadline (awc_call_opts.deadline_us) applies to that call only:
 * the next call, without one, retries as usual. */
static void awc_call_deadline_is_per_call(void **state)
{
	struct fx *f = *state;
	start_throttled(f, 1);
	awc_call_opts o = {.idempotent = true, .deadline_us = awc_now_us()};
	query_opts(f, &o);
	assert_int_equal(f->res.err, HK_ERR_THROTTLED);
	assert_int_equal(f->res.attempts, 1);
	awc_call_opts o2 = {.idempotent = true};
	query_opts(f, &o2);
	assert_int_equal(f->res.attempts, 3);
	assert_int_equal(fsrv_count(f->srv, "/"), 4);
}

static void awc_bad_arguments(void **state)
{
	struct fx *f = *state;
	env_keys(f);
	env_set(&f->env, "AWS_REGION", "us-east-1");
	start_client(f);
	query_params *q = query_params_new("DescribeVpcs", "2016-11-15");
	assert_int_equal(awc_query(f->c, AWC_SVC__COUNT, q, NULL, done_cb, f), HK_ERR_INVALID);
	assert_int_equal(awc_query(f->c, AWC_SVC_EC2, NULL, NULL, done_cb, f), HK_ERR_INVALID);
	assert_int_equal(awc_json(f->c, AWC_SVC_SQS, "A\r\nB", NULL, NULL, done_cb, f),
			 HK_ERR_INVALID);
	awc_client_free(f->c);
	f->c = NULL;
	f->cfg.endpoint[AWC_SVC_EC2] = "ftp://x";
	assert_int_equal(awsclient_new(f->base, &f->cfg, &f->c), HK_ERR_INVALID);
	assert_null(f->c);
	assert_int_equal(f->done, 0);
	assert_string_equal(awc_service_name(AWC_SVC_AUTOSCALING), "autoscaling");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(httpc_body_cap, setup, teardown),
    cmocka_unit_test_setup_teardown(httpc_header_cap, setup, teardown),
    cmocka_unit_test_setup_teardown(httpc_total_timeout, setup, teardown),
    cmocka_unit_test_setup_teardown(httpc_keepalive_reuse, setup, teardown),
    cmocka_unit_test_setup_teardown(httpc_rejects_bad_input, setup, teardown),
    cmocka_unit_test_setup_teardown(httpc_refused_is_not_sent, setup, teardown),
    cmocka_unit_test_setup_teardown(httpc_free_with_transfers, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_signed_query, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_session_token_header, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_json_protocol, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_expired_token_refreshes_once, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_no_region, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_region_from_imds, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_bucket_paces_calls, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_bucket_slows_down_after_throttle, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_free_with_calls_pending, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_free_inside_callback, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_bad_arguments, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_deadline_stops_retries, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_deadline_far_keeps_retries, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_call_deadline_is_per_call, setup, teardown),
    cmocka_unit_test_setup_teardown(awc_state_transitions_traced, setup, teardown),
};

HK_TEST_MAIN(tests)
