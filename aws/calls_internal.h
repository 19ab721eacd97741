/* aws/ internal: the machinery under the typed calls (awscalls.h), and each
 * call's request builder and response reader, exposed so the unit tests and the
 * fuzz target can drive them without a network. Implemented in calls_util.c
 * (arena, parameter lists, reading helpers), calls_driver.c (the call driver
 * and the per-client state) and each call's file (ec2_describe.c, ec2_eni.c,
 * asg.c, sts.c + sts_msgs.c, sqs.c). */
#ifndef AWS_CALLS_INTERNAL_H
#define AWS_CALLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "awc.h"
#include "awscalls.h"
#include "calls_table.h"
#include "hk_common.h"

struct event_base;

#define CQ_EC2_VERSION "2016-11-15"
#define CQ_ASG_VERSION "2011-01-01"
#define CQ_STS_VERSION "2011-06-15"
#define CQ_SNS_VERSION "2010-03-31"

/* ---- arena: every result lives in one ------------------------------------ */

typedef struct cq_arena cq_arena;

/* A new arena whose first allocation is a zeroed root of `root_size` bytes (the
 * result struct handed to callbacks). Returns the root, or NULL (no memory). */
void *cq_root_new(size_t root_size, cq_arena **ret_arena);
/* The arena of a root made by cq_root_new(). */
cq_arena *cq_arena_of(const void *root);
/* Frees the arena (wiping it first when marked sensitive). NULL-safe. */
void cq_arena_free(cq_arena *a);
/* Wipe every block with OPENSSL_cleanse before it is freed (credentials). */
void cq_arena_set_sensitive(cq_arena *a);
/* Zeroed, max-aligned memory for n objects of `size` (overflow-checked). NULL when
 * out of memory. */
void *cq_alloc(cq_arena *a, size_t n, size_t size);
char *cq_strdup(cq_arena *a, const char *s);
char *cq_strndup(cq_arena *a, const char *s, size_t len);
/* Grow an array to hold `more` more elements of `elem` bytes: returns `items`
 * when it has room (n used of *cap), else a new array (doubling; the old one stays
 * in the arena) with the n used elements copied, updating *cap. NULL with
 * *ret_err = HK_ERR_TOO_LARGE past `max` elements, or HK_ERR_NOMEM. */
void *cq_vec_grow(cq_arena *a, const void *items, size_t n, size_t *cap, size_t more, size_t elem,
		  size_t max, hk_err *ret_err);
/* Cast away const from a result's array (the reader owns what it builds). */
#define CQ_MUT(type, p) ((type *)(uintptr_t)(p))

/* ---- request parameters ------------------------------------------------- */

/* The request parameters are a query_params (query.h): ordered, Action and
 * Version first, values wiped when freed. The builders below fill one; the
 * driver keeps it for every page. */
/* HK_ERR_INVALID with "<action>: <what>" in `ei`: a request field is missing or
 * contradictory. */
hk_err cq_bad(hk_errinfo *ei, const char *action, const char *what);
/* A request string that is present and not empty. */
static inline bool cq_set(const char *s)
{
	return s && *s;
}
/* A request being built: its parameter list and the first failure, which
 * sticks (later adds do nothing; cq_b_done reports it). A builder checks its
 * request first (cq_bad), then adds in order and ends with cq_b_done. */
typedef struct cq_b {
	const char *action;
	const char *empty_what;
	query_params *p;
	hk_err err;
} cq_b;
/* Action=`action`, Version=`version` (out of memory: reported by
 * cq_b_done). empty_what: what an invalid entry of this API's requests is
 * (the error text of an empty id, name or value). */
cq_b cq_b_start(const char *action, const char *version, const char *empty_what);
/* name=v; v NULL is an invalid entry. */
void cq_b_str(cq_b *b, const char *name, const char *v);
/* name=v when v is set (cq_set), else nothing. */
void cq_b_opt(cq_b *b, const char *name, const char *v);
/* A member whose name is printf-built (e.g. "Ipv6Addresses.%zu.Ipv6Address");
 * v must be set. */
