/* hook/engine: the lifecycle engine (launch, terminate, orphan sweep) and its
 * per-subnet allocator cache. Shared by the engine_*.c files and their unit
 * tests; the rest of the daemon uses only hook_engine.h (hook_engine_aws_new()
 * and the dispatch interface).
 *
 *   engine.c            the engine object: queue, concurrency bound, action
 *                       records, heartbeats and deadlines, completion, the pure
 *                       helpers below (tokens, tags, steps, classification, math)
 *   engine_launch.c     the launch state machine
 *   engine_terminate.c  the terminate state machine and the shared ENI cleanup
 *   engine_alloc.c      one cidr_pool per subnet, refreshed with coalescing
 *   engine_sweep.c      the orphan sweep
 *
 * See docs/engine.md. Everything runs on the loop thread. */
#ifndef HOOK_ENGINE_INTERNAL_H
#define HOOK_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awsclient.h"
#include "cidr.h"
#include "hk_sf.h"
#include "hook_engine.h"

struct event_base;
struct event;

/* Drop a result on purpose (gcc's warn_unused_result ignores a (void) cast). */
#define ENG_IGNORE(x)                                                                              \
	do {                                                                                       \
		hk_err eng_ign_ = (x);                                                             \
		(void)eng_ign_;                                                                    \
	} while (0)

/* ======================================================================
 * Pure helpers (engine.c; unit-tested)
 * ====================================================================== */

/* Tag keys the engine puts on every ENI it creates. */
#define HOOK_TAG_NO_MANAGE    "node.k8s.amazonaws.com/no_manage"
#define HOOK_TAG_INSTANCE     "multus-hookd/instance-id"
#define HOOK_TAG_NETWORK      "multus-hookd/network"
#define HOOK_TAG_DEVICE_INDEX "multus-hookd/device-index"

/* Longest ClientToken we make, NUL included (AWS allows 64 ASCII chars). */
#define HOOK_CLIENT_TOKEN_LEN 48u

/* The CreateNetworkInterface ClientToken of one ENI: "mh-" and 40 hex digits of
 * SHA-256 over instance id, network name, device index, the lifecycle action
 * token and `gen` (bumped each time a new address is chosen after
 * InvalidIPAddress.InUse), NUL-separated. A replay of the same lifecycle action
 * derives the same token; another action for the same instance (warm pool
 * start, a later relaunch) derives another, so EC2 never answers with an ENI
 * deleted long ago. `out` receives 43 characters and a NUL. */
void hook_engine_client_token(const char *instance_id, const char *network, unsigned device_index,
			      const char *lifecycle_token, unsigned gen,
			      char out[HOOK_CLIENT_TOKEN_LEN]);

/* One instance, one plan (docs/engine.md "Several hooks, one instance").
 * Two actions are one piece of work when they are the same transition of the
 * same instance between the same places (Origin and Destination): two of our
 * own hooks on one transition. */
bool hook_engine_same_episode(const hook_action *a, const hook_action *b);

typedef enum hook_engine_verdict {
	ENG_VERDICT_RUN = 0,   /* run its own plan (adoption makes a repeat cheap) */
	ENG_VERDICT_ABANDONED, /* the same launch was abandoned by another of our
				* actions: complete ABANDON too, no ENI work */
	ENG_VERDICT_LEAVING,   /* a terminate (destination not the warm pool) of the
				* instance was seen: the launch is moot, ABANDON,
				* no ENI work */
} hook_engine_verdict;

/* What a launch or terminate `self` should do, given the other recorded
 * actions of its instance (`others`, any order; self may be among them).
 * *ret_by (may be NULL) receives the id of the action that decided a verdict
 * other than RUN. Terminates always RUN. */
hook_engine_verdict hook_engine_sibling_verdict(const hook_action *self, const hook_action *others,
						size_t n, int64_t *ret_by);

/* How many generations hook_engine_token_gen() tries. */
#define HOOK_TOKEN_GEN_MAX 256u

/* The generation `client_token` (a recorded ClientToken) was derived with by
 * hook_engine_client_token() for these inputs: 0 for NULL or "" (nothing
 * recorded yet), HOOK_TOKEN_GEN_MAX when none below it matches (a token from
 * elsewhere: the next token is then one never sent). */
