/* JSON loading with the depth cap, and typed field getters. */
#include "hk_json.h"

#include <string.h>

#include "hk_caps.h"
#include "hk_util.h"

bool hk_json_depth_ok(const char *buf, size_t len, unsigned max)
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

unsigned hk_json_tree_depth(const json_t *j, unsigned limit)
{
	if (limit == 0)
		return 1;
	unsigned max = 0;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)(uintptr_t)j, k, v)
		{
			unsigned d = hk_json_tree_depth(v, limit - 1);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
		{
			unsigned d = hk_json_tree_depth(v, limit - 1);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	return 1;
}

hk_err hk_json_load(const char *buf, size_t len, const char *what, json_t **ret, hk_errinfo *ei)
{
	const char *sep = what ? ": " : "";
	if (!what)
		what = "";
	if (!hk_json_depth_ok(buf, len, HK_CAP_JSON_DEPTH))
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

hk_err hk_json_load_object(const char *buf, size_t len, const char *expected, const char *noun,
			   json_t **ret, hk_errinfo *ei)
{
	if (!buf || len == 0)
		return hk_errinfo_set(ei, HK_ERR_PARSE, 0, "empty body (expected %s)", expected);
	json_t *root = NULL;
	hk_err err = hk_json_load(buf, len, NULL, &root, ei);
	if (err)
		return err;
	if (!json_is_object(root)) {
		json_decref(root);
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s must be a JSON object", noun);
	}
	*ret = root;
	return HK_OK;
}

hk_err hk_json_parse_object(const char *buf, size_t len, const char *expected, const char *noun,
			    hk_err (*from)(json_t *root, void *out, hk_errinfo *ei), void *out,
			    hk_errinfo *ei)
{
	json_t *root = NULL;
	hk_err err = hk_json_load_object(buf, len, expected, noun, &root, ei);
	if (err)
		return err;
	err = from(root, out, ei);
	json_decref(root);
	return err;
}

hk_err hk_json_load_file(const char *path, size_t cap, json_t **ret, hk_errinfo *ei)
{
	char *buf;
	size_t len;
	hk_err err = hk_file_read(path, cap, &buf, &len, ei);
	if (err)
		return err;
	err = hk_json_load(buf, len, path, ret, ei);
	free(buf);
	return err;
}

/* The member `key` of `obj`, NULL when absent or JSON null. */
static json_t *member(const json_t *obj, const char *key)
{
	if (!json_is_object(obj))
		return NULL;
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

static const char *dot(const char *what)
{
	return what && *what ? "." : "";
}

#define WHAT(w) ((w) ? (w) : "")

static hk_err missing(const char *what, const char *key, hk_errinfo *ei)
{
	return hk_errinfo_set(ei, HK_ERR_NOT_FOUND, 0, "%s%s%s is missing", WHAT(what), dot(what),
			      key);
}

static hk_err wrong(const char *what, const char *key, const char *type, hk_errinfo *ei)
{
	return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s%s%s must be %s", WHAT(what), dot(what),
			      key, type);
}

hk_err hk_json_str(const json_t *obj, const char *what, const char *key, const char **ret,
		   hk_errinfo *ei)
{
	json_t *v = member(obj, key);
	if (!v)
		return missing(what, key, ei);
	if (!json_is_string(v))
		return wrong(what, key, "a string", ei);
	*ret = json_string_value(v);
	return HK_OK;
}

hk_err hk_json_str_len(const json_t *obj, const char *what, const char *key, size_t max_len,
		       const char **ret, hk_errinfo *ei)
{
	const char *s;
	hk_err err = hk_json_str(obj, what, key, &s, ei);
	if (err)
		return err;
	size_t n = json_string_length(json_object_get(obj, key));
	if (n == 0)
		return hk_errinfo_set(ei, HK_ERR_RANGE, 0, "%s%s%s is empty", WHAT(what), dot(what),
				      key);
	if (n > max_len)
		return hk_errinfo_set(ei, HK_ERR_RANGE, 0, "%s%s%s is longer than %zu bytes",
				      WHAT(what), dot(what), key, max_len);
	if (strlen(s) != n)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s%s%s contains a NUL byte",
				      WHAT(what), dot(what), key);
	*ret = s;
	return HK_OK;
}

hk_err hk_json_int(const json_t *obj, const char *what, const char *key, int64_t min, int64_t max,
		   int64_t *ret, hk_errinfo *ei)
{
	json_t *v = member(obj, key);
	if (!v)
		return missing(what, key, ei);
	if (!json_is_integer(v))
		return wrong(what, key, "an integer", ei);
	json_int_t n = json_integer_value(v);
	if (n < min || n > max)
		return hk_errinfo_set(ei, HK_ERR_RANGE, 0,
				      "%s%s%s is %lld: must be between %lld and %lld", WHAT(what),
				      dot(what), key, (long long)n, (long long)min, (long long)max);
	*ret = (int64_t)n;
	return HK_OK;
}

hk_err hk_json_bool(const json_t *obj, const char *what, const char *key, bool *ret, hk_errinfo *ei)
{
	json_t *v = member(obj, key);
	if (!v)
		return missing(what, key, ei);
	if (!json_is_boolean(v))
		return wrong(what, key, "true or false", ei);
	*ret = json_is_true(v);
	return HK_OK;
}

hk_err hk_json_obj(const json_t *obj, const char *what, const char *key, json_t **ret,
		   hk_errinfo *ei)
{
	json_t *v = member(obj, key);
	if (!v)
		return missing(what, key, ei);
	if (!json_is_object(v))
		return wrong(what, key, "an object", ei);
	*ret = v;
	return HK_OK;
}

hk_err hk_json_arr(const json_t *obj, const char *what, const char *key, json_t **ret,
		   hk_errinfo *ei)
{
	json_t *v = member(obj, key);
	if (!v)
		return missing(what, key, ei);
	if (!json_is_array(v))
		return wrong(what, key, "an array", ei);
	*ret = v;
	return HK_OK;
}

const char *hk_json_str_or_null(const json_t *obj, const char *key)
{
	json_t *v = member(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}