void cq_b_strf(cq_b *b, const char *v, const char *name_fmt, ...) HK_PRINTF(3, 4);
void cq_b_uint(cq_b *b, const char *name, unsigned long long v);
void cq_b_bool(cq_b *b, const char *name, bool v);
/* prefix.1, prefix.2, ... = values (e.g. "InstanceId", "AutoScalingGroupNames.member"). */
void cq_b_list(cq_b *b, const char *prefix, const char *const *values, size_t n);
/* Filter.N.Name / Filter.N.Value.M. */
void cq_b_filters(cq_b *b, const ec2_filter *f, size_t n);
/* prefix.N.Key / prefix.N.Value (e.g. "Tag", "TagSpecification.1.Tag"). */
void cq_b_tags(cq_b *b, const char *prefix, const ec2_tag *tags, size_t n);
/* Finish: hand the list over in *ret, or free it and name the failure in `ei`
 * (HK_ERR_INVALID from an add means an empty entry: empty_what). */
HK_MUST_CHECK hk_err cq_b_done(cq_b *b, query_params **ret, hk_errinfo *ei);
/* The parameters of one page: a copy of the list, plus NextToken when non-NULL. */
HK_MUST_CHECK hk_err cq_page_params(const query_params *p, const char *next_token,
				    query_params **ret);

/* ---- response reading ---------------------------------------------------- */

/* A reader's state: the arena results go to and the first error (sticky: after
 * an error every helper returns a default and changes nothing). */
typedef struct cq_rd {
	cq_arena *a;
	const char *action; /* names the response in error texts */
	hk_err err;
	hk_errinfo ei;
} cq_rd;

void cq_rd_init(cq_rd *r, cq_arena *a, const char *action);
/* Record an error (only the first one is kept). Returns r->err. */
hk_err cq_rd_fail(cq_rd *r, hk_err code, const char *fmt, ...) HK_PRINTF(3, 4);

/* The root element if it is named `name`, else an HK_ERR_PARSE error. */
xmlNode *cq_x_root(cq_rd *r, const xmlDoc *doc, const char *name);
/* The <ActionResponse> root of r->action's answer (cq_x_root). */
xmlNode *cq_x_response(cq_rd *r, const xmlDoc *doc);
/* Its <ActionResult> child: where the Query APIs other than EC2 (Auto
 * Scaling, STS, SNS) put the answer. */
xmlNode *cq_x_result(cq_rd *r, const xmlDoc *doc);
/* A required child element; HK_ERR_PARSE naming it when missing. */
xmlNode *cq_x_need(cq_rd *r, const xmlNode *parent, const char *name);
/* Text of child `name` copied into the arena: NULL when absent (and a
 * HK_ERR_PARSE error when `required`). An empty element gives "" unless
 * `empty_is_null`. */
const char *cq_x_str(cq_rd *r, const xmlNode *parent, const char *name, bool required);
const char *cq_x_str_opt_nonempty(cq_rd *r, const xmlNode *parent, const char *name);
/* Numbers and booleans of child `name`: `dflt` when absent (error when
 * required); HK_ERR_PARSE when present but malformed or out of range. */
unsigned cq_x_uint(cq_rd *r, const xmlNode *parent, const char *name, bool required, unsigned dflt);
uint64_t cq_x_u64(cq_rd *r, const xmlNode *parent, const char *name, bool required, uint64_t dflt);
bool cq_x_bool(cq_rd *r, const xmlNode *parent, const char *name, bool required, bool dflt);
/* Count the `item_name` children of `set` (NULL set = 0), failing with
 * HK_ERR_TOO_LARGE past `max`. */
size_t cq_x_count(cq_rd *r, const xmlNode *set, const char *item_name, size_t max);
/* Reads one item of a set into `elem` (ctx: the caller's own). */
typedef void (*cq_x_item_fn)(cq_rd *r, const xmlNode *item, void *elem, const void *ctx);
/* The one reader of an XML item set: every `item_name` child of `set` (NULL
 * set: none) read with fn into an array of `elem_size` elements, at most `max`.
 * With cap NULL, a new array of exactly the items in the set, *n its count;
 * with cap, the page accumulator `vec` (*n items, *cap room) grown and
 * appended to, at most `max` in all. Returns the array (vec unchanged when the
 * set is empty or on error). */
void *cq_x_items(cq_rd *r, const xmlNode *set, const char *item_name, size_t max, size_t elem_size,
		 cq_x_item_fn fn, const void *ctx, const void *vec, size_t *n, size_t *cap);
/* A list of strings: every `item_name` child of child `set_name` of `parent`,
 * each the text of its child `field` (or its own text when field is NULL). */
void cq_x_strings(cq_rd *r, const xmlNode *parent, const char *set_name, const char *item_name,
		  const char *field, const char *const **ret, size_t *ret_n);
/* EC2 tags: <set_name><item><key/><value/></item>...; Auto Scaling uses
 * item_name "member" and Key/Value. */