unsigned hook_engine_token_gen(const char *instance_id, const char *network, unsigned device_index,
			       const char *lifecycle_token, const char *client_token);

/* The tags of a new ENI: the four engine tags, then the network's own tags
 * (an own tag with an engine key is skipped: ours win). `devidx_buf` holds the
 * device index text and must outlive the tags. Writes at most `max` tags to
 * `out` (borrowed strings) and returns how many were written. */
size_t hook_engine_build_tags(const char *instance_id, const hook_network *net, char devidx_buf[12],
			      ec2_tag *out, size_t max);

/* AWS error text made safe to log: every occurrence of the lifecycle action
 * token `token` in `text` (case-insensitive: AWS echoes it in ValidationError
 * messages) is replaced by its hook_token_prefix() form, and so is a token
 * cut short at the end of `text` (the client truncates long error bodies)
 * when more than the prefix's 8 characters of it remain. A NULL or empty
 * token copies the text. Returns a new string (free() it); NULL when `text`
 * is NULL or memory runs out. */
char *hook_engine_redact_token(const char *text, const char *token);

/* The last_error an action keeps once its completion succeeded: a failed
 * launch keeps why it failed (`fail_reason`); an action whose cleanup ended
 * with ENIs left keeps that note (`last_error` starting "cleanup incomplete");
 * anything else (transient trouble that was overcome) is cleared (""). Never
 * NULL; the result points into one of the arguments or a literal. */
const char *hook_engine_final_error(bool failing_launch, const char *fail_reason,
				    const char *last_error);

/* Steps of an action, recorded in the store (hook_action.step) as it enters
 * them. A restart resumes at hook_engine_resume_step(). */
typedef enum hook_engine_step {
	ENG_STEP_NONE = 0, /* "" : not started */
	ENG_STEP_HOOK,	   /* DescribeLifecycleHooks (timeouts) */
	ENG_STEP_INSTANCE, /* DescribeInstances (AZ, type, attached ENIs) */
	ENG_STEP_ADOPT,	   /* DescribeNetworkInterfaces tag:instance-id */
	ENG_STEP_SUBNETS,  /* one subnet per network in the AZ */
	ENG_STEP_CAPACITY, /* DescribeInstanceTypes: max ENIs per card */
	ENG_STEP_ENIS,	   /* per network: address, create, attach, configure */
	ENG_STEP_CLEANUP,  /* failed: detach and delete what this action made */
	ENG_STEP_COMPLETE, /* CompleteLifecycleAction */
	ENG_STEP_DONE,	   /* final */
	ENG_STEP_T_FIND,   /* terminate: find our ENIs */
	ENG_STEP_T_DETACH, /* terminate: detach, wait for available, delete */
	ENG_STEP__COUNT
} hook_engine_step;

const char *hook_engine_step_str(hook_engine_step s);
/* Unknown text gives ENG_STEP_NONE (start over: every step is idempotent). */
hook_engine_step hook_engine_step_parse(const char *s);

/* Where an unfinished action resumes after a restart, from its recorded state
 * and step. The rules (docs/engine.md): CLEANUP resumes the cleanup (an
 * action that began failing never goes back to creating); COMPLETING resumes
 * the completion (a "no active action" answer then means it was done);
 * anything else starts again from the top, where adoption of the ENIs that
 * exist makes the replay idempotent. */
hook_engine_step hook_engine_resume_step(hook_action_state state, const char *step,
					 hook_transition transition);

/* Transient-retry budget: an action re-runs from the top at most
 * HOOK_ENGINE_RETRY_MAX times in a row without forward progress; progress
 * (a step or an ENI further than ever before) starts the count again. */
#define HOOK_ENGINE_RETRY_MAX	    12u
#define HOOK_ENGINE_RETRY_DELAY_MAX 30000u

typedef struct hook_engine_retry {
	unsigned count; /* retries since the last forward progress */
	unsigned best;	/* the furthest progress seen (hook_engine_progress) */
} hook_engine_retry;

