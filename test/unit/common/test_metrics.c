/* common/metrics.c: families, series, caps, escaping, the text format
 * (exact output, and promtool's verdict on it). */
#include "hk_test.h"

#include <math.h>
#include <sys/wait.h>

#include "hk_metrics.h"

static char *render(hk_metrics *r)
{
	char *buf;
	size_t len;
	assert_int_equal(hk_metrics_render(r, &buf, &len), HK_OK);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static int g_collects;

static void collect(hk_metrics *r, void *arg)
{
	(void)r;
	g_collects++;
	hk_metric *g = arg;
	hk_metric_reset(g);
	const char *v[] = {"subnet-1"};
	hk_metric_set(g, v, 250);
}

static void test_metrics_exact_text(void **state)
{
	(void)state;
	hk_metrics *r = hk_metrics_new();
	hk_metric *c = hk_metrics_add(r, HK_METRIC_COUNTER, "hookd_events_total",
				      "Events received.\nBy source.", "source,outcome", NULL, 0);
	hk_metric *g = hk_metrics_add(r, HK_METRIC_GAUGE, "hookd_free_addresses",
				      "Free addresses per subnet.", "subnet", NULL, 0);
	hk_metric *b =
	    hk_metrics_add(r, HK_METRIC_GAUGE, "hookd_build_info", "Build.", "version", NULL, 0);
	const double bounds[] = {0.25, 1, 2.5};
	hk_metric *h = hk_metrics_add(r, HK_METRIC_HISTOGRAM, "hookd_seconds", "Latency.",
				      "transition", bounds, 3);
	hk_metric *n =
	    hk_metrics_add(r, HK_METRIC_COUNTER, "hookd_plain_total", "No labels.", NULL, NULL, 0);
	assert_non_null(c);
	assert_non_null(h);
	assert_int_equal(hk_metrics_on_collect(r, collect, g), HK_OK);
	hk_metric_inc2(c, "http", "accepted");
	hk_metric_inc2(c, "http", "accepted");
	hk_metric_inc2(c, "sqs", "rejected_\"bad\"\\x\n");
	hk_metric_add(c, (const char *[]){"http", "accepted"}, -5); /* ignored */
	hk_metric_set(b, (const char *[]){"0.1.0"}, 1);
	hk_metric_observe(h, (const char *[]){"launch"}, 0.1);
	hk_metric_observe(h, (const char *[]){"launch"}, 1.0);
	hk_metric_observe(h, (const char *[]){"launch"}, 99.5);
	hk_metric_inc(n);
	char *text = render(r);
	assert_int_equal(g_collects, 1);
	const char *want =
	    "# HELP hookd_events_total Events received.\\nBy source.\n"
	    "# TYPE hookd_events_total counter\n"
	    "hookd_events_total{source=\"http\",outcome=\"accepted\"} 2\n"
	    "hookd_events_total{source=\"sqs\",outcome=\"rejected_\\\"bad\\\"\\\\x\\n\"} 1\n"
	    "# HELP hookd_free_addresses Free addresses per subnet.\n"
	    "# TYPE hookd_free_addresses gauge\n"
	    "hookd_free_addresses{subnet=\"subnet-1\"} 250\n"
	    "# HELP hookd_build_info Build.\n"
	    "# TYPE hookd_build_info gauge\n"
	    "hookd_build_info{version=\"0.1.0\"} 1\n"
	    "# HELP hookd_seconds Latency.\n"
	    "# TYPE hookd_seconds histogram\n"
	    "hookd_seconds_bucket{transition=\"launch\",le=\"0.25\"} 1\n"
	    "hookd_seconds_bucket{transition=\"launch\",le=\"1.0\"} 2\n"
	    "hookd_seconds_bucket{transition=\"launch\",le=\"2.5\"} 2\n"
	    "hookd_seconds_bucket{transition=\"launch\",le=\"+Inf\"} 3\n"
	    "hookd_seconds_sum{transition=\"launch\"} 100.59999999999999\n"
	    "hookd_seconds_count{transition=\"launch\"} 3\n"
	    "# HELP hookd_plain_total No labels.\n"
	    "# TYPE hookd_plain_total counter\n"
	    "hookd_plain_total 1\n";
	assert_string_equal(text, want);
	assert_true(hk_metric_value(c, (const char *[]){"http", "accepted"}) == 2);
	assert_true(hk_metric_value(h, (const char *[]){"launch"}) == 3);
	assert_true(hk_metric_value(c, (const char *[]){"none", "x"}) == 0);
	free(text);
	hk_metrics_free(r);
}

static void test_metrics_bad_families(void **state)
{
	(void)state;
	hk_metrics *r = hk_metrics_new();
	const double b[] = {1, 1};
	assert_null(hk_metrics_add(r, HK_METRIC_COUNTER, "1bad", "", NULL, NULL, 0));
	assert_null(hk_metrics_add(r, HK_METRIC_COUNTER, "bad-name", "", NULL, NULL, 0));
	assert_null(hk_metrics_add(r, HK_METRIC_COUNTER, "ok_total", "", "a,a", NULL, 0));
	assert_null(hk_metrics_add(r, HK_METRIC_COUNTER, "ok_total", "", "__x", NULL, 0));
	assert_null(hk_metrics_add(r, HK_METRIC_COUNTER, "ok_total", "", "a,b,c,d,e", NULL, 0));
	assert_null(hk_metrics_add(r, HK_METRIC_HISTOGRAM, "h", "", "le", (const double[]){1}, 1));
	assert_null(hk_metrics_add(r, HK_METRIC_HISTOGRAM, "h", "", NULL, b, 2));
	assert_null(hk_metrics_add(r, HK_METRIC_HISTOGRAM, "h", "", NULL, NULL, 0));
	assert_non_null(hk_metrics_add(r, HK_METRIC_COUNTER, "ok_total", "", "a,b", NULL, 0));
	assert_null(hk_metrics_add(r, HK_METRIC_GAUGE, "ok_total", "", NULL, NULL, 0)); /* dup */
	/* a NULL family is accepted everywhere */
	hk_metric_inc(NULL);
	hk_metric_set(NULL, NULL, 1);
	hk_metric_observe(NULL, NULL, 1);
	hk_metrics_free(r);
}

static void test_metrics_series_cap(void **state)
{
	(void)state;
	hk_metrics *r = hk_metrics_new();
	hk_metric *c = hk_metrics_add(r, HK_METRIC_COUNTER, "x_total", "", "k", NULL, 0);
	char v[32];
	for (int i = 0; i < HK_METRICS_MAX_SERIES + 10; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		hk_metric_inc1(c, v);
	}
	assert_int_equal(hk_metrics_dropped(r), 10);
	hk_metric_inc1(c, "v0"); /* existing series still count */
	assert_true(hk_metric_value(c, (const char *[]){"v0"}) == 2);
	hk_metric_reset(c);
	assert_true(hk_metric_value(c, (const char *[]){"v0"}) == 0);
	hk_metrics_free(r);
}

/* promtool (Debian package prometheus, installed by scripts/deps.sh) accepts
 * what we render, with every family type present. */
static void test_metrics_promtool(void **state)
{
	(void)state;
	hk_metrics *r = hk_metrics_new();
	hk_metric *c = hk_metrics_add(r, HK_METRIC_COUNTER, "hookd_aws_calls_total",
				      "AWS calls by service, action and outcome.",
				      "service,action,outcome", NULL, 0);
	hk_metric *g = hk_metrics_add(r, HK_METRIC_GAUGE, "hookd_rate_factor",
				      "Token bucket rate factor.", "family", NULL, 0);
	const double bounds[] = {0.005, 0.025, 0.1, 0.5, 2.5, 10};
	hk_metric *h = hk_metrics_add(r, HK_METRIC_HISTOGRAM, "hookd_aws_call_seconds",
				      "AWS call seconds.", "action", bounds, 6);
	hk_metric_inc3(c, "ec2", "CreateNetworkInterface", "ok");
	hk_metric_set(g, (const char *[]){"ec2-mutate"}, 0.5);
	hk_metric_set(g, (const char *[]){"ec2-describe"}, INFINITY);
	hk_metric_observe(h, (const char *[]){"AttachNetworkInterface"}, 0.042);
	char *text = render(r);
	FILE *p = popen("promtool check metrics >/dev/null 2>&1", "w");
	assert_non_null(p);
	fputs(text, p);
	int st = pclose(p);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0); /* 127: promtool missing (make deps) */
	/* and a broken exposition is refused, so the check above can fail */
	p = popen("promtool check metrics >/dev/null 2>&1", "w");
	fputs("# TYPE x counter\nx{a=\"1} 1\n", p);
	st = pclose(p);
	assert_int_not_equal(WEXITSTATUS(st), 0);
	free(text);
	hk_metrics_free(r);
}

int main(void);
static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_metrics_exact_text),
    cmocka_unit_test(test_metrics_bad_families),
    cmocka_unit_test(test_metrics_series_cap),
    cmocka_unit_test(test_metrics_promtool),
};
HK_TEST_MAIN(tests)