void cq_x_tags(cq_rd *r, const xmlNode *parent, const char *set_name, const char *item_name,
	       const char *key_name, const char *value_name, const ec2_tag **ret, size_t *ret_n);
/* The text of child `name` when present and non-empty, borrowed from the tree. */
const char *cq_x_peek(const xmlNode *parent, const char *name);

/* JSON (SQS). Required/optional string members copied into the arena. */
const char *cq_j_str(cq_rd *r, const json_t *obj, const char *name, bool required, size_t *ret_len);

/* ---- the call driver ----------------------------------------------------- */

typedef struct cq_call cq_call;

/* Reads one response page into `out` (appending), returning the next page's
 * token (borrowed from the document, NULL or "" when none) through
 * *ret_next_token. Errors go into r. */
typedef void cq_xml_read(cq_rd *r, const xmlDoc *doc, void *out, const char **ret_next_token);
/* A JSON-protocol answer: `json` is always an object (cq_json_answer). */
typedef void cq_json_read(cq_rd *r, const json_t *json, void *out);
typedef cq_xml_read *cq_xml_read_fn;
typedef cq_json_read *cq_json_read_fn;
/* Calls the typed user callback `fn` (cast back to its real type). */
typedef void (*cq_generic_fn)(void);
typedef void (*cq_deliver_fn)(cq_generic_fn fn, const awc_result *res, const void *out, void *arg);
/* Runs after the last page, before delivery (e.g. to fill a cache). */
typedef hk_err (*cq_finish_fn)(cq_call *call, void *out, hk_errinfo *ei);

typedef struct cq_spec {
	awc_service svc;
	const char *action;	   /* for error texts */
	bool idempotent;	   /* retry after ambiguous failures */
	bool paginated;		   /* follow NextToken */
	size_t out_size;	   /* sizeof the result struct */
	cq_xml_read_fn read_xml;   /* Query protocol */
	cq_json_read_fn read_json; /* JSON protocol */
	cq_deliver_fn deliver;
	cq_finish_fn finish; /* optional */
	bool sensitive;	     /* wipe the result's memory when freed */
} cq_spec;

/* Start a Query-protocol call: takes `params` (also on failure). `opts`
 * (NULL: defaults) are the caller's per-call options: the deadline covers
 * every page, the timeout each request; idempotency comes from the spec. On HK_OK the
 * callback runs exactly once later; otherwise never. `ctx` (freed with
 * ctx_free after delivery, may be NULL) is available to spec->finish through
 * cq_call_ctx(). */
HK_MUST_CHECK hk_err cq_start_query(awc_client *c, const cq_spec *spec, query_params *params,
				    const awc_call_opts *opts, void *ctx, void (*ctx_free)(void *),
				    cq_generic_fn fn, void *arg);
/* Start a JSON-protocol call (SQS): `body` is borrowed (serialised at once).
 * `opts` (NULL: defaults) are the caller's per-call options; `timeout_ms`,
 * when not 0, replaces their timeout (the long poll's own). */
HK_MUST_CHECK hk_err cq_start_json(awc_client *c, const cq_spec *spec, const char *target,
				   const json_t *body, const awc_call_opts *opts, long timeout_ms,
				   cq_generic_fn fn, void *arg);
/* Deliver a ready result on the next loop turn without any AWS call (cache
 * hits): takes `out` (a cq_root_new() root). */
HK_MUST_CHECK hk_err cq_start_ready(awc_client *c, const cq_spec *spec, void *out, cq_generic_fn fn,
				    void *arg);
void *cq_call_ctx(const cq_call *call);
awc_client *cq_call_client(const cq_call *call);

/* Read a whole single-page XML response into a new root (tests and fuzzing).
 * On HK_OK *ret_out is a root to release with cq_arena_free(cq_arena_of()). */
HK_MUST_CHECK hk_err cq_read_xml_once(const cq_spec *spec, const xmlDoc *doc, void **ret_out,
				      const char **ret_next_token, hk_errinfo *ei);
/* Read a JSON-protocol answer with spec->read_json: a missing document or
 * anything but an object fails r here, for every action alike. */
void cq_json_answer(cq_rd *r, const cq_spec *spec, const json_t *json, void *out);
HK_MUST_CHECK hk_err cq_read_json_once(const cq_spec *spec, const json_t *json, void **ret_out,
				       hk_errinfo *ei);

/* Per-client state of the typed calls (the instance-type cache and the calls
 * in flight) is a field of the client (awc_client_calls), made on the first
 * typed call and freed first thing by awc_client_free(). Cache hits are
 * delivered on the client's loop (awc_client_base). */