/* How far an action got, as one number that only grows while it moves
 * forward: the step's place in its machine (launch: describe-hook <
 * describe-instance < adopt < subnets < capacity < enis < cleanup <
 * complete; terminate: describe-hook < find-enis < detach-delete < complete)
 * times 1024, plus `eni_progress` (the sum of the ENI slot states, each
 * PLANNED 1 .. CONFIGURED 4; capped at 1023). */
unsigned hook_engine_progress(hook_engine_step step, unsigned eni_progress);

/* A transient failure at `progress`: progress beyond r->best resets the
 * count first. Returns true with the delay before the re-run in
 * *ret_delay_ms (base_ms doubled per retry since the last progress, at most
 * HOOK_ENGINE_RETRY_DELAY_MAX), or false when HOOK_ENGINE_RETRY_MAX retries
 * without progress are spent (then *ret_delay_ms is untouched and the action
 * should fail). */
bool hook_engine_retry_next(hook_engine_retry *r, unsigned progress, unsigned base_ms,
			    unsigned *ret_delay_ms);

/* ENI row states (hook_eni_row.state). */
typedef enum hook_eni_state {
	ENG_ENI_NONE = 0,   /* "" nothing chosen yet */
	ENG_ENI_PLANNED,    /* subnet, address and ClientToken recorded; not created */
	ENG_ENI_CREATED,    /* exists (eni_id), not attached */
	ENG_ENI_ATTACHED,   /* attached at its device index (attachment_id) */
	ENG_ENI_CONFIGURED, /* DeleteOnTermination (and source/dest check) set */
	ENG_ENI_DELETED,    /* cleaned up */
	ENG_ENI__COUNT
} hook_eni_state;

const char *hook_eni_state_str(hook_eni_state s);
hook_eni_state hook_eni_state_parse(const char *s);

/* What to do about a failed AWS call. */
typedef enum hook_engine_fault {
	ENG_FAULT_NONE = 0,	    /* success */
	ENG_FAULT_RETRY,	    /* transient after the client's own retries: retry later */
	ENG_FAULT_FATAL,	    /* permanent: fail the action (cleanup, failure result) */
	ENG_FAULT_IP_IN_USE,	    /* InvalidIPAddress.InUse: mark used, take the next */
	ENG_FAULT_TOKEN_MISMATCH,   /* IdempotentParameterMismatch: find by tags, adopt */
	ENG_FAULT_SUBNET_FULL,	    /* InsufficientFreeAddressesInSubnet */
	ENG_FAULT_ATTACH_LIMIT,	    /* AttachmentLimitExceeded */
	ENG_FAULT_NOT_FOUND,	    /* the ENI/attachment/instance is gone */
	ENG_FAULT_NO_ACTIVE_ACTION, /* ValidationError from Complete/Heartbeat: action over */
	ENG_FAULT_ENI_IN_USE,	    /* InvalidNetworkInterface.InUse (delete while attached) */
} hook_engine_fault;

/* Classify a call outcome (err, aws_code may be NULL). */
hook_engine_fault hook_engine_classify(hk_err err, const char *aws_code);
const char *hook_engine_fault_str(hook_engine_fault f);

/* Heartbeat and deadline math (milliseconds). The hook's global timeout is
 * `global_s` when AWS reports it, else min(48 h, 100 x heartbeat). */
typedef struct hook_engine_timing {
	int64_t heartbeat_ms;	  /* the hook's HeartbeatTimeout (x the test time scale) */
	int64_t global_ms;	  /* the hook's global timeout (x the test time scale) */
	int64_t margin_ms;	  /* before a heartbeat expiry: cfg margin, at most heartbeat/4 */
	int64_t global_margin_ms; /* before the global timeout: cfg margin, at most global/4 */
	int64_t interval_ms;	  /* send a heartbeat this long after the previous one */
} hook_engine_timing;

/* Fill `t` from the hook's timeouts and cfg->heartbeat_margin_ms:
 * interval = min(heartbeat/2, heartbeat - cfg margin), at least heartbeat/4;
 * margin = min(cfg margin, heartbeat/4); global margin = min(cfg margin,
 * global/4) (the cleanup of a failing action must fit in it). */
