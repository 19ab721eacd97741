/* Region, endpoint and shared-file resolution (see awsconf.h). */
#include "awsconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "hk_caps.h"

const char *awsconf_getenv_process(const char *name, void *arg)
{
	(void)arg;
	return getenv(name);
}

/* Empty values count as unset. */
static const char *env_get(awsconf_getenv_fn env, void *arg, const char *name)
{
	if (!env)
		return NULL;
	const char *v = env(name, arg);
	return v && *v ? v : NULL;
}

static const struct {
	const char *signing_name;
	const char *env_suffix;
} services[AWSCONF_SVC__COUNT] = {
    [AWSCONF_SVC_EC2] = {"ec2", "EC2"}, [AWSCONF_SVC_AUTOSCALING] = {"autoscaling", "AUTO_SCALING"},
    [AWSCONF_SVC_STS] = {"sts", "STS"}, [AWSCONF_SVC_SQS] = {"sqs", "SQS"},
    [AWSCONF_SVC_SNS] = {"sns", "SNS"},
};

const char *awsconf_service_signing_name(awsconf_service svc)
{
	if ((unsigned)svc >= AWSCONF_SVC__COUNT)
		return NULL;
	return services[svc].signing_name;
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (ascii_lower(*a) != ascii_lower(*b))
			return false;
	return *a == *b;
}

static char *dup_n(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (!r)
		return NULL;
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* ---- paths and profile ---- */

static hk_err file_path(awsconf_getenv_fn env, void *arg, const char *var, const char *dflt,
			char **ret)
{
	const char *v = env_get(env, arg, var);
	const char *home = env_get(env, arg, "HOME");
	const char *rest;
	if (v && !(v[0] == '~' && v[1] == '/')) {
		char *r = strdup(v);
		if (!r)
			return HK_ERR_NOMEM;
		*ret = r;
		return HK_OK;
	}
	rest = v ? v + 1 : dflt; /* "/x" after "~", or "/.aws/..." */
	if (!home)
		return HK_ERR_NOT_FOUND;
	size_t hl = strlen(home), rl = strlen(rest);
	while (hl > 1 && home[hl - 1] == '/')
		hl--; /* "HOME=/root/" + "/.aws" would give "//" */
	char *r = malloc(hl + rl + 1);
	if (!r)
		return HK_ERR_NOMEM;
	memcpy(r, home, hl);
	memcpy(r + hl, rest, rl + 1);
	*ret = r;
	return HK_OK;
}

hk_err awsconf_config_path(awsconf_getenv_fn env, void *arg, char **ret)
{
	return file_path(env, arg, "AWS_CONFIG_FILE", "/.aws/config", ret);
}

hk_err awsconf_credentials_path(awsconf_getenv_fn env, void *arg, char **ret)
{
	return file_path(env, arg, "AWS_SHARED_CREDENTIALS_FILE", "/.aws/credentials", ret);
}

const char *awsconf_profile(awsconf_getenv_fn env, void *arg)
{
	const char *p = env_get(env, arg, "AWS_PROFILE");
	return p ? p : "default";
}

/* ---- INI parser ---- */

typedef struct ini_entry {
	size_t section; /* index into sections */
	char *key;	/* lowercased */
	char *value;
} ini_entry;

struct awsconf_ini {
	char **sections; /* one per header line; duplicates allowed */
	size_t n_sections, cap_sections;
	ini_entry *e; /* in file order; lookups scan backwards (later wins) */
	size_t n, cap;
};

#define NO_SECTION SIZE_MAX

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / elem)
		return false;
	void *na = realloc(*arr, ncap * elem);
	if (!na)
		return false;
	*arr = na;
	*cap = ncap;
	return true;
}

void awsconf_ini_free(awsconf_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n; i++) {
		wipe_free(ini->e[i].key);
		wipe_free(ini->e[i].value);
	}
	for (size_t i = 0; i < ini->n_sections; i++)
		wipe_free(ini->sections[i]);
	free(ini->e);
	free(ini->sections);
	free(ini);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim blanks on both sides of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
	while (*n && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_blank((*s)[*n - 1]))
		(*n)--;
}

/* Cut a property value at a comment: '#' or ';' after a blank. */
static size_t strip_value_comment(const char *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if ((s[i] == '#' || s[i] == ';') && is_blank(s[i - 1]))
			return i;
	return n;
}

