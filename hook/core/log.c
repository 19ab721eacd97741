/* JSON log lines: {"time":"2026-01-02T03:04:05.678Z","level":"info","msg":...,
 * fields...}. Strings are escaped by jansson, so a hostile ASG name cannot
 * forge a line. Writes are line-buffered through stdio to stderr or a file. */
#include "hook_core.h"

#include <event2/event.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
	FILE *out; /* NULL = stderr */
	char *path;
	hook_log_level level;
} g_log = {NULL, NULL, HOOK_LOG_INFO};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

const char *hook_log_level_str(hook_log_level l)
{
	if ((unsigned)l >= HK_ARRAY_LEN(level_names))
		return "info";
	return level_names[l];
}

hk_err hook_log_level_parse(const char *s, hook_log_level *ret)
{
	if (!s)
		return HK_ERR_INVALID;
	for (size_t i = 0; i < HK_ARRAY_LEN(level_names); i++) {
		if (!strcmp(s, level_names[i])) {
			*ret = (hook_log_level)i;
			return HK_OK;
		}
	}
	if (!strcmp(s, "warning")) {
		*ret = HOOK_LOG_WARN;
		return HK_OK;
	}
	return HK_ERR_INVALID;
}

static FILE *open_log_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "a");
	if (!f) {
		close(fd);
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

hk_err hook_log_open(const char *path, hook_log_level level)
{
	FILE *f = NULL;
	char *p = NULL;
	if (path) {
		p = strdup(path);
		if (!p)
			return HK_ERR_NOMEM;
		f = open_log_file(path);
		if (!f) {
			free(p);
			return HK_ERR_IO;
		}
	}
	hook_log_close();
	g_log.out = f;
	g_log.path = p;
	g_log.level = level;
	return HK_OK;
}

hk_err hook_log_reopen(void)
{
	if (!g_log.path)
		return HK_OK;
	FILE *f = open_log_file(g_log.path);
	if (!f)
		return HK_ERR_IO; /* keep writing to the old file */
	if (g_log.out)
		fclose(g_log.out);
	g_log.out = f;
	return HK_OK;
}

void hook_log_close(void)
{
	if (g_log.out)
		fclose(g_log.out);
	g_log.out = NULL;
	free(g_log.path);
	g_log.path = NULL;
}

bool hook_log_enabled(hook_log_level l)
{
	return l >= g_log.level;
}

void hook_format_time_ms(int64_t ms, char *buf, size_t len)
{
	if (ms <= 0) {
		buf[0] = '\0';
		return;
	}
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char base[32];
	if (strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		base[0] = '\0';
	snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
}

static void format_time(char *buf, size_t len)
{
	hook_format_time_ms(hk_wall_ms(), buf, len);
}

void hook_log_json(hook_log_level l, const char *msg, json_t *fields)
{
	if (!hook_log_enabled(l)) {
		json_decref(fields);
		return;
	}
	char ts[48];
	format_time(ts, sizeof(ts));
	json_t *line = json_object();
	if (!line) {
		json_decref(fields);
		return;
	}
	json_object_set_new(line, "time", json_string(ts));
	json_object_set_new(line, "level", json_string(hook_log_level_str(l)));
	/* msg is ours, but escape it anyway; invalid UTF-8 is replaced. */
	json_t *m = json_string(msg ? msg : "");
	json_object_set_new(line, "msg", m ? m : json_string("(invalid utf-8)"));
	if (json_is_object(fields)) {
		const char *k;
		json_t *v;
		json_object_foreach(fields, k, v)
		{
			if (!json_object_get(line, k))
				json_object_set(line, k, v);
		}
	}
	json_decref(fields);
	char *text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(line);
	if (!text)
		return;
	FILE *out = g_log.out ? g_log.out : stderr;
	fputs(text, out);
	fputc('\n', out);
	fflush(out);
	free(text);
}

void hook_log(hook_log_level l, const char *msg, ...)
{
	if (!hook_log_enabled(l))
		return;
	json_t *fields = json_object();
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		if (fields && v) {
			/* json_string rejects invalid UTF-8: log a marker instead. */
			json_t *s = json_string(v);
			json_object_set_new(fields, k, s ? s : json_string("(invalid utf-8)"));
		}
	}
	va_end(ap);
	hook_log_json(l, msg, fields);
}

void hook_token_prefix(const char *token, char out[12])
{
	size_t n = token ? strnlen(token, 8) : 0;
	memcpy(out, token ? token : "", n);
	memcpy(out + n, "...", 4);
}

/* libevent's own warnings ("[warn] ..." on stderr by default) as JSON lines. */
static void libevent_log(int severity, const char *msg)
{
	hook_log_level l = severity >= EVENT_LOG_ERR	? HOOK_LOG_ERROR
			   : severity >= EVENT_LOG_WARN ? HOOK_LOG_WARN
			   : severity >= EVENT_LOG_MSG	? HOOK_LOG_INFO
							: HOOK_LOG_DEBUG;
	if (!hook_log_enabled(l))
		return;
	hook_log(l, msg ? msg : "", "library", "libevent", NULL);
}

void hook_log_route_libraries(void)
{
	event_set_log_callback(libevent_log);
}

/* ---- rejected requests ------------------------------------------------- */

/* One line per (msg, reason) per second, and at most REJECT_LINES_PER_S of
 * them in all: what a client sends must not decide how much is logged. */
#define REJECT_KEYS	   32
#define REJECT_REASON_LEN  64
#define REJECT_LINES_PER_S 20

static struct reject_key {
	const char *msg;
	char reason[REJECT_REASON_LEN];
	int64_t second;
	unsigned suppressed;
} reject_keys[REJECT_KEYS];
static int64_t reject_second;
static unsigned reject_lines, reject_over;

void hook_log_rejected(const char *msg, const char *reason, json_t *fields)
{
	int64_t now = hk_mono_ms() / 1000;
	if (now != reject_second) {
		reject_second = now;
		reject_lines = 0;
	}
	struct reject_key *k = NULL, *oldest = &reject_keys[0];
	for (size_t i = 0; i < REJECT_KEYS && !k; i++) {
		struct reject_key *e = &reject_keys[i];
		if (e->msg == msg &&
		    !strncmp(e->reason, reason ? reason : "", REJECT_REASON_LEN - 1))
			k = e;
		else if (e->second < oldest->second)
			oldest = e;
	}
	if (!k) {
		k = oldest;
		*k = (struct reject_key){.msg = msg, .second = now - 1};
		snprintf(k->reason, sizeof(k->reason), "%s", reason ? reason : "");
	}
	if (k->second == now || reject_lines >= REJECT_LINES_PER_S) {
		k->suppressed++;
		reject_over += reject_lines >= REJECT_LINES_PER_S;
		json_decref(fields);
		return;
	}
	if (!fields)
		fields = json_object();
	if (fields && reason)
		json_object_set_new(fields, "reason", json_string(reason));
	if (fields && (k->suppressed || reject_over)) {
		/* lines left out since this one was last written (and, over the
		 * overall limit, of any kind) */
		json_object_set_new(fields, "suppressed", json_integer(k->suppressed));
		if (reject_over)
			json_object_set_new(fields, "suppressed_over_limit",
					    json_integer(reject_over));
		reject_over = 0;
	}
	k->suppressed = 0;
	k->second = now;
	reject_lines++;
	hook_log_json(HOOK_LOG_WARN, msg, fields);
}