void hook_engine_timing_make(unsigned heartbeat_s, unsigned global_s, unsigned margin_cfg_ms,
			     hook_engine_timing *t);
/* The same with the hook's timeouts (AWS seconds) multiplied by `scale`
 * (testing.time_scale: the simulator's --time-scale; <= 0 means 1). The
 * heartbeat is at least 40 ms and the global timeout at least the heartbeat. */
void hook_engine_timing_scaled(unsigned heartbeat_s, unsigned global_s, unsigned margin_cfg_ms,
			       double scale, hook_engine_timing *t);

/* The global deadline an action keeps (epoch ms) once its timing `t` is
 * known: the stored one (`stored_ms`, actions.deadline_ms) when it exists
 * (later than `created_ms`): the first run recorded it from the hook's real
 * timeout, and it stays authoritative after a restart even when this run
 * could only assume 3600 s (DescribeLifecycleHooks failed); `t` then takes its
 * global timeout from it (global = stored - created, global margin =
 * min(margin_cfg_ms, global/4)), so the give-up agrees. Else (0: none yet, or
 * not after created_ms) created_ms + t->global_ms, and `t` is unchanged. */
int64_t hook_engine_keep_deadline(hook_engine_timing *t, int64_t created_ms, int64_t stored_ms,
				  unsigned margin_cfg_ms);

/* When the action must stop working and clean up (epoch ms): the earlier of
 * the global deadline minus the global margin (started_ms + global -
 * global_margin) and the heartbeat expiry minus the margin (last_beat_ms +
 * heartbeat - margin), where last_beat_ms is when the last successful
 * heartbeat was sent (or started_ms). */
int64_t hook_engine_giveup_ms(const hook_engine_timing *t, int64_t started_ms,
			      int64_t last_beat_ms);

/* Parse a configured pod range ("a.b.c.d/n" or "first-last"). */
HK_MUST_CHECK hk_err hook_engine_parse_pod_range(const char *s, cidr_range *ret);

/* Whether every address of `r` lies in one of `resv` (their union; other
 * families ignored). */
bool hook_engine_range_covered(const cidr_range *r, const cidr_prefix *resv, size_t n_resv);

/* dhcp mode: EC2 never auto-assigns from an explicit subnet CIDR reservation,
 * so each pod range must be covered by them. For each of the `n` ranges, set
 * uncovered[i] when its part inside `subnet` is not wholly covered by the
 * explicit reservations `resv`; ranges outside the subnet (another AZ's) or
 * of the other family are fine. Returns how many are uncovered. */
size_t hook_engine_dhcp_uncovered(const cidr_prefix *subnet, const cidr_range *ranges, size_t n,
				  const cidr_prefix *resv, size_t n_resv, bool *uncovered);

/* ======================================================================
 * The engine (engine.c)
 * ====================================================================== */

typedef struct hook_eng hook_eng;
typedef struct eng_action eng_action;

/* Where an action's run is. One value at a time; whether it failed is a
 * separate fact (eng_failed: a failure reason is set), kept while its
 * cleanup runs and it then completes ABANDON. */
typedef enum eng_run {
	ENG_RUN_WORKING,    /* doing its steps */
	ENG_RUN_RESUMING,   /* resumed in COMPLETING: learns the hook's timing, then
			     * completes with the stored result */
	ENG_RUN_RESTARTING, /* a retry was decided: re-run once inflight == 0 */
	ENG_RUN_FAILING,    /* a failure was decided: the cleanup starts once
			     * inflight == 0 */
	ENG_RUN_CLEANING,   /* the cleanup runs (a failure, or a terminate's work) */
	ENG_RUN_COMPLETING, /* CompleteLifecycleAction decided */
	ENG_RUN_STOPPING,   /* a launch whose lifecycle action is over elsewhere
			     * (completed by another replica or a person, or
			     * timed out): ends once inflight == 0, its ENIs kept */
	ENG_RUN_FINISHED,   /* the outcome is stored; freed when nothing is out */
	ENG_RUN_N
} eng_run;
typedef struct eng_alloc eng_alloc;