typedef struct ini_state {
	awsconf_ini *ini;
	awsconf_file_kind kind;
	size_t section;	   /* current section, NO_SECTION before any */
	bool skipped;	   /* current section is not a profile (config file) */
	bool in_property;  /* the previous content line was a property */
	bool parent_empty; /* ... and its value was empty (sub-properties follow) */
	size_t last_entry; /* that property's entry, NO_SECTION when skipped */
} ini_state;

static hk_err add_section(ini_state *st, const char *name, size_t n)
{
	awsconf_ini *ini = st->ini;
	if (!grow((void **)&ini->sections, &ini->cap_sections, ini->n_sections,
		  sizeof(*ini->sections)))
		return HK_ERR_NOMEM;
	char *s = dup_n(name, n);
	if (!s)
		return HK_ERR_NOMEM;
	ini->sections[ini->n_sections] = s;
	st->section = ini->n_sections++;
	st->skipped = false;
	return HK_OK;
}

static hk_err parse_section(ini_state *st, const char *t, size_t n, size_t lineno, size_t off,
			    hk_errinfo *ei)
{
	const char *close = memchr(t, ']', n);
	if (!close)
		return hk_errinfo_set(ei, HK_ERR_PARSE, off, "line %zu: section header without ']'",
				      lineno);
	const char *after = close + 1;
	size_t an = n - (size_t)(after - t);
	trim(&after, &an);
	if (an && after[0] != '#' && after[0] != ';')
		return hk_errinfo_set(ei, HK_ERR_PARSE, off, "line %zu: text after section header",
				      lineno);
	const char *name = t + 1;
	size_t nn = (size_t)(close - name);
	trim(&name, &nn);
	if (nn == 0)
		return hk_errinfo_set(ei, HK_ERR_PARSE, off, "line %zu: empty section name",
				      lineno);
	st->in_property = false;
	if (st->kind == AWSCONF_FILE_CREDENTIALS)
		return add_section(st, name, nn);
	if (nn == 7 && !memcmp(name, "default", 7))
		return add_section(st, name, nn);
	if (nn > 8 && !memcmp(name, "profile", 7) && is_blank(name[7])) {
		const char *p = name + 8;
		size_t pn = nn - 8;
		trim(&p, &pn);
		return add_section(st, p, pn); /* pn > 0: the name was trimmed */
	}
	/* Not a profile ([sso-session x], [services x], [x]): parse, keep nothing. */
	st->section = NO_SECTION;
	st->skipped = true;
	return HK_OK;
}

static hk_err add_entry(ini_state *st, const char *key, size_t kn, const char *val, size_t vn)
{
	awsconf_ini *ini = st->ini;
	if (!grow((void **)&ini->e, &ini->cap, ini->n, sizeof(*ini->e)))
		return HK_ERR_NOMEM;
	char *k = dup_n(key, kn), *v = dup_n(val, vn);
	if (!k || !v) {
		free(k);
		wipe_free(v);
		return HK_ERR_NOMEM;
	}
	for (size_t i = 0; i < kn; i++)
		k[i] = ascii_lower(k[i]);
	ini->e[ini->n] = (ini_entry){st->section, k, v};
	st->last_entry = ini->n++;
	return HK_OK;
}

static hk_err append_line(ini_state *st, const char *t, size_t n)
{
	ini_entry *e = &st->ini->e[st->last_entry];
	size_t ol = strlen(e->value);
	char *nv = malloc(ol + 1 + n + 1);
	if (!nv)
		return HK_ERR_NOMEM;
	memcpy(nv, e->value, ol);
	nv[ol] = '\n';
	memcpy(nv + ol + 1, t, n);
	nv[ol + 1 + n] = '\0';
	wipe_free(e->value);
	e->value = nv;
	return HK_OK;
}

