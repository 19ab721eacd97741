/* The configuration file: one JSON document, validated as a whole. Every
 * problem gets its own message "path: value: why" and validation goes on
 * after a problem, so one run of check-config shows them all. Unknown keys
 * are problems (a typo must not silently fall back to a default).
 * Key by key documentation: docs/configuration.md. */
#include "hook_internal.h"
#include "intake_ext.h"

#include "awsclient.h"
#include "cidr.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Defaults (documented in docs/configuration.md). */
#define DEF_INTAKE_ADDR		"0.0.0.0"
#define DEF_INTAKE_PORT		8080u
#define DEF_ADMIN_ADDR		"127.0.0.1"
#define DEF_ADMIN_PORT		9901u
#define DEF_API_KEY_HEADER	"x-api-key"
#define DEF_MAX_CONNECTIONS	256u
#define DEF_READ_TIMEOUT_MS	5000u
#define DEF_REQUEST_TIMEOUT_MS	10000u
#define DEF_MAX_CONCURRENT	32u
#define DEF_HEARTBEAT_MARGIN_MS 60000u
#define DEF_SHUTDOWN_GRACE_MS	20000u
#define DEF_SWEEP_INTERVAL_S	600u
#define MAX_NETWORKS_PER_GROUP	15u
#define MAX_SECURITY_GROUPS	16u
#define MAX_USER_TAGS		40u
#define MAX_DEVICE_INDEX	31u
#define MAX_NETWORK_CARD_INDEX	15u
#define PATH_MAX_LEN		256
#define TBUCKET_OVERRIDES_MAX	32u /* aws.rate_limits.buckets entries (12 families exist) */

/* ---------------------------------------------------------------- problems */

void hook_problems_add(hook_problems *p, const char *fmt, ...)
{
	if (!p)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		char **nv = realloc(p->msgs, ncap * sizeof(*nv));
		if (!nv) {
			p->n++; /* counted, text lost */
			return;
		}
		/* Slots past n stay NULL for printers that skip them. */
		for (size_t i = p->cap; i < ncap; i++)
			nv[i] = NULL;
		p->msgs = nv;
		p->cap = ncap;
	}
	if (p->n < p->cap)
		p->msgs[p->n] = strdup(buf);
	p->n++;
}

void hook_problems_cleanup(hook_problems *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n && i < p->cap; i++)
		free(p->msgs[i]);
	free(p->msgs);
	p->msgs = NULL;
	p->n = p->cap = 0;
}

/* ------------------------------------------------------------ syntax checks */

static void why_set(char *why, size_t why_len, const char *text)
{
	if (why && why_len)
		snprintf(why, why_len, "%s", text);
}

/* Address text is parsed by the cidr module (strict forms: docs/cidr.md). */
bool hook_cidr_syntax_ok(const char *s, char *why, size_t why_len)
{
	cidr_prefix p;
	hk_errinfo ei = {0};
	if (!s || !strchr(s, '/')) {
		why_set(why, why_len, "not a CIDR (expected address/prefix)");
		return false;
	}
	if (cidr_parse_prefix(s, 0, &p, &ei) != HK_OK) {
		why_set(why, why_len, ei.text[0] ? ei.text : "not a CIDR");
		return false;
	}
	return true;
}

bool hook_range_syntax_ok(const char *s, char *why, size_t why_len)
{
	cidr_range r;
	hk_errinfo ei = {0};
	if (!s || !strchr(s, '-')) {
		why_set(why, why_len, "not a range (expected first-last)");
		return false;
	}
	if (cidr_parse_range(s, 0, &r, &ei) != HK_OK) {
		why_set(why, why_len, ei.text[0] ? ei.text : "not a range");
		return false;
	}
	return true;
}

bool hook_json_depth_ok(const char *buf, size_t len, unsigned max)
{
	unsigned depth = 0;
	bool in_str = false, esc = false;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return false;
		} else if (c == '}' || c == ']') {
			if (depth)
				depth--;
		}
	}
	return true;
}

hk_err hook_json_load(const char *buf, size_t len, const char *what, json_t **ret, hk_errinfo *ei)
{
	const char *sep = what ? ": " : "";
	if (!what)
		what = "";
	if (!hook_json_depth_ok(buf, len, HK_CAP_JSON_DEPTH))
		return hk_errinfo_set(ei, HK_ERR_PARSE, 0, "%s%sJSON nested deeper than %u levels",
				      what, sep, HK_CAP_JSON_DEPTH);
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return hk_errinfo_set(ei, HK_ERR_PARSE, (size_t)jerr.position,
				      "%s%snot valid JSON: line %d column %d: %s", what, sep,
				      jerr.line, jerr.column, jerr.text);
	*ret = root;
	return HK_OK;
}

/* ------------------------------------------------------------- validation */

typedef struct vctx {
	hook_problems *p;
	const char *base_dir;
	unsigned flags;
	bool oom;
} vctx;

static void kpath(char *out, const char *parent, const char *key)
{
	if (parent && *parent)
		snprintf(out, PATH_MAX_LEN, "%s.%s", parent, key);
	else
		snprintf(out, PATH_MAX_LEN, "%s", key);
}

static void ipath(char *out, const char *parent, size_t i)
{
	snprintf(out, PATH_MAX_LEN, "%s[%zu]", parent, i);
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

static char *xstrdup(vctx *v, const char *s)
{
	char *d = strdup(s);
	if (!d)
		v->oom = true;
	return d;
}

/* Report every key of `obj` not in `allowed` (NULL-terminated). */
static void check_keys(vctx *v, const char *path, json_t *obj, const char *const *allowed)
{
	const char *k;
	json_t *val;
	json_object_foreach(obj, k, val)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			if (!strcmp(k, allowed[i]))
				ok = true;
		if (!ok) {
			char p[PATH_MAX_LEN];
			kpath(p, path, k);
			/* Keep the list short but helpful. */
			char list[200] = "";
			size_t off = 0;
			for (size_t i = 0; allowed[i] && off < sizeof(list); i++) {
				int n = snprintf(list + off, sizeof(list) - off, "%s%s",
						 i ? ", " : "", allowed[i]);
				if (n < 0)
					break;
				off += (size_t)n;
			}
			hook_problems_add(v->p, "%s: unknown key (allowed here: %s)", p, list);
		}
	}
}

/* A string member. Missing: NULL (and a problem if required). Wrong type,
 * empty, too long or with NUL bytes: a problem and NULL. `*bad` set when a
 * problem was reported. Returns a borrowed pointer into the JSON. */
static const char *get_str(vctx *v, const char *path, json_t *obj, const char *key, bool required,
			   size_t max_len, bool *bad)
{
	char p[PATH_MAX_LEN];
	kpath(p, path, key);
	json_t *j = json_object_get(obj, key);
	if (!j) {
		if (required) {
			hook_problems_add(v->p, "%s: missing (required)", p);
			if (bad)
				*bad = true;
		}
		return NULL;
	}
	if (!json_is_string(j)) {
		hook_problems_add(v->p, "%s: must be a string, not %s", p, json_type_name(j));
		if (bad)
			*bad = true;
		return NULL;
	}
	const char *s = json_string_value(j);
	size_t len = json_string_length(j);
	if (strlen(s) != len) {
		hook_problems_add(v->p, "%s: contains a NUL character", p);
	} else if (len == 0) {
		hook_problems_add(v->p, "%s: must not be empty", p);
	} else if (len > max_len) {
		hook_problems_add(v->p, "%s: too long (%zu characters, at most %zu)", p, len,
				  max_len);
	} else {
		return s;
	}
	if (bad)
		*bad = true;
	return NULL;
}