/* One ENI slot of a launch: one network of the node group. */
typedef struct eng_slot {
	eng_action *act;
	const hook_network *net;
	size_t index;
	hook_eni_state state;
	char *subnet_id;
	char *ipv4; /* "" = DHCP */
	char *ipv6; /* "" = none / EC2 picks */
	char *client_token;
	char *eni_id;
	char *attachment_id;
	unsigned gen;	    /* ClientToken generation */
	unsigned conflicts; /* InvalidIPAddress.InUse answers seen */
	bool pool_pending;  /* ipv4 is pending in the allocator cache */
	bool pool6_pending; /* ipv6 is pending in the allocator cache */
	bool busy;	    /* a call of this slot is in flight */
	bool dot_ok;	    /* DeleteOnTermination already true */
	bool sdc_ok;	    /* source/dest check already as configured */
} eng_slot;

/* The engine's single-flight caches (common/hk_sf.h; each waiter is an
 * action in flight or one of its slots, held by its inflight count):
 * - hooks: a lifecycle hook's timing per group + hook, for ENG_HOOK_CACHE_MS;
 * - subnets: the subnet choice per AZ + subnet tag filter, for
 *   ENG_SUBNET_CACHE_MS; only a choice is cached ("none in the AZ" and
 *   failures are not), and a choice is forgotten when EC2 shows the subnet
 *   changed (eng_subnet_forget);
 * - types: DescribeInstanceTypes per instance type with a TTL of 0: the
 *   answer is cached once, by aws/ (per client); this entry only coalesces
 *   the launches that miss at once into one call.
 * Each fetch's waiters read its AWS answer through hk_sf_detail(); none
 * there means the call could not even be sent. */
#define ENG_HOOK_CACHE_MS    (10 * 60 * 1000)
#define ENG_SUBNET_CACHE_MS  60000
#define ENG_SUBNET_CACHE_MAX 4096u
#define ENG_TYPE_CACHE_MAX   4096u
#define ENG_HOOK_CACHE_MAX   4096u
/* Waiters per key: max_concurrent_actions x networks bounds them anyway; a
 * caller beyond this fetches on its own (HK_SF_ALONE). */
#define ENG_SF_MAX_WAITERS 4096u

/* An ENI found for cleanup (terminate, failed launch, sweep). */
typedef struct eng_victim {
	char *eni_id;
	char *attachment_id; /* NULL when not attached */
	char *subnet_id;
	bool detached;
	bool gone;
	unsigned polls;
} eng_victim;

struct eng_action {
	awc_call_opts call_opts; /* eng_call_opts(): the next working call's */
	hook_eng *eng;
	eng_action *next; /* in the engine's active list */
	hook_action rec;
	/* The configuration the action started with (a reference: a reload
	 * does not change an action in flight); group and slot networks point
	 * into it. */
	hook_config *cfg;
	const hook_node_group *group; /* NULL when the group is no longer configured */
	hook_engine_step step;
	hook_engine_timing timing;
	bool timing_known;
	int64_t last_beat_ms; /* when the last successful heartbeat was sent */
	int64_t beat_sent_ms; /* when the heartbeat in flight was sent */
	int64_t giveup_ms;
	struct event *beat_ev;	 /* heartbeat timer */
	struct event *giveup_ev; /* deadline timer */
	struct event *retry_ev;	 /* delayed retry / poll timer */
	unsigned inflight;	 /* AWS or allocator calls in flight (not heartbeats) */
	hook_engine_retry retry; /* transient retries since the last progress */
	bool beat_inflight;	 /* a heartbeat is out: a finished action is freed after it */
	eng_run run;		 /* the run state (eng_action_set_run) */
	unsigned restart_delay_ms;
	/* one instance, one plan: at most one action per instance has the turn
	 * (ENI work or cleanup); the others wait parked, heartbeating */
	bool had_turn;			  /* it got the turn in this run */
	bool resumed_cleanup;		  /* resumed in CLEANUP: its cleanup needs the turn */
	bool parked;			  /* waiting for a sibling's turn to end */
	void (*park_then)(eng_action *a); /* what runs when it is woken */
	void (*after_fn)(eng_action *a);  /* what retry_ev runs */
	char fail_reason[256];		  /* set once a failure is decided (eng_failed) */
	hook_engine_step fail_step;	  /* the step it was at then (notices) */
	/* launch */
	char *az;
	char *instance_type;
	bool instance_gone;
	ec2_describe_instances_out *inst; /* kept result (awscalls_free) */
	eng_slot *slots;
	size_t n_slots;
	/* cleanup / terminate */
	eng_victim *victims;
	size_t n_victims;
	unsigned complete_tries;
	void *cl; /* the cleanup's continuation (engine_terminate.c) */
};

