/* The configuration's validation context and typed readers: every problem
 * is recorded with its key path, reading goes on so that one run reports
 * them all. */
#include "config_internal.h"

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

/* Address text is parsed by the cidr module (strict forms: docs/cidr.md): a
 * CIDR ("a/n", sep '/') or a range ("first-last", sep '-'). */
static bool syntax_ok(const char *s, char sep, char *why, size_t why_len)
{
	bool cidr = sep == '/';
	hk_errinfo ei = {0};
	if (!s || !strchr(s, sep)) {
		why_set(why, why_len,
			cidr ? "not a CIDR (expected address/prefix)"
			     : "not a range (expected first-last)");
		return false;
	}
	cidr_prefix p;
	cidr_range r;
	hk_err err = cidr ? cidr_parse_prefix(s, 0, &p, &ei) : cidr_parse_range(s, 0, &r, &ei);
	if (err != HK_OK) {
		why_set(why, why_len, ei.text[0] ? ei.text : cidr ? "not a CIDR" : "not a range");
		return false;
	}
	return true;
}

bool hook_cidr_syntax_ok(const char *s, char *why, size_t why_len)
{
	return syntax_ok(s, '/', why, why_len);
}

bool hook_range_syntax_ok(const char *s, char *why, size_t why_len)
{
	return syntax_ok(s, '-', why, why_len);
}

void cfg_kpath(char *out, const char *parent, const char *key)
{
	if (parent && *parent)
		snprintf(out, PATH_MAX_LEN, "%s.%s", parent, key);
	else
		snprintf(out, PATH_MAX_LEN, "%s", key);
}

void cfg_ipath(char *out, const char *parent, size_t i)
{
	snprintf(out, PATH_MAX_LEN, "%s[%zu]", parent, i);
}

const char *cfg_json_type_name(const json_t *v)
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

char *cfg_xstrdup(vctx *v, const char *s)
{
	char *d = strdup(s);
	if (!d)
		v->oom = true;
	return d;
}

/* Report every key of `obj` not in `allowed` (NULL-terminated). */
void cfg_check_keys(vctx *v, const char *path, json_t *obj, const char *const *allowed)
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
			cfg_kpath(p, path, k);
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

static bool type_is(const json_t *j, cfg_type t)
{
	static const unsigned accepts[] = {
	    [CFG_STRING] = 1u << JSON_STRING,
	    [CFG_INTEGER] = 1u << JSON_INTEGER,
	    [CFG_NUMBER] = 1u << JSON_INTEGER | 1u << JSON_REAL,
	    [CFG_BOOL] = 1u << JSON_TRUE | 1u << JSON_FALSE,
	    [CFG_OBJECT] = 1u << JSON_OBJECT,
	    [CFG_ARRAY] = 1u << JSON_ARRAY,
	};
	return (accepts[t] >> json_typeof(j)) & 1u;
}

json_t *cfg_member(vctx *v, const char *path, json_t *obj, const char *key, cfg_type t,
		   bool required, bool *bad, char *p)
{
	static const char *const what[] = {
	    [CFG_STRING] = "a string",	  [CFG_INTEGER] = "an integer", [CFG_NUMBER] = "a number",
	    [CFG_BOOL] = "true or false", [CFG_OBJECT] = "an object",	[CFG_ARRAY] = "an array",
	};
	cfg_kpath(p, path, key);
	json_t *j = json_object_get(obj, key);
	if (!j && !required)
		return NULL;
	if (!j)
		hook_problems_add(v->p, "%s: missing (required)", p);
	else if (!type_is(j, t))
		hook_problems_add(v->p, "%s: must be %s, not %s", p, what[t],
				  cfg_json_type_name(j));
	else
		return j;
	if (bad)
		*bad = true;
	return NULL;
}

/* A string member. Missing: NULL (and a problem if required). Wrong type,
 * empty, too long or with NUL bytes: a problem and NULL. `*bad` set when a
 * problem was reported. Returns a borrowed pointer into the JSON. */
