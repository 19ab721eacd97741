/* What every typed call needs and what once was written by hand per call,
 * expanded from the tables in calls_table.h: the delivery trampolines, the
 * call specs and the start wrappers of the calls that take one request. */
#include "calls_internal.h"

/* The trampoline of `spec`: the driver holds the user's callback as a
 * cq_generic_fn; this casts it back to its real type to call it. */
#define CQ_TRAMPOLINE(spec, fn_type, svc, act, proto, reader, size, ...)                           \
	static void deliver_##spec(cq_generic_fn fn, const awc_result *res, const void *out,       \
				   void *arg)                                                      \
	{                                                                                          \
		((fn_type)fn)(res, out, arg);                                                      \
	}
CQ_SPECS(CQ_TRAMPOLINE)
#undef CQ_TRAMPOLINE

#define CQ_SPEC(spec, fn_type, service, act, proto, reader, size, ...)                             \
	const cq_spec spec = {.svc = AWC_SVC_##service,                                            \
			      .action = act,                                                       \
			      .out_size = size,                                                    \
			      .read_##proto = reader,                                              \
			      .deliver = deliver_##spec,                                           \
			      __VA_ARGS__};
CQ_SPECS(CQ_SPEC)
#undef CQ_SPEC

#define CQ_START(name, req_type, fn_type, builder, spec)                                           \
	hk_err name(awc_client *c, const req_type *req, fn_type done, void *arg,                   \
		    const awc_call_opts *opts)                                                     \
	{                                                                                          \
		cq_params *p;                                                                      \
		hk_err err = builder(req, &p, NULL);                                               \
		if (err)                                                                           \
			return err;                                                                \
		return cq_start_query(c, &spec, p, opts, NULL, NULL, (cq_generic_fn)done, arg);    \
	}
CQ_STARTS(CQ_START)
#undef CQ_START