struct hook_eng {
	struct event_base *base;
	hook_config *cfg; /* a reference: the newest (SIGHUP), for new actions */
	hook_store *store;
	hook_health *health;
	awc_client *aws;
	eng_action *active;  /* list */
	eng_action *zombies; /* finished, freed on the next loop turn */
	size_t n_active;
	int64_t *queue; /* FIFO of action ids not started yet */
	size_t q_head, q_len, q_cap;
	bool started;
	bool draining;
	hook_engine_drained_fn drained;
	void *drained_arg;
	struct event *pump_ev; /* runs the queue (and the drain check) on the next turn */
	hk_sf *hook_cache;     /* see "single-flight caches" above */
	hk_sf *subnet_cache;
	hk_sf *type_cache;
	eng_alloc *alloc;
	struct event *sweep_ev;
	bool sweep_running;
	struct eng_sweep *sweep; /* the sweep in flight (engine_sweep.c) */
	unsigned sweep_interval_s;
	struct eng_recon *recons;   /* reconciles in flight (engine_reconcile.c) */
	struct eng_notify *notify;  /* failure notices (engine_notify.c) */
	struct event *reconcile_ev; /* limits.reconcile_interval_s */
	/* What engine_action.c asks engine.c to do (set at creation): run the
	 * action again from its resume point, and clean up after a failure. */
	void (*restart_fn)(eng_action *a);
	void (*cleanup_fn)(eng_action *a);
};

/* engine_action.c services for the state machines */
/* First thing in every callback of an action's call: lowers a->inflight and
 * says whether the callback may go on (false: the action is failing,
 * restarting or finished; the pending cleanup/retry was started if due). */
bool eng_enter(eng_action *a);
/* An AWS call of the action answered: counted for health, then eng_enter;
 * when true, *fault is the answer's class (hook_engine_classify). */
bool eng_answer(eng_action *a, const awc_result *res, hook_engine_fault *fault);
/* Start the decided cleanup or retry once nothing is in flight. */
void eng_settle(eng_action *a);
void eng_action_set_step(eng_action *a, hook_engine_step step);
void eng_action_store_state(eng_action *a, hook_action_state st, const char *last_error);
/* Note a failure; cleanup starts once nothing of the action is in flight. */
void eng_action_fail(eng_action *a, const char *fmt, ...) HK_PRINTF(2, 3);
/* Re-run the action from its resume point after `delay_ms` (transient trouble). */
void eng_action_retry_later(eng_action *a, const char *why, unsigned delay_ms);
/* Complete the lifecycle action with `result` (once), then finish. */
void eng_action_complete(eng_action *a, hook_result result);
/* Log an AWS call failure with the action's context. */
void eng_log_aws(eng_action *a, hook_log_level lvl, const char *msg, const char *call,
		 const awc_result *res);
/* Update health flags from a call outcome. */
void eng_health_from(hook_eng *e, const awc_result *res);
bool eng_action_past_giveup(const eng_action *a);
/* The per-call options of the action's next working call (launch steps): its
 * retry window ends at the action's give-up time, so a call throttled or
 * failing transiently stops retrying in time for the give-up and the cleanup
 * never waits for retries the hook cannot outlive. The options live in the
 * action (a->call_opts) and are copied by the call. Not for cleanup and
 * completion calls. */
const awc_call_opts *eng_call_opts(eng_action *a);
char *eng_strdup(const char *s);
void eng_slot_row(const eng_action *a, const eng_slot *s, hook_eni_row *row);
HK_MUST_CHECK hk_err eng_slot_save(eng_action *a, eng_slot *s, hook_eni_state st);
/* An engine-scoped timer helper: run fn(arg) after delay_ms. */
void eng_action_after(eng_action *a, unsigned delay_ms, void (*fn)(eng_action *));