const char *cfg_get_str(vctx *v, const char *path, json_t *obj, const char *key, bool required,
			size_t max_len, bool *bad)
{
	char p[PATH_MAX_LEN];
	json_t *j = cfg_member(v, path, obj, key, CFG_STRING, required, bad, p);
	if (!j)
		return NULL;
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
unsigned long long cfg_get_uint(vctx *v, const char *path, json_t *obj, const char *key,
				unsigned long long min, unsigned long long max,
				unsigned long long def)
{
	char p[PATH_MAX_LEN];
	json_t *j = cfg_member(v, path, obj, key, CFG_INTEGER, false, NULL, p);
	if (!j)
		return def;
	json_int_t n = json_integer_value(j);
	if (n < 0 || (unsigned long long)n < min || (unsigned long long)n > max) {
		hook_problems_add(v->p, "%s: %lld: out of range (%llu to %llu)", p, (long long)n,
				  min, max);
		return def;
	}
	return (unsigned long long)n;
}

bool cfg_get_bool(vctx *v, const char *path, json_t *obj, const char *key, bool def)
{
	char p[PATH_MAX_LEN];
	json_t *j = cfg_member(v, path, obj, key, CFG_BOOL, false, NULL, p);
	return j ? json_is_true(j) : def;
}

/* One of `names` (NULL-terminated); returns its index, or def. */
int cfg_get_enum(vctx *v, const char *path, json_t *obj, const char *key, const char *const *names,
		 int def)
{
	bool bad = false;
	const char *s = cfg_get_str(v, path, obj, key, false, 64, &bad);
	if (!s)
		return def;
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	char p[PATH_MAX_LEN];
	cfg_kpath(p, path, key);
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
json_t *cfg_get_obj(vctx *v, const char *path, json_t *obj, const char *key, bool required)
{
	char p[PATH_MAX_LEN];
	return cfg_member(v, path, obj, key, CFG_OBJECT, required, NULL, p);
}

json_t *cfg_section(vctx *v, json_t *root, const char *name, const char *const *keys)
{
	json_t *o = cfg_get_obj(v, "", root, name, false);
	if (o)
		cfg_check_keys(v, name, o, keys);
	return o;
}

json_t *cfg_get_arr(vctx *v, const char *path, json_t *obj, const char *key, bool required,
		    bool nonempty)
{
	char p[PATH_MAX_LEN];
	json_t *j = cfg_member(v, path, obj, key, CFG_ARRAY, required, NULL, p);
	if (!j)
		return NULL;
	if (nonempty && json_array_size(j) == 0) {
		hook_problems_add(v->p, "%s: must not be empty", p);
		return NULL;
	}
	return j;
}

char **cfg_get_strs(vctx *v, const char *path, json_t *obj, const char *key, bool required,
		    bool nonempty, size_t max_n, const char *what, cfg_elem_fn elem,
		    const void *ctx, size_t *ret_n)
{
	*ret_n = 0;
	json_t *arr = cfg_get_arr(v, path, obj, key, required, nonempty);
	size_t n = arr ? json_array_size(arr) : 0;
	if (!n)
		return NULL;
	char p[PATH_MAX_LEN];
	cfg_kpath(p, path, key);
	if (max_n && n > max_n) {
		hook_problems_add(v->p, "%s: at most %zu %s", p, max_n, what);
		return NULL;
	}
	char **out = calloc(n, sizeof(*out));
	if (!out) {
		v->oom = true;
		return NULL;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char ep[PATH_MAX_LEN];
		cfg_ipath(ep, p, i);
		const char *s = elem(v, ep, json_array_get(arr, i), out, k, ctx);
		if (s)
			out[k++] = cfg_xstrdup(v, s);
	}
	*ret_n = k;
	return out;
}

const char *cfg_plain_str(const json_t *e, size_t max_len)
{
	if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > max_len ||
	    strlen(json_string_value(e)) != json_string_length(e))
		return NULL;
	return json_string_value(e);
}

bool cfg_match_id(const char *s, const char *prefix)
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

bool cfg_name_ok(const char *s)
{
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			return false;
	return true;
}

/* An object of string -> string (tags, subnet selectors). */
hook_kv *cfg_get_kv(vctx *v, const char *path, json_t *obj, size_t max_key, size_t max_val,
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
		cfg_kpath(p, path, k);
		if (strlen(k) == 0 || strlen(k) > max_key) {
			hook_problems_add(v->p, "%s: key length must be 1 to %zu characters", p,
					  max_key);
			continue;
		}
		if (!json_is_string(val)) {
			hook_problems_add(v->p, "%s: must be a string, not %s", p,
					  cfg_json_type_name(val));
			continue;
		}
		const char *s = json_string_value(val);
		if (strlen(s) != json_string_length(val) || strlen(s) > max_val) {
			hook_problems_add(v->p, "%s: value too long or contains NUL (at most %zu)",
					  p, max_val);
			continue;
		}
		kv[i].key = cfg_xstrdup(v, k);
		kv[i].value = cfg_xstrdup(v, s);
		i++;
	}
	*ret_n = i;
	return kv;
}

void cfg_kv_free(hook_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void cfg_strv_free(char **sv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(sv[i]);
	free(sv);
}

/* Resolve a path relative to the config file's directory. */
char *cfg_resolve_path(vctx *v, const char *p)
{
	if (p[0] == '/' || !v->base_dir || !*v->base_dir)
		return cfg_xstrdup(v, p);
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
 * stripped, not empty; a regular file (opened without following a symbolic
 * link and without blocking, so a FIFO cannot hang the daemon), with no group
 * or other permission bit, owned by the daemon's user or root. The buffer is
 * wiped on error. */
char *cfg_read_secret(vctx *v, const char *keypath, const char *file, size_t *ret_len)
{
	char *path = cfg_resolve_path(v, file);
	if (!path)
		return NULL;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			hook_problems_add(v->p, "%s: \"%s\": a symbolic link: name the file itself",
					  keypath, file);
		else
			hook_problems_add(v->p, "%s: \"%s\": cannot open: %s", keypath, file,
					  strerror(e));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		hook_problems_add(v->p, "%s: \"%s\": not a regular file", keypath, file);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		hook_problems_add(
		    v->p,
		    (st.st_mode & S_IROTH)
			? "%s: \"%s\": readable by every user (mode %03o): chmod 600 it"
			: "%s: \"%s\": open to its group or other users (mode %03o): "
			  "chmod 600 it",
		    keypath, file, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		hook_problems_add(v->p,
				  "%s: \"%s\": owned by uid %u, not by the daemon's user (uid %u) "
				  "or root",
				  keypath, file, (unsigned)st.st_uid, (unsigned)geteuid());
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

bool cfg_addr_ok(const char *s)
{
	cidr_addr a;
	return cidr_parse_addr(s, &a, NULL) == HK_OK;
}