/* An integer member in [min, max]; missing = def. */
static unsigned long long get_uint(vctx *v, const char *path, json_t *obj, const char *key,
				   unsigned long long min, unsigned long long max,
				   unsigned long long def)
{
	char p[PATH_MAX_LEN];
	kpath(p, path, key);
	json_t *j = json_object_get(obj, key);
	if (!j)
		return def;
	if (!json_is_integer(j)) {
		hook_problems_add(v->p, "%s: must be an integer, not %s", p, json_type_name(j));
		return def;
	}
	json_int_t n = json_integer_value(j);
	if (n < 0 || (unsigned long long)n < min || (unsigned long long)n > max) {
		hook_problems_add(v->p, "%s: %lld: out of range (%llu to %llu)", p, (long long)n,
				  min, max);
		return def;
	}
	return (unsigned long long)n;
}

static bool get_bool(vctx *v, const char *path, json_t *obj, const char *key, bool def)
{
	char p[PATH_MAX_LEN];
	kpath(p, path, key);
	json_t *j = json_object_get(obj, key);
	if (!j)
		return def;
	if (!json_is_boolean(j)) {
		hook_problems_add(v->p, "%s: must be true or false, not %s", p, json_type_name(j));
		return def;
	}
	return json_is_true(j);
}

/* One of `names` (NULL-terminated); returns its index, or def. */
static int get_enum(vctx *v, const char *path, json_t *obj, const char *key,
		    const char *const *names, int def)
{
	bool bad = false;
	const char *s = get_str(v, path, obj, key, false, 64, &bad);
	if (!s)
		return def;
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	char p[PATH_MAX_LEN];
	kpath(p, path, key);
	char list[160] = "";
	size_t off = 0;
	for (int i = 0; names[i] && off < sizeof(list); i++) {
		int n =
		    snprintf(list + off, sizeof(list) - off, "%s\"%s\"", i ? ", " : "", names[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	hook_problems_add(v->p, "%s: \"%s\": must be one of %s", p, s, list);
	return def;
}

/* An object member; NULL when missing (problem if required) or wrong type. */
static json_t *get_obj(vctx *v, const char *path, json_t *obj, const char *key, bool required)
{
	char p[PATH_MAX_LEN];
	kpath(p, path, key);
	json_t *j = json_object_get(obj, key);
	if (!j) {
		if (required)
			hook_problems_add(v->p, "%s: missing (required)", p);
		return NULL;
	}
	if (!json_is_object(j)) {
		hook_problems_add(v->p, "%s: must be an object, not %s", p, json_type_name(j));
		return NULL;
	}
	return j;
}

static json_t *get_arr(vctx *v, const char *path, json_t *obj, const char *key, bool required,
		       bool nonempty)
{
	char p[PATH_MAX_LEN];
	kpath(p, path, key);
	json_t *j = json_object_get(obj, key);
	if (!j) {
		if (required)
			hook_problems_add(v->p, "%s: missing (required)", p);
		return NULL;
	}
	if (!json_is_array(j)) {
		hook_problems_add(v->p, "%s: must be an array, not %s", p, json_type_name(j));
		return NULL;
	}
	if (nonempty && json_array_size(j) == 0) {
		hook_problems_add(v->p, "%s: must not be empty", p);
		return NULL;
	}
	return j;
}

static bool match_id(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (strncmp(s, prefix, pl) != 0)
		return false;
	size_t n = strlen(s + pl);
	if (n < 8 || n > 17)
		return false;
	for (const char *c = s + pl; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

static bool name_ok(const char *s)
{
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			return false;
	return true;
}

/* An object of string -> string (tags, subnet selectors). */
static hook_kv *get_kv(vctx *v, const char *path, json_t *obj, size_t max_key, size_t max_val,
		       size_t *ret_n)
{
	*ret_n = 0;
	size_t n = json_object_size(obj);
	if (n == 0)
		return NULL;
	hook_kv *kv = calloc(n, sizeof(*kv));
	if (!kv) {
		v->oom = true;
		return NULL;
	}
	size_t i = 0;
	const char *k;
	json_t *val;
	json_object_foreach(obj, k, val)
	{
		char p[PATH_MAX_LEN];
		kpath(p, path, k);
		if (strlen(k) == 0 || strlen(k) > max_key) {
			hook_problems_add(v->p, "%s: key length must be 1 to %zu characters", p,
					  max_key);
			continue;
		}
		if (!json_is_string(val)) {
			hook_problems_add(v->p, "%s: must be a string, not %s", p,
					  json_type_name(val));
			continue;
		}
		const char *s = json_string_value(val);
		if (strlen(s) != json_string_length(val) || strlen(s) > max_val) {
			hook_problems_add(v->p, "%s: value too long or contains NUL (at most %zu)",
					  p, max_val);
			continue;
		}
		kv[i].key = xstrdup(v, k);
		kv[i].value = xstrdup(v, s);
		i++;
	}
	*ret_n = i;
	return kv;
}

static void kv_free(hook_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void strv_free(char **sv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(sv[i]);
	free(sv);
}

/* Resolve a path relative to the config file's directory. */
static char *resolve_path(vctx *v, const char *p)
{
	if (p[0] == '/' || !v->base_dir || !*v->base_dir)
		return xstrdup(v, p);
	size_t n = strlen(v->base_dir) + 1 + strlen(p) + 1;
	char *out = malloc(n);
	if (!out) {
		v->oom = true;
		return NULL;
	}
	snprintf(out, n, "%s/%s", v->base_dir, p);
	return out;
}

/* Read a secret file: at most HK_CAP_SECRET_FILE bytes, one trailing newline
 * stripped, not empty, not readable by others. The buffer is wiped on error. */
static char *read_secret(vctx *v, const char *keypath, const char *file, size_t *ret_len)
{
	char *path = resolve_path(v, file);
	if (!path)
		return NULL;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hook_problems_add(v->p, "%s: \"%s\": cannot open: %s", keypath, file,
				  strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		hook_problems_add(v->p, "%s: \"%s\": not a regular file", keypath, file);
		goto out;
	}
	if (st.st_mode & S_IROTH) {
		hook_problems_add(v->p,
				  "%s: \"%s\": readable by every user (mode %03o): chmod 600 it",
				  keypath, file, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if (st.st_size > (off_t)HK_CAP_SECRET_FILE) {
		hook_problems_add(v->p, "%s: \"%s\": larger than %u bytes", keypath, file,
				  HK_CAP_SECRET_FILE);
		goto out;
	}
	buf = malloc(HK_CAP_SECRET_FILE + 1);
	if (!buf) {
		v->oom = true;
		goto out;
	}
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, buf + len, HK_CAP_SECRET_FILE + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			hook_problems_add(v->p, "%s: \"%s\": read failed: %s", keypath, file,
					  strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > HK_CAP_SECRET_FILE) {
			hook_problems_add(v->p, "%s: \"%s\": larger than %u bytes", keypath, file,
					  HK_CAP_SECRET_FILE);
			goto fail;
		}
	}
	if (len && buf[len - 1] == '\n')
		len--;
	if (len && buf[len - 1] == '\r')
		len--;
	if (len == 0) {
		hook_problems_add(v->p, "%s: \"%s\": the file is empty", keypath, file);
		goto fail;
	}
	if (memchr(buf, '\0', len) || memchr(buf, '\n', len)) {
		hook_problems_add(v->p, "%s: \"%s\": must hold one line without NUL bytes", keypath,
				  file);
		goto fail;
	}
	buf[len] = '\0';
	*ret_len = len;
	goto out;
fail:
	OPENSSL_cleanse(buf, HK_CAP_SECRET_FILE + 1);
	free(buf);
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return buf;
}

static bool addr_ok(const char *s)
{
	cidr_addr a;
	return cidr_parse_addr(s, &a, NULL) == HK_OK;
}

static void parse_listener(vctx *v, json_t *parent, const char *name, hook_listener_cfg *out,
			   const char *def_addr, unsigned def_port)
{
	char p[PATH_MAX_LEN];
	kpath(p, "listeners", name);
	out->address = NULL;
	out->port = def_port;
	json_t *o = get_obj(v, "listeners", parent, name, false);
	if (o) {
		static const char *const keys[] = {"address", "port", NULL};
		check_keys(v, p, o, keys);
		bool bad = false;
		const char *a = get_str(v, p, o, "address", false, 63, &bad);
		if (a) {
			if (!addr_ok(a))
				hook_problems_add(
				    v->p, "%s.address: \"%s\": not a numeric IPv4 or IPv6 address",
				    p, a);
			else
				out->address = xstrdup(v, a);
		}
		out->port = (unsigned)get_uint(v, p, o, "port", 0, 65535, def_port);
	}
	if (!out->address)
		out->address = xstrdup(v, def_addr);
}

/* A number member in [min, max]; missing = def. */
static double get_double(vctx *v, const char *path, json_t *obj, const char *key, double min,
			 double max, double def)
{
	char p[PATH_MAX_LEN];
	kpath(p, path, key);
	json_t *j = json_object_get(obj, key);
	if (!j)
		return def;
	if (!json_is_number(j)) {
		hook_problems_add(v->p, "%s: must be a number, not %s", p, json_type_name(j));
		return def;
	}
	double d = json_number_value(j);
	if (!(d >= min && d <= max)) {
		hook_problems_add(v->p, "%s: %g: out of range (%g to %g)", p, d, min, max);
		return def;
	}
	return d;
}

/* aws.rate_limits: {"scale": x, "buckets": {"<family>": {"burst", "refill_per_s"}}}. */
static void parse_rate_limits(vctx *v, json_t *aws, hook_config *cfg)
{
	json_t *o = get_obj(v, "aws", aws, "rate_limits", false);
	if (!o)
		return;
	static const char *const keys[] = {"scale", "buckets", NULL};
	check_keys(v, "aws.rate_limits", o, keys);
	cfg->aws_rate_scale = get_double(v, "aws.rate_limits", o, "scale", 0.01, 100.0, 1.0);
	json_t *b = get_obj(v, "aws.rate_limits", o, "buckets", false);
	if (!b)
		return;
	size_t n = json_object_size(b);
	if (n == 0)
		return;
	if (n > TBUCKET_OVERRIDES_MAX) {
		hook_problems_add(v->p, "aws.rate_limits.buckets: more than %u families",
				  TBUCKET_OVERRIDES_MAX);
		return;
	}
	cfg->aws_rate_limits = calloc(n, sizeof(*cfg->aws_rate_limits));
	if (!cfg->aws_rate_limits) {
		hook_problems_add(v->p, "aws.rate_limits.buckets: out of memory");
		return;
	}
	const char *fam;
	json_t *e;
	json_object_foreach(b, fam, e)
	{
		char path[PATH_MAX_LEN];
		snprintf(path, sizeof(path), "aws.rate_limits.buckets.%s", fam);
		if (!awc_bucket_family_known(fam)) {
			hook_problems_add(v->p,
					  "%s: unknown token-bucket family (see "
					  "docs/configuration.md#aws for the names)",
					  path);
			continue;
		}
		if (!json_is_object(e)) {
			hook_problems_add(v->p, "%s: must be an object, not %s", path,
					  json_type_name(e));
			continue;
		}
		static const char *const bkeys[] = {"burst", "refill_per_s", NULL};
		check_keys(v, path, e, bkeys);
		if (!json_object_get(e, "burst") || !json_object_get(e, "refill_per_s")) {
			hook_problems_add(v->p, "%s: needs both burst and refill_per_s", path);
			continue;
		}
		hook_rate_limit *r = &cfg->aws_rate_limits[cfg->n_aws_rate_limits];
		r->burst = get_double(v, path, e, "burst", 1.0, 100000.0, 1.0);
		r->refill_per_s = get_double(v, path, e, "refill_per_s", 0.01, 100000.0, 1.0);
		r->family = xstrdup(v, fam);
		if (r->family)
			cfg->n_aws_rate_limits++;
	}
}

static void parse_aws(vctx *v, json_t *root, hook_config *cfg)
{
	cfg->aws_rate_scale = 1.0;
	json_t *o = get_obj(v, "", root, "aws", false);
	if (!o)
		return;
	static const char *const keys[] = {"region", "endpoints", "rate_limits", NULL};
	check_keys(v, "aws", o, keys);
	const char *r = get_str(v, "aws", o, "region", false, 32, NULL);
	if (r) {
		bool ok = true;
		for (const char *c = r; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
				ok = false;
		if (!ok || !strchr(r, '-'))
			hook_problems_add(
			    v->p, "aws.region: \"%s\": not a region name (like us-east-1)", r);
		else
			cfg->region = xstrdup(v, r);
	}
	parse_rate_limits(v, o, cfg);
	json_t *e = get_obj(v, "aws", o, "endpoints", false);
	if (!e)
		return;
	static const char *const ekeys[] = {"ec2", "autoscaling", "sts", "sqs", NULL};
	check_keys(v, "aws.endpoints", e, ekeys);
	char **dst[] = {&cfg->endpoint_ec2, &cfg->endpoint_autoscaling, &cfg->endpoint_sts,
			&cfg->endpoint_sqs};
	for (size_t i = 0; i < HK_ARRAY_LEN(dst); i++) {
		const char *u = get_str(v, "aws.endpoints", e, ekeys[i], false, 512, NULL);
		if (!u)
			continue;
		if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) {
			hook_problems_add(v->p,
					  "aws.endpoints.%s: \"%s\": must start with https:// "
					  "or http://",
					  ekeys[i], u);
			continue;
		}
		*dst[i] = xstrdup(v, u);
	}
}

static void parse_auth(vctx *v, json_t *root, hook_config *cfg)
{
	json_t *o = get_obj(v, "", root, "auth", true);
	if (!o)
		return;
	static const char *const types[] = {"api_key", "basic", NULL};
	bool bad = false;
	const char *t = get_str(v, "auth", o, "type", true, 16, &bad);
	if (!t)
		return;
	if (!strcmp(t, "api_key")) {
		static const char *const keys[] = {"type", "header", "value_file", NULL};
		check_keys(v, "auth", o, keys);
		cfg->auth_kind = HOOK_AUTH_API_KEY;
		const char *h = get_str(v, "auth", o, "header", false, 64, NULL);
		if (h) {
			bool ok = true;
			for (const char *c = h; *c; c++)
				if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
					ok = false;
			if (!ok || !strcasecmp(h, "authorization"))
				hook_problems_add(v->p,
						  "auth.header: \"%s\": not a usable header name "
						  "(letters, digits, '-', '_'; not Authorization)",
						  h);
			else
				cfg->auth_header = xstrdup(v, h);
		}
		if (!cfg->auth_header)
			cfg->auth_header = xstrdup(v, DEF_API_KEY_HEADER);
		const char *f = get_str(v, "auth", o, "value_file", true, 4096, NULL);
		if (f && !(v->flags & HOOK_CONFIG_NO_FILES))
			cfg->auth_secret =
			    read_secret(v, "auth.value_file", f, &cfg->auth_secret_len);
	} else if (!strcmp(t, "basic")) {
		static const char *const keys[] = {"type", "username", "password_file", NULL};
		check_keys(v, "auth", o, keys);
		cfg->auth_kind = HOOK_AUTH_BASIC;
		const char *u = get_str(v, "auth", o, "username", true, 128, NULL);
		if (u && strchr(u, ':'))
			hook_problems_add(v->p, "auth.username: must not contain ':' (RFC 7617)");
		else if (u)
			cfg->auth_username = xstrdup(v, u);
		const char *f = get_str(v, "auth", o, "password_file", true, 4096, NULL);
		if (f && !(v->flags & HOOK_CONFIG_NO_FILES))
			cfg->auth_secret =
			    read_secret(v, "auth.password_file", f, &cfg->auth_secret_len);
		if (cfg->auth_username && cfg->auth_secret) {
			/* Precompute base64("user:password") once; requests are compared
			 * in constant time against it, nothing untrusted is decoded. */
			size_t ul = strlen(cfg->auth_username);
			size_t plain_len = ul + 1 + cfg->auth_secret_len;
			unsigned char *plain = malloc(plain_len);
			size_t enc_cap = 4 * ((plain_len + 2) / 3) + 1;
			char *enc = malloc(enc_cap);
			if (!plain || !enc) {
				v->oom = true;
				free(plain);
				free(enc);
				return;
			}
			memcpy(plain, cfg->auth_username, ul);
			plain[ul] = ':';
			memcpy(plain + ul + 1, cfg->auth_secret, cfg->auth_secret_len);
			int n = EVP_EncodeBlock((unsigned char *)enc, plain, (int)plain_len);
			OPENSSL_cleanse(plain, plain_len);
			free(plain);
			cfg->auth_basic_expect = enc;
			cfg->auth_basic_expect_len = n > 0 ? (size_t)n : 0;
		}
	} else {
		hook_problems_add(v->p, "auth.type: \"%s\": must be one of \"%s\", \"%s\"", t,
				  types[0], types[1]);
	}
}

static void parse_limits(vctx *v, json_t *root, hook_config *cfg)
{
	cfg->max_body_bytes = HK_CAP_HTTP_BODY_DEFAULT;
	cfg->max_header_bytes = HK_CAP_HTTP_HEADERS_SIZE;
	cfg->max_connections = DEF_MAX_CONNECTIONS;
	cfg->read_timeout_ms = DEF_READ_TIMEOUT_MS;
	cfg->request_timeout_ms = DEF_REQUEST_TIMEOUT_MS;
	cfg->max_concurrent_actions = DEF_MAX_CONCURRENT;
	cfg->heartbeat_margin_ms = DEF_HEARTBEAT_MARGIN_MS;
	cfg->shutdown_grace_ms = DEF_SHUTDOWN_GRACE_MS;
	cfg->sweep_interval_s = DEF_SWEEP_INTERVAL_S;
	json_t *o = get_obj(v, "", root, "limits", false);
	if (!o)
		return;
	static const char *const keys[] = {"max_body_bytes",	  "max_header_bytes",
					   "max_connections",	  "read_timeout_ms",
					   "request_timeout_ms",  "max_concurrent_actions",
					   "heartbeat_margin_ms", "shutdown_grace_ms",
					   "sweep_interval_s",	  NULL};
	check_keys(v, "limits", o, keys);
	cfg->max_body_bytes = (size_t)get_uint(v, "limits", o, "max_body_bytes", 1024,
					       64ull * 1024 * 1024, HK_CAP_HTTP_BODY_DEFAULT);
	cfg->max_header_bytes = (size_t)get_uint(v, "limits", o, "max_header_bytes", 1024,
						 1024 * 1024, HK_CAP_HTTP_HEADERS_SIZE);
	cfg->max_connections = (unsigned)get_uint(v, "limits", o, "max_connections", 1,
						  HK_CAP_HTTP_CONNECTIONS, DEF_MAX_CONNECTIONS);
	cfg->read_timeout_ms =
	    (unsigned)get_uint(v, "limits", o, "read_timeout_ms", 100, 600000, DEF_READ_TIMEOUT_MS);
	cfg->request_timeout_ms = (unsigned)get_uint(v, "limits", o, "request_timeout_ms", 100,
						     600000, DEF_REQUEST_TIMEOUT_MS);
	cfg->max_concurrent_actions = (unsigned)get_uint(v, "limits", o, "max_concurrent_actions",
							 1, 10000, DEF_MAX_CONCURRENT);
	cfg->heartbeat_margin_ms = (unsigned)get_uint(v, "limits", o, "heartbeat_margin_ms", 1000,
						      3600000, DEF_HEARTBEAT_MARGIN_MS);
	cfg->shutdown_grace_ms = (unsigned)get_uint(v, "limits", o, "shutdown_grace_ms", 0, 600000,
						    DEF_SHUTDOWN_GRACE_MS);
	cfg->sweep_interval_s =
	    (unsigned)get_uint(v, "limits", o, "sweep_interval_s", 0, 86400, DEF_SWEEP_INTERVAL_S);
}

/* ---- lifecycle engine: TEST ONLY keys (docs/configuration.md, `testing`) ---- */
static void parse_testing(vctx *v, json_t *root, hook_config *cfg)
{
	cfg->test_time_scale = 1.0;
	json_t *o = get_obj(v, "", root, "testing", false);
	if (!o)
		return;
	static const char *const keys[] = {"time_scale", NULL};
	check_keys(v, "testing", o, keys);
	json_t *j = json_object_get(o, "time_scale");
	if (!j)
		return;
	double d = json_is_number(j) ? json_number_value(j) : -1.0;
	if (!json_is_number(j) || !(d >= 0.001 && d <= 1000.0))
		hook_problems_add(v->p,
				  "testing.time_scale: must be a number from 0.001 to 1000 "
				  "(test only: lifecycle hook timeouts are multiplied by it)");
	else
		cfg->test_time_scale = d;
}

/* ---- SNS and SQS intake (docs/intake.md; hook/sns.c, hook/sqs_intake.c) ---- */
#define DEF_SQS_WAIT_TIME_S	     20u
#define DEF_SQS_MAX_MESSAGES	     10u
#define DEF_SQS_VISIBILITY_TIMEOUT_S 60u

/* arn:<partition>:sns:<region>:<12 digits>:<name>, name [A-Za-z0-9_-]{1,256}
 * with an optional ".fifo". */
static bool topic_arn_ok(const char *s)
{
	const char *p = s;
	if (strncmp(p, "arn:", 4) != 0)
		return false;
	p += 4;
	size_t n = strcspn(p, ":");
	if (n == 0 || n > 32 || strncmp(p, "aws", 3) != 0)
		return false;
	p += n;
	if (strncmp(p, ":sns:", 5) != 0)
		return false;
	p += 5;
	n = strcspn(p, ":");
	if (n < 4 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			return false;
	p += n;
	if (*p++ != ':')
		return false;
	for (int i = 0; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	p += 12;
	if (*p++ != ':')
		return false;
	n = strlen(p);
	if (n > 5 && !strcmp(p + n - 5, ".fifo"))
		n -= 5;
	if (n == 0 || n > 256)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_'))
			return false;
	return true;
}

/* curl's CONNECT_TO syntax restricted to what the tests need:
 * "HOST:PORT:ADDR:PORT" where HOST is empty or an SNS host, the first PORT
 * empty or 443, ADDR a numeric IPv4 address or a bracketed IPv6 one. */
static bool connect_to_ok(const char *s)
{
	const char *c1 = strchr(s, ':');
	if (!c1 || (c1 != s && !hook_sns_host_ok(s, (size_t)(c1 - s))))
		return false;
	const char *c2 = strchr(c1 + 1, ':');
	if (!c2 || (c2 != c1 + 1 && !(c2 - c1 == 4 && !strncmp(c1 + 1, "443", 3))))
		return false;
	const char *addr = c2 + 1;
	const char *c3;
	char ab[64];
	if (*addr == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - addr - 1) >= sizeof(ab))
			return false;
		memcpy(ab, addr + 1, (size_t)(rb - addr - 1));
		ab[rb - addr - 1] = '\0';
		if (!strchr(ab, ':'))
			return false;
		c3 = rb + 1;
	} else {
		c3 = strchr(addr, ':');
		if (!c3 || (size_t)(c3 - addr) >= sizeof(ab))
			return false;
		memcpy(ab, addr, (size_t)(c3 - addr));
		ab[c3 - addr] = '\0';
		if (strchr(ab, ':'))
			return false;
	}
	if (!addr_ok(ab))
		return false;
	const char *port = c3 + 1;
	if (!*port || strlen(port) > 5)
		return false;
	unsigned long pv = 0;
	for (const char *c = port; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		pv = pv * 10 + (unsigned long)(*c - '0');
	}
	return pv >= 1 && pv <= 65535;
}

static void parse_sns(vctx *v, json_t *root, hook_config *cfg)
{
	json_t *o = get_obj(v, "", root, "sns", false);
	if (!o)
		return;
	static const char *const keys[] = {"enabled", "topic_arns", "test_ca_file",
					   "test_connect_to", NULL};
	check_keys(v, "sns", o, keys);
	cfg->sns_enabled = get_bool(v, "sns", o, "enabled", false);
	json_t *arns = get_arr(v, "sns", o, "topic_arns", cfg->sns_enabled, cfg->sns_enabled);
	if (arns) {
		size_t n = json_array_size(arns);
		if (n > HK_CAP_SNS_TOPICS) {
			hook_problems_add(v->p, "sns.topic_arns: at most %u topics",
					  HK_CAP_SNS_TOPICS);
			n = 0;
		}
		cfg->sns_topic_arns = n ? calloc(n, sizeof(char *)) : NULL;
		if (n && !cfg->sns_topic_arns)
			v->oom = true;
		for (size_t i = 0; i < n && cfg->sns_topic_arns; i++) {
			json_t *e = json_array_get(arns, i);
			const char *a = json_is_string(e) ? json_string_value(e) : NULL;
			if (!a || strlen(a) != json_string_length(e) || strlen(a) > 512 ||
			    !topic_arn_ok(a)) {
				hook_problems_add(v->p,
						  "sns.topic_arns[%zu]: must be an SNS topic ARN "
						  "(arn:aws:sns:REGION:ACCOUNT:NAME)",
						  i);
				continue;
			}
			cfg->sns_topic_arns[cfg->n_sns_topic_arns++] = xstrdup(v, a);
		}
	}
	const char *ca = get_str(v, "sns", o, "test_ca_file", false, 4096, NULL);
	if (ca) {
		cfg->sns_test_ca_file = resolve_path(v, ca);
		if (cfg->sns_test_ca_file && !(v->flags & HOOK_CONFIG_NO_FILES) &&
		    access(cfg->sns_test_ca_file, R_OK) != 0)
			hook_problems_add(v->p, "sns.test_ca_file: \"%s\": cannot read: %s", ca,
					  strerror(errno));
	}
	const char *ct = get_str(v, "sns", o, "test_connect_to", false, 300, NULL);
	if (ct) {
		if (!connect_to_ok(ct))
			hook_problems_add(v->p,
					  "sns.test_connect_to: \"%s\": expected "
					  "\"sns.REGION.amazonaws.com:443:ADDRESS:PORT\" (numeric "
					  "address)",
					  ct);
		else
			cfg->sns_test_connect_to = xstrdup(v, ct);
	}
}

static void parse_sqs(vctx *v, json_t *root, hook_config *cfg)
{
	cfg->sqs_wait_time_s = DEF_SQS_WAIT_TIME_S;
	cfg->sqs_max_messages = DEF_SQS_MAX_MESSAGES;
	cfg->sqs_visibility_timeout_s = DEF_SQS_VISIBILITY_TIMEOUT_S;
	json_t *o = get_obj(v, "", root, "sqs", false);
	if (!o)
		return;
	static const char *const keys[] = {"queue_url", "wait_time_s", "max_messages",
					   "visibility_timeout_s", NULL};
	check_keys(v, "sqs", o, keys);
	const char *u = get_str(v, "sqs", o, "queue_url", true, 1024, NULL);
	if (u) {
		if ((strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) ||
		    strpbrk(u, " \t\r\n"))
			hook_problems_add(v->p,
					  "sqs.queue_url: \"%s\": must be an https:// (or http://) "
					  "queue URL",
					  u);
		else
			cfg->sqs_queue_url = xstrdup(v, u);
	}
	cfg->sqs_wait_time_s =
	    (unsigned)get_uint(v, "sqs", o, "wait_time_s", 1, 20, DEF_SQS_WAIT_TIME_S);
	cfg->sqs_max_messages =
	    (unsigned)get_uint(v, "sqs", o, "max_messages", 1, 10, DEF_SQS_MAX_MESSAGES);
	cfg->sqs_visibility_timeout_s = (unsigned)get_uint(v, "sqs", o, "visibility_timeout_s", 5,
							   43200, DEF_SQS_VISIBILITY_TIMEOUT_S);
}

static bool reserved_tag_key(const char *k)
{
	return !strncasecmp(k, "aws:", 4) || !strcmp(k, "node.k8s.amazonaws.com/no_manage") ||
	       !strncmp(k, "multus-hookd/", 13);
}

/* Pod ranges of one network must not overlap (a typo in one of them would
 * otherwise go unnoticed). Quadratic, but a network has a handful. */
static void check_overlaps(vctx *v, const char *path, const hook_network *net)
{
	for (size_t i = 0; i < net->n_pod_ranges; i++) {
		cidr_range a;
		if (!net->pod_ranges[i] || cidr_parse_range(net->pod_ranges[i], 0, &a, NULL))
			continue;
		for (size_t j = 0; j < i; j++) {
			cidr_range b;
			if (!net->pod_ranges[j] ||
			    cidr_parse_range(net->pod_ranges[j], 0, &b, NULL))
				continue;
			if (a.first.family == b.first.family &&
			    cidr_addr_cmp(&a.first, &b.last) <= 0 &&
			    cidr_addr_cmp(&b.first, &a.last) <= 0)
				hook_problems_add(v->p, "%s: \"%s\" overlaps \"%s\"", path,
						  net->pod_ranges[i], net->pod_ranges[j]);
		}
	}
}

static void parse_network(vctx *v, const char *path, json_t *o, size_t pos, hook_network *net)
{
	static const char *const keys[] = {"name",
					   "device_index",
					   "network_card_index",
					   "subnet",
					   "security_groups",
					   "ip_mode",
					   "pod_ranges",
					   "ipv6",
					   "source_dest_check",
					   "tags",
					   "description",
					   NULL};
	check_keys(v, path, o, keys);
	const char *name = get_str(v, path, o, "name", true, 64, NULL);
	if (name && !name_ok(name))
		hook_problems_add(v->p, "%s.name: \"%s\": use letters, digits, '-', '_', '.'", path,
				  name);
	else if (name)
		net->name = xstrdup(v, name);
	net->device_index = (unsigned)get_uint(v, path, o, "device_index", 1, MAX_DEVICE_INDEX,
					       pos + 1 <= MAX_DEVICE_INDEX ? pos + 1 : 1);
	net->network_card_index =
	    (unsigned)get_uint(v, path, o, "network_card_index", 0, MAX_NETWORK_CARD_INDEX, 0);

	char sp[PATH_MAX_LEN];
	kpath(sp, path, "subnet");
	json_t *sub = get_obj(v, path, o, "subnet", true);
	if (sub) {
		static const char *const skeys[] = {"tags", "ids_by_az", NULL};
		check_keys(v, sp, sub, skeys);
		json_t *tags = get_obj(v, sp, sub, "tags", false);
		json_t *ids = get_obj(v, sp, sub, "ids_by_az", false);
		if (!json_object_get(sub, "tags") && !json_object_get(sub, "ids_by_az"))
			hook_problems_add(v->p, "%s: needs \"tags\" or \"ids_by_az\"", sp);
		else if (json_object_get(sub, "tags") && json_object_get(sub, "ids_by_az"))
			hook_problems_add(v->p, "%s: give \"tags\" or \"ids_by_az\", not both", sp);
		char p2[PATH_MAX_LEN];
		if (tags) {
			kpath(p2, sp, "tags");
			if (json_object_size(tags) == 0)
				hook_problems_add(v->p, "%s: must not be empty", p2);
			net->subnet_tags = get_kv(v, p2, tags, 128, 256, &net->n_subnet_tags);
		}
		if (ids) {
			kpath(p2, sp, "ids_by_az");
			if (json_object_size(ids) == 0)
				hook_problems_add(v->p, "%s: must not be empty", p2);
			net->subnet_ids = get_kv(v, p2, ids, 32, 32, &net->n_subnet_ids);
			for (size_t i = 0; i < net->n_subnet_ids; i++) {
				const hook_kv *kv = &net->subnet_ids[i];
				if (!kv->key || !kv->value)
					continue;
				if (!match_id(kv->value, "subnet-"))
					hook_problems_add(v->p,
							  "%s.%s: \"%s\": not a subnet id "
							  "(subnet-0123456789abcdef0)",
							  p2, kv->key, kv->value);
				bool azok = true;
				for (const char *c = kv->key; *c; c++)
					if (!((*c >= 'a' && *c <= 'z') ||
					      (*c >= '0' && *c <= '9') || *c == '-'))
						azok = false;
				if (!azok)
					hook_problems_add(v->p,
							  "%s.%s: not an availability zone name "
							  "(like us-east-1a)",
							  p2, kv->key);
			}
		}
	}

	char gp[PATH_MAX_LEN];
	kpath(gp, path, "security_groups");
	json_t *sgs = get_arr(v, path, o, "security_groups", false, false);
	if (sgs) {
		size_t n = json_array_size(sgs);
		if (n > MAX_SECURITY_GROUPS) {
			hook_problems_add(v->p, "%s: at most %u security groups", gp,
					  MAX_SECURITY_GROUPS);
		} else if (n) {
			net->security_groups = calloc(n, sizeof(char *));
			if (!net->security_groups)
				v->oom = true;
			for (size_t i = 0; i < n && net->security_groups; i++) {
				char ep[PATH_MAX_LEN];
				ipath(ep, gp, i);
				json_t *e = json_array_get(sgs, i);
				if (!json_is_string(e) || !match_id(json_string_value(e), "sg-")) {
					hook_problems_add(v->p,
							  "%s: not a security group id "
							  "(sg-0123456789abcdef0)",
							  ep);
					continue;
				}
				net->security_groups[net->n_security_groups++] =
				    xstrdup(v, json_string_value(e));
			}
		}
	}

	static const char *const ipmodes[] = {"first-free", "dhcp", NULL};
	net->ip_mode = (hook_ip_mode)get_enum(v, path, o, "ip_mode", ipmodes, HOOK_IP_FIRST_FREE);
	static const char *const v6modes[] = {"none", "one", "first-free", NULL};
	net->ipv6 = (hook_ipv6_mode)get_enum(v, path, o, "ipv6", v6modes, HOOK_IPV6_NONE);
	net->source_dest_check = get_bool(v, path, o, "source_dest_check", true);

	char pp[PATH_MAX_LEN];
	kpath(pp, path, "pod_ranges");
	json_t *pr = get_arr(v, path, o, "pod_ranges", false, false);
	if (pr && json_array_size(pr)) {
		size_t n = json_array_size(pr);
		net->pod_ranges = calloc(n, sizeof(char *));
		if (!net->pod_ranges)
			v->oom = true;
		for (size_t i = 0; i < n && net->pod_ranges; i++) {
			char ep[PATH_MAX_LEN];
			ipath(ep, pp, i);
			json_t *e = json_array_get(pr, i);
			if (!json_is_string(e)) {
				hook_problems_add(v->p, "%s: must be a string, not %s", ep,
						  json_type_name(e));
				continue;
			}
			const char *s = json_string_value(e);
			char why[96];
			bool is_cidr = strchr(s, '/') != NULL;
			bool ok = is_cidr ? hook_cidr_syntax_ok(s, why, sizeof(why))
					  : hook_range_syntax_ok(s, why, sizeof(why));
			if (!ok) {
				hook_problems_add(v->p, "%s: \"%s\": %s", ep, s, why);
				continue;
			}
			if (net->ip_mode == HOOK_IP_DHCP && !is_cidr) {
				hook_problems_add(
				    v->p,
				    "%s: \"%s\": with ip_mode \"dhcp\" pod ranges must "
				    "be CIDRs (each one an explicit subnet CIDR "
				    "reservation)",
				    ep, s);
				continue;
			}
			net->pod_ranges[net->n_pod_ranges++] = xstrdup(v, s);
		}
		check_overlaps(v, pp, net);
	}

	char tp[PATH_MAX_LEN];
	kpath(tp, path, "tags");
	json_t *tags = get_obj(v, path, o, "tags", false);
	if (tags) {
		if (json_object_size(tags) > MAX_USER_TAGS)
			hook_problems_add(v->p, "%s: at most %u tags", tp, MAX_USER_TAGS);
		net->tags = get_kv(v, tp, tags, 128, 256, &net->n_tags);
		for (size_t i = 0; i < net->n_tags; i++)
			if (net->tags[i].key && reserved_tag_key(net->tags[i].key))
				hook_problems_add(
				    v->p,
				    "%s.%s: reserved tag key (aws:, multus-hookd/ and "
				    "node.k8s.amazonaws.com/no_manage are set by AWS "
				    "or by the daemon)",
				    tp, net->tags[i].key);
	}
	const char *d = get_str(v, path, o, "description", false, 255, NULL);
	if (d)
		net->description = xstrdup(v, d);
}

/* AWS's LifecycleHookName: 1-255 of [A-Za-z0-9-_/]. */
static bool hook_name_ok(const char *s)
{
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '/'))
			return false;
	return true;
}

/* hook_names: the exact names of this daemon's own lifecycle hooks. A group
 * usually carries other tools' hooks too (node drainers, bootstrap checks):
 * their events must be left alone, so the list is required. */
static void parse_hook_names(vctx *v, const char *path, json_t *o, hook_node_group *g)
{
	char hp[PATH_MAX_LEN];
	kpath(hp, path, "hook_names");
	json_t *hooks = json_object_get(o, "hook_names");
	if (!hooks) {
		hook_problems_add(v->p,
				  "%s: missing (required): list this daemon's own lifecycle hook "
				  "names, e.g. [\"multus-launch\", \"multus-terminate\"]; a group "
				  "may carry other tools' hooks, whose events must be left alone",
				  hp);
		return;
	}
	json_t *arr = get_arr(v, path, o, "hook_names", true, true);
	if (!arr)
		return;
	size_t n = json_array_size(arr);
	if (n > HOOK_MAX_HOOK_NAMES) {
		hook_problems_add(v->p, "%s: at most %u hook names per group", hp,
				  HOOK_MAX_HOOK_NAMES);
		return;
	}
	g->hook_names = calloc(n, sizeof(char *));
	if (!g->hook_names) {
		v->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char ep[PATH_MAX_LEN];
		ipath(ep, hp, i);
		json_t *e = json_array_get(arr, i);
		if (!json_is_string(e) || json_string_length(e) == 0 ||
		    json_string_length(e) > 255 ||
		    strlen(json_string_value(e)) != json_string_length(e)) {
			hook_problems_add(
			    v->p,
			    "%s: must be a non-empty string of at most 255 characters "
			    "(a lifecycle hook name)",
			    ep);
			continue;
		}
		const char *name = json_string_value(e);
		if (!hook_name_ok(name)) {
			hook_problems_add(v->p,
					  "%s: \"%s\": a lifecycle hook name uses letters, digits, "
					  "'-', '_' and '/' only (exact names, not globs)",
					  ep, name);
			continue;
		}
		bool dup = false;
		for (size_t j = 0; j < g->n_hook_names; j++)
			dup = dup || strcmp(g->hook_names[j], name) == 0;
		if (dup) {
			hook_problems_add(v->p, "%s: \"%s\": listed twice", ep, name);
			continue;
		}
		g->hook_names[g->n_hook_names++] = xstrdup(v, name);
	}
}

static void parse_group(vctx *v, const char *path, json_t *o, hook_node_group *g)
{
	static const char *const keys[] = {"name",	     "asg_names", "hook_names",
					   "metadata_match", "networks",  "failure_result",
					   "terminate",	     NULL};
	check_keys(v, path, o, keys);
	const char *name = get_str(v, path, o, "name", true, 64, NULL);
	if (name && !name_ok(name))
		hook_problems_add(v->p, "%s.name: \"%s\": use letters, digits, '-', '_', '.'", path,
				  name);
	else if (name)
		g->name = xstrdup(v, name);

	char ap[PATH_MAX_LEN];
	kpath(ap, path, "asg_names");
	json_t *asgs = get_arr(v, path, o, "asg_names", true, true);
	if (asgs) {
		size_t n = json_array_size(asgs);
		g->asg_names = calloc(n, sizeof(char *));
		if (!g->asg_names)
			v->oom = true;
		for (size_t i = 0; i < n && g->asg_names; i++) {
			char ep[PATH_MAX_LEN];
			ipath(ep, ap, i);
			json_t *e = json_array_get(asgs, i);
			if (!json_is_string(e) || json_string_length(e) == 0 ||
			    json_string_length(e) > 255 ||
			    strlen(json_string_value(e)) != json_string_length(e)) {
				hook_problems_add(v->p,
						  "%s: must be a non-empty string of at most 255 "
						  "characters (an ASG name or a glob)",
						  ep);
				continue;
			}
			g->asg_names[g->n_asg_names++] = xstrdup(v, json_string_value(e));
		}
	}

	parse_hook_names(v, path, o, g);

	json_t *mm = json_object_get(o, "metadata_match");
	char mp[PATH_MAX_LEN];
	kpath(mp, path, "metadata_match");
	if (mm && json_is_string(mm)) {
		const char *s =
		    get_str(v, path, o, "metadata_match", false, HK_CAP_METADATA_LEN, NULL);
		if (s)
			g->metadata_glob = xstrdup(v, s);
	} else if (mm && json_is_object(mm)) {
		if (json_object_size(mm) == 0)
			hook_problems_add(v->p, "%s: must not be empty", mp);
		g->metadata_match = get_kv(v, mp, mm, 128, 1024, &g->n_metadata_match);
	} else if (mm) {
		hook_problems_add(v->p, "%s: must be a string (glob) or an object, not %s", mp,
				  json_type_name(mm));
	}

	static const char *const results[] = {"ABANDON", "CONTINUE", NULL};
	g->failure_result =
	    (hook_result)get_enum(v, path, o, "failure_result", results, HOOK_RESULT_ABANDON);
	static const char *const term[] = {"delete", "delete-on-termination", NULL};
	g->terminate =
	    (hook_terminate_mode)get_enum(v, path, o, "terminate", term, HOOK_TERMINATE_DELETE);

	char np[PATH_MAX_LEN];
	kpath(np, path, "networks");
	json_t *nets = get_arr(v, path, o, "networks", true, true);
	if (!nets)
		return;
	size_t n = json_array_size(nets);
	if (n > MAX_NETWORKS_PER_GROUP) {
		hook_problems_add(v->p, "%s: at most %u networks per group", np,
				  MAX_NETWORKS_PER_GROUP);
		return;
	}
	g->networks = calloc(n, sizeof(*g->networks));
	if (!g->networks) {
		v->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char ep[PATH_MAX_LEN];
		ipath(ep, np, i);
		json_t *e = json_array_get(nets, i);
		if (!json_is_object(e)) {
			hook_problems_add(v->p, "%s: must be an object, not %s", ep,
					  json_type_name(e));
			continue;
		}
		hook_network *net = &g->networks[g->n_networks++];
		parse_network(v, ep, e, i, net);
		for (size_t j = 0; j + 1 < g->n_networks; j++) {
			hook_network *prev = &g->networks[j];
			if (net->name && prev->name && !strcmp(net->name, prev->name))
				hook_problems_add(v->p, "%s.name: \"%s\": used twice in this group",
						  ep, net->name);
			if (prev->network_card_index == net->network_card_index &&
			    prev->device_index == net->device_index)
				hook_problems_add(v->p,
						  "%s.device_index: %u: already used by "
						  "networks[%zu] on network card %u",
						  ep, net->device_index, j,
						  net->network_card_index);
		}
		if (g->n_networks >= 2) {
			hook_network *prev = &g->networks[g->n_networks - 2];
			if (prev->network_card_index == net->network_card_index &&
			    prev->device_index > net->device_index)
				hook_problems_add(v->p,
						  "%s.device_index: %u: networks must be listed in "
						  "device-index order (previous is %u)",
						  ep, net->device_index, prev->device_index);
		}
	}
}

static void network_cleanup(hook_network *n)
{
	free(n->name);
	kv_free(n->subnet_tags, n->n_subnet_tags);
	kv_free(n->subnet_ids, n->n_subnet_ids);
	strv_free(n->security_groups, n->n_security_groups);
	strv_free(n->pod_ranges, n->n_pod_ranges);
	kv_free(n->tags, n->n_tags);
	free(n->description);
}

static void group_cleanup(hook_node_group *g)
{
	free(g->name);
	strv_free(g->asg_names, g->n_asg_names);
	strv_free(g->hook_names, g->n_hook_names);
	free(g->metadata_glob);
	kv_free(g->metadata_match, g->n_metadata_match);
	for (size_t i = 0; i < g->n_networks; i++)
		network_cleanup(&g->networks[i]);
	free(g->networks);
}

void hook_config_free(hook_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->region);
	free(cfg->endpoint_ec2);
	free(cfg->endpoint_autoscaling);
	free(cfg->endpoint_sts);
	free(cfg->intake.address);
	free(cfg->admin.address);
	free(cfg->auth_header);
	free(cfg->auth_username);
	if (cfg->auth_secret) {
		OPENSSL_cleanse(cfg->auth_secret, cfg->auth_secret_len);
		free(cfg->auth_secret);
	}
	if (cfg->auth_basic_expect) {
		OPENSSL_cleanse(cfg->auth_basic_expect, cfg->auth_basic_expect_len);
		free(cfg->auth_basic_expect);
	}
	free(cfg->state_dir);
	/* SNS / SQS intake */
	strv_free(cfg->sns_topic_arns, cfg->n_sns_topic_arns);
	free(cfg->sns_test_ca_file);
	free(cfg->sns_test_connect_to);
	free(cfg->sqs_queue_url);
	free(cfg->endpoint_sqs);
	for (size_t i = 0; i < cfg->n_aws_rate_limits; i++)
		free(cfg->aws_rate_limits[i].family);
	free(cfg->aws_rate_limits);
	for (size_t i = 0; i < cfg->n_groups; i++)
		group_cleanup(&cfg->groups[i]);
	free(cfg->groups);
	free(cfg);
}

hk_err hook_config_parse(const char *buf, size_t len, const char *base_dir, unsigned flags,
			 hook_config **ret_cfg, hook_problems *probs)
{
	if (!buf || !ret_cfg)
		return HK_ERR_INVALID;
	if (len > HK_CAP_CONFIG_FILE) {
		hook_problems_add(probs, "config: larger than %u bytes", HK_CAP_CONFIG_FILE);
		return HK_ERR_TOO_LARGE;
	}
	if (!hook_json_depth_ok(buf, len, HK_CAP_JSON_DEPTH)) {
		hook_problems_add(probs, "config: nested deeper than %u levels", HK_CAP_JSON_DEPTH);
		return HK_ERR_INVALID;
	}
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		hook_problems_add(probs, "config: line %d column %d: %s", jerr.line, jerr.column,
				  jerr.text);
		return HK_ERR_INVALID;
	}
	size_t before = probs ? probs->n : 0;
	hook_problems local = {0};
	hook_problems *p = probs ? probs : &local;
	vctx v = {.p = p, .base_dir = base_dir, .flags = flags};
	hook_config *cfg = calloc(1, sizeof(*cfg));
	hk_err err = HK_OK;
	if (!cfg) {
		err = HK_ERR_NOMEM;
		goto out;
	}
	if (!json_is_object(root)) {
		hook_problems_add(p, "config: the document must be a JSON object, not %s",
				  json_type_name(root));
		err = HK_ERR_INVALID;
		goto out;
	}
	static const char *const keys[] = {"aws",     "listeners",   "auth", "state_dir",
					   "limits",  "node_groups", "sns",  "sqs",
					   "testing", NULL};
	check_keys(&v, "", root, keys);
	parse_aws(&v, root, cfg);

	json_t *lis = get_obj(&v, "", root, "listeners", false);
	json_t *empty = json_object();
	if (!empty) {
		err = HK_ERR_NOMEM;
		goto out;
	}
	if (lis) {
		static const char *const lkeys[] = {"intake", "admin", NULL};
		check_keys(&v, "listeners", lis, lkeys);
	}
	parse_listener(&v, lis ? lis : empty, "intake", &cfg->intake, DEF_INTAKE_ADDR,
		       DEF_INTAKE_PORT);
	parse_listener(&v, lis ? lis : empty, "admin", &cfg->admin, DEF_ADMIN_ADDR, DEF_ADMIN_PORT);
	json_decref(empty);
	if (cfg->intake.address && cfg->admin.address && cfg->intake.port != 0 &&
	    cfg->intake.port == cfg->admin.port && !strcmp(cfg->intake.address, cfg->admin.address))
		hook_problems_add(p,
				  "listeners.admin.port: %u: same address and port as "
				  "listeners.intake",
				  cfg->admin.port);

	parse_auth(&v, root, cfg);

	const char *sd = get_str(&v, "", root, "state_dir", true, 1024, NULL);
	if (sd)
		cfg->state_dir = resolve_path(&v, sd);

	parse_limits(&v, root, cfg);
	parse_sns(&v, root, cfg);
	parse_sqs(&v, root, cfg);
	parse_testing(&v, root, cfg);

	json_t *groups = get_arr(&v, "", root, "node_groups", true, true);
	if (groups) {
		size_t n = json_array_size(groups);
		cfg->groups = calloc(n, sizeof(*cfg->groups));
		if (!cfg->groups) {
			err = HK_ERR_NOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			char gp[PATH_MAX_LEN];
			ipath(gp, "node_groups", i);
			json_t *e = json_array_get(groups, i);
			if (!json_is_object(e)) {
				hook_problems_add(p, "%s: must be an object, not %s", gp,
						  json_type_name(e));
				continue;
			}
			hook_node_group *g = &cfg->groups[cfg->n_groups++];
			parse_group(&v, gp, e, g);
			for (size_t j = 0; j + 1 < cfg->n_groups; j++)
				if (g->name && cfg->groups[j].name &&
				    !strcmp(g->name, cfg->groups[j].name))
					hook_problems_add(p, "%s.name: \"%s\": used twice", gp,
							  g->name);
		}
	}
	if (v.oom)
		err = HK_ERR_NOMEM;
	else if (p->n > before)
		err = HK_ERR_INVALID;
out:
	json_decref(root);
	hook_problems_cleanup(&local);
	if (err != HK_OK) {
		hook_config_free(cfg);
		return err;
	}
	*ret_cfg = cfg;
	return HK_OK;
}

hk_err hook_config_load(const char *path, unsigned flags, hook_config **ret_cfg,
			hook_problems *probs)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hook_problems_add(probs, "%s: cannot open: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		hook_problems_add(probs, "%s: not a regular file", path);
		close(fd);
		return HK_ERR_IO;
	}
	if (st.st_size > (off_t)HK_CAP_CONFIG_FILE) {
		hook_problems_add(probs, "%s: larger than %u bytes", path, HK_CAP_CONFIG_FILE);
		close(fd);
		return HK_ERR_TOO_LARGE;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return HK_ERR_NOMEM;
	}
	hk_err err = HK_OK;
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			hook_problems_add(probs, "%s: read failed: %s", path, strerror(errno));
			err = HK_ERR_IO;
			break;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap) { /* grew while we read it */
			hook_problems_add(probs, "%s: changed while being read", path);
			err = HK_ERR_IO;
			break;
		}
	}
	close(fd);
	if (err == HK_OK) {
		char *dir = strdup(path);
		if (!dir) {
			free(buf);
			return HK_ERR_NOMEM;
		}
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			dir[0] = '\0';
		hook_config *cfg = NULL;
		err = hook_config_parse(buf, len, slash ? (dir[0] ? dir : "/") : NULL, flags, &cfg,
					probs);
		free(dir);
		if (err == HK_OK) {
			cfg->path = strdup(path);
			*ret_cfg = cfg;
		}
	}
	free(buf);
	return err;
}