/* engine_launch.c */
void eng_launch_run(eng_action *a);
/* EC2 no longer shows the ENI recorded for slot `s`: start the slot over with
 * the next ClientToken generation, and record that token in the row (state
 * none, no address) before anything else, so a restart derives the same new
 * token (hook_engine_token_gen) instead of resending the old one, for which
 * EC2 would return the deleted ENI. HK_OK when recorded. */
HK_MUST_CHECK hk_err eng_slot_forget(eng_action *a, eng_slot *s);
void eng_launch_release(eng_action *a); /* give back pending addresses */

/* The subnet cache (engine_launch.c): forget every choice of `subnet_id`
 * (EC2 said InvalidSubnetID.NotFound), and free the cache (engine shutdown). */
void eng_subnet_forget(hook_eng *e, const char *subnet_id);
/* The DescribeInstanceTypes single-flight entries (engine_launch.c): free
 * them (engine shutdown; the waiters are freed elsewhere). */

/* engine_terminate.c */
void eng_terminate_run(eng_action *a);
/* Find every ENI tagged for a->rec.instance_id, detach, wait, delete, then
 * call done(a). Used by terminate and by failed launches. */
void eng_cleanup_run(eng_action *a, void (*done)(eng_action *));

/* engine_sweep.c */
/* The prefix of a final error whose cleanup could not remove everything. */
#define ENG_CLEANUP_INCOMPLETE "cleanup incomplete"

/* engine_notify.c: failure notices, queued and sent off the engine's path */
typedef struct eng_notify eng_notify;
HK_MUST_CHECK hk_err eng_notify_new(hook_eng *e, eng_notify **ret);
void eng_notify_free(eng_notify *nt);
/* A finished action: queue its notice when it deserves one (an abandoned
 * launch, an expired or failed action, an incomplete cleanup) and notify is
 * configured. Never blocks, never fails the action. */
void eng_notify_action(eng_notify *nt, const eng_action *a, hook_action_state st,
		       const char *result, const char *last_error);

/* engine_reconcile.c */
#define ENG_RECONCILE_S 3600 /* the time a reconcile action has (no hook sets it) */
typedef struct eng_recon eng_recon;
HK_MUST_CHECK hk_err eng_reconcile(hook_eng *e, const hook_reconcile_req *req,
				   hook_reconcile_done_fn done, void *arg);
void eng_reconcile_free_all(hook_eng *e);
/* Arm the periodic reconcile (no-op when the interval is 0 or draining). */
void eng_reconcile_schedule(hook_eng *e);
/* Queue a committed action (engine.c). */
void eng_submit(hook_eng *e, int64_t action_id);
/* An action a reconcile started: no lifecycle hook behind it. */
bool eng_is_reconcile(const eng_action *a);

void eng_sweep_start(hook_eng *e);
void eng_sweep_stop(hook_eng *e);
bool eng_instance_busy(hook_eng *e, const char *instance_id);

/* Instance ids per DescribeInstances of the orphan sweep (its filter takes at
 * most 200 values). */
#define ENG_SWEEP_BATCH 200u
/* Sort ids[0..n) (borrowed strings, NULL not allowed) and drop repeats in
 * place; returns the number of distinct ids now at the front. Pure. */
size_t eng_sweep_distinct(const char **ids, size_t n);
/* How many ids the sweep's DescribeInstances batch starting at `next` takes
 * out of n_ids: min(n_ids - next, batch_max); 0 when next >= n_ids (no batch
 * left) or batch_max is 0. Batches from next = 0, advancing by the result,
 * cover every id exactly once. Pure. */
size_t eng_sweep_batch_len(size_t n_ids, size_t next, size_t batch_max);

/* ======================================================================
 * The allocator cache (engine_alloc.c)
 * ====================================================================== */

/* How old a subnet's picture may be before the next allocation refreshes it. */
#define ENG_POOL_MAX_AGE_MS 5000

typedef void (*eng_alloc_ready_fn)(hk_err err, const char *why, void *arg);