static hk_err parse_line(ini_state *st, const char *line, size_t n, size_t lineno, size_t off,
			 hk_errinfo *ei)
{
	bool indented = n && is_blank(line[0]);
	const char *t = line;
	size_t tn = n;
	trim(&t, &tn);
	if (tn == 0) {
		st->in_property = false;
		return HK_OK;
	}
	if (t[0] == '#' || t[0] == ';')
		return HK_OK;
	if (indented && st->in_property) {
		if (st->parent_empty) {
			if (!memchr(t, '=', tn))
				return hk_errinfo_set(ei, HK_ERR_PARSE, off,
						      "line %zu: expected a sub-property "
						      "'key = value'",
						      lineno);
			return HK_OK; /* sub-properties: none of ours */
		}
		tn = strip_value_comment(t, tn);
		trim(&t, &tn);
		if (st->last_entry == NO_SECTION || tn == 0)
			return HK_OK;
		return append_line(st, t, tn);
	}
	if (t[0] == '[')
		return parse_section(st, t, tn, lineno, off, ei);
	if (st->section == NO_SECTION && !st->skipped)
		return hk_errinfo_set(ei, HK_ERR_PARSE, off,
				      "line %zu: property outside any section", lineno);
	const char *eq = memchr(t, '=', tn);
	if (!eq)
		return hk_errinfo_set(ei, HK_ERR_PARSE, off, "line %zu: expected 'key = value'",
				      lineno);
	const char *key = t;
	size_t kn = (size_t)(eq - t);
	trim(&key, &kn);
	if (kn == 0)
		return hk_errinfo_set(ei, HK_ERR_PARSE, off, "line %zu: empty key", lineno);
	const char *val = eq + 1;
	size_t vn = (size_t)(t + tn - val);
	trim(&val, &vn);
	vn = strip_value_comment(val, vn);
	trim(&val, &vn);
	st->in_property = true;
	st->parent_empty = vn == 0;
	if (st->skipped) {
		st->last_entry = NO_SECTION;
		return HK_OK;
	}
	return add_entry(st, key, kn, val, vn);
}

hk_err awsconf_ini_parse(const char *data, size_t len, awsconf_file_kind kind, awsconf_ini **ret,
			 hk_errinfo *ei)
{
	if ((!data && len) || !ret)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "no data");
	if (len > HK_CAP_CREDS_FILE)
		return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0, "file larger than %u bytes",
				      (unsigned)HK_CAP_CREDS_FILE);
	awsconf_ini *ini = calloc(1, sizeof(*ini));
	if (!ini)
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	ini_state st = {.ini = ini, .kind = kind, .section = NO_SECTION, .last_entry = NO_SECTION};
	size_t pos = 0;
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		pos = 3;
	hk_err err = HK_OK;
	for (size_t lineno = 1; pos < len; lineno++) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		size_t off = pos;
		pos += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n)) {
			err = hk_errinfo_set(ei, HK_ERR_PARSE, off, "line %zu: NUL byte", lineno);
			break;
		}
		if (n && line[n - 1] == '\r')
			n--;
		err = parse_line(&st, line, n, lineno, off, ei);
		if (err != HK_OK) {
			if (err == HK_ERR_NOMEM)
				hk_errinfo_set(ei, err, off, "out of memory");
			break;
		}
	}
	if (err != HK_OK) {
		awsconf_ini_free(ini);
		return err;
	}
	*ret = ini;
	return HK_OK;
}

const char *awsconf_ini_get(const awsconf_ini *ini, const char *profile, const char *key)
{
	if (!ini || !profile || !key)
		return NULL;
	for (size_t i = ini->n; i-- > 0;) {
		const ini_entry *e = &ini->e[i];
		if (ascii_ieq(e->key, key) && !strcmp(ini->sections[e->section], profile))
			return e->value;
	}
	return NULL;
}

bool awsconf_ini_has_profile(const awsconf_ini *ini, const char *profile)
{
	if (!ini || !profile)
		return false;
	for (size_t i = 0; i < ini->n_sections; i++)
		if (!strcmp(ini->sections[i], profile))
			return true;
	return false;
}

/* ---- shared credentials ---- */

void awsconf_creds_cleanup(awsconf_creds *c)
{
	if (!c)
		return;
	wipe_free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	c->access_key_id = c->secret_access_key = c->session_token = NULL;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* Re-label a parse error with the file it came from. */
static hk_err prefix_error(hk_errinfo *ei, hk_err err, const char *what)
{
	if (!ei)
		return err;
	char text[sizeof(ei->text)];
	memcpy(text, ei->text, sizeof(text));
	text[sizeof(text) - 1] = '\0';
	return hk_errinfo_set(ei, err, ei->offset, "%s: %s", what, text);
}

/* Looks `profile` up in one file. HK_OK with *found set when keys are there. */
static hk_err creds_from(const awsconf_ini *ini, const char *profile, const char *what,
			 awsconf_creds *out, bool *found, hk_errinfo *ei)
{
	const char *akid = nonempty(awsconf_ini_get(ini, profile, "aws_access_key_id"));
	const char *secret = nonempty(awsconf_ini_get(ini, profile, "aws_secret_access_key"));
	const char *token = nonempty(awsconf_ini_get(ini, profile, "aws_session_token"));
	*found = false;
	if (!akid && !secret)
		return HK_OK;
	if (!akid || !secret)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: profile %s: %s without %s", what,
				      profile, akid ? "aws_access_key_id" : "aws_secret_access_key",
				      akid ? "aws_secret_access_key" : "aws_access_key_id");
	out->access_key_id = strdup(akid);
	out->secret_access_key = strdup(secret);
	out->session_token = token ? strdup(token) : NULL;
	if (!out->access_key_id || !out->secret_access_key || (token && !out->session_token)) {
		awsconf_creds_cleanup(out);
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	}
	*found = true;
	return HK_OK;
}