/* ----------------------------------------------------------- group match */

static bool metadata_matches(const hook_node_group *g, const char *metadata)
{
	if (g->metadata_glob)
		return metadata && fnmatch(g->metadata_glob, metadata, 0) == 0;
	if (g->n_metadata_match == 0)
		return true;
	if (!metadata)
		return false;
	json_t *m = NULL;
	if (hook_json_depth_ok(metadata, strlen(metadata), HK_CAP_JSON_DEPTH))
		m = json_loads(metadata, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(m)) {
		json_decref(m);
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < g->n_metadata_match && ok; i++) {
		const hook_kv *kv = &g->metadata_match[i];
		json_t *val = json_object_get(m, kv->key);
		ok = json_is_string(val) && fnmatch(kv->value, json_string_value(val), 0) == 0;
	}
	json_decref(m);
	return ok;
}

static bool group_wants(const hook_node_group *g, const char *asg, const char *metadata)
{
	bool name_hit = false;
	for (size_t j = 0; j < g->n_asg_names && !name_hit; j++)
		name_hit = fnmatch(g->asg_names[j], asg, 0) == 0;
	return name_hit && metadata_matches(g, metadata);
}

bool hook_group_owns_hook(const hook_node_group *g, const char *hook)
{
	for (size_t i = 0; g && hook && i < g->n_hook_names; i++)
		if (strcmp(g->hook_names[i], hook) == 0)
			return true;
	return false;
}