HK_MUST_CHECK hk_err eng_alloc_new(hook_eng *e, eng_alloc **ret);
void eng_alloc_free(eng_alloc *al);

/* Make sure the pool of `subnet_id` is fresh (created and refreshed when
 * missing, older than ENG_POOL_MAX_AGE_MS or marked stale); concurrent callers
 * wait on the one refresh in flight. `net` supplies the pod ranges. ready()
 * runs exactly once, asynchronously. HK_OK = ready will be called. */
HK_MUST_CHECK hk_err eng_alloc_ensure(eng_alloc *al, const char *subnet_id, const hook_network *net,
				      eng_alloc_ready_fn ready, void *arg);
/* Take the lowest free address (family 4 or 6) of a ready pool, as pending.
 * HK_ERR_FULL when none; HK_ERR_NOT_FOUND when the pool (or its IPv6 CIDR) is
 * unknown. */
HK_MUST_CHECK hk_err eng_alloc_take(eng_alloc *al, const char *subnet_id, int family, char *buf,
				    size_t len);
/* Hold a recorded address (after a restart): claim it as pending. */
void eng_alloc_hold(eng_alloc *al, const char *subnet_id, const char *addr);
/* The ENI was created with it: pending -> used. */
void eng_alloc_confirm(eng_alloc *al, const char *subnet_id, const char *addr);
/* The launch gave the address up: pending -> free. */
void eng_alloc_release(eng_alloc *al, const char *subnet_id, const char *addr);
/* EC2 says it is in use: pending -> used, and refresh before the next take. */
void eng_alloc_conflict(eng_alloc *al, const char *subnet_id, const char *addr);
/* Something was deleted or changed in the subnet: refresh before the next take. */
void eng_alloc_stale(eng_alloc *al, const char *subnet_id);
/* dhcp mode with pod_ranges: the first time `net` uses `subnet_id`, read the
 * subnet (its CIDRs) and its CIDR reservations in the background and log a
 * warning for each pod range inside it that explicit reservations do not
 * cover (hook_engine_dhcp_uncovered). Never blocks or fails the launch. */
/* The per-subnet gauges (free addresses, reservations) from the pools as
 * last refreshed (at each /metrics). */
void eng_alloc_collect(const eng_alloc *al);
/* `net` belongs to `cfg` (a reference is kept while the check runs). */
void eng_alloc_dhcp_check(eng_alloc *al, const hook_config *cfg, const char *subnet_id,
			  const hook_network *net);

/* ---- the action run state (engine_action.c), shared by the machines ---- */
/* Every change of a->run goes through here (a debug line names both states). */
void eng_action_set_run(eng_action *a, eng_run run);
const char *eng_run_str(eng_run run);
/* A failure was decided (its reason is set): the cleanup runs or ran. */
static inline bool eng_failed(const eng_action *a)
{
	return a->fail_reason[0] != '\0';
}
void eng_action_free(eng_action *a);
/* Drop the cleanup's victim list (a new find replaces it). */
void eng_victims_free(eng_action *a);
void eng_log(eng_action *a, hook_log_level lvl, const char *msg, json_t *extra);
void eng_pump_soon(hook_eng *e);
/* Whether `a` must wait for a sibling's plan on the same instance first (it
 * then runs `then` when its turn comes). */
bool eng_wait_turn(eng_action *a, void (*then)(eng_action *));
void eng_action_finish(eng_action *a, hook_action_state st, const char *result,
		       const char *last_error);
void eng_arm_timers(eng_action *a);
/* The cleanup ended: complete with the group's failure result (CONTINUE on
 * terminate). */
void eng_after_cleanup(eng_action *a);

/* ---- shared by engine_launch.c and engine_eni.c ---- */
bool eng_adopt_eni(eng_action *a, eng_slot *s, const ec2_eni *ni, char *why, size_t why_len);
const char *eng_net_name(const eng_slot *s);
void eng_set_str(char **dst, const char *v);
void eng_slot_log(eng_slot *s, hook_log_level lvl, const char *msg);
void eng_slot_next(eng_slot *s);
void eng_step_enis(eng_action *a);

#endif
