/* systemd notification (Type=notify): READY=1 once the daemon is serving and
 * its first credentials are resolved, STATUS= lines while it waits, STOPPING=1
 * when it drains, WATCHDOG=1 from the event loop every half WatchdogSec. Uses
 * libsystemd's sd_notify(); without NOTIFY_SOCKET nothing is sent and nothing
 * is armed. */
#include "hook_cli.h"

#include <stdlib.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "hook_core.h"

#define READY_POLL_MS 200

struct hook_sd {
	const hook_health *health;
	struct event *ready_ev; /* polls the credentials flag until READY=1 */
	struct event *wd_ev;	/* WATCHDOG=1, persistent */
	bool ready_sent;
	bool waiting_said;
};

static void tv_ms(struct timeval *tv, uint64_t ms)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

static void ready_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hook_sd *sd = arg;
	if (sd->health->flag[HOOK_HEALTH_CREDENTIALS] == HOOK_YES) {
		sd_notify(0, "READY=1\nSTATUS=serving");
		sd->ready_sent = true;
		hook_log(HOOK_LOG_INFO, "systemd notified: ready", NULL);
		return;
	}
	if (!sd->waiting_said) {
		sd_notify(0, "STATUS=listening; waiting for the first AWS credentials");
		sd->waiting_said = true;
	}
	struct timeval tv;
	tv_ms(&tv, READY_POLL_MS);
	evtimer_add(sd->ready_ev, &tv);
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

hk_err hook_sd_start(struct event_base *base, const hook_health *health, hook_sd **ret)
{
	*ret = NULL;
	const char *sock = getenv("NOTIFY_SOCKET");
	if (!sock || !*sock)
		return HK_OK;
	hook_sd *sd = calloc(1, sizeof(*sd));
	if (!sd)
		return HK_ERR_NOMEM;
	sd->health = health;
	sd->ready_ev = evtimer_new(base, ready_cb, sd);
	if (!sd->ready_ev) {
		hook_sd_free(sd);
		return HK_ERR_NOMEM;
	}
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		sd->wd_ev = event_new(base, -1, EV_PERSIST, watchdog_cb, sd);
		struct timeval tv;
		tv_ms(&tv, usec / 2000 ? usec / 2000 : 1);
		if (!sd->wd_ev || event_add(sd->wd_ev, &tv) != 0) {
			hook_sd_free(sd);
			return HK_ERR_NOMEM;
		}
		sd_notify(0, "WATCHDOG=1");
	}
	event_active(sd->ready_ev, 0, 0);
	*ret = sd;
	return HK_OK;
}

void hook_sd_stopping(hook_sd *sd)
{
	if (!sd)
		return;
	if (sd->ready_ev)
		evtimer_del(sd->ready_ev);
	sd_notify(0, "STOPPING=1\nSTATUS=draining");
}

void hook_sd_free(hook_sd *sd)
{
	if (!sd)
		return;
	hook_event_free(&sd->ready_ev);
	hook_event_free(&sd->wd_ev);
	free(sd);
}