const hook_node_group *hook_config_match_group(const hook_config *cfg, const char *asg,
					       const char *metadata)
{
	if (!cfg || !asg)
		return NULL;
	for (size_t i = 0; i < cfg->n_groups; i++)
		if (group_wants(&cfg->groups[i], asg, metadata))
			return &cfg->groups[i];
	return NULL;
}

hook_match hook_config_match_event(const hook_config *cfg, const char *asg, const char *hook,
				   const char *metadata, const hook_node_group **ret)
{
	if (!cfg || !asg)
		return HOOK_MATCH_NO_GROUP;
	const hook_node_group *first = NULL;
	for (size_t i = 0; i < cfg->n_groups; i++) {
		const hook_node_group *g = &cfg->groups[i];
		if (!group_wants(g, asg, metadata))
			continue;
		if (!first)
			first = g;
		if (hook_group_owns_hook(g, hook)) {
			*ret = g;
			return HOOK_MATCH_OK;
		}
	}
	if (!first)
		return HOOK_MATCH_NO_GROUP;
	*ret = first;
	return HOOK_MATCH_FOREIGN_HOOK;
}

hk_err hook_aws_client_new(struct event_base *base, const hook_config *cfg, awc_client **ret)
{
	awc_bucket_override ov[TBUCKET_OVERRIDES_MAX];
	size_t n = cfg->n_aws_rate_limits;
	if (n > HK_ARRAY_LEN(ov))
		return HK_ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		ov[i].family = cfg->aws_rate_limits[i].family;
		ov[i].burst = cfg->aws_rate_limits[i].burst;
		ov[i].refill_per_s = cfg->aws_rate_limits[i].refill_per_s;
	}
	awc_config ac;
	memset(&ac, 0, sizeof(ac));
	ac.region = cfg->region;
	ac.endpoint[AWC_SVC_EC2] = cfg->endpoint_ec2;
	ac.endpoint[AWC_SVC_AUTOSCALING] = cfg->endpoint_autoscaling;
	ac.endpoint[AWC_SVC_STS] = cfg->endpoint_sts;
	ac.endpoint[AWC_SVC_SQS] = cfg->endpoint_sqs;
	ac.bucket_scale = cfg->aws_rate_scale > 0 ? cfg->aws_rate_scale : 1.0;
	ac.bucket_overrides = n ? ov : NULL;
	ac.n_bucket_overrides = n;
	return awsclient_new(base, &ac, ret);
}
