/* JSON loading with the project's depth cap, and typed field getters that
 * name the problem. Wraps jansson. */
#ifndef HK_JSON_H
#define HK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hk_common.h"

/* Whether `buf` nests objects/arrays at most `max` deep (a lexical scan that
 * skips strings, so it runs before the parser can recurse). */
bool hk_json_depth_ok(const char *buf, size_t len, unsigned max);

/* Nesting depth of a parsed value (a scalar is 1), counted no further than
 * limit + 1: enough to compare against a cap without walking a huge tree. */
unsigned hk_json_tree_depth(const json_t *j, unsigned limit);

/* Parse `buf` (not necessarily NUL-terminated) with duplicate keys rejected and
 * nesting capped at HK_CAP_JSON_DEPTH. `what` (may be NULL) prefixes the
 * message: "<what>: JSON nested deeper than N levels" or "<what>: not valid
 * JSON: line L column C: <reason>". HK_ERR_PARSE on failure (*ret untouched). */
hk_err hk_json_load(const char *buf, size_t len, const char *what, json_t **ret,
		    hk_errinfo *ei) HK_MUST_CHECK;

/* A request body that must be one JSON object: HK_ERR_PARSE "empty body
 * (expected <expected>)" for no body, hk_json_load's errors, HK_ERR_INVALID
 * "<noun> must be a JSON object" for any other value. */
hk_err hk_json_load_object(const char *buf, size_t len, const char *expected, const char *noun,
			   json_t **ret, hk_errinfo *ei) HK_MUST_CHECK;

/* hk_json_load_object, then from(root, out, ei) reads what it needs out of
 * the object (from fills *out whole or, on error, leaves it untouched), then
 * the object is released: from's result, or the load's error. */
hk_err hk_json_parse_object(const char *buf, size_t len, const char *expected, const char *noun,
			    hk_err (*from)(json_t *root, void *out, hk_errinfo *ei), void *out,
			    hk_errinfo *ei) HK_MUST_CHECK;

/* hk_file_read(path, cap) then hk_json_load(what = path). */
hk_err hk_json_load_file(const char *path, size_t cap, json_t **ret, hk_errinfo *ei) HK_MUST_CHECK;

/* Typed getters. `what` names the object in messages ("<what>.<key> ...").
 * A key that is absent gives HK_ERR_NOT_FOUND ("<what>.<key> is missing") and
 * leaves *ret untouched (so a default set beforehand stays); a key of the
 * wrong type gives HK_ERR_INVALID ("<what>.<key> must be a string"). NULL
 * `obj` or a non-object counts as every key absent. A JSON null counts as
 * absent. */
hk_err hk_json_str(const json_t *obj, const char *what, const char *key, const char **ret,
		   hk_errinfo *ei);
/* A string with at least one byte and at most `max_len` bytes
 * (HK_ERR_RANGE: "<what>.<key> is empty" / "is longer than N bytes"). */
hk_err hk_json_str_len(const json_t *obj, const char *what, const char *key, size_t max_len,
		       const char **ret, hk_errinfo *ei);
/* An integer in [min, max] (HK_ERR_RANGE names the bounds). */
hk_err hk_json_int(const json_t *obj, const char *what, const char *key, int64_t min, int64_t max,
		   int64_t *ret, hk_errinfo *ei);
hk_err hk_json_bool(const json_t *obj, const char *what, const char *key, bool *ret,
		    hk_errinfo *ei);
/* An object / an array (borrowed reference). */
hk_err hk_json_obj(const json_t *obj, const char *what, const char *key, json_t **ret,
		   hk_errinfo *ei);
hk_err hk_json_arr(const json_t *obj, const char *what, const char *key, json_t **ret,
		   hk_errinfo *ei);

/* A string member or NULL (absent, null or not a string): for readers that
 * treat every such case alike. */
const char *hk_json_str_or_null(const json_t *obj, const char *key);

#endif