/* The client's instance-type cache (ec2_describe.c owns its content; the slot
 * lives with the client state, NULL when it cannot be made). */
struct ec2_type_cache;
struct ec2_type_cache **cq_client_type_cache(awc_client *c);
void ec2_type_cache_free(struct ec2_type_cache *tc);

/* The transport the driver uses: awc_query()/awc_json() by default; a client
 * made with awc_config.call_transport uses that one instead (the unit tests'
 * fake serves recorded responses from the event loop). */
typedef struct cq_transport {
	hk_err (*query)(awc_client *c, awc_service svc, const query_params *p,
			const char *next_token, const awc_call_opts *opts, awc_done_fn done,
			void *arg);
	hk_err (*json)(awc_client *c, awc_service svc, const char *target, const json_t *body,
		       const awc_call_opts *opts, awc_done_fn done, void *arg);
} cq_transport;

/* ---- each call's spec, builder and reader ----------------------------------
 * Builders validate the request and return the complete parameter list (Action
 * and Version first); HK_ERR_INVALID with ei->text naming the field. */
/* The call specs (calls_table.h; each defined by its service file). */
#define CQ_DECLARE_SPEC(spec, fn_type, svc, act, proto, reader, size, ...)                         \
	extern const cq_spec spec;
CQ_SPECS(CQ_DECLARE_SPEC)
#undef CQ_DECLARE_SPEC

/* The builders of the calls that take one request struct (calls_table.h). */
#define CQ_DECLARE_BUILDER(name, req_type, fn_type, builder, spec)                                 \
	HK_MUST_CHECK hk_err builder(const req_type *req, query_params **ret, hk_errinfo *ei);
CQ_STARTS(CQ_DECLARE_BUILDER)
#undef CQ_DECLARE_BUILDER

HK_MUST_CHECK hk_err ec2_build_describe_instance_types(const ec2_describe_instance_types_req *req,
						       query_params **ret, hk_errinfo *ei);
HK_MUST_CHECK hk_err ec2_build_create_network_interface(const ec2_create_network_interface_req *req,
							query_params **ret, hk_errinfo *ei);
HK_MUST_CHECK hk_err ec2_build_modify_source_dest_check(const char *eni_id, bool enabled,
							query_params **ret, hk_errinfo *ei);
HK_MUST_CHECK hk_err ec2_build_modify_delete_on_termination(const char *eni_id,
							    const char *attachment_id, bool enabled,
							    query_params **ret, hk_errinfo *ei);
HK_MUST_CHECK hk_err sts_build_get_caller_identity(query_params **ret, hk_errinfo *ei);
HK_MUST_CHECK hk_err sqs_build_receive(const sqs_receive_req *req, json_t **ret, hk_errinfo *ei);
HK_MUST_CHECK hk_err sqs_build_delete(const char *queue_url, const char *receipt_handle,
				      json_t **ret, hk_errinfo *ei);
HK_MUST_CHECK hk_err sqs_build_change_visibility(const char *queue_url, const char *receipt_handle,
						 unsigned timeout_s, json_t **ret, hk_errinfo *ei);

/* Readers of one ENI element (DescribeNetworkInterfaces item, CreateNetworkInterface
 * networkInterface) and one reservation (shared by Get/Create/Delete). */
void ec2_read_eni(cq_rd *r, const xmlNode *item, ec2_eni *eni);
void ec2_read_cidr_reservation(cq_rd *r, const xmlNode *item, bool ipv6, ec2_cidr_reservation *res);

/* Read an STS AssumeRoleWithWebIdentity response body (for creds.c if it sends the
 * call itself). On HK_OK *ret_out is a result the caller frees with awscalls_free(). */
HK_MUST_CHECK hk_err sts_read_assume_role_web_identity(const xmlDoc *doc,
						       sts_credentials_out **ret_out,
						       hk_errinfo *ei);

/* ---- shared by calls_util.c and calls_driver.c ---- */
/* Delivering a result: while the callback runs, awscalls_free() on its arena
 * only marks it (the driver frees it after). _end() says whether the user
 * kept it (then it is theirs). Nestable. */
typedef struct cq_arena_delivering {
	cq_arena *arena;
	bool free_asked;
} cq_arena_delivering;
void cq_arena_deliver_begin(cq_arena *a, cq_arena_delivering *saved);
bool cq_arena_deliver_end(cq_arena *a, const cq_arena_delivering *saved);
char *cq_xstrdup(const char *s);

#endif