hk_err awsconf_shared_creds(const char *cred_data, size_t cred_len, const char *config_data,
			    size_t config_len, const char *profile, awsconf_creds *ret,
			    hk_errinfo *ei)
{
	if (!ret)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "no output");
	if (!profile)
		profile = "default";
	static const char *const unsupported[] = {
	    "role_arn",	     "credential_process",	"sso_session",
	    "sso_start_url", "web_identity_token_file",
	};
	const struct {
		const char *data;
		size_t len;
		awsconf_file_kind kind;
		const char *what;
	} files[2] = {
	    {cred_data, cred_len, AWSCONF_FILE_CREDENTIALS, "credentials file"},
	    {config_data, config_len, AWSCONF_FILE_CONFIG, "config file"},
	};
	bool seen = false;
	const char *why = NULL;
	for (int i = 0; i < 2; i++) {
		if (!files[i].data)
			continue;
		awsconf_ini *ini;
		hk_err err =
		    awsconf_ini_parse(files[i].data, files[i].len, files[i].kind, &ini, ei);
		if (err != HK_OK)
			return prefix_error(ei, err, files[i].what);
		awsconf_creds c = {0};
		bool found;
		err = creds_from(ini, profile, files[i].what, &c, &found, ei);
		seen = seen || awsconf_ini_has_profile(ini, profile);
		for (size_t u = 0; !why && u < HK_ARRAY_LEN(unsupported); u++)
			if (awsconf_ini_get(ini, profile, unsupported[u]))
				why = unsupported[u];
		awsconf_ini_free(ini);
		if (err != HK_OK)
			return err;
		if (found) {
			*ret = c;
			return HK_OK;
		}
	}
	if (why)
		return hk_errinfo_set(ei, HK_ERR_NOT_FOUND, 0,
				      "profile %s uses %s, which is not supported", profile, why);
	if (!seen)
		return hk_errinfo_set(ei, HK_ERR_NOT_FOUND, 0, "profile %s not found", profile);
	return hk_errinfo_set(ei, HK_ERR_NOT_FOUND, 0, "profile %s has no aws_access_key_id",
			      profile);
}

/* ---- region ---- */

