/* The periodic AWS readiness probe (probe.h, docs/operations.md).
 *
 * Why STS GetCallerIdentity: it needs no IAM permission (AWS answers it even
 * under an explicit deny), names no resource the configuration may not have
 * (node groups hold ASG name globs, not names), and still exercises everything
 * readiness is about: region and endpoint resolution, the credential chain,
 * SigV4 signing and a round trip to AWS. A signature or key AWS rejects comes
 * back as HK_ERR_AUTH; no credentials at all as HK_ERR_NO_CREDENTIALS before
 * anything is sent. Its cost is one small call per 30 s on the STS bucket. */
#include "hook_admin.h"

#include <stdlib.h>

#include <event2/event.h>

#include "awscalls.h"
#include "awsclient.h"

struct hook_probe {
	struct event_base *base;
	hook_health *health;
	awc_client *aws;
	struct event *timer;
	bool inflight;
	bool stopped;
	hook_tristate logged[HOOK_HEALTH__COUNT]; /* last state logged */
};

static void probe_arm(hook_probe *p, unsigned delay_s)
{
	struct timeval tv = {(time_t)delay_s, 0};
	if (!p->stopped)
		evtimer_add(p->timer, &tv);
}

/* The outcome -> flags. Only what the answer proves is changed: a failure
 * before anything was sent (no credentials) says nothing about reachability,
 * and a 5xx from STS says nothing about the credentials. */
static void probe_apply(hook_probe *p, const awc_result *res)
{
	hook_health *h = p->health;
	bool region = awc_client_region(p->aws) != NULL;
	hook_health_set(h, HOOK_HEALTH_REGION, region ? HOOK_YES : HOOK_NO,
			region ? NULL : "no region resolved (aws.region, AWS_REGION, IMDS)");
	if (res->err == HK_OK) {
		hook_health_set(h, HOOK_HEALTH_CREDENTIALS, HOOK_YES, NULL);
		hook_health_set(h, HOOK_HEALTH_AWS_REACHABLE, HOOK_YES, NULL);
		return;
	}
	const char *why = res->aws_code ? res->aws_code : hk_err_str(res->err);
	if (res->err == HK_ERR_AUTH || res->err == HK_ERR_NO_CREDENTIALS)
		hook_health_set(h, HOOK_HEALTH_CREDENTIALS, HOOK_NO, why);
	else if (res->err == HK_ERR_DENIED)
		hook_health_set(h, HOOK_HEALTH_CREDENTIALS, HOOK_YES, NULL); /* known, signed */
	if (res->http_status > 0)
		hook_health_set(h, HOOK_HEALTH_AWS_REACHABLE, HOOK_YES, NULL);
	else if (res->err != HK_ERR_NO_CREDENTIALS && (res->err != HK_ERR_INVALID || region))
		hook_health_set(h, HOOK_HEALTH_AWS_REACHABLE, HOOK_NO, why);
}

static void probe_cb(const awc_result *res, const sts_caller_identity_out *out, void *arg)
{
	hook_probe *p = arg;
	(void)out;
	p->inflight = false;
	probe_apply(p, res);
	/* Log changes only (and the first outcome): a line per 30 s would drown
	 * the log. The detail is an error code or name, never a secret. */
	for (int f = 0; f < HOOK_HEALTH__COUNT; f++) {
		hook_tristate t = p->health->flag[f];
		if (t == HOOK_UNKNOWN || t == p->logged[f])
			continue;
		p->logged[f] = t;
		json_t *fl = json_pack(
		    "{s:s,s:s,s:s}", "check", hook_health_flag_str((hook_health_flag)f), "state",
		    t == HOOK_YES ? "ok" : "failing", "detail", p->health->detail[f]);
		hook_log_json(t == HOOK_YES ? HOOK_LOG_INFO : HOOK_LOG_WARN, "readiness probe", fl);
	}
	probe_arm(p, HOOK_PROBE_INTERVAL_S);
}

static void probe_fire(evutil_socket_t fd, short what, void *arg)
{
	hook_probe *p = arg;
	(void)fd;
	(void)what;
	if (p->inflight || p->stopped)
		return;
	/* Bound the retries: a probe that cannot get through in the window is
	 * the answer (the next one comes at the interval). */
	awc_call_opts opts = {.deadline_us =
				  awc_now_us() + (uint64_t)HOOK_PROBE_WINDOW_S * 1000000u};
	if (sts_get_caller_identity(p->aws, probe_cb, p, &opts) != HK_OK) {
		hook_log(HOOK_LOG_WARN, "readiness probe: cannot send GetCallerIdentity", NULL);
		probe_arm(p, HOOK_PROBE_INTERVAL_S);
		return;
	}
	p->inflight = true;
}

hk_err hook_probe_new(struct event_base *base, const hook_config *cfg, hook_health *health,
		      hook_probe **ret)
{
	hook_probe *p = malloc(sizeof(*p));
	if (!p)
		return HK_ERR_NOMEM;
	*p = (hook_probe){.base = base, .health = health};
	hk_err err = hook_aws_client_new(base, cfg, &p->aws);
	if (err) {
		free(p);
		return err;
	}
	p->timer = evtimer_new(base, probe_fire, p);
	if (!p->timer) {
		hook_probe_free(p);
		return HK_ERR_NOMEM;
	}
	if (awc_client_region(p->aws))
		hook_health_set(health, HOOK_HEALTH_REGION, HOOK_YES, NULL);
	probe_arm(p, 0);
	*ret = p;
	return HK_OK;
}

void hook_probe_stop(hook_probe *p)
{
	if (!p)
		return;
	p->stopped = true;
	if (p->timer)
		evtimer_del(p->timer);
}

void hook_probe_free(hook_probe *p)
{
	if (!p)
		return;
	/* the client first: a check in flight is cancelled, its callback never runs */
	awsclient_free(p->aws);
	hook_event_free(&p->timer);
	free(p);
}