bool awsconf_region_valid(const char *r)
{
	if (!r)
		return false;
	size_t n = strlen(r);
	if (n == 0 || n >= AWSCONF_REGION_MAX || r[0] == '-' || r[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
			return false;
	return true;
}

hk_err awsconf_region(awsconf_getenv_fn env, void *arg, const char *config_data, size_t config_len,
		      char ret_region[AWSCONF_REGION_MAX], hk_errinfo *ei)
{
	static const char *const vars[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
	const char *region = NULL, *source = NULL;
	for (size_t i = 0; !region && i < HK_ARRAY_LEN(vars); i++) {
		region = env_get(env, arg, vars[i]);
		source = vars[i];
	}
	awsconf_ini *ini = NULL;
	if (!region && config_data) {
		hk_err err =
		    awsconf_ini_parse(config_data, config_len, AWSCONF_FILE_CONFIG, &ini, ei);
		if (err != HK_OK)
			return prefix_error(ei, err, "config file");
		region = nonempty(awsconf_ini_get(ini, awsconf_profile(env, arg), "region"));
		source = "config file";
	}
	hk_err err = HK_OK;
	if (!region)
		err = hk_errinfo_set(ei, HK_ERR_NOT_FOUND, 0, "no region configured");
	else if (!awsconf_region_valid(region))
		err = hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: not a valid region name", source);
	else
		memcpy(ret_region, region, strlen(region) + 1);
	awsconf_ini_free(ini);
	return err;
}

/* ---- endpoints ---- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

hk_err awsconf_url_parse(const char *url, awsconf_url *ret, hk_errinfo *ei)
{
	if (!url)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "no URL");
	for (size_t i = 0; url[i]; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c >= 0x7f)
			return hk_errinfo_set(ei, HK_ERR_INVALID, i,
					      "URL has a space, control or non-ASCII byte");
	}
	awsconf_url u;
	memset(&u, 0, sizeof(u));
	size_t p;
	if (!strncasecmp(url, "https://", 8)) {
		u.https = true;
		p = 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		p = 7;
	} else {
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "URL scheme must be http or https");
	}
	size_t auth_end = p + strcspn(url + p, "/?#");
	if (memchr(url + p, '@', auth_end - p))
		return hk_errinfo_set(ei, HK_ERR_INVALID, p, "URL must not carry user info");
	size_t host_start = p, host_end;
	if (url[p] == '[') {
		const char *close = memchr(url + p, ']', auth_end - p);
		if (!close)
			return hk_errinfo_set(ei, HK_ERR_INVALID, p, "unterminated IPv6 literal");
		host_end = (size_t)(close - url) + 1;
		if (host_end - host_start < 4) /* "[::]" at least */
			return hk_errinfo_set(ei, HK_ERR_INVALID, p, "empty IPv6 literal");
		for (size_t i = host_start + 1; i < host_end - 1; i++)
			if (!is_hex(url[i]) && url[i] != ':' && url[i] != '.')
				return hk_errinfo_set(ei, HK_ERR_INVALID, i,
						      "bad character in IPv6 literal");
	} else {
		host_end = host_start;
		while (host_end < auth_end && url[host_end] != ':') {
			char c = url[host_end];
			if (!is_alnum(c) && c != '-' && c != '.' && c != '_' && c != '~')
				return hk_errinfo_set(ei, HK_ERR_INVALID, host_end,
						      "bad character in host");
			host_end++;
		}
		if (host_end == host_start)
			return hk_errinfo_set(ei, HK_ERR_INVALID, host_start, "URL has no host");
	}
	if (host_end - host_start >= sizeof(u.host))
		return hk_errinfo_set(ei, HK_ERR_INVALID, host_start, "host name too long");
	memcpy(u.host, url + host_start, host_end - host_start);
	if (host_end < auth_end) {
		if (url[host_end] != ':')
			return hk_errinfo_set(ei, HK_ERR_INVALID, host_end, "bad text after host");
		size_t d = host_end + 1;
		unsigned long port = 0;
		if (d == auth_end || auth_end - d > 5)
			return hk_errinfo_set(ei, HK_ERR_INVALID, d, "bad port");
		for (size_t i = d; i < auth_end; i++) {
			if (url[i] < '0' || url[i] > '9')
				return hk_errinfo_set(ei, HK_ERR_INVALID, i, "bad port");
			port = port * 10 + (unsigned long)(url[i] - '0');
		}
		if (port == 0 || port > 65535)
			return hk_errinfo_set(ei, HK_ERR_INVALID, d, "port out of range");
		u.port = (unsigned)port;
	}
	if (url[auth_end] == '?' || url[auth_end] == '#' || strpbrk(url + auth_end, "?#"))
		return hk_errinfo_set(ei, HK_ERR_INVALID, auth_end,
				      "endpoint URL must not have a query or fragment");
	u.path = url[auth_end] ? url + auth_end : "/";
	unsigned dflt = u.https ? 443 : 80;
	if (u.port && u.port != dflt)
		snprintf(u.host_header, sizeof(u.host_header), "%s:%u", u.host, u.port);
	else
		snprintf(u.host_header, sizeof(u.host_header), "%s", u.host);
	if (ret)
		*ret = u;
	return HK_OK;
}

hk_err awsconf_endpoint(awsconf_service svc, const char *region, awsconf_getenv_fn env, void *arg,
			char **ret_url, hk_errinfo *ei)
{
	if ((unsigned)svc >= AWSCONF_SVC__COUNT || !ret_url)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "bad service");
	if (!awsconf_region_valid(region))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "not a valid region name");
	const char *ignore = env_get(env, arg, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	if (!ignore || !ascii_ieq(ignore, "true")) {
		char var[64];
		snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", services[svc].env_suffix);
		const char *names[] = {var, "AWS_ENDPOINT_URL"};
		for (size_t i = 0; i < HK_ARRAY_LEN(names); i++) {
			const char *v = env_get(env, arg, names[i]);
			if (!v)
				continue;
			hk_err err = awsconf_url_parse(v, NULL, ei);
			if (err != HK_OK)
				return prefix_error(ei, err, names[i]);
			char *r = strdup(v);
			if (!r)
				return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
			*ret_url = r;
			return HK_OK;
		}
	}
	bool cn = !strncmp(region, "cn-", 3);
	char buf[160];
	int n = snprintf(buf, sizeof(buf), "https://%s.%s.amazonaws.com%s",
			 services[svc].signing_name, region, cn ? ".cn" : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "region name too long");
	char *r = strdup(buf);
	if (!r)
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	*ret_url = r;
	return HK_OK;
}
